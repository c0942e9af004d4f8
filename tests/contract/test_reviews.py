"""``/books/{id}/reviews``: one review per user and book, listed newest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.contract.conftest import USER
from tests.contract.helpers import assert_field_errors
from tests.contract.helpers import assert_problem
from tests.contract.helpers import create_book

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def test_create_review(user: httpx.Client, api: httpx.Client) -> None:
    book = create_book(user)
    response = user.post(f"/books/{book['id']}/reviews", json={"rating": 4, "text": "Spice!"})
    assert response.status_code == 201
    review = response.json()
    assert set(review) == {"id", "book_id", "rating", "text", "reviewer", "created_at"}
    assert review["book_id"] == book["id"] and review["reviewer"] == USER[0]
    assert (review["rating"], review["text"]) == (4, "Spice!")
    assert response.headers["Location"] == f"/books/{book['id']}/reviews/{review['id']}"
    assert api.get(f"/books/{book['id']}").json()["version"] == 1, (
        "a review does not change the book"
    )


def test_reviews_are_listed_newest_first(
    user: httpx.Client, other_user: httpx.Client, admin: httpx.Client, api: httpx.Client
) -> None:
    book = create_book(user)
    for client, rating in ((user, 1), (other_user, 2), (admin, 3)):
        assert (
            client.post(f"/books/{book['id']}/reviews", json={"rating": rating}).status_code == 201
        )
    response = api.get(f"/books/{book['id']}/reviews")
    assert response.status_code == 200
    page = response.json()
    assert [r["rating"] for r in page["items"]] == [3, 2, 1]
    assert page["items"][0]["text"] == ""
    assert (page["total"], page["limit"], page["offset"]) == (3, 20, 0)
    second = api.get(f"/books/{book['id']}/reviews", params={"limit": 1, "offset": 1})
    assert [r["rating"] for r in second.json()["items"]] == [2]
    assert 'rel="next"' in second.headers["Link"] and 'rel="prev"' in second.headers["Link"]


def test_a_second_review_by_the_same_user_is_409(user: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    user.post(f"/books/{book['id']}/reviews", json={"rating": 5})
    before = db_snapshot()
    assert_problem(user.post(f"/books/{book['id']}/reviews", json={"rating": 1}), 409)
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"rating": 0}, ["rating"]),
        ({"rating": 6}, ["rating"]),
        ({"rating": "5"}, ["rating"]),
        ({"rating": 4.5}, ["rating"]),
        ({}, ["rating"]),
        ({"rating": 5, "text": "x" * 5001}, ["text"]),
        ({"rating": 5, "text": None}, ["text"]),
        ({"rating": 5, "reviewer": "someone"}, ["reviewer"]),
        ({"rating": 5, "book_id": 2}, ["book_id"]),
    ],
)
def test_create_review_rejects_bad_fields(
    user: httpx.Client, db_snapshot: Snapshot, body: dict[str, Any], fields: list[str]
) -> None:
    book = create_book(user)
    before = db_snapshot()
    response = user.post(f"/books/{book['id']}/reviews", json=body)
    assert_field_errors(response, *[("body", f) for f in fields])
    assert db_snapshot() == before


def test_review_text_may_be_5000_characters(user: httpx.Client) -> None:
    book = create_book(user)
    response = user.post(f"/books/{book['id']}/reviews", json={"rating": 5, "text": "ü" * 5000})
    assert response.status_code == 201


def test_review_errors(user: httpx.Client, api: httpx.Client, db_snapshot: Snapshot) -> None:
    book = create_book(user)
    before = db_snapshot()
    assert_problem(api.post(f"/books/{book['id']}/reviews", json={"rating": 5}), 401)
    assert_problem(user.post("/books/4242/reviews", json={"rating": 5}), 404)
    assert_problem(api.get("/books/4242/reviews"), 404)
    response = user.post(
        f"/books/{book['id']}/reviews", content=b"rating=5", headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415)
    assert_field_errors(
        api.get(f"/books/{book['id']}/reviews", params={"limit": 0}), ("query", "limit")
    )
    assert db_snapshot() == before
