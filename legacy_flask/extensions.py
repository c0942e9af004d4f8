"""Per-app resources: the database session factory, one session per request, the rate limiter."""

from __future__ import annotations

from flask import Flask
from flask import current_app
from flask import g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from legacy_flask.db import make_engine
from legacy_flask.db import make_sessionmaker

ENGINE = "bookstore.engine"
SESSIONS = "bookstore.sessions"


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
    """Create the app's own rate limiter (in-memory, per process, keyed by client address).

    One limiter per app keeps test apps apart; with several processes each keeps its own
    counts, so set ``RATELIMIT_STORAGE_URI`` to a shared store (Redis) when scaling out.
    """
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    return Limiter(get_remote_address, app=app)
