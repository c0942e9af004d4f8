"""SIGTERM while slow requests are in flight: what each server does, and that no write is torn.

Twenty ``GET /books/{id}/availability`` calls wait at a gated inventory (:class:`GatedInventory`:
the test knows how many reached it, and decides when they are answered), writes follow, then the
server gets SIGTERM.

- **Hypercorn**, SIGTERM to its main process (``kill PID``, ``docker stop``, Kubernetes): the
  worker stops accepting, closes idle keep-alive connections, and waits up to
  ``graceful_timeout`` (3 s) for requests in flight; the calls answered in that time get their
  200, then the app's shutdown runs and the server exits 0.
- **Hypercorn**, SIGTERM to its whole process group (``kill -TERM -PGID``, systemd's default
  ``KillMode=control-group``): ``python -m quart_app serve`` runs a supervisor and one spawned
  worker; the worker leaves signals to the supervisor and has no SIGTERM handler, so it dies at
  once and every request in flight is cut, as with Waitress.
- **Waitress** has no SIGTERM handler: the process ends on the spot (status -15), requests in
  flight and queued get no answer (the connection closes), nothing is drained.

Either way every write that was answered 2xx is in the database afterwards, and none is half
there: a book deleted with its review and cover is gone with both, or is there with both.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy import select

from legacy_flask.db import sqlalchemy_url
from legacy_flask.models import Book
from legacy_flask.models import Cover
from legacy_flask.models import Review
from tests.contract.conftest import ADMIN
from tests.contract.conftest import USER
from tests.contract.helpers import JPEG
from tests.contract.helpers import book_fields
from tests.contract.helpers import create_book
from tests.contract.live import LIVE_APPS
from tests.contract.live import LiveDatabases
from tests.contract.live import RunningServer
from tests.live.conftest import DATABASES
from tests.live.conftest import Serve
from tests.live.conftest import async_client_for
from tests.live.conftest import client_for
from tests.live.fakes import EXPECTED_WITHIN_S
from tests.live.fakes import GatedInventory

pytestmark = pytest.mark.live

#: Availability calls in flight when SIGTERM arrives.
SLOW_CALLS = 20
#: Waitress' worker threads (its default): only this many calls reach the inventory at once.
WAITRESS_THREADS = 4
#: Books created, and books (each with a review and a cover) deleted, around the SIGTERM.
CREATES = 10
DELETES = 5

#: (app, whom SIGTERM is sent to, expected outcome): ``drained`` (every slow call answered
#: 200) or ``cut`` (no slow call answered).
CASES = [
    ("flask-live", "process", "cut"),
    ("quart-live", "process", "drained"),
    ("quart-live", "group", "cut"),
    ("quart-threaded-live", "process", "drained"),
]


@pytest.fixture
def inventory() -> Iterator[GatedInventory]:
    with GatedInventory() as gated:
        yield gated


def setup_books(server: RunningServer) -> tuple[httpx.Cookies, httpx.Cookies, int, list[int]]:
    """Register and log in a user and the admin; create a book to look up and books to delete.

    Returns the user's and the admin's cookies, the looked-up book's id, and the ids of the
    books to delete, each with a review and a cover.
    """
    with client_for(server) as user, client_for(server) as admin:
        credentials = {"username": USER[0], "password": USER[1]}
        assert user.post("/auth/register", json=credentials).status_code == 201
        assert user.post("/auth/login", json=credentials).status_code == 204
        login = {"username": ADMIN[0], "password": ADMIN[1]}
        assert admin.post("/auth/login", json=login).status_code == 204
        looked_up = create_book(user)["id"]
        doomed = []
        for n in range(DELETES):
            book_id = create_book(user, title=f"Doomed {n}", isbn=None)["id"]
            assert user.post(f"/books/{book_id}/reviews", json={"rating": 3}).status_code == 201
            cover = user.put(f"/books/{book_id}/cover", files={"file": ("c.jpg", JPEG)})
            assert cover.status_code == 204
            doomed.append(book_id)
        return user.cookies, admin.cookies, looked_up, doomed


async def outcome(request: Awaitable[httpx.Response]) -> httpx.Response | BaseException:
    """Await ``request``; return its response or the transport error it ended with."""
    try:
        response: httpx.Response = await request
    except httpx.TransportError as exc:
        return exc
    return response


class Sent:
    """Counts requests whose body has left the client (an httpcore ``trace`` callback)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.all = asyncio.Event()

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "http11.send_request_body.complete":
            self.count += 1
            if self.count == self.expected:
                self.all.set()


def wait_for_exit(server: RunningServer) -> None:
    """Block until the server's main process has ended (it stays unreaped for ``stop``)."""
    os.waitid(os.P_PID, server.process.pid, os.WEXITED | os.WNOWAIT)


async def idle_connection(server: RunningServer) -> asyncio.StreamReader:
    """Open a connection, make one request on it and read the answer; leave it idle.

    Hypercorn closes idle keep-alive connections as soon as its worker starts shutting down:
    reading the returned stream to its end waits for that moment.
    """
    reader, writer = await asyncio.open_connection(server.process.host, server.process.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: bookstore\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return reader


@pytest.mark.parametrize(("app", "to", "expected"), CASES, ids=[f"{a}-{t}" for a, t, _ in CASES])
@pytest.mark.parametrize("kind", DATABASES)
async def test_sigterm_with_slow_requests_in_flight(
    serve: Serve,
    databases: LiveDatabases,
    inventory: GatedInventory,
    app: str,
    to: str,
    expected: str,
    kind: str,
) -> None:
    database_url = databases.url(f"{app}-{to}-sigterm", kind)
    # Started from the main thread, whose end the server's orphan guard watches.
    server = serve(app, database_url, inventory_url=inventory.base_url, inventory_timeout=30)
    user_cookies, admin_cookies, looked_up, doomed = await asyncio.to_thread(setup_books, server)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with (
        async_client_for(server, cookies=user_cookies, limits=limits, timeout=60) as user,
        async_client_for(server, cookies=admin_cookies, limits=limits, timeout=60) as admin,
    ):
        slow = [
            asyncio.create_task(outcome(user.get(f"/books/{looked_up}/availability")))
            for _ in range(SLOW_CALLS)
        ]
        reaching = WAITRESS_THREADS if LIVE_APPS[app].server == "waitress" else SLOW_CALLS
        await asyncio.to_thread(inventory.wait_for_arrivals, reaching)

        sent = Sent(CREATES + DELETES)
        creates = [
            asyncio.create_task(
                outcome(
                    user.post(
                        "/books",
                        json=book_fields(title=f"New {n}", isbn=None),
                        extensions={"trace": sent.trace},
                    )
                )
            )
            for n in range(CREATES)
        ]
        deletes = [
            asyncio.create_task(
                outcome(admin.delete(f"/books/{book_id}", extensions={"trace": sent.trace}))
            )
            for book_id in doomed
        ]
        if LIVE_APPS[app].server == "hypercorn":
            # Nothing holds Hypercorn's writes up: let them finish, so SIGTERM finds only the
            # slow calls in flight.
            await asyncio.gather(*creates, *deletes)
        else:
            # Waitress' threads are all waiting on the inventory: the writes queue behind them.
            async with asyncio.timeout(EXPECTED_WITHIN_S):
                await sent.all.wait()

        if expected == "drained":
            idle = await idle_connection(server)
        (os.killpg if to == "group" else os.kill)(server.process.pid, signal.SIGTERM)
        if expected == "drained":
            # The worker has begun its drain once it closes the idle connection.
            async with asyncio.timeout(EXPECTED_WITHIN_S):
                assert await idle.read() == b""
        else:
            await asyncio.to_thread(wait_for_exit, server)
        inventory.open_gate()
        slow_results = await asyncio.gather(*slow)
        create_results = await asyncio.gather(*creates)
        delete_results = await asyncio.gather(*deletes)

    status = await asyncio.to_thread(server.stop)
    writes = [*create_results, *delete_results]
    if expected == "drained":
        assert [getattr(r, "status_code", r) for r in slow_results] == [200] * SLOW_CALLS
        assert status == 0, server.log_tail()
    else:
        assert all(isinstance(r, httpx.TransportError) for r in slow_results), slow_results
    if LIVE_APPS[app].server == "waitress":
        # Killed on the spot: the queued writes were never run, and nobody was answered.
        assert status == -signal.SIGTERM
        assert all(isinstance(r, httpx.TransportError) for r in writes), writes
    else:
        # The supervisor exits 0 even when its worker was killed by the group's SIGTERM.
        assert status == 0, server.log_tail()
        assert [getattr(r, "status_code", r) for r in writes] == [201] * CREATES + [204] * DELETES

    books = check_no_write_lost_or_torn(database_url, create_results, delete_results, doomed)
    if LIVE_APPS[app].server == "waitress":
        assert sorted(books.values()) == [
            "Doomed 0",
            "Doomed 1",
            "Doomed 2",
            "Doomed 3",
            "Doomed 4",
            "Dune",
        ]


def check_no_write_lost_or_torn(
    database_url: str,
    creates: list[httpx.Response | BaseException],
    deletes: list[httpx.Response | BaseException],
    doomed: list[int],
) -> dict[int, str]:
    """Check every 2xx write is stored and every doomed book there or gone whole.

    Returns the titles of the books in the database, by id.
    """
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as connection:
            books = {row.id: row.title for row in connection.execute(select(Book.id, Book.title))}
            reviewed = set(connection.scalars(select(Review.book_id)))
            covered = set(connection.scalars(select(Cover.book_id)))
    finally:
        engine.dispose()
    for result in creates:
        if isinstance(result, httpx.Response):
            assert result.status_code == 201, result.text
            assert books[result.json()["id"]] == result.json()["title"]
    for n, (book_id, result) in enumerate(zip(doomed, deletes, strict=True)):
        # SQLite hands a deleted highest id to the next new book: compare titles, not ids.
        still_there = books.get(book_id) == f"Doomed {n}"
        if isinstance(result, httpx.Response):
            assert result.status_code == 204, result.text
            assert not still_there
        present = (still_there, book_id in reviewed, book_id in covered)
        assert present in {(True, True, True), (False, False, False)}, (book_id, present)
    allowed = {
        "Dune",
        *(f"New {n}" for n in range(CREATES)),
        *(f"Doomed {n}" for n in range(DELETES)),
    }
    assert set(books.values()) <= allowed
    return books
