"""Checks quart-schema leaves to the app: the body's media type (415), size (413) and encoding,
and query strings read as ``legacy_flask`` reads them.

quart-schema's ``validate_request`` reads ``await request.get_json()``, which in Quart returns
``None`` for a body that is not JSON (Flask raises 415), so :func:`json_body` runs first.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ValidationError
from quart import Request
from quart import request
from quart_schema import document_querystring
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import UnsupportedMediaType

from legacy_flask.problems import ValidationFailed
from legacy_flask.schemas import field_errors
from legacy_flask.settings import MAX_JSON_BYTES

P = ParamSpec("P")
R = TypeVar("R")

JSON = "application/json"
#: RFC 7396: PATCH bodies may also say they are merge patches.
MERGE_PATCH_JSON = "application/merge-patch+json"


def not_json(error: Exception) -> BadRequest:
    """Return the 400 for a body that is not UTF-8 JSON, worded as ``legacy_flask`` words it."""
    return BadRequest(f"the body is not valid JSON: {error}")


class BookstoreRequest(Request):
    """Quart's request, with the contract's 400 for a malformed JSON body.

    quart-schema parses the body with :meth:`get_json`; Quart's own failure is a bare 400
    ("Failed to decode JSON" in debug mode only).
    """

    def on_json_loading_failed(self, error: Exception) -> Any:
        raise not_json(error)

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """As Quart's, and a body nested too deeply for the decoder is a 400 too (not a 500)."""
        try:
            return await super().get_json(force, silent, cache)
        except RecursionError as exc:
            raise not_json(exc) from None


def json_body(
    *, merge_patch: bool = False
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a view so that its body must be JSON of at most 1 MiB.

    Put it above quart-schema's ``@validate_request``.

    :raises UnsupportedMediaType: 415, the body is not ``application/json`` (or, with
        ``merge_patch``, ``application/merge-patch+json``).
    :raises BadRequest: 400, the body is not UTF-8 (malformed JSON is left to quart-schema,
        and :class:`BookstoreRequest` words its error).
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
            if isinstance(raw, bytes):
                try:
                    raw.decode()
                except UnicodeDecodeError as exc:
                    # Quart's get_json would raise UnicodeDecodeError unhandled (a 500).
                    raise not_json(exc) from None
            return await view(*args, **kwargs)

        return wrapper

    return decorator


def validate_query(
    model: type[BaseModel],
) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Validate the query string with ``model`` as ``legacy_flask`` does, and document it.

    The first value of each key counts and unknown keys are ignored: ``?limit=5&limit=7`` is
    ``limit=5`` and ``?q[]=a`` has no ``q``. quart-schema's ``validate_querystring`` makes a
    repeated key, or one ending in ``[]``, a list, which fails validation: a 400 where
    ``legacy_flask`` answers 200. The view gets the model as ``query_args``, as with
    quart-schema, and the OpenAPI document lists its fields (``document_querystring``).

    :raises ValidationFailed: 400 with one ``errors`` entry per bad parameter (``loc`` starts
        with ``query``).
    """

    def decorator(view: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @document_querystring(model)
        @functools.wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> R:
            try:
                parsed = model.model_validate(request.args.to_dict(flat=True))
            except ValidationError as exc:
                raise ValidationFailed(field_errors(exc, "query")) from None
            return await view(*args, query_args=parsed, **kwargs)

        return wrapper

    return decorator
