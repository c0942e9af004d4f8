"""The apps the contract suite runs against, each behind a plain :class:`httpx.Client`.

A target builds one app on a given database and hands out clients with their own cookie jars.
Tests see only ``httpx`` (status, headers, JSON, cookies), so adding an app or a transport
(in-process WSGI, in-process ASGI, a real server over a socket) changes this module alone.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar

import httpx

#: Base URL of in-process clients (no socket is opened).
IN_PROCESS_URL = "http://testserver"

T = TypeVar("T")

#: Longest the event loop may go without running a callback, in ms, in the contract suite.
STALL_THRESHOLD_MS = 100


@dataclass
class Target:
    """One running app under test.

    Attributes:
        name: the parameter id (``flask``).
        new_client: returns a fresh client with an empty cookie jar, talking to this app.
        disconnect: closes the app's pooled database connections, so that the next request
            opens new ones (used to show what the app does when the database goes away).
    """

    name: str
    new_client: Callable[[], httpx.Client]
    disconnect: Callable[[], None]
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        """Return a new client; it is closed when the target is."""
        client = self.new_client()
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


@contextmanager
def flask_target(
    config: dict[str, Any], check: Callable[[httpx.Response], None]
) -> Iterator[Target]:
    """Run ``legacy_flask`` in-process through its WSGI interface (PEP 3333)."""
    from legacy_flask import close_app
    from legacy_flask import create_app
    from legacy_flask.extensions import ENGINE

    app = create_app(config)

    def new_client() -> httpx.Client:
        return httpx.Client(
            transport=httpx.WSGITransport(app=app),
            base_url=IN_PROCESS_URL,
            event_hooks={"response": [check]},
        )

    target = Target("flask", new_client, disconnect=app.extensions[ENGINE].dispose)
    try:
        yield target
    finally:
        target.close()
        close_app(app)


class _LoopThread:
    """An event loop running in a daemon thread, for driving an ASGI app from sync tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="asgi-test-loop", daemon=True
        )
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class SyncASGITransport(httpx.BaseTransport):
    """Send a sync client's requests to an ASGI app (the ASGI spec) on a loop in another thread.

    Requests go through :class:`httpx.ASGITransport` with a loopback client address; the
    response body is read whole before it is handed back.
    """

    def __init__(self, app: Any, runner: _LoopThread) -> None:
        self.transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        self.runner = runner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)

        async def send() -> httpx.Response:
            response = await self.transport.handle_async_request(copy)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self.runner.run(send())


@contextmanager
def quart_target(
    config: dict[str, Any], check: Callable[[httpx.Response], None], *, data_layer: str = "tortoise"
) -> Iterator[Target]:
    """Run ``quart_app`` in-process through ASGI, its lifespan started as Hypercorn would."""
    from migrate import StallDetector
    from quart_app import create_app

    runner = _LoopThread()
    app = create_app({**config, "data_layer": data_layer})
    # Nothing the suite sends may block the event loop: a stall fails the test.
    detector = StallDetector(threshold_ms=STALL_THRESHOLD_MS)
    detector.init_app(app)
    test_app = app.test_app()
    try:
        runner.run(test_app.startup())
    except BaseException:
        runner.close()
        raise

    def new_client() -> httpx.Client:
        return httpx.Client(
            transport=SyncASGITransport(app, runner),
            base_url=IN_PROCESS_URL,
            event_hooks={"response": [check]},
        )

    def disconnect() -> None:
        runner.run(_disconnect(app))

    target = Target(f"quart-{data_layer}", new_client, disconnect=disconnect)
    try:
        yield target
    finally:
        target.close()
        try:
            runner.run(test_app.shutdown())
        finally:
            runner.close()
        # A stall with a sampled stack is Python code that held the loop. One the watchdog
        # could not sample happened while the process was off the CPU (a loaded 2-core CI
        # machine) or C code held the GIL (a garbage collection): it is logged, not failed on.
        stalls = "\n".join(stall.format() for stall in detector.stalls if stall.stack)
        assert not stalls, f"quart_app blocked its event loop:\n{stalls}"


async def _disconnect(app: Any) -> None:
    # Close pooled connections so that the next query opens a new one.
    from quart_app.extensions import STORE
    from quart_app.extensions import TORTOISE

    if TORTOISE in app.extensions:
        await app.extensions[TORTOISE].connections.close_all(discard=False)
    else:
        app.extensions[STORE].engine.dispose()


#: name → context manager that starts the app; the ``bookstore`` fixture is parametrised by it.
TARGETS: dict[str, Callable[..., Any]] = {
    "flask": flask_target,
    "quart": quart_target,
    "quart-threaded": functools.partial(quart_target, data_layer="threaded"),
}
