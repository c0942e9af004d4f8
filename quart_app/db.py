"""Tortoise ORM set-up: one :class:`~tortoise.context.TortoiseContext` per app.

Tortoise 1.x keeps its state in a context variable. Initialising it in a start-up hook makes it
current only in the lifespan task, so request handlers would find no ORM ("No TortoiseContext is
currently active"; tortoise/tortoise-orm#2090). Tortoise's own remedy is a process-wide global
fallback, which allows one app per process. Instead :class:`TortoiseContextMiddleware` makes the
app's own context current around every ASGI call (lifespan, HTTP, WebSocket); tasks created
inside inherit it, so each app, including several in one test process, has its own connections.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from hypercorn.typing import ASGIFramework
from hypercorn.typing import ASGIReceiveCallable
from hypercorn.typing import ASGISendCallable
from hypercorn.typing import Scope
from tortoise.context import TortoiseContext
from tortoise.context import _current_context

#: Seconds a SQLite connection waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def tortoise_url(database_url: str) -> str:
    """Translate a SQLAlchemy-style URL (the apps' shared setting) to Tortoise's form.

    ``sqlite:///relative.db`` → ``sqlite://relative.db``, ``sqlite:////abs.db`` →
    ``sqlite:///abs.db``, ``postgresql://…`` → ``postgres://…`` (asyncpg).

    :raises ValueError: the URL is neither SQLite nor PostgreSQL.
    """
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        return f"sqlite://{path}"
    for prefix in (
        "postgresql://",
        "postgres://",
        "postgresql+psycopg://",
        "postgresql+asyncpg://",
    ):
        if database_url.startswith(prefix):
            return "postgres://" + database_url.removeprefix(prefix)
    raise ValueError(f"unsupported database URL {database_url!r}: use sqlite:/// or postgresql://")


def tortoise_config(database_url: str) -> dict[str, Any]:
    """Return the Tortoise configuration for ``database_url`` with :mod:`quart_app.models`.

    SQLite goes through :mod:`quart_app.sqlite_backend` (Tortoise's client with a fix for
    recovering from a failed connect) with a 30 s busy timeout, as ``legacy_flask`` has.
    """
    connection: str | dict[str, Any] = tortoise_url(database_url)
    if database_url.startswith("sqlite:///"):
        connection = {
            "engine": "quart_app.sqlite_backend",
            "credentials": {
                "file_path": database_url.removeprefix("sqlite:///"),
                "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            },
        }
    name = connection_name(database_url)
    return {
        "connections": {name: connection},
        "apps": {"models": {"models": ["quart_app.models"], "default_connection": name}},
        "use_tz": True,
        "timezone": "UTC",
    }


def connection_name(database_url: str) -> str:
    """Return the Tortoise connection name for ``database_url``: ``sqlite`` or ``postgres``.

    Tortoise caches each model's SQL per (connection name, table), not per dialect; naming
    the connection after its dialect keeps a SQLite app and a PostgreSQL app in one process
    (a test run) from sending each other's SQL.
    """
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


class TortoiseContextMiddleware:
    """ASGI middleware that makes ``context`` the current Tortoise context for each call."""

    def __init__(self, app: ASGIFramework, context: TortoiseContext) -> None:
        self.app = app
        self.context = context

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        # TortoiseContext's own ``with`` keeps one token on the shared instance, which concurrent
        # calls would overwrite; a token per call is what contextvars need.
        token = _current_context.set(self.context)
        try:
            await self.app(scope, receive, send)
        finally:
            _current_context.reset(token)


@contextlib.contextmanager
def activated(context: TortoiseContext) -> Iterator[TortoiseContext]:
    """Make ``context`` the current Tortoise context inside the block (scripts, the CLI)."""
    token = _current_context.set(context)
    try:
        yield context
    finally:
        _current_context.reset(token)
