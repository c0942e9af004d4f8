"""``POST``, ``PUT``, ``PATCH`` and ``DELETE`` of books: validation, ISBNs, ETags, auth."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.contract.helpers import DUNE_ISBN10
from tests.contract.helpers import DUNE_ISBN13
from tests.contract.helpers import JPEG
from tests.contract.helpers import assert_field_errors
from tests.contract.helpers import assert_problem
from tests.contract.helpers import book_fields
from tests.contract.helpers import create_book

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def test_create_answers_201_with_location_and_etag(user: httpx.Client, api: httpx.Client) -> None:
    response = user.post("/books", json=book_fields(isbn=DUNE_ISBN10))
    assert response.status_code == 201
    book = response.json()
    assert response.headers["Location"] == f"/books/{book['id']}"
    assert response.headers["ETag"] == '"1"'
    assert book["isbn"] == DUNE_ISBN13 and book["version"] == 1
    assert api.get(response.headers["Location"]).json() == book


def test_create_applies_defaults_and_strips_white_space(user: httpx.Client) -> None:
    book = create_book(user, title="  Dune\t", author=" Frank Herbert ", year=None, isbn=None)
    assert (book["title"], book["author"]) == ("Dune", "Frank Herbert")
    response = user.post("/books", json={"title": "Only a title", "author": "Anonymous"})
    assert response.status_code == 201
    assert response.json()["price_cents"] == 0
    assert response.json()["year"] is None and response.json()["isbn"] is None


def test_non_ascii_titles_are_stored_as_sent(user: httpx.Client, api: httpx.Client) -> None:
    title = "Cien años de soledad — 百年孤独 🦋"
    book = create_book(user, title=title, author="Gabriel García Márquez", isbn=None)
    assert api.get(f"/books/{book['id']}").json()["title"] == title
    longest = create_book(user, title="é" * 300, isbn=None)
    assert len(longest["title"]) == 300


def test_create_needs_a_session(api: httpx.Client, db_snapshot: Snapshot) -> None:
    before = db_snapshot()
    assert_problem(api.post("/books", json=book_fields()), 401)
    assert db_snapshot() == before


def test_duplicate_isbn_is_409_in_any_spelling(user: httpx.Client, db_snapshot: Snapshot) -> None:
    create_book(user, isbn=DUNE_ISBN13)
    before = db_snapshot()
    assert_problem(user.post("/books", json=book_fields(isbn=DUNE_ISBN10)), 409)
    assert_problem(user.post("/books", json=book_fields(isbn="978 0 441 17271 9")), 409)
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"title": ""}, ["title"]),
        ({"title": "   "}, ["title"]),
        ({"title": "x" * 301}, ["title"]),
        ({"title": "é" * 301}, ["title"]),
        ({"author": "a" * 201}, ["author"]),
        ({"title": 42}, ["title"]),
        ({"title": None}, ["title"]),
        ({"year": 999}, ["year"]),
        ({"year": 2101}, ["year"]),
        ({"year": "1965"}, ["year"]),
        ({"year": 1965.5}, ["year"]),
        ({"year": True}, ["year"]),
        ({"price_cents": -1}, ["price_cents"]),
        ({"price_cents": 100_000_001}, ["price_cents"]),
        ({"price_cents": "12.99"}, ["price_cents"]),
        ({"isbn": "978-0-441-17271-8"}, ["isbn"]),
        ({"isbn": "0-441-17271-8"}, ["isbn"]),
        ({"isbn": "97804411727"}, ["isbn"]),
        ({"isbn": "isbn 9780441172719"}, ["isbn"]),
        ({"isbn": 9780441172719}, ["isbn"]),
        ({"id": 7}, ["id"]),
        ({"version": 9}, ["version"]),
        ({"created_at": "2020-01-01T00:00:00Z"}, ["created_at"]),
        ({"publisher": "Chilton"}, ["publisher"]),
        ({"title": 1, "year": "x", "colour": "red"}, ["title", "year", "colour"]),
    ],
)
def test_create_rejects_bad_fields(
    user: httpx.Client, db_snapshot: Snapshot, overrides: dict[str, Any], fields: list[str]
) -> None:
    before = db_snapshot()
    response = user.post("/books", json=book_fields(**overrides))
    assert_field_errors(response, *[("body", name) for name in fields])
    assert db_snapshot() == before


@pytest.mark.parametrize("missing", ["title", "author"])
def test_create_requires_title_and_author(
    user: httpx.Client, db_snapshot: Snapshot, missing: str
) -> None:
    before = db_snapshot()
    body = book_fields()
    del body[missing]
    assert_field_errors(user.post("/books", json=body), ("body", missing))
    assert db_snapshot() == before


@pytest.mark.parametrize("body", [[], "Dune", 42, None])
def test_create_rejects_a_body_that_is_not_an_object(
    user: httpx.Client, db_snapshot: Snapshot, body: Any
) -> None:
    before = db_snapshot()
    raw = json.dumps(body).encode()  # httpx would send no body at all for json=None
    response = user.post("/books", content=raw, headers={"Content-Type": "application/json"})
    assert_field_errors(response, ("body",))
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "raw", [b"{", b'{"title": "Dune",}', b"\xff\xfe not utf-8", b"", b"{'title': 'Dune'}"]
)
def test_malformed_json_is_400(user: httpx.Client, db_snapshot: Snapshot, raw: bytes) -> None:
    before = db_snapshot()
    response = user.post("/books", content=raw, headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_body_that_is_not_json_is_415(
    user: httpx.Client, db_snapshot: Snapshot, content_type: str | None
) -> None:
    before = db_snapshot()
    headers = {"Content-Type": content_type} if content_type else {}
    response = user.post(
        "/books", content=b'{"title": "Dune", "author": "Frank Herbert"}', headers=headers
    )
    assert_problem(response, 415)
    assert db_snapshot() == before


def test_a_json_body_over_one_mebibyte_is_413(user: httpx.Client, db_snapshot: Snapshot) -> None:
    before = db_snapshot()
    padding = "x" * (1024 * 1024)
    response = user.post("/books", json=book_fields(title=padding))
    assert_problem(response, 413)
    assert db_snapshot() == before


def test_put_replaces_every_field(user: httpx.Client) -> None:
    book = create_book(user)
    response = user.put(
        f"/books/{book['id']}", json={"title": "Dune Messiah", "author": "Frank Herbert"}
    )
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["title"] == "Dune Messiah"
    assert replaced["year"] is None and replaced["isbn"] is None and replaced["price_cents"] == 0
    assert replaced["version"] == 2 and response.headers["ETag"] == '"2"'
    assert replaced["created_at"] == book["created_at"]
    assert replaced["updated_at"] >= book["updated_at"]


def test_put_with_a_matching_if_match(user: httpx.Client) -> None:
    book = create_book(user)
    response = user.put(
        f"/books/{book['id']}", json=book_fields(price_cents=1), headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200 and response.json()["version"] == 2


def test_put_with_a_stale_if_match_is_412(user: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    user.patch(f"/books/{book['id']}", json={"price_cents": 1})
    before = db_snapshot()
    response = user.put(f"/books/{book['id']}", json=book_fields(), headers={"If-Match": '"1"'})
    assert_problem(response, 412)
    assert db_snapshot() == before


def test_put_rejects_bad_fields_and_keeps_the_book(
    user: httpx.Client, db_snapshot: Snapshot
) -> None:
    book = create_book(user)
    before = db_snapshot()
    assert_field_errors(
        user.put(f"/books/{book['id']}", json={"title": "No author"}), ("body", "author")
    )
    assert_field_errors(
        user.put(f"/books/{book['id']}", json=book_fields(version=5)), ("body", "version")
    )
    assert db_snapshot() == before


def test_put_needs_a_session(api: httpx.Client, user: httpx.Client) -> None:
    book = create_book(user)
    assert_problem(api.put(f"/books/{book['id']}", json=book_fields()), 401)


def test_put_on_a_missing_book_is_404(user: httpx.Client) -> None:
    assert_problem(user.put("/books/4242", json=book_fields()), 404)


def test_put_with_another_books_isbn_is_409(user: httpx.Client, db_snapshot: Snapshot) -> None:
    create_book(user)
    other = create_book(user, title="Other", isbn=None)
    before = db_snapshot()
    assert_problem(user.put(f"/books/{other['id']}", json=book_fields(title="Other")), 409)
    assert db_snapshot() == before


def test_put_keeping_its_own_isbn_is_fine(user: httpx.Client) -> None:
    book = create_book(user)
    assert user.put(f"/books/{book['id']}", json=book_fields(price_cents=5)).status_code == 200


@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json"])
def test_patch_is_a_merge_patch(user: httpx.Client, content_type: str) -> None:
    book = create_book(user)
    response = user.patch(
        f"/books/{book['id']}",
        content=b'{"year": null, "price_cents": 5}',
        headers={"Content-Type": content_type, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    patched = response.json()
    assert patched["year"] is None and patched["price_cents"] == 5
    assert patched["title"] == book["title"] and patched["isbn"] == book["isbn"]
    assert patched["version"] == 2 and response.headers["ETag"] == '"2"'


def test_an_empty_patch_still_counts_as_a_change(user: httpx.Client) -> None:
    book = create_book(user)
    assert user.patch(f"/books/{book['id']}", json={}).json()["version"] == 2


@pytest.mark.parametrize(
    ("patch", "fields"),
    [
        ({"title": None}, ["title"]),
        ({"author": None}, ["author"]),
        ({"price_cents": None}, ["price_cents"]),
        ({"title": ""}, ["title"]),
        ({"isbn": "123"}, ["isbn"]),
        ({"year": "1965"}, ["year"]),
        ({"id": 2}, ["id"]),
        ({"updated_at": None}, ["updated_at"]),
    ],
)
def test_patch_rejects_bad_fields(
    user: httpx.Client, db_snapshot: Snapshot, patch: dict[str, Any], fields: list[str]
) -> None:
    book = create_book(user)
    before = db_snapshot()
    assert_field_errors(
        user.patch(f"/books/{book['id']}", json=patch), *[("body", f) for f in fields]
    )
    assert db_snapshot() == before


def test_patch_needs_a_json_body(user: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    before = db_snapshot()
    response = user.patch(
        f"/books/{book['id']}", content=b"year=1", headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415)
    assert db_snapshot() == before


def test_patch_errors(user: httpx.Client, api: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    other = create_book(user, title="Other", isbn=None)
    before = db_snapshot()
    assert_problem(api.patch(f"/books/{book['id']}", json={"price_cents": 1}), 401)
    assert_problem(user.patch("/books/4242", json={"price_cents": 1}), 404)
    assert_problem(user.patch(f"/books/{other['id']}", json={"isbn": DUNE_ISBN10}), 409)
    response = user.patch(
        f"/books/{book['id']}", json={"price_cents": 1}, headers={"If-Match": '"9"'}
    )
    assert_problem(response, 412)
    assert db_snapshot() == before


def test_delete_takes_reviews_and_cover_along(
    admin: httpx.Client, user: httpx.Client, api: httpx.Client, db_snapshot: Snapshot
) -> None:
    book = create_book(user)
    assert user.post(f"/books/{book['id']}/reviews", json={"rating": 5}).status_code == 201
    assert (
        user.put(f"/books/{book['id']}/cover", files={"file": ("c.jpg", JPEG)}).status_code == 204
    )
    response = admin.delete(f"/books/{book['id']}", headers={"If-Match": '"1"'})
    assert response.status_code == 204 and response.content == b""
    assert_problem(api.get(f"/books/{book['id']}"), 404)
    tables = db_snapshot()
    assert tables["books"] == [] and tables["reviews"] == [] and tables["covers"] == []


def test_delete_is_for_admins(user: httpx.Client, api: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    before = db_snapshot()
    assert_problem(api.delete(f"/books/{book['id']}"), 401)
    assert_problem(user.delete(f"/books/{book['id']}"), 403)
    assert db_snapshot() == before


def test_delete_errors(admin: httpx.Client, user: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    before = db_snapshot()
    assert_problem(admin.delete("/books/4242"), 404)
    assert_problem(admin.delete(f"/books/{book['id']}", headers={"If-Match": '"2"'}), 412)
    assert db_snapshot() == before
