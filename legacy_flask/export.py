"""``GET /books/export.csv``: every book as CSV, streamed as rows are read."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

from flask import Blueprint
from flask import Response

from legacy_flask import store
from legacy_flask.extensions import session_factory
from legacy_flask.schemas import rfc3339

bp = Blueprint("export", __name__)

#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV Injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Return ``value`` as a CSV cell that a spreadsheet shows as text, never runs as a formula.

    A string starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'`` (OWASP's advice for CSV injection); everything else is unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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
            cells = [csv_cell(value) for value in values]
            writer.writerow([*cells, rfc3339(created_at), rfc3339(updated_at)])  # type: ignore[arg-type]
        yield buffer.getvalue()


@bp.get("/books/export.csv")
def export_csv() -> Response:
    # The generator runs after the view returns, outside the request: it holds the session
    # factory, not the request's session, and opens one short session per batch.
    batches = store.export_batches(session_factory())
    # The first batch is read before the status line goes out: a database that cannot be
    # reached is then a 503 problem document, not a 200 whose body stops short.
    first = next(batches, None)
    rows = batches if first is None else itertools.chain([first], batches)
    return Response(csv_chunks(rows), mimetype="text/csv")
