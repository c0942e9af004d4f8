"""Every error the app answers, rendered as an RFC 9457 problem document in one place.

werkzeug's own errors (404 unknown route, 405 with ``Allow``, 413, 415), the data layer's
(:mod:`legacy_flask.problems`), quart-schema's validation errors (400 with per-field
``errors``, where quart-schema alone would answer a bare 400), quart-auth's 401, the login
limit's 429, database outages (503) and unexpected exceptions (500) all leave as
``application/problem+json``: no HTML page and no traceback, in debug mode included.
"""

from __future__ import annotations

import json
from typing import Any

from limits.errors import StorageError
from pydantic import ValidationError
from quart import Quart
from quart import Response
from quart import current_app
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QuerystringValidationError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from tortoise.exceptions import DBConnectionError
from tortoise.exceptions import OperationalError as TortoiseOperationalError
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from legacy_flask.problems import PROBLEM_JSON
from legacy_flask.problems import DatabaseUnavailable
from legacy_flask.problems import RateLimitStoreUnavailable
from legacy_flask.problems import ValidationFailed
from legacy_flask.problems import problem
from legacy_flask.schemas import field_errors

#: The body of the 400 :class:`RejectAmbiguousFraming` sends (a problem document).
_AMBIGUOUS_FRAMING = json.dumps(
    problem(
        BadRequest(
            "a request may not have both Transfer-Encoding and Content-Length (RFC 9112 §6.3)"
        )
    )
).encode()


class RejectAmbiguousFraming:
    """ASGI middleware: answer 400 and close the connection to a request with both
    ``Transfer-Encoding`` and ``Content-Length``.

    RFC 9112 §6.3: such a message may be an attempt at request smuggling, and a server that
    answers it must close the connection afterwards. Hypercorn (h11) frames the body by
    ``Transfer-Encoding`` and keeps the connection open, so a second request hidden in the
    body would be served; the app cannot change Hypercorn, so it refuses the request before
    reading its body and answers with ``Connection: close``, which makes h11 close.

    :param app: the ASGI application to wrap.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            names = {name.lower() for name, _ in scope["headers"]}
            if b"transfer-encoding" in names and b"content-length" in names:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", PROBLEM_JSON.encode()),
                            (b"content-length", str(len(_AMBIGUOUS_FRAMING)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": _AMBIGUOUS_FRAMING})
                return
        await self.app(scope, receive, send)


#: Headers of an HTTP exception that the problem response keeps (``Allow`` on 405 …;
#: ``Connection: close`` where the body was not read).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Connection")

#: Errors of the drivers and ORMs that mean the database cannot be reached (503).
DATABASE_DOWN = (
    OperationalError,
    InterfaceError,
    DBConnectionError,
    TortoiseOperationalError,
    ConnectionError,
)


def problem_response(exc: HTTPException) -> Response:
    """Return ``exc`` as an ``application/problem+json`` response with its status and headers."""
    response = Response(json.dumps(problem(exc)), status=exc.code or 500, content_type=PROBLEM_JSON)
    for name, value in exc.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
    return response


async def _http_error(exc: HTTPException) -> Response:
    return problem_response(exc)


async def _schema_error(exc: RequestSchemaValidationError) -> Response:
    where = "query" if isinstance(exc, QuerystringValidationError) else "body"
    if isinstance(exc.validation_error, ValidationError):
        return problem_response(ValidationFailed(field_errors(exc.validation_error, where)))
    return problem_response(BadRequest(f"the {where} is not valid: {exc.validation_error}"))


#: Seconds a client is told to wait (``Retry-After``) when the rate limit store is down.
RETRY_AFTER_S = 5


async def _rate_limit_store_down(exc: StorageError) -> Response:
    # A login or registration that cannot be counted is refused, not let through uncounted:
    # the limit holds while Redis is down, and every other route keeps working.
    current_app.logger.error("rate limit storage unavailable: %r", exc.storage_error)
    return problem_response(
        RateLimitStoreUnavailable(
            "the rate limit store cannot be reached; try again", retry_after=RETRY_AFTER_S
        )
    )


async def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, DATABASE_DOWN):
        # The server is down, the connection broke, or SQLite stayed locked past its busy
        # timeout: not the client's fault, and it may retry.
        current_app.logger.warning("database unavailable: %r", exc)
        return problem_response(DatabaseUnavailable("the database cannot be reached; try again"))
    current_app.logger.exception("unhandled exception", exc_info=exc)
    return problem_response(InternalServerError("the server could not complete the request"))


def register_error_handlers(app: Quart) -> None:
    """Render every :class:`HTTPException` and every other exception as a problem document."""
    app.register_error_handler(RequestSchemaValidationError, _schema_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StorageError, _rate_limit_store_down)
    app.register_error_handler(Exception, _unexpected)
