"""The start-up admin."""

from __future__ import annotations

from shop.db import User
from shop.extensions import db_session


async def ensure_admin(name: str) -> None:  # ok: QM309
    session = db_session()
    if await session.get(User, name) is None:  # ok: QM416
        session.add(User(name=name))  # ok: QM416
    await session.commit()  # ok: QM416
