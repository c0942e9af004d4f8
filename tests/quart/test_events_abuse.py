"""``WS /ws/events`` over a real socket against clients that misuse it.

The feed only sends: a client that sends a message is closed with 1003 (Unsupported Data), so
what it sends never piles up in the server's inbound queue. A process takes at most
``EVENTS_MAX_SUBSCRIBERS`` clients; one more is closed with 1013 (Try Again Later).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from quart_app.events import CLOSE_FULL
from quart_app.events import CLOSE_UNSUPPORTED_DATA
from quart_app.events import EVENTS
from tests.contract.helpers import book_fields
from tests.quart.helpers import ADMIN
from tests.quart.helpers import LiveServer
from tests.quart.helpers import event
from tests.quart.helpers import http_login
from tests.quart.wsclient import WebSocketClient
from tests.quart.wsclient import WebSocketClosedError

#: Clients the feed takes at once in these tests.
MAX_SUBSCRIBERS = 2
#: Seconds a client waits for what it expects.
RECEIVE_TIMEOUT_S = 10.0
#: One binary message, as large as the probe's.
MEBIBYTE = b"\0" * (1024 * 1024)


@pytest.fixture
def bookstore_config(bookstore_config: dict[str, Any]) -> dict[str, Any]:
    return {**bookstore_config, "EVENTS_MAX_SUBSCRIBERS": MAX_SUBSCRIBERS}


async def test_a_client_that_sends_is_closed_with_1003_and_others_keep_the_feed(
    live_server: LiveServer,
) -> None:
    host, port = live_server.host, live_server.port
    broker = live_server.app.extensions[EVENTS]
    sender = await WebSocketClient.connect(host, port, "/ws/events")
    reader = await WebSocketClient.connect(host, port, "/ws/events")
    try:
        for _ in range(3):
            await sender.send_bytes(MEBIBYTE)
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            with pytest.raises(WebSocketClosedError) as closed:
                await sender.receive_text()
        assert closed.value.code == CLOSE_UNSUPPORTED_DATA == 1003
        assert len(broker.subscribers) == 1

        async with httpx.AsyncClient(base_url=live_server.base_url, trust_env=False) as http:
            await http_login(http, *ADMIN)
            created = await http.post("/books", json=book_fields())
            assert created.status_code == 201, created.text
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            assert await reader.receive_json() == event(
                "book.created", created.json()["id"], created.json()
            )
    finally:
        await sender.aclose()
        await reader.aclose()


async def test_one_client_more_than_the_limit_is_closed_with_1013(
    live_server: LiveServer,
) -> None:
    host, port = live_server.host, live_server.port
    broker = live_server.app.extensions[EVENTS]
    clients = [await WebSocketClient.connect(host, port, "/ws/events") for _ in range(2)]
    try:
        extra = await WebSocketClient.connect(host, port, "/ws/events")
        clients.append(extra)
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            with pytest.raises(WebSocketClosedError) as closed:
                await extra.receive_text()
        assert closed.value.code == CLOSE_FULL == 1013
        assert len(broker.subscribers) == MAX_SUBSCRIBERS

        # A place that frees up is taken again.
        await clients[0].aclose()
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            while len(broker.subscribers) == MAX_SUBSCRIBERS:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        clients.append(await WebSocketClient.connect(host, port, "/ws/events"))
        assert len(broker.subscribers) == MAX_SUBSCRIBERS
    finally:
        for client in clients:
            await client.aclose()
