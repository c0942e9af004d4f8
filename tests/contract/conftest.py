"""Fixtures of the contract suite: a fresh database per test, the app under test, clients.

Every test runs once per app in :data:`tests.contract.targets.TARGETS` and once per database:
SQLite always, PostgreSQL too when ``BOOKSTORE_TEST_POSTGRES_URL`` is set (each test session
then works in a database of its own, dropped at the end).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

from legacy_flask.db import sqlalchemy_url
from legacy_flask.models import Base
from tests.contract.targets import TARGETS

POSTGRES_ENV = "BOOKSTORE_TEST_POSTGRES_URL"
ADMIN = ("admin", "admin-password")
USER = ("reader", "reader-password")
OTHER_USER = ("writer", "writer-password")

#: Cheap hashes keep the suite fast; the stored format is the same as production's.
TEST_HASH_METHOD = "pbkdf2:sha256:1000"

DATABASES = ["sqlite", *(["postgresql"] if os.environ.get(POSTGRES_ENV) else [])]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test session's own, dropped at the end."""
    server = sqlalchemy_url(os.environ[POSTGRES_ENV])
    name = f"bookstore_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = os.environ[POSTGRES_ENV].rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        folder = tmp_path / "database"
        folder.mkdir()
        return f"sqlite:///{folder / 'bookstore.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(sqlalchemy_url(url))
    Base.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def db_snapshot(database_url: str) -> Iterator[Callable[[], dict[str, list[tuple[Any, ...]]]]]:
    """Return a function that reads every row of every bookstore table, for before/after checks."""
    engine = create_engine(sqlalchemy_url(database_url))

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        with engine.connect() as connection:
            return {
                table.name: sorted(tuple(row) for row in connection.execute(table.select()))
                for table in Base.metadata.sorted_tables
            }

    yield snapshot
    engine.dispose()


def no_server_errors(response: httpx.Response) -> None:
    """Fail on any 500, HTML page or traceback: no input may produce one (response hook)."""
    response.read()
    assert response.status_code != 500, response.text
    assert "text/html" not in response.headers.get("Content-Type", ""), response.text
    assert "Traceback" not in response.text


@pytest.fixture
def bookstore_config(database_url: str) -> dict[str, Any]:
    """Settings every app under test gets; a test module may override this fixture."""
    return {
        "database_url": database_url,
        "secret_key": "contract-suite",
        "admin_username": ADMIN[0],
        "admin_password": ADMIN[1],
        "password_hash_method": TEST_HASH_METHOD,
    }


@pytest.fixture(params=sorted(TARGETS))
def bookstore(request: pytest.FixtureRequest, bookstore_config: dict[str, Any]) -> Iterator[Any]:
    """The app under test, freshly built on an empty database."""
    with TARGETS[request.param](bookstore_config, no_server_errors) as target:
        yield target


@pytest.fixture
def api(bookstore: Any) -> httpx.Client:
    """An anonymous client."""
    client: httpx.Client = bookstore.client()
    return client


def login(client: httpx.Client, username: str, password: str) -> httpx.Client:
    """Log ``client`` in; fail the test when the app refuses."""
    response = client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 204, response.text
    return client


@pytest.fixture
def user(bookstore: Any) -> httpx.Client:
    """A client logged in as a registered user who is not an admin."""
    client: httpx.Client = bookstore.client()
    response = client.post("/auth/register", json={"username": USER[0], "password": USER[1]})
    assert response.status_code == 201, response.text
    return login(client, *USER)


@pytest.fixture
def other_user(bookstore: Any) -> httpx.Client:
    """A second logged-in user who is not an admin."""
    client: httpx.Client = bookstore.client()
    response = client.post(
        "/auth/register", json={"username": OTHER_USER[0], "password": OTHER_USER[1]}
    )
    assert response.status_code == 201, response.text
    return login(client, *OTHER_USER)


@pytest.fixture
def admin(bookstore: Any) -> httpx.Client:
    """A client logged in as the start-up admin."""
    return login(bookstore.client(), *ADMIN)
