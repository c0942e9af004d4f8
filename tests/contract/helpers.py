"""Assertions and builders shared by the contract tests."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM_JSON = "application/problem+json"

#: A valid ISBN-13 and the ISBN-10 of the same book (Dune).
DUNE_ISBN13 = "9780441172719"
DUNE_ISBN10 = "0-441-17271-7"

#: The smallest PNG and JPEG signatures the apps recognise, with a few bytes of payload.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + bytes(range(64))


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem document with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_field_errors(response: httpx.Response, *locs: tuple[str | int, ...]) -> None:
    """Assert a 400 validation problem naming exactly the fields at ``locs``."""
    body = assert_problem(response, 400)
    found = {tuple(error["loc"]) for error in body["errors"]}
    assert found == set(locs), body["errors"]
    assert all(isinstance(error["msg"], str) and error["msg"] for error in body["errors"])


def book_fields(**overrides: Any) -> dict[str, Any]:
    """Return a valid Book body (Dune), with ``overrides`` applied."""
    fields: dict[str, Any] = {
        "title": "Dune",
        "author": "Frank Herbert",
        "year": 1965,
        "isbn": DUNE_ISBN13,
        "price_cents": 1299,
    }
    fields.update(overrides)
    return fields


def create_book(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    """Create a book through the API and return it; fail the test on anything but 201."""
    response = client.post("/books", json=book_fields(**overrides))
    assert response.status_code == 201, response.text
    book: dict[str, Any] = response.json()
    return book
