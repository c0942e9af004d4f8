"""The start-up admin."""

from __future__ import annotations

from shop.db import User
from shop.extensions import db_session


def ensure_admin(name: str) -> None:  # error: QM309
    session = db_session()
    if session.get(User, name) is None:  # error: QM416
        session.add(User(name=name))  # ok: QM416
    session.commit()  # error: QM416
