"""A minimal WebSocket client (RFC 6455) that reads from its socket only when asked.

Built on :mod:`wsproto` and a plain non-blocking socket driven by the event loop's ``sock_*``
calls, so that nothing reads ahead in the background: a client that is not asked to receive
leaves the bytes in the kernel, and the server feels the back-pressure, as it would from a
slow client on a slow link.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from wsproto import ConnectionType
from wsproto import WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import AcceptConnection
from wsproto.events import BytesMessage
from wsproto.events import CloseConnection
from wsproto.events import Event
from wsproto.events import Ping
from wsproto.events import RejectConnection
from wsproto.events import Request
from wsproto.events import TextMessage

#: Bytes asked of the socket per read.
RECV_BYTES = 65_536


class WebSocketClosedError(Exception):
    """The server closed the connection; ``code`` is its close code (RFC 6455 §7.4)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed with code {code}: {reason!r}")
        self.code = code
        self.reason = reason


class WebSocketClient:
    """One client connection; make it with :meth:`connect`, end it with :meth:`aclose`."""

    def __init__(self, sock: socket.socket, connection: WSConnection) -> None:
        self.sock = sock
        self.connection = connection
        self._events: list[Event] = []
        self._text: list[str] = []
        #: The headers of the server's 101 answer (lower-case names), once connected.
        self.headers: dict[str, str] = {}

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        path: str,
        *,
        receive_buffer: int | None = None,
        max_segment: int | None = None,
    ) -> WebSocketClient:
        """Open a TCP connection and complete the opening handshake.

        Both options are set before connecting, so that the TCP connection is negotiated with
        them (``tcp(7)``, ``socket(7)``).

        :param receive_buffer: ``SO_RCVBUF`` in bytes: the window this client offers (Linux
            doubles the value and has a floor).
        :param max_segment: ``TCP_MAXSEG`` in bytes: the largest segment the server may send.
            On loopback the default is about 64 KiB, and the server's kernel sizes its send
            buffer from it (megabytes); small segments keep that buffer, and so the number of
            messages a stalled client can absorb, small.
        :raises ConnectionError: the server refused the upgrade or closed the connection.
        """
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            if receive_buffer is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            if max_segment is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, max_segment)
            await loop.sock_connect(sock, (host, port))
            client = cls(sock, WSConnection(ConnectionType.CLIENT))
            await client._send(Request(host=f"{host}:{port}", target=path))
            event = await client._next_event()
        except BaseException:
            sock.close()
            raise
        if not isinstance(event, AcceptConnection):
            sock.close()
            status = event.status_code if isinstance(event, RejectConnection) else None
            raise ConnectionError(f"the server refused the WebSocket upgrade: {status}")
        client.headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in event.extra_headers
        }
        return client

    async def receive_text(self) -> str:
        """Return the next text message, reading the socket as needed.

        :raises WebSocketClosedError: the server closed the connection instead (the closing
            handshake is answered first).
        """
        while True:
            event = await self._next_event()
            if isinstance(event, TextMessage):
                self._text.append(event.data)
                if event.message_finished:
                    text = "".join(self._text)
                    self._text.clear()
                    return text
            elif isinstance(event, CloseConnection):
                if self.connection.state is ConnectionState.REMOTE_CLOSING:
                    await self._send(event.response())
                raise WebSocketClosedError(event.code, event.reason or "")
            elif isinstance(event, Ping):
                await self._send(event.response())

    async def receive_json(self) -> Any:
        """Return the next text message, parsed as JSON."""
        return json.loads(await self.receive_text())

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary message."""
        await self._send(BytesMessage(data=data))

    async def aclose(self) -> None:
        """Start the closing handshake if it is still open, then close the socket."""
        try:
            if self.connection.state is ConnectionState.OPEN:
                await self._send(CloseConnection(code=1000))
        except OSError:
            pass  # The server is gone already: nothing to say goodbye to.
        finally:
            self.sock.close()

    async def _send(self, event: Event) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, self.connection.send(event))

    async def _next_event(self) -> Event:
        loop = asyncio.get_running_loop()
        while not self._events:
            data = await loop.sock_recv(self.sock, RECV_BYTES)
            self.connection.receive_data(data or None)
            self._events.extend(self.connection.events())
            if not data and not self._events:
                raise ConnectionError("the server closed the TCP connection")
        return self._events.pop(0)
