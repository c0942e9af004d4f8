"""Incremental migration: serve a Quart app and the legacy Flask (WSGI) app as one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from concurrent.futures import Executor
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from typing import Any
from typing import ParamSpec
from typing import TypeVar
from typing import cast

from a2wsgi.wsgi import WSGIResponder
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound

from .current import current_pool
from .current import owner_loop
from .pool import WorkerPool

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from quart import Quart
    from werkzeug.routing import Map

__all__ = ["SHARED_SESSION_KEYS", "WSGIFallback", "mount_wsgi"]

P = ParamSpec("P")
R = TypeVar("R")

ASGIApp = Callable[[Any, Any, Any], Any]

#: Configuration keys that must be equal on both sides for a session cookie signed by
#: one to be read by the other (both sign with itsdangerous, salt ``cookie-session``).
SHARED_SESSION_KEYS = (
    "SECRET_KEY",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
)


class WSGIFallback:
    """ASGI app: requests the Quart URL map routes go to Quart, the rest to a WSGI app.

    The dispatch is decided before either app runs, by matching the request's path and
    method against *url_map* (a Werkzeug ``Map``; the Quart app's ``url_map``, read at
    each request so routes added later count). No match, or a path matched for other
    methods only (so ``GET /books`` can move to Quart while ``POST /books`` stays on
    Flask), falls through to the WSGI app. WebSocket and lifespan scopes always go to
    Quart, as WSGI has neither.

    The WSGI app runs through a2wsgi's ``WSGIResponder`` (ASGI spec to PEP 3333), each
    request as one call of the :class:`~migrate.WorkerPool`: it counts in the pool's
    gauges and queues behind its limiter like any ``run_sync`` call, and the legacy code
    can use :func:`~migrate.run_async`. a2wsgi streams the request body to the app and
    the response back with back-pressure, keeps ``exc_info`` semantics, and copies the
    context. Hypercorn's ``AsyncioWSGIMiddleware`` was not chosen because it buffers the
    whole body (400 above 64 KiB by default) and runs on the loop's default executor;
    asgiref's ``WsgiToAsgi`` spools the body to a temporary file, runs on asgiref's own
    executor and is not a dependency.

    :param asgi_app: the ASGI app that owns *url_map* (``quart_app.asgi_app``).
    :param wsgi_app: the PEP 3333 app (``flask_app`` or ``flask_app.wsgi_app``).
    :param url_map: the routes that *asgi_app* serves.
    :param pool: the pool for WSGI calls; by default the one current at each request.
    :param send_queue_size: response chunks buffered between the WSGI thread and the
        client before the thread waits (a2wsgi's back-pressure), at least 1.
    """

    def __init__(
        self,
        asgi_app: ASGIApp,
        wsgi_app: WSGIApplication,
        *,
        url_map: Map,
        pool: WorkerPool | None = None,
        send_queue_size: int = 10,
    ) -> None:
        if send_queue_size < 1:
            raise ValueError(f"send_queue_size must be at least 1, not {send_queue_size!r}")
        self.asgi_app = asgi_app
        self.wsgi_app = wsgi_app
        self._terminated_app = _input_terminated(wsgi_app)
        self.url_map = url_map
        self.pool = pool
        self.send_queue_size = send_queue_size

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self.routes_to_asgi(scope):
            pool = self.pool if self.pool is not None else current_pool()
            # a2wsgi only needs ``submit``; the cast is for its ThreadPoolExecutor hint.
            executor = cast(ThreadPoolExecutor, _PoolExecutor(pool))
            responder = WSGIResponder(self._terminated_app, executor, self.send_queue_size)
            # a2wsgi runs the app in a context it copies here, not in the pool's copy,
            # so the loop that run_async() needs is recorded here too.
            token = owner_loop.set(asyncio.get_running_loop())
            try:
                await responder(scope, receive, send)
            except asyncio.CancelledError:
                _release_writer(responder)
                raise
            finally:
                owner_loop.reset(token)
        else:
            await self.asgi_app(scope, receive, send)

    def routes_to_asgi(self, scope: Mapping[str, Any]) -> bool:
        """Return whether an HTTP *scope* matches a rule of :attr:`url_map` (bool).

        A redirect answer (a missing trailing slash) counts as a match.
        """
        root_path: str = scope.get("root_path", "")
        path: str = scope["path"]
        # Since ASGI 3.0's 2023 revision ``path`` includes ``root_path``; older servers
        # sent it without, so strip it only when present.
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :] or "/"
        adapter = self.url_map.bind(
            _host(scope),
            script_name=root_path or None,
            url_scheme=scope.get("scheme", "http"),
        )
        try:
            adapter.match(path, scope["method"])
        except (NotFound, MethodNotAllowed):
            return False
        except HTTPException:  # RequestRedirect and the like: the ASGI app answers.
            return True
        return True


def _input_terminated(wsgi_app: WSGIApplication) -> Any:
    """Wrap *wsgi_app* so that it reads a request body that has no Content-Length.

    An ASGI server hands over the body as a stream that ends (``more_body`` false), so
    ``wsgi.input`` reaches end-of-file at the end of the body. Saying so with
    ``wsgi.input_terminated`` lets Werkzeug read chunked and HTTP/2 bodies sent without
    a Content-Length, which it otherwise treats as empty (the convention of mod_wsgi and
    Gunicorn, read by ``werkzeug.wsgi.get_input_stream``).
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ.setdefault("wsgi.input_terminated", True)
        return wsgi_app(environ, start_response)

    # Typed loosely: a2wsgi's own WSGI aliases are narrower than typeshed's.
    return app


class _DiscardQueue(asyncio.Queue[Any]):
    """A send queue that drops what it is given, for a response nobody will read."""

    async def put(self, item: Any) -> None:
        pass


def _release_writer(responder: WSGIResponder) -> None:
    """Let the WSGI thread of a cancelled request run to its end.

    Once cancelled, a2wsgi stops reading its bounded send queue, while the thread, which
    cannot be stopped, may still be writing the response into it: it would wait for room
    forever and keep its pool slot. The rest of the response is dropped instead, so the
    thread finishes as an orphan of the pool.
    """
    pending = getattr(responder, "send_queue", None)
    if not isinstance(pending, asyncio.Queue):
        return  # Another a2wsgi layout; tests/migrate/test_wsgi_mount.py catches it.
    responder.send_queue = _DiscardQueue()
    while not pending.empty():
        pending.get_nowait()  # Wakes a thread blocked on a full queue.


def _host(scope: Mapping[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return cast(bytes, value).decode("latin-1")
    server = scope.get("server")
    return f"{server[0]}:{server[1]}" if server else "localhost"


class _PoolExecutor(Executor):
    """The ``submit`` that a2wsgi calls, made into a :meth:`WorkerPool.run` task.

    ``loop.run_in_executor`` only needs ``submit``; routing it through the pool keeps the
    limiter, the gauges, orphan counting and :func:`~migrate.run_async` for WSGI calls.
    """

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        # Called on the loop's thread, from the responder coroutine.
        task = asyncio.get_running_loop().create_task(self._pool.run(fn, *args, **kwargs))
        outer: Future[R] = Future()

        def relay(done: asyncio.Task[R]) -> None:
            if done.cancelled():
                outer.cancel()
            elif (error := done.exception()) is not None:
                outer.set_exception(error)
            else:
                outer.set_result(done.result())

        def propagate_cancel(future: Future[R]) -> None:
            if future.cancelled():
                task.cancel()

        task.add_done_callback(relay)
        outer.add_done_callback(propagate_cancel)
        return outer


def mount_wsgi(
    app: Quart,
    wsgi_app: WSGIApplication,
    *,
    pool: WorkerPool | None = None,
    send_queue_size: int = 10,
) -> WSGIFallback:
    """Serve *wsgi_app* behind *app* for every request that *app*'s routes do not match.

    Replaces ``app.asgi_app`` with a :class:`WSGIFallback`, so the server, the test
    client and the lifespan (where :meth:`WorkerPool.init_app` installs the pool) stay
    Quart's: routes move from Flask to Quart one at a time, on one port::

        app = create_quart_app()
        pool = WorkerPool(16)
        pool.init_app(app)
        mount_wsgi(app, create_flask_app())

    A session cookie signed by one side is read by the other when the
    :data:`SHARED_SESSION_KEYS` are equal: Flask and Quart sign the same JSON with the
    same itsdangerous serializer and salt.

    :param pool: see :class:`WSGIFallback`; by default the pool current at each request.
    :returns: the installed dispatcher.
    :raises ValueError: if *wsgi_app* has a ``config`` mapping (a Flask app) whose
        :data:`SHARED_SESSION_KEYS` differ from *app*'s, since their sessions would not
        be shared; or if *send_queue_size* is below 1.
    """
    legacy_config = getattr(wsgi_app, "config", None)
    if isinstance(legacy_config, Mapping):
        differing = [
            key for key in SHARED_SESSION_KEYS if legacy_config.get(key) != app.config.get(key)
        ]
        if differing:
            raise ValueError(
                "the Flask and Quart apps would not share their session cookie: "
                f"{', '.join(differing)} differ"
            )
    fallback = WSGIFallback(
        app.asgi_app,
        wsgi_app,
        url_map=app.url_map,
        pool=pool,
        send_queue_size=send_queue_size,
    )
    # Quart's documented way to add ASGI middleware.
    app.asgi_app = fallback  # type: ignore[method-assign]
    return fallback
