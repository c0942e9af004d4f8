"""The framework's floor: a bare Flask app and a bare Quart app with one JSON route each.

``GET /books/<int:book_id>`` answers 200 with a fixed Book object of the contract's shape (no
database, no validation, no session, no ETag), so the CPU one request costs on these apps is
what the framework and its server cost at the least. ``python -m compare run`` serves them on
the servers of the headline pair (Waitress with 4 threads, Hypercorn with one asyncio worker)
and reports each bookstore's CPU per request as a multiple of its own framework's floor::

    python -m waitress --threads 4 --call compare.harness.floor:create_flask_app
    python -m hypercorn --worker-class asyncio 'compare.harness.floor:create_quart_app()'

The route is also the readiness probe: the apps have no ``/health``.
"""

from __future__ import annotations

from typing import Any
from typing import Final

from flask import Flask
from quart import Quart

__all__ = ["BOOK", "READY_PATH", "create_flask_app", "create_quart_app"]

#: The answer of both apps, with the requested id; the shape of the contract's Book.
BOOK: Final[dict[str, Any]] = {
    "title": "The Pragmatic Programmer",
    "author": "Andrew Hunt",
    "year": 1999,
    "isbn": "9780201616224",
    "price_cents": 3999,
    "version": 1,
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:00Z",
}
#: The path the harness polls until the app answers.
READY_PATH: Final = "/books/1"


def create_flask_app() -> Flask:
    """Return the bare Flask app (WSGI)."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.get("/books/<int:book_id>")
    def get_book(book_id: int) -> dict[str, Any]:
        return {"id": book_id, **BOOK}

    return app


def create_quart_app() -> Quart:
    """Return the bare Quart app (ASGI)."""
    app = Quart(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.get("/books/<int:book_id>")
    async def get_book(book_id: int) -> dict[str, Any]:
        return {"id": book_id, **BOOK}

    return app
