"""The inventory service client and ``GET /books/{id}/availability``.

The app calls ``GET {BOOKSTORE_INVENTORY_URL}/stock/{isbn}`` through one
:class:`aiohttp.ClientSession` opened at start-up and closed at shutdown, so connections are
reused. Failures map to the contract's 502 (failed, unreachable, unusable answer), 504 (no
answer within the timeout) and 503 (not configured).

``legacy_flask`` uses ``httpx.Client``; the one-line port would be ``httpx.AsyncClient``.
quart_app uses aiohttp because the load comparison found ``httpx.AsyncClient`` (httpx 0.28,
httpcore 1.0) spending more CPU per call than the rest of the request: its pool checks every
pooled connection on each request and each response close (§2.2, "The async HTTP client",
in ``docs/migration-guide.md`` has the numbers).
"""

from __future__ import annotations

from typing import Any

import aiohttp
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
from quart_app.extensions import data_layer
from quart_app.openapi import problems

bp = Blueprint("inventory", __name__, url_prefix="/books/<id:book_id>")

CLIENT = "bookstore.inventory"


class InventoryClient:
    """The inventory service at ``base_url`` (``http://host:port``, optionally with a path).

    Every call is bounded by ``timeout_s`` seconds in all (connect, send, answer). The
    connection pool has no size limit: the number of concurrent requests bounds it.
    """

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        )

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.session.close()

    async def stock(self, isbn: str) -> Stock:
        """Ask the inventory service for ``isbn``'s stock (``GET /stock/{isbn}``).

        :raises InventoryTimeout: 504, no complete answer within the timeout.
        :raises InventoryFailed: 502, a connection error, a non-200 status, or a body that is
            not ``{"isbn": str, "in_stock": int}``.
        """
        try:
            async with self.session.get(f"{self.base_url}/stock/{isbn}") as answer:
                if answer.status != 200:
                    raise InventoryFailed(f"the inventory service answered {answer.status}")
                content = await answer.read()
        # aiohttp's timeouts are TimeoutError (ServerTimeoutError is also a ClientError).
        except TimeoutError:
            raise InventoryTimeout("the inventory service did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise InventoryFailed(f"the inventory service is unreachable: {exc}") from None
        try:
            return Stock.model_validate_json(content)
        except ValidationError:
            raise InventoryFailed("the inventory service answered something unusable") from None


def init_inventory(app: Quart, base_url: str | None, timeout_s: float) -> None:
    """Open the app's inventory client at start-up and close it at shutdown (none without a URL)."""
    if not base_url:
        return

    @app.before_serving
    async def open_client() -> None:
        app.extensions[CLIENT] = InventoryClient(base_url, timeout_s)

    @app.after_serving
    async def close_client() -> None:
        client: InventoryClient | None = app.extensions.pop(CLIENT, None)
        if client is not None:
            await client.close()


@bp.get("/availability")
@problems(404, 409, 502, 503, 504)
@validate_response(AvailabilityOut)
async def availability(book_id: int) -> dict[str, Any]:
    book = await data_layer().get_book(book_id)
    if book.isbn is None:
        raise Conflict(f"book {book_id} has no ISBN to look up")
    client: InventoryClient | None = current_app.extensions.get(CLIENT)
    if client is None:
        raise InventoryNotConfigured("no inventory service is configured")
    stock = await client.stock(book.isbn)
    return {
        "book_id": book.id,
        "isbn": book.isbn,
        "in_stock": stock.in_stock,
        "checked_at": rfc3339(utcnow()),
    }
