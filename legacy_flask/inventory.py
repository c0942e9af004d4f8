"""The inventory service client and ``GET /books/{id}/availability``.

The app calls ``GET {BOOKSTORE_INVENTORY_URL}/stock/{isbn}`` with a synchronous HTTP client
(httpx), reusing connections through one client per app. Failures map to the contract's
502 (failed, unreachable, unusable answer), 504 (no answer within the timeout) and 503 (not
configured).
"""

from __future__ import annotations

import httpx
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import jsonify
from pydantic import ValidationError
from werkzeug.exceptions import Conflict

from legacy_flask import store
from legacy_flask.extensions import db_session
from legacy_flask.problems import InventoryFailed
from legacy_flask.problems import InventoryNotConfigured
from legacy_flask.problems import InventoryTimeout
from legacy_flask.schemas import Stock
from legacy_flask.schemas import rfc3339
from legacy_flask.schemas import utcnow

bp = Blueprint("inventory", __name__, url_prefix="/books/<id:book_id>")

CLIENT = "bookstore.inventory"


def init_inventory(app: Flask, base_url: str | None, timeout_s: float) -> None:
    """Create the app's HTTP client for the inventory service (none when ``base_url`` is unset)."""
    if base_url:
        app.extensions[CLIENT] = httpx.Client(base_url=base_url, timeout=timeout_s)


def fetch_stock(client: httpx.Client, isbn: str) -> Stock:
    """Ask the inventory service for ``isbn``'s stock.

    :raises InventoryTimeout: 504, no answer within the client's timeout (seconds).
    :raises InventoryFailed: 502, a connection error, a non-200 status, or a body that is not
        ``{"isbn": str, "in_stock": int}``.
    """
    try:
        answer = client.get(f"/stock/{isbn}")
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
def availability(book_id: int) -> Response:
    book = store.get_book(db_session(), book_id)
    # Release the database connection before the slow call: nothing below reads the database.
    db_session().close()
    if book.isbn is None:
        raise Conflict(f"book {book_id} has no ISBN to look up")
    client: httpx.Client | None = current_app.extensions.get(CLIENT)
    if client is None:
        raise InventoryNotConfigured("no inventory service is configured")
    stock = fetch_stock(client, book.isbn)
    return jsonify(
        {
            "book_id": book.id,
            "isbn": book.isbn,
            "in_stock": stock.in_stock,
            "checked_at": rfc3339(utcnow()),
        }
    )
