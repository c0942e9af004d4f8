"""The naive migration: ``quart_app`` with one blocking call left in an ``async def`` view.

``create_app()`` builds the shipped app unchanged and adds two routes that wait
:data:`BLOCK_MS` ms each:

``GET /_naive/blocking``
    calls ``time.sleep`` inside ``async def``: the event loop, and so every other request of
    this worker, stands still for the whole wait. This is the mistake the checker's blocking
    rules catch, kept here on purpose to measure what it costs.
``GET /_naive/async``
    awaits ``asyncio.sleep`` for as long: the correct version, for comparison.

Hypercorn serves it with ``python -m hypercorn 'compare.harness.naive:create_app()'``; the
harness loads one of the routes and measures how the latency of ``GET /books/{id}`` and
``GET /health`` degrades meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from typing import Final

from quart import Quart

from quart_app import create_app as create_bookstore

__all__ = ["BLOCK_MS", "create_app"]

#: How long each ``/_naive/*`` request waits, in ms.
BLOCK_MS: Final = 50.0


def create_app(block_ms: float = BLOCK_MS) -> Quart:
    """Return the bookstore app with the two ``/_naive/*`` routes added."""
    app = create_bookstore()
    block_s = block_ms / 1000

    async def blocking() -> dict[str, Any]:
        # Deliberately blocking: this is the naive migration being measured.
        time.sleep(block_s)  # noqa: ASYNC251
        return {"waited_ms": block_ms, "how": "time.sleep in async def"}

    async def cooperative() -> dict[str, Any]:
        await asyncio.sleep(block_s)
        return {"waited_ms": block_ms, "how": "await asyncio.sleep"}

    app.add_url_rule("/_naive/blocking", "naive_blocking", blocking, methods=["GET"])
    app.add_url_rule("/_naive/async", "naive_async", cooperative, methods=["GET"])
    return app
