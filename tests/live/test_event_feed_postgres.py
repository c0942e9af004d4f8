"""``/ws/events`` on PostgreSQL, where every change travels through ``LISTEN``/``NOTIFY``.

``quart_app`` relays each event through PostgreSQL so that every worker's clients hear of it
(``quart_app.events.PostgresRelay``). Two ways it once lost events are tested here: a message
longer than a NOTIFY payload (8000 bytes), and an outage of the database.

Collected only when ``BOOKSTORE_TEST_POSTGRES_URL`` names a server (``conftest.py``).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.contract.conftest import USER
from tests.contract.conftest import login
from tests.contract.helpers import create_book
from tests.contract.live import LIVE_APPS
from tests.contract.live import LiveDatabases
from tests.contract.live import RunningServer
from tests.live.conftest import Serve
from tests.live.conftest import checked_client
from tests.live.fakes import TcpProxy
from tests.quart.wsclient import WebSocketClient

pytestmark = pytest.mark.live

#: Seconds the event feed may take to carry a change (it takes milliseconds when it works).
EVENT_WITHIN_S = 2.0
#: The apps with an event feed.
QUART_APPS = [name for name, app in LIVE_APPS.items() if app.package == "quart_app"]


def register_and_log_in(user: httpx.Client) -> None:
    credentials = {"username": USER[0], "password": USER[1]}
    assert user.post("/auth/register", json=credentials).status_code == 201
    login(user, *USER)


async def subscribe(server: RunningServer) -> WebSocketClient:
    """Connect to ``/ws/events``: every change committed from now on comes to the client."""
    return await WebSocketClient.connect(server.process.host, server.process.port, "/ws/events")


async def next_event(feed: WebSocketClient) -> object:
    """Return the next message, or raise :class:`TimeoutError` after :data:`EVENT_WITHIN_S`."""
    async with asyncio.timeout(EVENT_WITHIN_S):
        return await feed.receive_json()


@pytest.mark.parametrize("app", QUART_APPS)
async def test_a_long_review_reaches_the_event_feed(
    serve: Serve, databases: LiveDatabases, app: str
) -> None:
    server = serve(app, databases.url(f"{app}-long-review", "postgresql"))
    with checked_client(server) as user:
        register_and_log_in(user)
        feed = await subscribe(server)
        try:
            book = create_book(user)
            # The feed works: the book's event comes through.
            assert await next_event(feed) == {
                "event": "book.created",
                "id": book["id"],
                "data": book,
            }
            response = user.post(
                f"/books/{book['id']}/reviews", json={"rating": 5, "text": "ü" * 5000}
            )
            assert response.status_code == 201
            message = await next_event(feed)
        finally:
            await feed.aclose()
    review = response.json()
    assert message == {"event": "review.created", "id": review["id"], "data": review}


@pytest.mark.parametrize("app", QUART_APPS)
async def test_the_event_feed_carries_changes_again_after_an_outage(
    serve: Serve, postgres_behind_proxy: tuple[TcpProxy, str], app: str
) -> None:
    cut_off, database_url = postgres_behind_proxy
    server = serve(app, database_url)
    cut_off.cut()
    cut_off.restore()
    with checked_client(server) as user:
        assert user.get("/health").status_code == 200
        register_and_log_in(user)
        feed = await subscribe(server)
        try:
            book = create_book(user)
            message = await next_event(feed)
        finally:
            await feed.aclose()
    assert message == {"event": "book.created", "id": book["id"], "data": book}
