"""Responses without a body: 204 No Content and 304 Not Modified (RFC 9110 §15.3.5, §15.4.5)."""

from __future__ import annotations

from quart import Response


def no_content() -> Response:
    """Return an empty 204 response, without the ``Content-Type`` Quart would add."""
    response = Response(b"", status=204)
    del response.headers["Content-Type"]
    return response


def not_modified(etag: str) -> Response:
    """Return an empty 304 response that repeats the representation's (unquoted) ``etag``."""
    response = no_content()
    response.status_code = 304
    response.set_etag(etag)
    return response
