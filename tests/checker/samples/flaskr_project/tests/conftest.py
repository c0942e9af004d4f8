import os
import tempfile

import pytest
from flaskr import create_app
from flaskr.db import get_db
from flaskr.db import init_db

with open(os.path.join(os.path.dirname(__file__), "data.sql"), "rb") as f:  # ok: QM406
    _data_sql = f.read().decode("utf8")  # ok: QM406


@pytest.fixture
def app():  # error: QM306
    """Create and configure a new app instance for each test."""
    db_fd, db_path = tempfile.mkstemp()
    app = create_app({"TESTING": True, "DATABASE": db_path})

    with app.app_context():  # error: QM211
        init_db()  # error: QM307
        get_db().executescript(_data_sql)  # error: QM307

    yield app

    os.close(db_fd)
    os.unlink(db_path)  # ok: QM407


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()  # ok: QM601


@pytest.fixture
def runner(app):
    """A test runner for the app's Click commands."""
    return app.test_cli_runner()  # ok: QM601


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username="test", password="test"):  # error: QM306
        return self._client.post(  # error: QM601
            "/auth/login", data={"username": username, "password": password}  # error: QM603
        )

    def logout(self):  # error: QM306
        return self._client.get("/auth/logout")  # error: QM601

    def credentials(self):
        return ("test", "test")


@pytest.fixture
def auth(client):
    return AuthActions(client)
