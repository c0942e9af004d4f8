"""Stand-ins a reliability test controls step by step: a gated inventory and a TCP proxy.

Both serve on loopback from an event loop in a thread of their own, so a test can block (wait
for a process, read the database) while they go on serving the apps under test.

- :class:`GatedInventory` answers ``GET /stock/{isbn}`` like the inventory stand-in, but only
  once the test opens its gate, and counts the requests waiting there: a test knows exactly
  how many calls are in flight instead of guessing from a latency.
- :class:`TcpProxy` sits between a server and PostgreSQL; :meth:`TcpProxy.cut` drops every
  connection and refuses new ones, :meth:`TcpProxy.restore` lets them through again.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from typing import Any
from typing import TypeVar

from compare.inventory import stock_for

T = TypeVar("T")

HOST = "127.0.0.1"
#: Seconds a test waits for something it expects to happen at once (an arrival, a cut).
EXPECTED_WITHIN_S = 30.0


class _LoopThread:
    """An event loop in a daemon thread; :meth:`run` runs a coroutine there and waits for it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(EXPECTED_WITHIN_S)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(EXPECTED_WITHIN_S)
        self.loop.close()


class GatedInventory:
    """An inventory service whose ``/stock`` answers wait until :meth:`open_gate`.

    Each request is answered ``200 {"isbn", "in_stock"}`` (the stand-in's figures,
    :func:`compare.inventory.stock_for`) with ``Connection: close``. A gate that is never
    opened is an inventory that hangs; :meth:`close` then drops the waiting connections.
    Use it as a context manager.
    """

    def __init__(self) -> None:
        self._runner = _LoopThread("gated-inventory")
        self._gate = asyncio.Event()
        self._arrived = 0
        self._condition = threading.Condition()
        self._handlers: set[asyncio.Task[None]] = set()
        self._server = self._runner.run(self._start())
        self.port: int = self._server.sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def arrived(self) -> int:
        """How many ``/stock`` requests have arrived so far."""
        with self._condition:
            return self._arrived

    def wait_for_arrivals(self, count: int, timeout_s: float = EXPECTED_WITHIN_S) -> None:
        """Block until ``count`` requests have arrived in all.

        :raises TimeoutError: fewer arrived within ``timeout_s``.
        """
        with self._condition:
            if not self._condition.wait_for(lambda: self._arrived >= count, timeout_s):
                raise TimeoutError(f"{self._arrived} of {count} inventory calls arrived")

    def open_gate(self) -> None:
        """Answer every waiting request, and every later one at once."""
        self._runner.loop.call_soon_threadsafe(self._gate.set)

    def close(self) -> None:
        """Stop serving and drop the connections still waiting at the gate."""
        self._runner.run(self._stop())
        self._runner.close()

    def __enter__(self) -> GatedInventory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def _start(self) -> asyncio.Server:
        return await asyncio.start_server(self._handle, HOST, 0)

    async def _stop(self) -> None:
        self._server.close()
        for handler in self._handlers:
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            if path.startswith("/stock/"):
                with self._condition:
                    self._arrived += 1
                    self._condition.notify_all()
                await self._gate.wait()
                isbn = path.removeprefix("/stock/")
                body = json.dumps({"isbn": isbn, "in_stock": stock_for(isbn)}).encode()
                status = b"200 OK"
            else:
                body, status = b'{"error": "not found"}', b"404 Not Found"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
            )
            writer.write(body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the app gave up (its timeout) or the inventory is closing
        finally:
            self._handlers.discard(handler)
            writer.close()


class TcpProxy:
    """Forward loopback TCP connections to ``target_host:target_port`` until :meth:`cut`.

    :meth:`cut` stops listening (new connections are refused) and resets every forwarded
    connection; :meth:`restore` listens on the same port again. Use it as a context manager.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._runner = _LoopThread("tcp-proxy")
        self._pipes: set[asyncio.StreamWriter] = set()
        self._forwarders: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.host = HOST
        self.port = 0
        self._runner.run(self._listen())

    def cut(self) -> None:
        """Refuse new connections and reset the open ones (RST)."""
        self._runner.run(self._cut())

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        self._runner.run(self._listen())

    def close(self) -> None:
        self._runner.run(self._cut())
        self._runner.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._forward, HOST, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()
        for forwarder in self._forwarders:
            forwarder.cancel()
        await asyncio.gather(*self._forwarders, return_exceptions=True)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        forwarder = asyncio.current_task()
        assert forwarder is not None
        self._forwarders.add(forwarder)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            self._forwarders.discard(forwarder)
            return
        self._pipes.update((writer, upstream_writer))
        try:
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        finally:
            self._forwarders.discard(forwarder)
            for end in (writer, upstream_writer):
                self._pipes.discard(end)
                end.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        if not writer.is_closing():
            writer.transport.abort()
