"""The inventory service client and ``GET /books/{id}/availability``.

The app calls ``GET {BOOKSTORE_INVENTORY_URL}/stock/{isbn}`` with one asynchronous HTTP client
(httpx) opened at start-up and closed at shutdown, so connections are reused. Failures map to
the contract's 502 (failed, unreachable, unusable answer), 504 (no answer within the timeout)
and 503 (not configured).
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError
from quart import Blueprint
from quart import Quart
from quart import current_app
from quart_schema import validate_response
from werkzeug.exceptions import Conflict

from legacy_flask.problems import InventoryFailed
from legacy_flask.problems import InventoryNotConfigured
from legacy_flask.problems import InventoryTimeout
from legacy_flask.schemas import AvailabilityOut
from legacy_flask.schemas import Stock
from legacy_flask.schemas import rfc3339
from legacy_flask.schemas import utcnow
from migrate import run_sync
from quart_app.extensions import POOL
from quart_app.extensions import data_layer
from quart_app.openapi import problems

bp = Blueprint("inventory", __name__, url_prefix="/books/<id:book_id>")

CLIENT = "bookstore.inventory"


def init_inventory(app: Quart, base_url: str | None, timeout_s: float) -> None:
    """Open the app's HTTP client at start-up and close it at shutdown (none without a URL)."""
    if not base_url:
        return

    @app.before_serving
    async def open_client() -> None:
        # Building a client loads the CA bundle from disk: do it off the event loop.
        new_client = run_sync(httpx.AsyncClient, pool=app.extensions[POOL])
        app.extensions[CLIENT] = await new_client(base_url=base_url, timeout=timeout_s)

    @app.after_serving
    async def close_client() -> None:
        client: httpx.AsyncClient | None = app.extensions.pop(CLIENT, None)
        if client is not None:
            await client.aclose()


async def fetch_stock(client: httpx.AsyncClient, isbn: str) -> Stock:
    """Ask the inventory service for ``isbn``'s stock.

    :raises InventoryTimeout: 504, no answer within the client's timeout (seconds).
    :raises InventoryFailed: 502, a connection error, a non-200 status, or a body that is not
        ``{"isbn": str, "in_stock": int}``.
    """
    try:
        answer = await client.get(f"/stock/{isbn}")
    except httpx.TimeoutException:
        raise InventoryTimeout("the inventory service did not answer in time") from None
    except httpx.HTTPError as exc:
        raise InventoryFailed(f"the inventory service is unreachable: {exc}") from None
    if answer.status_code != 200:
        raise InventoryFailed(f"the inventory service answered {answer.status_code}")
    try:
        return Stock.model_validate_json(answer.content)
    except ValidationError:
        raise InventoryFailed("the inventory service answered something unusable") from None


@bp.get("/availability")
@problems(404, 409, 502, 503, 504)
@validate_response(AvailabilityOut)
async def availability(book_id: int) -> dict[str, Any]:
    book = await data_layer().get_book(book_id)
    if book.isbn is None:
        raise Conflict(f"book {book_id} has no ISBN to look up")
    client: httpx.AsyncClient | None = current_app.extensions.get(CLIENT)
    if client is None:
        raise InventoryNotConfigured("no inventory service is configured")
    stock = await fetch_stock(client, book.isbn)
    return {
        "book_id": book.id,
        "isbn": book.isbn,
        "in_stock": stock.in_stock,
        "checked_at": rfc3339(utcnow()),
    }
