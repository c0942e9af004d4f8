"""``GET /books/export.csv``: every book as CSV, streamed as rows are read."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from quart import Blueprint
from quart import Response

from legacy_flask.export import csv_cell
from legacy_flask.schemas import rfc3339
from legacy_flask.store import EXPORT_COLUMNS
from quart_app.extensions import data_layer
from quart_app.openapi import responds

bp = Blueprint("export", __name__)


async def csv_chunks(batches: AsyncIterator[list[tuple[object, ...]]]) -> AsyncIterator[str]:
    """Yield the header row, then one CSV chunk per batch of rows (RFC 4180, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue()
    async for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        for row in batch:
            *values, created_at, updated_at = row
            cells = [csv_cell(value) for value in values]
            writer.writerow([*cells, rfc3339(created_at), rfc3339(updated_at)])  # type: ignore[arg-type]
        yield buffer.getvalue()


async def _chain(
    first: list[tuple[object, ...]] | None, rest: AsyncIterator[list[tuple[object, ...]]]
) -> AsyncIterator[list[tuple[object, ...]]]:
    if first is not None:
        yield first
    async for batch in rest:
        yield batch


@bp.get("/books/export.csv")
@responds(200, "text/csv")
async def export_csv() -> Response:
    batches = data_layer().export_batches()
    # The first batch is read before the status line goes out: a database that cannot be
    # reached is then a 503 problem document, not a 200 whose body stops short.
    first = await anext(batches, None)
    response = Response(csv_chunks(_chain(first, batches)), mimetype="text/csv")
    # Quart stops sending any response after RESPONSE_TIMEOUT (60 s by default); an export of
    # a large catalogue to a slow client may take longer, so this response has no limit.
    response.timeout = None
    return response
