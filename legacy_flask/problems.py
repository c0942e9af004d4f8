"""The bookstore's errors as HTTP exceptions and RFC 9457 problem documents.

Framework-free (werkzeug is shared by Flask and Quart): the data layers raise these, and each
app's ``errors.py`` renders every exception as ``application/problem+json`` in one place.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import BadGateway
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Conflict
from werkzeug.exceptions import GatewayTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as _NotFound
from werkzeug.exceptions import PreconditionFailed
from werkzeug.exceptions import ServiceUnavailable

#: Media type of every error response (RFC 9457 §3).
PROBLEM_JSON = "application/problem+json"


class ValidationFailed(BadRequest):
    """400 with the per-field ``errors`` of the contract (``[{"loc": [...], "msg": ...}]``)."""

    def __init__(self, errors: list[dict[str, Any]], description: str = "the request is not valid"):
        super().__init__(description)
        self.errors = errors


class NotFound(_NotFound):
    """404 for a missing resource, with a detail that names it (``book 42 does not exist``)."""


class AlreadyExists(Conflict):
    """409: a unique value (ISBN, username, one review per user and book) is taken."""


class VersionMismatch(PreconditionFailed):
    """412: ``If-Match`` does not name the current version, or another writer got there first."""


class DatabaseUnavailable(ServiceUnavailable):
    """503: the database cannot be reached."""


class RateLimitStoreUnavailable(ServiceUnavailable):
    """503: the shared rate limit storage (Redis) cannot be reached, so a limited request
    (login, registration) cannot be counted and is refused rather than let through."""


def problem(exc: HTTPException) -> dict[str, Any]:
    """Return the RFC 9457 problem document for ``exc``.

    Shape: ``{"type": "about:blank", "title": <reason phrase>, "status": <code>,
    "detail": <description>}`` plus ``"errors"`` for :class:`ValidationFailed`.
    """
    status = exc.code or 500
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": exc.name,
        "status": status,
        "detail": exc.description or exc.name,
    }
    errors = getattr(exc, "errors", None)
    if errors is not None:
        body["errors"] = errors
    return body


class InventoryNotConfigured(ServiceUnavailable):
    """503: no inventory service URL is configured."""


class InventoryFailed(BadGateway):
    """502: the inventory service failed, was unreachable, or answered something unusable."""


class InventoryTimeout(GatewayTimeout):
    """504: the inventory service did not answer within the configured timeout."""
