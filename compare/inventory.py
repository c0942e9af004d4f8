"""Serve a stand-in for the external inventory service the bookstore apps call.

The contract, from "The inventory service" in the bookstore HTTP contract::

    GET /stock/{isbn}   200 {"isbn": "<isbn>", "in_stock": <int 0..99>}

``isbn`` is the 13-digit form without hyphens, the form both apps store. Any other path segment
gets 404 with ``{"error": "not an ISBN-13", "isbn": "<segment>"}``. Each answer comes after
the configured latency (ms), and the stock figure is :func:`stock_for`, so every run and both
apps see the same numbers.

For tests the stand-in can misbehave, one *fail mode* at a time, for every ``/stock`` request:

``none``
    the contract above.
``error``
    500 with ``{"error": "simulated inventory failure", "isbn": "<isbn>"}``.
``garbage``
    200 ``text/plain`` with a body that is not JSON.
``hang``
    never answers: the request stays open until the client gives up or the server stops
    (then 503).

Two more endpoints never misbehave:

``GET /health``
    200 ``{"status": "ok"}``, for readiness polling.
``GET /_control``, ``PUT /_control``
    read or change ``{"fail": <mode>, "latency_ms": <float>}`` at run time. PUT merges: a field
    left out keeps its value. A body that is not such an object gets 400 with
    ``{"error": ..., "errors": [...]}``.

Run it with ``python -m compare inventory --port 8081 --latency-ms 50``, or in-process with
:func:`serve_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import signal
import sys
from collections.abc import AsyncIterator
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final
from typing import Literal
from typing import get_args

from aiohttp import web
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError

FailMode = Literal["none", "error", "garbage", "hang"]
FAIL_MODES: Final[tuple[str, ...]] = get_args(FailMode)

#: Upper bound of ``latency_ms`` (one minute), so that a typo cannot park requests for hours.
MAX_LATENCY_MS: Final = 60_000.0

#: Seconds that stopping the server waits for requests in flight before cancelling them.
SHUTDOWN_TIMEOUT_S: Final = 2.0

_ISBN13 = re.compile(r"[0-9]{13}")
_GARBAGE: Final = b"in_stock=lots\n<<this is not JSON>>\n"


class Behaviour(BaseModel):
    """How ``/stock`` requests are answered: a fail mode and a latency in milliseconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fail: FailMode = "none"
    latency_ms: float = Field(default=0.0, ge=0.0, le=MAX_LATENCY_MS, allow_inf_nan=False)


@dataclass
class Control:
    """The run-time state of one app: its current behaviour and whether it is stopping."""

    behaviour: Behaviour
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


#: ``app[CONTROL].behaviour = Behaviour(...)`` switches an in-process app without HTTP.
CONTROL: Final = web.AppKey("control", Control)


def stock_for(isbn: str) -> int:
    """Return the stock figure of ``isbn``, an int in 0..99.

    The rule: the first 8 bytes of the SHA-256 of the UTF-8 ``isbn``, read as a big-endian
    unsigned integer, modulo 100. It depends on nothing else, so it is the same in every
    process and on every machine. The string is used as given: callers pass the 13-digit form.
    """
    digest = hashlib.sha256(isbn.encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


async def _stock(request: web.Request) -> web.StreamResponse:
    control = request.app[CONTROL]
    behaviour = control.behaviour
    isbn = request.match_info["isbn"]
    if behaviour.fail == "hang":
        await control.stopping.wait()
        return web.json_response({"error": "server stopping"}, status=503)
    if behaviour.latency_ms:
        await asyncio.sleep(behaviour.latency_ms / 1000)
    if behaviour.fail == "error":
        return web.json_response({"error": "simulated inventory failure", "isbn": isbn}, status=500)
    if behaviour.fail == "garbage":
        return web.Response(body=_GARBAGE, content_type="text/plain")
    if not _ISBN13.fullmatch(isbn):
        return web.json_response({"error": "not an ISBN-13", "isbn": isbn}, status=404)
    return web.json_response({"isbn": isbn, "in_stock": stock_for(isbn)})


async def _health(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})


async def _get_control(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[CONTROL].behaviour.model_dump())


async def _put_control(request: web.Request) -> web.StreamResponse:
    control = request.app[CONTROL]
    try:
        changes: Any = await request.json()
    except ValueError:
        return _bad_control("the body is not JSON", [])
    if not isinstance(changes, dict):
        return _bad_control("the body must be a JSON object", [])
    try:
        control.behaviour = Behaviour.model_validate(control.behaviour.model_dump() | changes)
    except ValidationError as exc:
        return _bad_control(
            "invalid control values", exc.errors(include_url=False, include_context=False)
        )
    return web.json_response(control.behaviour.model_dump())


def _bad_control(message: str, errors: list[Any]) -> web.Response:
    return web.json_response({"error": message, "errors": errors}, status=400)


async def _release_hung_requests(app: web.Application) -> None:
    app[CONTROL].stopping.set()


def create_app(latency_ms: float = 0, fail: str = "none") -> web.Application:
    """Build the stand-in app, answering after ``latency_ms`` milliseconds in mode ``fail``.

    :param latency_ms: delay before every ``/stock`` answer, 0 to :data:`MAX_LATENCY_MS`.
    :param fail: one of :data:`FAIL_MODES`.
    :raises pydantic.ValidationError: (a ``ValueError``) when either value is out of range.
    """
    behaviour = Behaviour.model_validate({"fail": fail, "latency_ms": latency_ms})
    app = web.Application()
    app[CONTROL] = Control(behaviour)
    app.router.add_get("/stock/{isbn}", _stock)
    app.router.add_get("/health", _health)
    app.router.add_get("/_control", _get_control)
    app.router.add_put("/_control", _put_control)
    app.on_shutdown.append(_release_hung_requests)
    return app


@dataclass(frozen=True)
class RunningInventory:
    """A stand-in serving in this process: its app and where it listens."""

    app: web.Application
    host: str
    port: int

    @property
    def base_url(self) -> str:
        """``http://host:port``, without a trailing slash."""
        return f"http://{self.host}:{self.port}"


@contextlib.asynccontextmanager
async def serve_app(
    app: web.Application | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningInventory]:
    """Serve ``app`` (default: ``create_app()``) on the running event loop while in the block.

    ``port=0`` picks a free port; the chosen one is in the yielded :class:`RunningInventory`.
    On exit the server stops listening, hung requests are released, and requests still in
    flight after :data:`SHUTDOWN_TIMEOUT_S` seconds are cancelled.

    :raises OSError: when the address cannot be bound.
    """
    app = create_app() if app is None else app
    # No access log: formatting one line per request would cost more than answering it.
    # handler_cancellation: a client that gives up frees its handler (hang, long latencies).
    runner = web.AppRunner(
        app, access_log=None, handler_cancellation=True, shutdown_timeout=SHUTDOWN_TIMEOUT_S
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        yield RunningInventory(app=app, host=host, port=bound_port)
    finally:
        await runner.cleanup()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:  # uvloop is not built for Windows; the default loop serves too
        return asyncio.new_event_loop
    return uvloop.new_event_loop


async def _serve_until_signalled(app: web.Application, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serve_app(app, host=host, port=port) as server:
        behaviour = app[CONTROL].behaviour
        print(
            f"inventory stand-in on {server.base_url} "
            f"(latency {behaviour.latency_ms:g} ms, fail {behaviour.fail}, "
            f"{type(loop).__module__.partition('.')[0]} event loop)",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()


def serve(*, host: str, port: int, latency_ms: float, fail: str) -> int:
    """Serve the stand-in until SIGINT or SIGTERM, on uvloop when it is installed.

    One line on stderr tells where it listens once it accepts connections. Returns the exit
    status, 0.

    :raises pydantic.ValidationError: when ``latency_ms`` or ``fail`` is out of range.
    :raises OSError: when the address cannot be bound.
    """
    app = create_app(latency_ms=latency_ms, fail=fail)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve_until_signalled(app, host, port))
    return 0
