"""``WS /ws/events`` over a real socket: a client that stops reading is dropped, nobody waits.

In-process test clients have no back-pressure, so this test serves the app with Hypercorn and
talks to it through the kernel's TCP stack. One client reads every message; the other completes
the handshake and then reads nothing, with small TCP buffers so that it falls behind after a
few hundred messages rather than a few megabytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest

from quart_app.events import CLOSE_TOO_SLOW
from quart_app.events import EVENTS
from tests.contract.helpers import book_fields
from tests.quart.helpers import ADMIN
from tests.quart.helpers import LiveServer
from tests.quart.helpers import event
from tests.quart.helpers import http_login
from tests.quart.wsclient import WebSocketClient
from tests.quart.wsclient import WebSocketClosedError

#: Messages a client may fall behind before it is dropped.
QUEUE_SIZE = 8
#: TCP settings of the client that stops reading (bytes); see WebSocketClient.connect.
STALLED_RECEIVE_BUFFER = 1024
STALLED_MAX_SEGMENT = 536
#: Writes made once the stalled client was dropped: the feed goes on without it.
WRITES_AFTER_DROP = 20
#: Bound on the writes, so that a feed that never drops anyone fails rather than runs on.
MAX_WRITES = 5000
#: Seconds a client may take to read what it is owed.
RECEIVE_TIMEOUT_S = 30.0


@pytest.fixture
def bookstore_config(bookstore_config: dict[str, Any]) -> dict[str, Any]:
    return {**bookstore_config, "EVENTS_QUEUE_SIZE": QUEUE_SIZE}


async def read_into(client: WebSocketClient, inbox: asyncio.Queue[Any]) -> None:
    """Put every message ``client`` receives into ``inbox``, then how it was closed."""
    try:
        while True:
            inbox.put_nowait(await client.receive_json())
    except (WebSocketClosedError, ConnectionError) as closed:
        inbox.put_nowait(closed)


def long_title(number: int) -> str:
    """Return a distinct title of the longest length the contract allows (300 characters)."""
    return f"{number:05d} ".ljust(300, "~")


async def test_a_client_that_stops_reading_is_dropped_and_nobody_waits_for_it(
    live_server: LiveServer,
) -> None:
    host, port = live_server.host, live_server.port
    broker = live_server.app.extensions[EVENTS]
    async with httpx.AsyncClient(base_url=live_server.base_url, trust_env=False) as http:
        await http_login(http, *ADMIN)
        created = await http.post("/books", json=book_fields())
        assert created.status_code == 201, created.text
        path = f"/books/{created.json()['id']}"

        reader = await WebSocketClient.connect(host, port, "/ws/events")
        stalled = await WebSocketClient.connect(
            host,
            port,
            "/ws/events",
            receive_buffer=STALLED_RECEIVE_BUFFER,
            max_segment=STALLED_MAX_SEGMENT,
        )
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        reading = asyncio.create_task(read_into(reader, inbox))
        try:
            answers: list[httpx.Response] = []
            writes_after_drop = 0
            # How many writes fill the stalled client's buffers depends on the kernel: watch
            # the feed's own subscriber list to know when to stop. Everything asserted below
            # is what the clients saw.
            while writes_after_drop < WRITES_AFTER_DROP and len(answers) < MAX_WRITES:
                answers.append(await http.patch(path, json={"title": long_title(len(answers))}))
                if len(broker.subscribers) < 2:
                    writes_after_drop += 1

            assert [r.status_code for r in answers] == [200] * len(answers)
            sent = [event("book.updated", r.json()["id"], r.json()) for r in answers]

            async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                received = [await inbox.get() for _ in sent]
            assert received == sent

            late: list[Any] = []
            async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                with pytest.raises(WebSocketClosedError) as closed:
                    while True:
                        late.append(await stalled.receive_json())
            assert closed.value.code == CLOSE_TOO_SLOW == 1013
            # It missed the end of the feed, not messages in between.
            assert len(late) < len(sent)
            assert late == sent[: len(late)]
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            await reader.aclose()
            await stalled.aclose()
