"""``GET /books/{id}/availability``: the inventory service behind the app, and its failures.

The inventory stand-in runs as a real server process on a loopback port for the whole session;
each test sets its behaviour through the stand-in's control endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from compare.inventory import stock_for
from compare.procs import free_port
from compare.procs import running
from tests.contract.helpers import DUNE_ISBN13
from tests.contract.helpers import assert_problem
from tests.contract.helpers import create_book
from tests.contract.live import python_command

#: Seconds the app waits for the stand-in before answering 504 (short: ``hang`` tests wait it out).
TIMEOUT_S = 0.5


@pytest.fixture(scope="session")
def inventory_server() -> Iterator[str]:
    port = free_port()
    argv = python_command("-m", "compare", "inventory", "--port", str(port), "--latency-ms", "0")
    with running(argv, port=port) as server:
        yield server.base_url


@pytest.fixture
def inventory(inventory_server: str) -> Iterator[httpx.Client]:
    """A client of the stand-in's control endpoint; the stand-in behaves again afterwards."""
    with httpx.Client(base_url=inventory_server) as control:
        control.put("/_control", json={"fail": "none", "latency_ms": 0}).raise_for_status()
        yield control
        control.put("/_control", json={"fail": "none", "latency_ms": 0}).raise_for_status()


@pytest.fixture
def bookstore_config(bookstore_config: dict[str, Any], inventory_server: str) -> dict[str, Any]:
    return {**bookstore_config, "inventory_url": inventory_server, "inventory_timeout": TIMEOUT_S}


def test_availability_comes_from_the_inventory(
    user: httpx.Client, api: httpx.Client, inventory: httpx.Client
) -> None:
    book = create_book(user, isbn=DUNE_ISBN13)
    response = api.get(f"/books/{book['id']}/availability")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"book_id", "isbn", "in_stock", "checked_at"}
    assert (body["book_id"], body["isbn"]) == (book["id"], DUNE_ISBN13)
    assert body["in_stock"] == stock_for(DUNE_ISBN13)
    assert body["checked_at"].endswith("Z")


def test_availability_of_a_missing_book_is_404(api: httpx.Client, inventory: httpx.Client) -> None:
    assert_problem(api.get("/books/4242/availability"), 404)


def test_a_book_without_isbn_is_409(
    user: httpx.Client, api: httpx.Client, inventory: httpx.Client
) -> None:
    book = create_book(user, isbn=None)
    assert_problem(api.get(f"/books/{book['id']}/availability"), 409)


@pytest.mark.parametrize("fail", ["error", "garbage"])
def test_a_failing_inventory_is_502(
    user: httpx.Client, api: httpx.Client, inventory: httpx.Client, fail: str
) -> None:
    book = create_book(user)
    inventory.put("/_control", json={"fail": fail}).raise_for_status()
    assert_problem(api.get(f"/books/{book['id']}/availability"), 502)


def test_a_hanging_inventory_is_504(
    user: httpx.Client, api: httpx.Client, inventory: httpx.Client
) -> None:
    book = create_book(user)
    inventory.put("/_control", json={"fail": "hang"}).raise_for_status()
    assert_problem(api.get(f"/books/{book['id']}/availability"), 504)
    inventory.put("/_control", json={"fail": "none"}).raise_for_status()
    assert api.get(f"/books/{book['id']}/availability").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestWithoutAWorkingInventory:
    @pytest.fixture
    def bookstore_config(self, bookstore_config: dict[str, Any]) -> dict[str, Any]:
        return {**bookstore_config, "inventory_url": f"http://127.0.0.1:{free_port()}"}

    def test_an_unreachable_inventory_is_502(self, user: httpx.Client, api: httpx.Client) -> None:
        book = create_book(user)
        assert_problem(api.get(f"/books/{book['id']}/availability"), 502)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestWithoutAnInventory:
    @pytest.fixture
    def bookstore_config(self, bookstore_config: dict[str, Any]) -> dict[str, Any]:
        return {**bookstore_config, "inventory_url": None}

    def test_no_inventory_configured_is_503(self, user: httpx.Client, api: httpx.Client) -> None:
        book = create_book(user)
        assert_problem(api.get(f"/books/{book['id']}/availability"), 503)
