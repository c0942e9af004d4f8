"""``GET /health``, and the errors every route shares: unknown routes, 405, bad ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.helpers import assert_problem
from tests.contract.helpers import create_book
from tests.contract.targets import TARGETS


def test_health_reports_the_database(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_unknown_route_is_a_problem_document(api: httpx.Client) -> None:
    assert_problem(api.get("/no/such/route"), 404)


def test_unsupported_method_is_405_with_allow(api: httpx.Client) -> None:
    body = assert_problem(response := api.post("/health"), 405)
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert "GET" in allowed and "POST" not in allowed
    assert body["title"] == "Method Not Allowed"


def test_delete_on_the_collection_is_405(api: httpx.Client) -> None:
    response = api.delete("/books")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("book_id", ["0", "-1", "abc", "1.5", "1e3", "%20", "99999999999999999999"])
def test_non_positive_integer_ids_are_404(
    api: httpx.Client, user: httpx.Client, book_id: str
) -> None:
    create_book(user)
    assert_problem(api.get(f"/books/{book_id}"), 404)
    assert_problem(api.get(f"/books/{book_id}/reviews"), 404)
    assert_problem(api.get(f"/books/{book_id}/cover"), 404)


# In-process only: the test makes the app drop its pooled connections (Target.disconnect) so
# that the next request has to open the moved file. A live server's pool is in another process
# with no way to empty it from outside, and the connections it holds keep working on the moved
# file (an open file follows its inode), so the same steps would show nothing there.
# tests/live/test_database_outage.py cuts live servers off their database instead.
@pytest.mark.parametrize("target_name", sorted(TARGETS), indirect=True)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unreachable_database_is_503_until_it_is_back(
    bookstore: Any, api: httpx.Client, database_url: str
) -> None:
    # SQLite cannot open a file in a directory that is gone; PostgreSQL outages are covered by
    # the over-the-wire reliability tests.
    folder = Path(database_url.removeprefix("sqlite:///")).parent
    moved = folder.with_name(folder.name + "-away")
    folder.rename(moved)
    folder.write_text("not a directory")
    bookstore.disconnect()
    try:
        assert_problem(api.get("/health"), 503)
        assert_problem(api.get("/books"), 503)
        assert_problem(api.get("/books/1"), 503)
    finally:
        folder.unlink()
        moved.rename(folder)
    assert api.get("/health").status_code == 200
    assert api.get("/books").status_code == 200
