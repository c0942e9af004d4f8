"""Every error the app answers, rendered as an RFC 9457 problem document in one place.

werkzeug's own errors (404 unknown route, 405 with ``Allow``, 413, 415), the data layer's
(:mod:`legacy_flask.problems`), Flask-Limiter's 429, database outages (503) and unexpected
exceptions (500) all leave as ``application/problem+json``: no HTML page and no traceback,
in debug mode included.
"""

from __future__ import annotations

import math
import time

from flask import Flask
from flask import Response
from flask import current_app
from flask import json
from flask_limiter import RateLimitExceeded
from limits.errors import StorageError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from legacy_flask.problems import PROBLEM_JSON
from legacy_flask.problems import DatabaseUnavailable
from legacy_flask.problems import RateLimitStoreUnavailable
from legacy_flask.problems import problem

#: Seconds a client is told to wait (``Retry-After``) when the rate limit store is down.
RETRY_AFTER_S = 5

#: Headers of an HTTP exception that the problem response keeps (``Allow`` on 405 …).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def problem_response(exc: HTTPException) -> Response:
    """Return ``exc`` as an ``application/problem+json`` response with its status and headers."""
    response = Response(json.dumps(problem(exc)), status=exc.code or 500, mimetype=PROBLEM_JSON)
    for name, value in exc.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
    return response


def _too_many_requests(exc: RateLimitExceeded) -> Response:
    # RFC 9110 §10.2.3: Retry-After in seconds, until the oldest counted failure leaves the window.
    response = problem_response(exc)
    limits = [lim.current_limit for lim in current_app.extensions.get("limiter", ())]
    reset_at = max((limit.reset_at for limit in limits if limit is not None), default=None)
    response.headers["Retry-After"] = (
        str(max(1, math.ceil(reset_at - time.time()))) if reset_at else "60"
    )
    return response


def _database_down(exc: OperationalError | InterfaceError) -> Response:
    # The server is down, the connection broke, or SQLite stayed locked past its busy timeout:
    # not the client's fault, and it may retry.
    current_app.logger.warning("database unavailable: %s", exc.orig)
    return problem_response(DatabaseUnavailable("the database cannot be reached; try again"))


def _rate_limit_store_down(exc: StorageError) -> Response:
    # A login or registration that cannot be counted is refused, not let through uncounted:
    # the limit holds while Redis is down, and every other route keeps working.
    current_app.logger.error("rate limit storage unavailable: %r", exc.storage_error)
    return problem_response(
        RateLimitStoreUnavailable(
            "the rate limit store cannot be reached; try again", retry_after=RETRY_AFTER_S
        )
    )


def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled exception", exc_info=exc)
    return problem_response(InternalServerError("the server could not complete the request"))


def register_error_handlers(app: Flask) -> None:
    """Render every :class:`HTTPException` and every other exception as a problem document."""
    app.register_error_handler(HTTPException, problem_response)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    app.register_error_handler(StorageError, _rate_limit_store_down)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(InterfaceError, _database_down)
    app.register_error_handler(Exception, _unexpected)
