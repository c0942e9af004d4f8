"""Accounts, builders and log-in steps shared by the Quart-only tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from quart import Quart

# Aliased: pytest would take a name starting with "Test" for a test class.
from quart.typing import TestClientProtocol as QuartTestClient

#: Servers started by these tests listen here only.
HOST = "127.0.0.1"
#: The start-up admin of every app under test, and a user who registers.
ADMIN = ("admin", "admin-password")
USER = ("reader", "reader-password")
#: Cheap hashes keep the tests fast; the stored format is the same as production's.
TEST_HASH_METHOD = "pbkdf2:sha256:1000"


@dataclass(frozen=True)
class LiveServer:
    """An app served by Hypercorn in the test's own event loop, at ``host:port``."""

    app: Quart
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def event(name: str, event_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Return the ``/ws/events`` message announcing ``data``."""
    return {"event": name, "id": event_id, "data": data}


async def quart_login(client: QuartTestClient, username: str, password: str) -> None:
    """Log a Quart test client in; its cookie jar keeps the session."""
    response = await client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 204, await response.get_data(as_text=True)


async def quart_register(client: QuartTestClient, username: str, password: str) -> None:
    """Register a user through a Quart test client, then log it in."""
    response = await client.post(
        "/auth/register", json={"username": username, "password": password}
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    await quart_login(client, username, password)


async def http_login(client: httpx.AsyncClient, username: str, password: str) -> None:
    """Log an httpx client in over the wire; its cookie jar keeps the session."""
    response = await client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 204, response.text
