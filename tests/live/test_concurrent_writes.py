"""Concurrent writers over real sockets: optimistic concurrency and unique ISBNs hold.

The contract promises that of writers who send the same ``If-Match``, one wins and the rest get
412, and that an ISBN belongs to one book whoever races for it. In-process tests send one
request at a time; here many arrive at a real server at once. Waitress serves them on its
4 threads (fewer than the requests: the rest queue), Hypercorn on one event loop, each on
SQLite (one writer at a time, a 30 s busy timeout) and PostgreSQL (row locks).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy import select

from legacy_flask.db import sqlalchemy_url
from legacy_flask.models import Book
from tests.contract.conftest import ADMIN
from tests.contract.conftest import USER
from tests.contract.helpers import DUNE_ISBN13
from tests.contract.helpers import PNG
from tests.contract.helpers import assert_problem
from tests.contract.helpers import book_fields
from tests.contract.helpers import create_book
from tests.contract.live import LIVE_APPS
from tests.contract.live import LiveDatabases
from tests.contract.live import RunningServer
from tests.live.conftest import BASE_CONFIG
from tests.live.conftest import DATABASES
from tests.live.conftest import Serve
from tests.live.conftest import async_client_for
from tests.live.conftest import client_for

pytestmark = pytest.mark.live

#: Concurrent PATCHes with one If-Match (below Waitress' connection_limit of 100).
PATCHES = 50
#: Concurrent creates of one ISBN.
CREATES = 20


@pytest.fixture(
    scope="module",
    params=[(app, kind) for app in LIVE_APPS for kind in DATABASES],
    ids=lambda param: f"{param[0]}-{param[1]}",
)
def server(
    request: pytest.FixtureRequest, serve_for_module: Serve, databases: LiveDatabases
) -> RunningServer:
    """One server per app and database for this module; each test empties its database."""
    app, kind = request.param
    return serve_for_module(app, databases.url(app, kind))


@pytest.fixture
def user(server: RunningServer, databases: LiveDatabases) -> Iterator[httpx.Client]:
    """A logged-in user of ``server``, whose database was emptied for this test."""
    databases.reset(server.database_url, BASE_CONFIG)
    with client_for(server) as client:
        credentials = {"username": USER[0], "password": USER[1]}
        assert client.post("/auth/register", json=credentials).status_code == 201
        assert client.post("/auth/login", json=credentials).status_code == 204
        yield client


async def send_at_once(
    server: RunningServer, cookies: httpx.Cookies, requests: list[dict[str, Any]]
) -> list[httpx.Response]:
    """Send ``requests`` (``httpx.AsyncClient.request`` arguments) at once, one connection each.

    The connections are opened first (one ``GET /health`` on each), so the requests leave
    together rather than as their connections come up.
    """
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    async with async_client_for(server, cookies=cookies, limits=limits, timeout=60) as client:
        warm = await asyncio.gather(*(client.get("/health") for _ in requests))
        assert {response.status_code for response in warm} == {200}
        return await asyncio.gather(*(client.request(**request) for request in requests))


def stored_book(database_url: str, book_id: int) -> Book | None:
    """Read book ``book_id`` straight from the database, past the app."""
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as connection:
            row = connection.execute(select(Book.__table__).where(Book.id == book_id)).first()
    finally:
        engine.dispose()
    return None if row is None else Book(**row._mapping)


def test_one_of_many_patches_with_the_same_if_match_wins(
    server: RunningServer, user: httpx.Client
) -> None:
    book = create_book(user)
    patches = [
        {
            "method": "PATCH",
            "url": f"/books/{book['id']}",
            "json": {"price_cents": 1000 + n, "title": f"Edition {n}"},
            "headers": {"If-Match": '"1"'},
        }
        for n in range(PATCHES)
    ]
    responses = asyncio.run(send_at_once(server, user.cookies, patches))

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 412: PATCHES - 1}, statuses
    for response in responses:
        if response.status_code == 412:
            assert_problem(response, 412)
    (winner,) = (response.json() for response in responses if response.status_code == 200)
    assert winner["version"] == 2
    # No lost update: what the winner was told is what is stored, both fields of it.
    assert user.get(f"/books/{book['id']}").json() == winner
    stored = stored_book(server.database_url, book["id"])
    assert stored is not None
    assert (stored.version, stored.price_cents, stored.title) == (
        2,
        winner["price_cents"],
        winner["title"],
    )
    assert winner["title"] == f"Edition {winner['price_cents'] - 1000}"


def test_one_of_many_creates_with_the_same_isbn_wins(
    server: RunningServer, user: httpx.Client
) -> None:
    creates = [
        {"method": "POST", "url": "/books", "json": book_fields(title=f"Dune {n}")}
        for n in range(CREATES)
    ]
    responses = asyncio.run(send_at_once(server, user.cookies, creates))

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: CREATES - 1}, statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    (created,) = (response.json() for response in responses if response.status_code == 201)
    listed = user.get("/books").json()
    assert listed["total"] == 1
    assert listed["items"] == [created]
    assert created["isbn"] == DUNE_ISBN13


#: Concurrent first uploads of one book's cover.
COVER_UPLOADS = 10
#: Books each deleted while a cover upload and a review for it are in flight.
RACED_BOOKS = 8


def admin_cookies(server: RunningServer) -> httpx.Cookies:
    with client_for(server) as admin:
        response = admin.post("/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert response.status_code == 204, response.text
        return admin.cookies


def test_concurrent_first_cover_uploads_all_succeed(
    server: RunningServer, user: httpx.Client
) -> None:
    # Was "UNIQUE constraint failed" (a 500) for some: each upload read "no cover yet", then
    # inserted. Now one INSERT … ON CONFLICT DO UPDATE each: the last one wins.
    book = create_book(user, isbn=None)
    uploads = [
        {
            "method": "PUT",
            "url": f"/books/{book['id']}/cover",
            "files": {"file": ("c.png", PNG + bytes([n]), "image/png")},
        }
        for n in range(COVER_UPLOADS)
    ]
    responses = asyncio.run(send_at_once(server, user.cookies, uploads))
    assert [response.status_code for response in responses] == [204] * COVER_UPLOADS
    stored = user.get(f"/books/{book['id']}/cover")
    assert stored.status_code == 200
    assert stored.content[: len(PNG)] == PNG


def test_writes_racing_a_delete_are_answered_or_not_found(
    server: RunningServer, user: httpx.Client
) -> None:
    # Were 500 (StaleDataError) or 503 for a cover, and 409 for a review, when the book went
    # away between the view's check and its write.
    books = [create_book(user, isbn=None, title=f"Raced {n}") for n in range(RACED_BOOKS)]
    writes = [
        request
        for book in books
        for request in (
            {
                "method": "PUT",
                "url": f"/books/{book['id']}/cover",
                "files": {"file": ("c.png", PNG, "image/png")},
            },
            {"method": "POST", "url": f"/books/{book['id']}/reviews", "json": {"rating": 3}},
        )
    ]
    deletes = [{"method": "DELETE", "url": f"/books/{book['id']}"} for book in books]

    async def race() -> tuple[list[httpx.Response], list[httpx.Response]]:
        return await asyncio.gather(
            send_at_once(server, user.cookies, writes),
            send_at_once(server, admin_cookies(server), deletes),
        )

    written, deleted = asyncio.run(race())
    assert [response.status_code for response in deleted] == [204] * RACED_BOOKS
    for response in written:
        if response.status_code == 404:
            assert_problem(response, 404)
        else:
            assert response.status_code in (201, 204), response.text
    for book in books:
        assert_problem(user.get(f"/books/{book['id']}/cover"), 404)
