"""What quart-schema's OpenAPI document cannot say from the views' models alone.

quart-schema documents the JSON bodies a view validates. :func:`responds` adds the answers
without a JSON body (204, 304, a CSV or an image) and :func:`problems` the error statuses a
view answers with an RFC 9457 problem document, so that the document lists every response
the contract allows and a client or schemathesis can check them.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from typing import TypeVar

from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing import BaseConverter
from werkzeug.routing import Rule

from legacy_flask.problems import PROBLEM_JSON
from legacy_flask.routing import IdConverter
from legacy_flask.schemas import MAX_ID
from legacy_flask.schemas import Problem

F = TypeVar("F", bound=Callable[..., Any])

_RESPONDS = "_bookstore_responds"
_PROBLEMS = "_bookstore_problems"
_BODIES = "_bookstore_bodies"
_REF = "#/components/schemas/{model}"


def responds(status: int, *media_types: str) -> Callable[[F], F]:
    """Document a response with no JSON model: no body (204, 304) or raw ``media_types``."""

    def decorator(view: F) -> F:
        setattr(view, _RESPONDS, [*getattr(view, _RESPONDS, ()), (status, media_types)])
        return view

    return decorator


def problems(*statuses: int) -> Callable[[F], F]:
    """Document the error statuses a view answers with a problem document."""

    def decorator(view: F) -> F:
        setattr(view, _PROBLEMS, sorted({*getattr(view, _PROBLEMS, ()), *statuses}))
        return view

    return decorator


def request_body(media_type: str, schema: dict[str, Any] | None = None) -> Callable[[F], F]:
    """Document one more media type for a view's request body.

    Without ``schema`` it takes the schema of the body quart-schema documents (for a JSON
    merge patch, ``application/merge-patch+json`` next to ``application/json``).
    """

    def decorator(view: F) -> F:
        setattr(view, _BODIES, [*getattr(view, _BODIES, ()), (media_type, schema)])
        return view

    return decorator


def _problem_components() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template=_REF)
    components: dict[str, Any] = schema.pop("$defs", {})
    components["Problem"] = schema
    return components


class BookstoreOpenAPIProvider(OpenAPIProvider):
    """quart-schema's provider, plus what :func:`responds` and :func:`problems` declare."""

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        view = self._app.view_functions[rule.endpoint]
        extra: dict[int, Any] = {}
        for status, media_types in getattr(view, _RESPONDS, ()):
            response: dict[str, Any] = {"description": HTTPStatus(status).phrase}
            if media_types:
                schema = {"type": "string", "format": "binary"}
                response["content"] = {media_type: {"schema": schema} for media_type in media_types}
            extra[status] = response
        for status in getattr(view, _PROBLEMS, ()):
            extra[status] = {
                "description": HTTPStatus(status).phrase,
                "content": {PROBLEM_JSON: {"schema": {"$ref": _REF.format(model="Problem")}}},
            }
        if getattr(view, _PROBLEMS, ()):
            components.update(_problem_components())
        bodies = getattr(view, _BODIES, ())
        for operations in paths.values():
            for operation in operations.values():
                operation["responses"] = {**operation.get("responses", {}), **extra}
                if bodies:
                    operation["requestBody"] = self._request_body(operation, bodies)
        return paths, components

    @staticmethod
    def _request_body(operation: dict[str, Any], bodies: Any) -> dict[str, Any]:
        body: dict[str, Any] = dict(
            operation.get("requestBody") or {"required": True, "content": {}}
        )
        content: dict[str, Any] = dict(body["content"])
        first: dict[str, Any] = next(iter(content.values()), {})
        documented = first.get("schema")
        for media_type, schema in bodies:
            content[media_type] = {"schema": schema if schema is not None else documented}
        body["content"] = content
        return body

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, IdConverter):
            parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        return parameter
