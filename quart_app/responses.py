"""Responses without a body (204 No Content and 304 Not Modified, RFC 9110 §15.3.5, §15.4.5)
and the headers of a view's ``(body, status, headers)`` tuple."""

from __future__ import annotations

from quart import Response
from werkzeug.datastructures import Headers


def header_values(**values: str) -> Headers:
    """Return ``values`` as headers for a view's ``(body, status, headers)`` return value.

    Underscores become hyphens (``header_values(ETag='"3"')`` → ``ETag: "3"``). quart-schema
    passes werkzeug :class:`~werkzeug.datastructures.Headers` through as they are, but dumps a
    plain ``dict`` through a new pydantic ``TypeAdapter(dict)`` on every response, about 44 µs
    of CPU each (quart-schema 0.25, pydantic 2.14, ``quart_schema.conversion.model_dump``).
    """
    return Headers([(name.replace("_", "-"), value) for name, value in values.items()])


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
