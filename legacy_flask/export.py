"""``GET /books/export.csv``: every book as CSV, streamed as rows are read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint
from flask import Response

from legacy_flask import store
from legacy_flask.extensions import session_factory
from legacy_flask.schemas import rfc3339

bp = Blueprint("export", __name__)


def csv_chunks(batches: Iterator[list[tuple[object, ...]]]) -> Iterator[str]:
    """Yield the header row, then one CSV chunk per batch of rows (RFC 4180, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(store.EXPORT_COLUMNS)
    yield buffer.getvalue()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        for row in batch:
            *values, created_at, updated_at = row
            writer.writerow([*values, rfc3339(created_at), rfc3339(updated_at)])  # type: ignore[arg-type]
        yield buffer.getvalue()


@bp.get("/books/export.csv")
def export_csv() -> Response:
    # The generator runs after the view returns, outside the request: it holds the session
    # factory, not the request's session, and opens one short session per batch.
    batches = store.export_batches(session_factory())
    return Response(csv_chunks(batches), mimetype="text/csv")
