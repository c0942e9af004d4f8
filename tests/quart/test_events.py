"""``WS /ws/events`` (**Quart only**) in-process: every client receives every change, in order.

Each message is ``{"event": …, "id": int, "data": {...}}`` with ``data`` as the HTTP API
returned it. Quart's test client has no socket and so no back-pressure: slow clients are
tested over the wire in ``test_events_slow_client.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart
from quart import Response

# Aliased: pytest would take a name starting with "Test" for a test class.
from quart.testing.connections import TestWebsocketConnection as QuartWebsocket
from quart.typing import TestWebsocketConnectionProtocol as QuartWebsocketProtocol

from quart_app.events import EventBroker
from tests.contract.helpers import book_fields
from tests.quart.helpers import ADMIN
from tests.quart.helpers import USER
from tests.quart.helpers import event
from tests.quart.helpers import quart_login
from tests.quart.helpers import quart_register

#: Seconds a test waits for a message it expects.
RECEIVE_TIMEOUT_S = 10.0


@pytest.fixture(params=["tortoise", "threaded"])
def bookstore_config(
    request: pytest.FixtureRequest, bookstore_config: dict[str, Any]
) -> dict[str, Any]:
    """Both data layers publish: the view does, after the change is committed."""
    return {**bookstore_config, "data_layer": request.param}


async def accepted(connection: QuartWebsocketProtocol) -> None:
    """Wait until the app has accepted ``connection`` (the feed subscribes it on accepting)."""
    assert isinstance(connection, QuartWebsocket)
    async with asyncio.timeout(RECEIVE_TIMEOUT_S):
        # Quart's test connection records the acceptance in a flag and nothing else to wait on.
        while not connection.accepted:  # noqa: ASYNC110
            await asyncio.sleep(0)


async def json_body(response: Response) -> dict[str, Any]:
    body: dict[str, Any] = await response.get_json()
    return body


async def test_every_client_receives_every_change_in_order(app: Quart) -> None:
    async with app.test_app() as test_app:
        anonymous = test_app.test_client()
        user = test_app.test_client()
        admin = test_app.test_client()
        await quart_register(user, *USER)
        await quart_login(admin, *ADMIN)

        async with (
            anonymous.websocket("/ws/events") as first,
            user.websocket("/ws/events") as second,
        ):
            await accepted(first)
            await accepted(second)

            # Refused writes change nothing, so they announce nothing.
            assert (await anonymous.post("/books", json=book_fields())).status_code == 401
            created = await user.post("/books", json=book_fields())
            assert created.status_code == 201
            book = await json_body(created)
            path = f"/books/{book['id']}"
            assert (await user.patch(path, json={"year": 3000})).status_code == 400
            patched = await user.patch(path, json={"title": "Dune Messiah", "year": None})
            assert patched.status_code == 200
            reviewed = await user.post(f"{path}/reviews", json={"rating": 4, "text": "Good."})
            assert reviewed.status_code == 201
            review = await json_body(reviewed)
            assert (await user.delete(path)).status_code == 403
            deleted = await admin.delete(path)
            assert deleted.status_code == 204

            expected = [
                event("book.created", book["id"], book),
                event("book.updated", book["id"], await json_body(patched)),
                event("review.created", review["id"], review),
                event("book.deleted", book["id"], {"id": book["id"]}),
            ]
            for connection in (first, second):
                async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                    received = [await connection.receive_json() for _ in expected]
                assert received == expected


async def test_a_client_receives_only_changes_made_after_it_connected(app: Quart) -> None:
    async with app.test_app() as test_app:
        admin = test_app.test_client()
        await quart_login(admin, *ADMIN)
        assert (await admin.post("/books", json=book_fields())).status_code == 201

        async with admin.websocket("/ws/events") as connection:
            await accepted(connection)
            after = await json_body(await admin.post("/books", json=book_fields(isbn=None)))
            async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                received = await connection.receive_json()

        assert received == event("book.created", after["id"], after)


def test_a_feed_that_keeps_no_message_is_refused() -> None:
    with pytest.raises(ValueError, match="EVENTS_QUEUE_SIZE must be at least 1, not 0"):
        EventBroker(queue_size=0)
