"""The apps the contract suite runs against, each behind a plain :class:`httpx.Client`.

A target builds one app on a given database and hands out clients with their own cookie jars.
Tests see only ``httpx`` (status, headers, JSON, cookies), so adding an app or a transport
(in-process WSGI, in-process ASGI, a real server over a socket) changes this module alone.

:data:`TARGETS` run in the test process; :func:`live_target` reaches a real server process
over loopback TCP (:mod:`tests.contract.live`, targets named in
:data:`~tests.contract.live.LIVE_APPS`).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar

import httpx

from tests.contract.live import LiveApp
from tests.contract.live import LiveDatabases
from tests.contract.live import LiveServers
from tests.contract.live import iter_log_stalls
from tests.contract.live import iter_log_tracebacks
from tests.contract.live import next_client_address

#: Base URL of in-process clients (no socket is opened).
IN_PROCESS_URL = "http://testserver"

T = TypeVar("T")

#: Longest the event loop may go without running a callback, in ms, in the contract suite.
STALL_THRESHOLD_MS = 100

_stall_log = logging.getLogger("migrate.stalls")


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
    from migrate import Stall
    from migrate import StallDetector
    from quart_app import create_app

    runner = _LoopThread()
    app = create_app({**config, "data_layer": data_layer})
    # Nothing the suite sends may block the event loop: a stall fails the test.
    collections = _GarbageCollections()
    stalls: list[Stall] = []

    def on_stall(stall: Stall) -> None:
        _stall_log.warning("%s", stall.format())
        # A collection holds the GIL, and the pytest process' full collections take 150–200 ms
        # (its reports pile up): the loop waited for the collector, not for the app. Its weakref
        # callbacks run Python code, so the sampled stack alone does not tell.
        end = time.monotonic()
        collecting_ms = 1000 * collections.overlap_s(end - stall.duration_ms / 1000, end)
        if stall.duration_ms - collecting_ms >= stall.threshold_ms:
            stalls.append(stall)

    detector = StallDetector(threshold_ms=STALL_THRESHOLD_MS, on_stall=on_stall)
    detector.init_app(app)
    test_app = app.test_app()
    try:
        runner.run(test_app.startup())
    except BaseException:
        runner.close()
        collections.close()
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
            collections.close()
        # A stall with a sampled stack is Python code that held the loop. One the watchdog
        # could not sample happened while the process was off the CPU (a loaded 2-core CI
        # machine) or C code held the GIL: it is logged, not failed on.
        report = "\n".join(stall.format() for stall in stalls if stall.stack)
        assert not report, f"quart_app blocked its event loop:\n{report}"


class _GarbageCollections:
    """Record when the cyclic garbage collector runs (``gc.callbacks``) until :meth:`close`."""

    def __init__(self) -> None:
        self.runs: deque[tuple[float, float]] = deque(maxlen=100)
        self._started = 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.monotonic()
        else:
            self.runs.append((self._started, time.monotonic()))

    def overlap_s(self, start: float, end: float) -> float:
        """Return how long, in s, collections ran between ``start`` and ``end`` (monotonic s)."""
        return sum(max(0.0, min(stop, end) - max(begin, start)) for begin, stop in list(self.runs))

    def close(self) -> None:
        gc.callbacks.remove(self)


async def _disconnect(app: Any) -> None:
    # Close pooled connections so that the next query opens a new one.
    from quart_app.extensions import STORE
    from quart_app.extensions import TORTOISE

    if TORTOISE in app.extensions:
        await app.extensions[TORTOISE].connections.close_all(discard=False)
    else:
        app.extensions[STORE].engine.dispose()


#: Seconds a live target's client waits for a connection, a write or a read.
LIVE_CLIENT_TIMEOUT_S = 30.0


@contextmanager
def live_target(
    app: LiveApp,
    servers: LiveServers,
    databases: LiveDatabases,
    config: dict[str, Any],
    check: Callable[[httpx.Response], None],
) -> Iterator[Target]:
    """Reach ``app`` served by a real server over loopback, on its database emptied for the test.

    The server is shared with every test that has the same app, database and settings
    (``servers``); the database is reset before the test (``databases``). Clients connect from
    a loopback address of the test's own, so the server's login limiter sees a new client.
    Anything the server logs as a traceback during the test fails it: a client may see a
    clean answer while the server failed behind it (a stream cut short, a failed clean-up).
    A stall of the event loop the server reports (``flask-converted-live``) is logged here.
    """
    server = servers.get(app, config["database_url"], config)
    databases.reset(server.database_url, config)
    address = next_client_address()
    server.mark()

    def new_client() -> httpx.Client:
        return httpx.Client(
            transport=httpx.HTTPTransport(local_address=address),
            base_url=server.base_url,
            event_hooks={"response": [check]},
            timeout=LIVE_CLIENT_TIMEOUT_S,
            trust_env=False,
        )

    def disconnect() -> None:
        # The pool lives in another process, and the apps have no endpoint to empty it.
        raise NotImplementedError(f"{app.name} cannot drop its database connections on demand")

    target = Target(app.name, new_client, disconnect=disconnect)
    try:
        yield target
    finally:
        target.close()
    log = server.log_since_mark()
    # The converted app's server reports each block of its event loop: logged, not failed on.
    for stall in iter_log_stalls(log):
        _stall_log.warning("%s: %s", app.name, stall)
    tracebacks = "\n\n".join(iter_log_tracebacks(log))
    assert not tracebacks, f"{app.name} logged a traceback during the test:\n{tracebacks}"


#: name → context manager that starts the app in-process; the ``bookstore`` fixture is
#: parametrised by these names and by those of :data:`tests.contract.live.LIVE_APPS`.
TARGETS: dict[str, Callable[..., Any]] = {
    "flask": flask_target,
    "quart": quart_target,
    "quart-threaded": functools.partial(quart_target, data_layer="threaded"),
}
