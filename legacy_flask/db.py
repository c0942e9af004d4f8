"""Database engines and sessions (SQLAlchemy 2.0, synchronous).

SQLite is the default (WAL journal, foreign keys on, a 30 s busy timeout so concurrent writers
wait instead of failing); PostgreSQL is used through psycopg 3 when the URL says
``postgresql://``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from legacy_flask.models import Base

#: Seconds a SQLite connection waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30


def sqlalchemy_url(database_url: str) -> str:
    """Return ``database_url`` with the driver SQLAlchemy should use (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``database_url`` (``sqlite:///file`` or ``postgresql://…``).

    :raises sqlalchemy.exc.ArgumentError: the URL is not one SQLAlchemy understands.
    """
    url = sqlalchemy_url(database_url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Per connection: foreign keys are off by default in SQLite; WAL lets readers run while one
    # thread writes (https://sqlite.org/wal.html).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; objects stay readable after commit (``expire_on_commit=False``)."""
    return sessionmaker(engine, expire_on_commit=False)


#: Columns added to tables after their first release: ``(table, column, DDL of the column)``.
#: :func:`create_tables` adds each to a database made before it (``ALTER TABLE … ADD COLUMN``,
#: which SQLite and PostgreSQL both run without rewriting the rows).
ADDED_COLUMNS = (("users", "session_version", "session_version INTEGER NOT NULL DEFAULT 1"),)


def create_tables(engine: Engine) -> None:
    """Create the bookstore's tables that do not exist yet, and add :data:`ADDED_COLUMNS`.

    Idempotent: a second call changes nothing.
    """
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        inspector = inspect(connection)
        for table, column, ddl in ADDED_COLUMNS:
            if column not in {c["name"] for c in inspector.get_columns(table)}:
                connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {ddl}"))


def ping(engine: Engine) -> None:
    """Run ``SELECT 1``; raise :class:`sqlalchemy.exc.OperationalError` when the database is down."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
