"""``GET /books`` (filters, sort, pages, ``Link``) and ``GET /books/{id}`` (ETag, 304)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.contract.helpers import assert_field_errors
from tests.contract.helpers import assert_problem
from tests.contract.helpers import create_book

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def links(response: httpx.Response) -> dict[str, str]:
    """Return ``{rel: target}`` from the ``Link`` header (RFC 8288)."""
    found = {}
    for part in response.headers.get("Link", "").split(","):
        match = re.match(r'\s*<([^>]*)>;\s*rel="(\w+)"', part)
        if match:
            found[match.group(2)] = match.group(1)
    return found


@pytest.fixture
def shelf(user: httpx.Client) -> list[dict[str, Any]]:
    """Five books with distinct titles, authors and years."""
    rows = [
        ("Emma", "Jane Austen", 1815, None),
        ("Persuasion", "Jane Austen", 1817, "978-0-14-143968-6"),
        ("Dune", "Frank Herbert", 1965, "0-441-17271-7"),
        ("Ubik", "Philip K. Dick", 1969, None),
        ("100% Pure_Luck", "A. N. Other", None, None),
    ]
    return [create_book(user, title=t, author=a, year=y, isbn=i) for t, a, y, i in rows]


def test_a_book_has_every_contract_field(user: httpx.Client, api: httpx.Client) -> None:
    created = create_book(user, isbn="0-441-17271-7", price_cents=1299)
    response = api.get(f"/books/{created['id']}")
    assert response.status_code == 200
    book = response.json()
    assert book == created
    assert set(book) == {
        "id",
        "title",
        "author",
        "year",
        "isbn",
        "price_cents",
        "created_at",
        "updated_at",
        "version",
    }
    assert book["isbn"] == "9780441172719"
    assert book["version"] == 1
    assert RFC3339_UTC.match(book["created_at"]) and RFC3339_UTC.match(book["updated_at"])
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Content-Type"].startswith("application/json")


def test_if_none_match_gives_304(user: httpx.Client, api: httpx.Client) -> None:
    book = create_book(user)
    for tag in ('"1"', 'W/"1"', '"7", "1"', "*"):
        response = api.get(f"/books/{book['id']}", headers={"If-None-Match": tag})
        assert response.status_code == 304, tag
        assert response.content == b""
        assert response.headers["ETag"] == '"1"'
    assert api.get(f"/books/{book['id']}", headers={"If-None-Match": '"2"'}).status_code == 200


def test_missing_book_is_404(api: httpx.Client) -> None:
    body = assert_problem(api.get("/books/4242"), 404)
    assert "4242" in body["detail"]


def test_list_is_a_page_with_totals(api: httpx.Client, shelf: list[dict[str, Any]]) -> None:
    response = api.get("/books")
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 5 and page["limit"] == 20 and page["offset"] == 0
    assert [book["id"] for book in page["items"]] == [book["id"] for book in shelf]
    assert "Link" not in response.headers


def test_pages_link_to_their_neighbours(api: httpx.Client, shelf: list[dict[str, Any]]) -> None:
    first = api.get("/books", params={"limit": 2, "author": "jane austen", "sort": "-year"})
    assert [b["title"] for b in first.json()["items"]] == ["Persuasion", "Emma"]
    assert first.json()["total"] == 2
    assert links(first) == {}

    first = api.get("/books", params={"limit": 2})
    assert set(links(first)) == {"next"}
    second = api.get(links(first)["next"])
    assert second.json()["offset"] == 2
    assert set(links(second)) == {"next", "prev"}
    third = api.get(links(second)["next"])
    assert [b["id"] for b in third.json()["items"]] == [shelf[4]["id"]]
    assert set(links(third)) == {"prev"}
    assert api.get(links(third)["prev"]).json() == second.json()


def test_links_keep_the_filters(api: httpx.Client, shelf: list[dict[str, Any]]) -> None:
    response = api.get("/books", params={"q": "e", "limit": 1, "sort": "title"})
    target = links(response)["next"]
    assert "q=e" in target and "sort=title" in target and "limit=1" in target
    assert api.get(target).json()["offset"] == 1


@pytest.mark.parametrize(
    ("params", "titles"),
    [
        ({"q": "AUSTEN"}, ["Emma", "Persuasion"]),
        ({"q": "un"}, ["Dune"]),
        ({"q": "%"}, ["100% Pure_Luck"]),
        ({"q": "_"}, ["100% Pure_Luck"]),
        ({"author": "jane austen"}, ["Emma", "Persuasion"]),
        ({"author": "Jane"}, []),
        ({"year": "1965"}, ["Dune"]),
        ({"sort": "title"}, ["100% Pure_Luck", "Dune", "Emma", "Persuasion", "Ubik"]),
        ({"sort": "-id"}, ["100% Pure_Luck", "Ubik", "Dune", "Persuasion", "Emma"]),
        ({"sort": "year", "q": "a"}, ["Emma", "Persuasion", "Dune", "100% Pure_Luck"]),
        ({"sort": "-year"}, ["Ubik", "Dune", "Persuasion", "Emma", "100% Pure_Luck"]),
        ({"limit": "2", "offset": "3"}, ["Ubik", "100% Pure_Luck"]),
        ({"offset": "99"}, []),
        ({"unknown": "ignored"}, ["Emma", "Persuasion", "Dune", "Ubik", "100% Pure_Luck"]),
    ],
)
def test_filters_and_sorting(
    api: httpx.Client, shelf: list[dict[str, Any]], params: dict[str, str], titles: list[str]
) -> None:
    response = api.get("/books", params=params)
    assert response.status_code == 200
    assert [book["title"] for book in response.json()["items"]] == titles


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "99999999999999999999999"}, "offset"),
        ({"year": "nineteen"}, "year"),
        ({"year": "999"}, "year"),
        ({"sort": "price"}, "sort"),
        ({"sort": "--id"}, "sort"),
    ],
)
def test_bad_query_parameters_are_400(
    api: httpx.Client, params: dict[str, str], field: str
) -> None:
    assert_field_errors(api.get("/books", params=params), ("query", field))
