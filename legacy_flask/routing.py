"""The ``id`` URL converter both apps route with (werkzeug's routing, shared by Flask and Quart)."""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from legacy_flask.schemas import MAX_ID


class IdConverter(BaseConverter):
    """A positive 64-bit id in a path; anything else (``0``, ``-1``, ``abc``) does not route (404)."""

    regex = r"[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            # Not werkzeug's ValidationError: the matcher converts only after it has picked the
            # rule for this method, so it would answer 405 (Allow: the path's other methods)
            # instead of 404. An HTTPException raised here becomes the routing error as it is.
            raise NotFound()
        return number

    def to_url(self, value: Any) -> str:
        return str(value)
