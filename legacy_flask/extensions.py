"""Per-app resources: the database session factory, one session per request, the rate limiters."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask import current_app
from flask import g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItemPerSecond
from limits.storage import Storage
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import TooManyRequests

from legacy_flask.db import make_engine
from legacy_flask.db import make_sessionmaker

ENGINE = "bookstore.engine"
SESSIONS = "bookstore.sessions"
LOGIN_LIMITER = "bookstore.login_limiter"


def init_database(app: Flask, database_url: str) -> None:
    """Create the app's engine and session factory, and close each request's session after it."""
    engine = make_engine(database_url)
    app.extensions[ENGINE] = engine
    app.extensions[SESSIONS] = make_sessionmaker(engine)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """Return the current app's engine."""
    engine: Engine = current_app.extensions[ENGINE]
    return engine


def session_factory() -> sessionmaker[Session]:
    """Return the current app's session factory (for work outside the request's session)."""
    factory: sessionmaker[Session] = current_app.extensions[SESSIONS]
    return factory


def db_session() -> Session:
    """Return this request's session, opening it on first use; it is closed at teardown."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_limiter(app: Flask) -> Limiter:
    """Create the app's own rate limiter, keyed by client address.

    Its storage is ``RATELIMIT_STORAGE_URI`` (default ``memory://``: one limiter per app keeps
    test apps apart, but several processes each keep their own counts), which
    ``BOOKSTORE_RATELIMIT_STORAGE_URL`` sets to a store every process shares (Redis).
    """
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    return Limiter(get_remote_address, app=app)


class LoginLimiter:
    """Count failed logins per client address in fixed windows (the ``limits`` library).

    Flask-Limiter can count failures only by testing before the view and counting after it,
    so concurrent attempts all pass its test. Here each attempt is counted, atomically in the
    storage, before the password is checked (:meth:`attempt`), and given back when the
    password was right (:meth:`succeeded`): at most ``limit`` wrong passwords are ever
    checked per window, however many arrive at once. ``quart_app`` has the same class on
    ``limits``' asynchronous storages.

    :param limit: failed logins allowed per window.
    :param window_s: the window, in seconds.
    :param storage_uri: a ``limits`` storage URL (``memory://``, ``redis://host:6379``).
    :param storage_options: keyword arguments of that storage (``key_prefix`` …).
    """

    def __init__(
        self,
        limit: int,
        window_s: int,
        storage_uri: str = "memory://",
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.item = RateLimitItemPerSecond(limit, window_s)
        storage = storage_from_string(storage_uri, **(storage_options or {}))
        assert isinstance(storage, Storage), f"{storage_uri} is an asynchronous storage"
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)

    def attempt(self, key: str) -> None:
        """Count one attempt for client ``key``; raise 429 with ``Retry-After`` past the limit."""
        if not self.limiter.hit(self.item, key):
            stats = self.limiter.get_window_stats(self.item, key)
            raise TooManyRequests(
                "too many failed logins from this address; try again later",
                retry_after=max(1, math.ceil(stats.reset_time - time.time())),
            )

    def succeeded(self, key: str) -> None:
        """Give back the attempt counted for client ``key``: its password was right."""
        self.storage.incr(self.item.key_for(key), self.item.get_expiry(), amount=-1)


def login_limiter() -> LoginLimiter:
    """Return the current app's :class:`LoginLimiter`."""
    limiter: LoginLimiter = current_app.extensions[LOGIN_LIMITER]
    return limiter
