"""What quart-schema's OpenAPI document cannot say from the views' models alone.

quart-schema documents the JSON bodies a view validates. :func:`responds` adds the answers
without a JSON body (204, 304, a CSV or an image), :func:`problems` the error statuses a
view answers with an RFC 9457 problem document, and :func:`headers` the response headers the
contract promises (``ETag``, ``Location``, ``Link``, ``Retry-After``), so that the document
lists every response the contract allows and a client or schemathesis can check them. Every
request body is documented as required: a write without one gets 415.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from typing import TypeVar

from quart import Response
from quart import current_app
from quart import request
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
_HEADERS = "_bookstore_headers"
_LINKS = "_bookstore_links"
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


#: The response headers :func:`headers` can document: name → OpenAPI header object.
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The representation's version, a strong validator (RFC 9110 §8.8.3)",
        "schema": {"type": "string", "pattern": '^"[^"]*"$'},
    },
    "Location": {
        "description": "The path of the resource just created",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Link": {
        "description": 'RFC 8288 links to the neighbouring pages: rel="next", rel="prev"',
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds until a new attempt may succeed (RFC 9110 §10.2.3)",
        "schema": {"type": "integer", "minimum": 0},
    },
}


def headers(status: int, *names: str, required: bool = True) -> Callable[[F], F]:
    """Document response headers ``names`` (keys of :data:`HEADERS`) of the ``status`` answer.

    ``required=False`` for a header that is sent only sometimes (``Link`` on a single page).
    """
    unknown = set(names) - set(HEADERS)
    if unknown:
        raise ValueError(f"undocumented headers: {', '.join(sorted(unknown))}")

    def decorator(view: F) -> F:
        added = [(status, name, required) for name in names]
        setattr(view, _HEADERS, [*getattr(view, _HEADERS, ()), *added])
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


def links(status: int, parameter: str, expression: str, *operations: str) -> Callable[[F], F]:
    """Document OpenAPI links from a response to the operations its answer leads to.

    Each link passes one path parameter: ``links(201, "book_id", "$response.body#/id",
    "get_get_book")`` says that a 201 names the book that ``GET /books/{book_id}`` reads.
    Stateful testers (schemathesis) follow these links instead of guessing them.

    :param operations: the operations' ``operationId`` (quart-schema's: method and view name).
    """

    def decorator(view: F) -> F:
        declared = [(status, parameter, expression, op) for op in operations]
        setattr(view, _LINKS, [*getattr(view, _LINKS, ()), *declared])
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
                if "requestBody" in operation:
                    # OpenAPI's default is an optional body; every write here needs one (415).
                    operation["requestBody"] = {**operation["requestBody"], "required": True}
                self._add_headers(operation["responses"], getattr(view, _HEADERS, ()))
                self._add_links(operation["responses"], getattr(view, _LINKS, ()))
        return paths, components

    @staticmethod
    def _add_links(responses: dict[Any, Any], declared: Any) -> None:
        for status, parameter, expression, operation_id in declared:
            key = status if status in responses else str(status)
            response = dict(responses[key])
            response["links"] = {
                **response.get("links", {}),
                operation_id: {"operationId": operation_id, "parameters": {parameter: expression}},
            }
            responses[key] = response

    @staticmethod
    def _add_headers(responses: dict[Any, Any], declared: Any) -> None:
        for status, name, required in declared:
            key = status if status in responses else str(status)
            response = dict(responses[key])
            response["headers"] = {
                **response.get("headers", {}),
                name: {**HEADERS[name], "required": required},
            }
            responses[key] = response

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


def _inline_scripts(html: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)


async def docs_content_security_policy(response: Response) -> Response:
    """Give the Swagger UI page (``/docs``) a Content-Security-Policy.

    quart-schema's page loads Swagger UI from a CDN (``QUART_SCHEMA_SWAGGER_JS_URL`` and
    ``…_CSS_URL``, pinned to one version) and starts it with an inline script. The policy
    allows exactly those two files, that one inline script (by its SHA-256), and requests to
    this origin (the OpenAPI document); nothing else may load or run on the page.
    """
    if request.endpoint != "swagger_ui" or response.status_code != 200:
        return response
    html = await response.get_data(as_text=True)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _inline_scripts(html)
    )
    js_url = current_app.config["QUART_SCHEMA_SWAGGER_JS_URL"]
    css_url = current_app.config["QUART_SCHEMA_SWAGGER_CSS_URL"]
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {js_url} {hashes}; style-src {css_url} 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
