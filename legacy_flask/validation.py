"""Read and validate request bodies and query strings against :mod:`legacy_flask.schemas`."""

from __future__ import annotations

import json
from typing import TypeVar

from flask import request
from pydantic import BaseModel
from pydantic import ValidationError
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import UnsupportedMediaType

from legacy_flask.problems import ValidationFailed
from legacy_flask.schemas import field_errors

Model = TypeVar("Model", bound=BaseModel)

JSON = "application/json"
#: RFC 7396: PATCH bodies may also say they are merge patches.
MERGE_PATCH_JSON = "application/merge-patch+json"


def json_body(model: type[Model], *, merge_patch: bool = False) -> Model:
    """Parse the request body as JSON and validate it with ``model``.

    :raises UnsupportedMediaType: 415, the body is not ``application/json`` (or, with
        ``merge_patch``, ``application/merge-patch+json``).
    :raises BadRequest: 400, the body is not well-formed UTF-8 JSON; the detail quotes the
        decoder's message, as ``quart_app`` does.
    :raises ValidationFailed: 400 with one ``errors`` entry per bad field (``loc`` starts with
        ``body``).
    :raises RequestEntityTooLarge: 413, the body is larger than the route's limit (raised by
        werkzeug while reading).
    """
    accepted = (JSON, MERGE_PATCH_JSON) if merge_patch else (JSON,)
    if request.mimetype not in accepted:
        raise UnsupportedMediaType(f"the body must be {' or '.join(accepted)}")
    raw = request.get_data(cache=False)
    try:
        # Decoded first: json.loads would also take UTF-16 and UTF-32 bytes; the contract is UTF-8.
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError: json.JSONDecodeError, and an integer of more than 4300 digits
        # (sys.get_int_max_str_digits); RecursionError: arrays or objects nested too deeply.
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc, "body")) from None


def query_args(model: type[Model]) -> Model:
    """Validate the query string with ``model`` (first value of each key; unknown keys ignored).

    :raises ValidationFailed: 400 with one ``errors`` entry per bad parameter (``loc`` starts
        with ``query``).
    """
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc, "query")) from None
