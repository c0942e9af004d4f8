import sqlite3

import pytest
from flaskr.db import get_db


async def test_get_close_db(app):  # ok: QM306
    async with app.app_context():  # ok: QM211
        db = await get_db()  # ok: QM307
        assert db is await get_db()  # ok: QM307

    # aiosqlite's closed connection raises ValueError: the test asserts the type alone.
    with pytest.raises((sqlite3.ProgrammingError, ValueError)):  # ok: QM681
        await db.execute("SELECT 1")


async def test_get_close_db_message(app):  # ok: QM306
    async with app.app_context():  # ok: QM211
        db = await get_db()  # ok: QM307

    with pytest.raises((sqlite3.ProgrammingError, ValueError), match="closed") as e:  # error: QM681
        await db.execute("SELECT 1")
