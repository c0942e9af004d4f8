"""Checks quart-schema leaves to the app: the body's media type (415) and size (413).

quart-schema's ``validate_request`` reads ``await request.get_json()``, which in Quart returns
``None`` for a body that is not JSON (Flask raises 415), so :func:`json_body` runs first.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from collections.abc import Callable
from typing import ParamSpec
from typing import TypeVar

from quart import request
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import UnsupportedMediaType

from legacy_flask.settings import MAX_JSON_BYTES

P = ParamSpec("P")
R = TypeVar("R")

JSON = "application/json"
#: RFC 7396: PATCH bodies may also say they are merge patches.
MERGE_PATCH_JSON = "application/merge-patch+json"


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def json_body(
    *, merge_patch: bool = False
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a view so that its body must be JSON of at most 1 MiB.

    Put it above quart-schema's ``@validate_request``.

    :raises UnsupportedMediaType: 415, the body is not ``application/json`` (or, with
        ``merge_patch``, ``application/merge-patch+json``).
    :raises BadRequest: 400, the body is not UTF-8 (malformed JSON is left to quart-schema).
    :raises RequestEntityTooLarge: 413, the body is larger than 1 MiB, by ``Content-Length``
        or, for chunked bodies, once read.
    """
    accepted = (JSON, MERGE_PATCH_JSON) if merge_patch else (JSON,)

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if request.mimetype not in accepted:
                raise UnsupportedMediaType(f"the body must be {' or '.join(accepted)}")
            too_large = RequestEntityTooLarge(
                f"a JSON body may have at most {MAX_JSON_BYTES} bytes"
            )
            if (request.content_length or 0) > MAX_JSON_BYTES:
                raise too_large
            raw = await request.get_data(cache=True)
            if len(raw) > MAX_JSON_BYTES:
                raise too_large
            if isinstance(raw, bytes) and not _is_utf8(raw):
                # Quart's get_json would raise UnicodeDecodeError unhandled (a 500).
                raise BadRequest("the body is not valid JSON: it is not UTF-8")
            return await view(*args, **kwargs)

        return wrapper

    return decorator
