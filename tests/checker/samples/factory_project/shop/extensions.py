"""Per-app resources: the engine, the session factory, one session per request."""

from __future__ import annotations

from typing import Optional

from flask import Flask  # error: QM101, QM102
from flask import current_app  # error: QM101
from flask import g  # error: QM101
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker


def init_database(app: Flask, url: str) -> None:  # error: QM102
    created = create_engine(url)  # ok: QM416
    app.extensions["engine"] = created
    app.extensions["sessions"] = sessionmaker(created, expire_on_commit=False)  # ok: QM416
    app.teardown_appcontext(close_session)


def engine() -> Engine:
    found: Engine = current_app.extensions["engine"]
    return found


def session_factory() -> sessionmaker[Session]:
    factory: sessionmaker[Session] = current_app.extensions["sessions"]
    return factory


def db_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()  # ok: QM416
    session: Session = g.db_session
    return session


def close_session(_exc: BaseException | None) -> None:  # error: QM303
    session: Optional[Session] = g.pop("db_session", None)  # noqa: UP045
    if session is not None:
        session.close()  # error: QM416


def pool_status() -> str:
    status: str = engine().pool.status()  # ok: QM416
    return status
