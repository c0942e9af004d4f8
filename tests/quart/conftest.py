"""Fixtures of the Quart-only tests: a fresh app per test, and one served by a real Hypercorn.

The contract suite (``tests/contract``) checks what both apps share; these tests check what only
``quart_app`` does: the OpenAPI document, the ``/ws/events`` feed, and serving it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from compare.procs import POLL_INTERVAL_S
from compare.procs import free_port
from quart_app import create_app
from tests.quart.helpers import ADMIN
from tests.quart.helpers import HOST
from tests.quart.helpers import TEST_HASH_METHOD
from tests.quart.helpers import LiveServer

#: The PostgreSQL test is collected only where a server is named (``.ci/run`` names one when it
#: answers): elsewhere there is nothing to run it against, and nothing is skipped.
collect_ignore = (
    [] if os.environ.get("BOOKSTORE_TEST_POSTGRES_URL") else ["test_events_postgres.py"]
)

#: Seconds a server started by a test may take to answer ``/health``.
READY_TIMEOUT_S = 30.0


@pytest.fixture
def bookstore_config(tmp_path: Path) -> dict[str, Any]:
    """Settings of an app on a new SQLite file, with the start-up admin :data:`ADMIN`."""
    folder = tmp_path / "database"
    folder.mkdir()
    return {
        "database_url": f"sqlite:///{folder / 'bookstore.db'}",
        "secret_key": "quart-only-tests",
        "admin_username": ADMIN[0],
        "admin_password": ADMIN[1],
        "password_hash_method": TEST_HASH_METHOD,
    }


@pytest.fixture
def app(bookstore_config: dict[str, Any]) -> Quart:
    """A fresh app; a test module may override ``bookstore_config`` to change it."""
    return create_app(bookstore_config)


@pytest.fixture
async def live_server(app: Quart) -> AsyncIterator[LiveServer]:
    """Serve ``app`` with Hypercorn on a free local port until the test ends.

    Running in the test's loop lets a test look at the app while it serves; the bytes still go
    through the kernel's TCP stack, so a client that stops reading pushes back on the server.
    """
    config = Config()
    port = free_port(HOST)
    config.bind = [f"{HOST}:{port}"]
    config.loglevel = "WARNING"
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        await _wait_until_healthy(server, f"http://{HOST}:{port}/health")
        yield LiveServer(app, HOST, port)
    finally:
        stop.set()
        await server


async def _wait_until_healthy(server: asyncio.Task[None], url: str) -> None:
    """Poll ``url`` until it answers 200; fail early if ``server`` ends first."""
    async with asyncio.timeout(READY_TIMEOUT_S), httpx.AsyncClient(trust_env=False) as client:
        while True:
            if server.done():
                server.result()  # Raises what stopped it (a port taken, a failed start-up).
                raise RuntimeError("Hypercorn stopped before the app answered")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(POLL_INTERVAL_S)
