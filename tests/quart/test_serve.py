"""``python -m quart_app serve``: the Tortoise app under a real Hypercorn process.

The contract suite drives the app in-process; this starts it the way it is deployed and checks
that it opens the database named by ``--db``, serves a write and a read, and stops cleanly.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest

from compare.procs import free_port
from compare.procs import running
from tests.contract.helpers import book_fields
from tests.quart.helpers import HOST
from tests.quart.helpers import TEST_HASH_METHOD
from tests.quart.helpers import USER


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_serve_runs_the_tortoise_app_under_hypercorn(tmp_path: Path, worker_class: str) -> None:
    port = free_port(HOST)
    database = tmp_path / "bookstore.db"
    from_environment = tmp_path / "from-environment.db"
    argv = [
        sys.executable,
        "-m",
        "quart_app",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--worker-class",
        worker_class,
        "--db",
        f"sqlite:///{database}",
    ]
    env = {
        # --db must win over the environment.
        "BOOKSTORE_DATABASE_URL": f"sqlite:///{from_environment}",
        "BOOKSTORE_DATA_LAYER": "tortoise",
        "BOOKSTORE_SECRET_KEY": "quart-serve-test",
        "BOOKSTORE_PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
    }
    credentials = {"username": USER[0], "password": USER[1]}
    with (
        running(argv, port=port, env=env, cwd=tmp_path, log_path=tmp_path / "server.log") as server,
        httpx.Client(base_url=server.base_url, trust_env=False) as client,
    ):
        assert client.get("/health").json() == {"status": "ok", "database": "ok"}
        assert client.post("/auth/register", json=credentials).status_code == 201
        assert client.post("/auth/login", json=credentials).status_code == 204
        created = client.post("/books", json=book_fields())
        assert created.status_code == 201, created.text
        fetched = client.get(created.headers["Location"])
        assert fetched.status_code == 200
        assert fetched.json() == created.json()
        assert fetched.headers["ETag"] == created.headers["ETag"] == '"1"'
    # SIGTERM is a graceful stop: Hypercorn drains, the app closes its connections, exit 0.
    assert server.returncode == 0
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT id, title FROM books").fetchall()
    assert rows == [(created.json()["id"], book_fields()["title"])]
    assert not from_environment.exists()


#: Registrations per client address and minute (``Settings.register_limit``'s default).
REGISTER_LIMIT = 10


def test_a_registration_refused_before_its_body_is_read_closes_the_connection(
    tmp_path: Path,
) -> None:
    # The registration limit is counted before the body is read; Hypercorn then closes the
    # connection, and the 429 says so, so a client does not send its next request into it.
    port = free_port(HOST)
    argv = [sys.executable, "-m", "quart_app", "serve", "--host", HOST, "--port", str(port)]
    env = {
        "BOOKSTORE_DATABASE_URL": f"sqlite:///{tmp_path / 'bookstore.db'}",
        "BOOKSTORE_SECRET_KEY": "quart-serve-test",
        "BOOKSTORE_PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
    }
    with (
        running(argv, port=port, env=env, cwd=tmp_path, log_path=tmp_path / "server.log") as server,
        httpx.Client(base_url=server.base_url, trust_env=False) as client,
    ):
        for n in range(REGISTER_LIMIT):
            created = client.post(
                "/auth/register", json={"username": f"user_{n}", "password": "password1"}
            )
            assert created.status_code == 201
            assert "Connection" not in created.headers
        refused = client.post(
            "/auth/register", json={"username": "user_late", "password": "password1"}
        )
        assert refused.status_code == 429
        assert refused.headers["Connection"] == "close"
        assert int(refused.headers["Retry-After"]) >= 1
        # The next request goes on a new connection and is answered.
        assert client.get("/health").status_code == 200
