"""The app's own database: one module-global session, opened by :func:`init_db`."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker

session = None


def init_db(url: str) -> None:
    global session
    maker = scoped_session(sessionmaker(bind=create_engine(url)))  # ok: QM416
    session = maker()  # ok: QM416


def session_commit() -> None:  # error: QM309
    try:
        session.commit()  # error: QM416
    except Exception:
        session.rollback()  # error: QM416


def local_counter() -> int:
    session = {"hits": 1}
    return session.get("hits", 0)  # ok: QM416
