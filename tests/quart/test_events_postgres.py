"""``WS /ws/events`` across processes: PostgreSQL ``LISTEN``/``NOTIFY`` carries every change.

Two ``python -m quart_app serve`` processes on one PostgreSQL database stand for two Hypercorn
workers (or two machines). A change made through either must reach the clients of both
(:class:`quart_app.events.PostgresRelay`). Runs only when ``BOOKSTORE_TEST_POSTGRES_URL`` names
a PostgreSQL server; the test makes a database of its own there and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy import make_url
from sqlalchemy import text

from compare.procs import arunning
from compare.procs import free_port
from legacy_flask.db import sqlalchemy_url
from tests.contract.helpers import book_fields
from tests.quart.helpers import ADMIN
from tests.quart.helpers import HOST
from tests.quart.helpers import TEST_HASH_METHOD
from tests.quart.helpers import event
from tests.quart.helpers import http_login
from tests.quart.wsclient import WebSocketClient

POSTGRES_ENV = "BOOKSTORE_TEST_POSTGRES_URL"
#: Seconds a client may wait for an event that went through PostgreSQL.
RECEIVE_TIMEOUT_S = 30.0


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own (its URL), dropped at the end."""
    server_url = make_url(os.environ[POSTGRES_ENV])
    name = f"bookstore_events_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        sqlalchemy_url(server_url.render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def serve_argv(port: int, database_url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "quart_app",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--db",
        database_url,
    ]


async def receive(client: WebSocketClient) -> Any:
    async with asyncio.timeout(RECEIVE_TIMEOUT_S):
        return await client.receive_json()


async def test_a_change_made_through_one_server_reaches_the_clients_of_both(
    tmp_path: Path, postgres_database: str
) -> None:
    env = {
        # One key for both, as several workers must have: a session from one is valid on the other.
        "BOOKSTORE_SECRET_KEY": "quart-postgres-relay-test",
        "BOOKSTORE_DATA_LAYER": "tortoise",
        "BOOKSTORE_PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
        "BOOKSTORE_ADMIN_USERNAME": ADMIN[0],
        "BOOKSTORE_ADMIN_PASSWORD": ADMIN[1],
    }
    first_port = free_port(HOST)
    # One after the other: each creates the missing tables at start-up.
    async with arunning(
        serve_argv(first_port, postgres_database),
        port=first_port,
        env=env,
        cwd=tmp_path,
        log_path=tmp_path / "server-1.log",
    ) as first:
        second_port = free_port(HOST)
        async with arunning(
            serve_argv(second_port, postgres_database),
            port=second_port,
            env=env,
            cwd=tmp_path,
            log_path=tmp_path / "server-2.log",
        ) as second:
            on_first = await WebSocketClient.connect(HOST, first.port, "/ws/events")
            on_second = await WebSocketClient.connect(HOST, second.port, "/ws/events")
            try:
                async with (
                    httpx.AsyncClient(base_url=second.base_url, trust_env=False) as via_second,
                    httpx.AsyncClient(base_url=first.base_url, trust_env=False) as via_first,
                ):
                    await http_login(via_second, *ADMIN)
                    created = await via_second.post("/books", json=book_fields())
                    assert created.status_code == 201, created.text
                    book = created.json()
                    announced = event("book.created", book["id"], book)
                    assert await receive(on_first) == announced
                    assert await receive(on_second) == announced

                    # The other way round, with the session the second server signed.
                    via_first.cookies = via_second.cookies
                    patched = await via_first.patch(
                        f"/books/{book['id']}", json={"title": "Dune Messiah"}
                    )
                    assert patched.status_code == 200, patched.text
                    announced = event("book.updated", book["id"], patched.json())
                    assert await receive(on_second) == announced
                    assert await receive(on_first) == announced
            finally:
                await on_first.aclose()
                await on_second.aclose()
