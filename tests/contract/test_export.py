"""``GET /books/export.csv``: every book, ordered by id, streamed in chunks."""

from __future__ import annotations

import csv
import io

import httpx

from tests.contract.helpers import create_book

HEADER = ["id", "title", "author", "year", "isbn", "price_cents", "created_at", "updated_at"]


def test_export_of_an_empty_store_is_the_header(api: httpx.Client) -> None:
    response = api.get("/books/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].replace(" ", "").lower() == "text/csv;charset=utf-8"
    assert list(csv.reader(io.StringIO(response.text))) == [HEADER]


def test_export_lists_every_book_in_id_order(user: httpx.Client, api: httpx.Client) -> None:
    tricky = 'Quotes "and", commas\nand a line break — ünïcödé'
    books = [
        create_book(user, title=f"Book {n}", isbn=None, year=None if n % 2 else 2000 + n)
        for n in range(3)
    ]
    books.append(create_book(user, title=tricky, author="O'Brien, Flann"))
    rows = list(csv.reader(io.StringIO(api.get("/books/export.csv").text)))
    assert rows[0] == HEADER
    assert [int(row[0]) for row in rows[1:]] == [book["id"] for book in books]
    for row, book in zip(rows[1:], books, strict=True):
        expected = {name: "" if book[name] is None else str(book[name]) for name in HEADER}
        assert dict(zip(HEADER, row, strict=True)) == expected


def test_export_streams_more_rows_than_one_batch(user: httpx.Client, api: httpx.Client) -> None:
    # More than one read batch (500 rows) must come out whole and in order.
    count = 0
    for n in range(501):
        response = user.post("/books", json={"title": f"T{n}", "author": "A"})
        assert response.status_code == 201
        count += 1
    with api.stream("GET", "/books/export.csv") as response:
        assert response.status_code == 200
        chunks = [chunk for chunk in response.iter_bytes() if chunk]
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == count + 1
    assert [int(row[0]) for row in rows[1:]] == sorted(int(row[0]) for row in rows[1:])


def test_export_writes_formulas_as_text(user: httpx.Client, api: httpx.Client) -> None:
    # OWASP CSV injection: a cell a spreadsheet would run as a formula gets a leading "'".
    titles = ["=1+2", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")']
    for title in titles:
        create_book(user, title=title, author="=cmd|' /C calc'!A0", isbn=None)
    create_book(user, title="A - B = C", author="Plain Author", isbn=None)
    rows = list(csv.DictReader(io.StringIO(api.get("/books/export.csv").text)))
    assert [row["title"] for row in rows] == ["'" + title for title in titles] + ["A - B = C"]
    assert {row["author"] for row in rows} == {"'=cmd|' /C calc'!A0", "Plain Author"}
