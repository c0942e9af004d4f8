"""``GET /books/{id}`` on SQLite reads on the event loop's thread, and falls back to aiosqlite's.

The read goes through :meth:`quart_app.sqlite_backend.SqliteClient.read_now` (a second
connection, no busy wait); whenever that cannot be done at once, the usual Tortoise query
answers instead, with the same body.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from quart import Quart

from quart_app.sqlite_backend import SqliteClient

ROW = (
    "INSERT INTO books (id, title, author, year, isbn, price_cents, version, created_at, "
    "updated_at) VALUES (7, 'Emma', 'Jane Austen', 1815, '9780000000026', 999, 3, "
    "'2024-01-02 03:04:05.000006', '2024-01-02 03:04:05.000007')"
)
BODY = {
    "id": 7,
    "title": "Emma",
    "author": "Jane Austen",
    "year": 1815,
    "isbn": "9780000000026",
    "price_cents": 999,
    "version": 3,
    "created_at": "2024-01-02T03:04:05.000006Z",
    "updated_at": "2024-01-02T03:04:05.000007Z",
}


def _insert_book(bookstore_config: dict[str, Any]) -> None:
    path = bookstore_config["database_url"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute(ROW)


async def test_a_book_is_read_without_a_query_through_aiosqlite(
    app: Quart, bookstore_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.test_app() as test_app:
        _insert_book(bookstore_config)
        queries: list[str] = []
        original = SqliteClient.execute_query

        async def counted(self: SqliteClient, query: str, values: Any = None) -> Any:
            queries.append(query)
            return await original(self, query, values)

        monkeypatch.setattr(SqliteClient, "execute_query", counted)
        client = test_app.test_client()

        found = await client.get("/books/7")
        missing = await client.get("/books/8")

        assert found.status_code == 200
        assert await found.get_json() == BODY
        assert found.headers["ETag"] == '"3"'
        assert missing.status_code == 404
        assert queries == []


async def test_a_read_that_cannot_be_done_at_once_goes_through_aiosqlite(
    app: Quart, bookstore_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(self: SqliteClient, sql: str, values: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    async with app.test_app() as test_app:
        _insert_book(bookstore_config)
        monkeypatch.setattr(SqliteClient, "read_now", busy)
        client = test_app.test_client()

        found = await client.get("/books/7")
        missing = await client.get("/books/8")

        assert found.status_code == 200
        assert await found.get_json() == BODY
        assert missing.status_code == 404


async def test_the_second_connection_sees_each_committed_change_at_once(
    app: Quart, bookstore_config: dict[str, Any]
) -> None:
    async with app.test_app() as test_app:
        _insert_book(bookstore_config)
        client = test_app.test_client()
        assert (await client.get("/books/7")).status_code == 200

        path = bookstore_config["database_url"].removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE books SET version = 4, title = 'Persuasion' WHERE id = 7")
        changed = await client.get("/books/7")

        assert (await changed.get_json())["title"] == "Persuasion"
        assert changed.headers["ETag"] == '"4"'
