import os
import tempfile

import pytest
import pytest_asyncio
from flaskr import create_app
from flaskr.db import get_db
from flaskr.db import init_db

with open(os.path.join(os.path.dirname(__file__), "data.sql"), "rb") as f:  # ok: QM406
    _data_sql = f.read().decode("utf8")  # ok: QM406


@pytest_asyncio.fixture
async def app():  # ok: QM306
    """Create and configure a new app instance for each test."""
    db_fd, db_path = tempfile.mkstemp()
    app = create_app({"TESTING": True, "DATABASE": db_path})  # ok: QM307

    async with app.app_context():  # ok: QM211
        await init_db()  # ok: QM307
        db = await get_db()  # ok: QM307
        await db.executescript(_data_sql)  # ok: QM409

    yield app

    os.close(db_fd)
    os.unlink(db_path)  # ok: QM407


@pytest.fixture
def client(app):  # ok: QM306
    """A test client for the app."""
    return app.test_client()  # ok: QM601


@pytest.fixture
def runner(app):
    """A test runner for the app's Click commands."""
    return app.test_cli_runner()  # ok: QM601


class AuthActions:
    def __init__(self, client):
        self._client = client

    async def login(self, username="test", password="test"):  # ok: QM306
        return await self._client.post(  # ok: QM601
            "/auth/login", form={"username": username, "password": password}  # ok: QM603
        )

    async def logout(self):  # ok: QM306
        return await self._client.get("/auth/logout")  # ok: QM601

    def credentials(self):
        return ("test", "test")


@pytest.fixture
def auth(client):
    return AuthActions(client)
