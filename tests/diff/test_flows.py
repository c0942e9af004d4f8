"""The flows file format, variables, and the requests made from an OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from compare.flows import SAMPLE_PNG
from compare.flows import FlowError
from compare.flows import OpenAPIStep
from compare.flows import Step
from compare.flows import build_request
from compare.flows import example_value
from compare.flows import load_flows
from compare.flows import openapi_steps
from compare.flows import substitute

#: The contract's operations (``docs/bookstore-api.md``) that the default flows must reach.
CONTRACT_REQUESTS = {
    "POST /auth/register",
    "POST /auth/login",
    "POST /auth/logout",
    "GET /auth/me",
    "GET /books",
    "POST /books",
    "GET /books/{book_id}",
    "PUT /books/{book_id}",
    "PATCH /books/{book_id}",
    "DELETE /books/{book_id}",
    "GET /books/{book_id}/reviews",
    "POST /books/{book_id}/reviews",
    "PUT /books/{book_id}/cover",
    "GET /books/{book_id}/cover",
    "GET /books/export.csv",
    "GET /books/{book_id}/availability",
    "GET /health",
}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "flows.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def template(path: str) -> str:
    """``/books/37/reviews?limit=1`` → ``/books/{book_id}/reviews``."""
    parts = path.split("?")[0].split("/")
    return "/".join("{book_id}" if p.startswith("{") or p.isdigit() else p for p in parts)


def test_the_default_flows_load_and_cover_every_user_flow_of_the_issue() -> None:
    flows = load_flows()

    names = " / ".join(flow.name for flow in flows.flows)
    for words in ("register", "log in", "create", "patch", "review", "cover", "export", "delete"):
        assert words in names
    assert flows.needs_openapi()
    scripted = {
        f"{step.method} {template(step.path)}"
        for flow in flows.flows
        for step in flow.steps
        if isinstance(step, Step)
    }
    assert not CONTRACT_REQUESTS - scripted


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "Invalid JSON"),
        ({"flows": []}, "flows: List should have at least 1 item"),
        ({"version": 2, "flows": [{"name": "x", "steps": [{"path": "/"}]}]}, "version"),
        ({"flows": [{"name": "x", "steps": [{"method": "GET"}]}]}, "flows.0.steps.0"),
        ({"flows": [{"name": "x", "steps": [{"path": "health"}]}]}, "String should match"),
        ({"flows": [{"name": "x", "steps": [{"path": "/", "method": "GET /"}]}]}, "method"),
        (
            {"flows": [{"name": "x", "steps": [{"path": "/", "json": {}, "body": "{}"}]}]},
            "a step has one body",
        ),
        (
            {"flows": [{"name": "x", "steps": [{"path": "/", "capture": {"id": "json.id"}}]}]},
            "capture.id",
        ),
        ({"flows": [{"name": "x", "steps": [{"path": "/", "body_base64": "abc"}]}]}, "Base64"),
        ({"flows": [{"name": "x", "steps": [{"path": "/", "timeout": 3}]}]}, "Extra inputs"),
    ],
)
def test_a_bad_flows_file_is_one_line_naming_the_place(
    tmp_path: Path, document: Any, message: str
) -> None:
    with pytest.raises(FlowError) as raised:
        load_flows(write(tmp_path, document))

    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_flows_file_is_a_flow_error(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match="cannot read the flows file"):
        load_flows(tmp_path / "absent.json")


def test_variables_keep_their_type_when_they_are_the_whole_string() -> None:
    variables = {"book_id": 37, "etag": '"2"'}

    assert substitute("{book_id}", variables) == 37
    assert substitute("/books/{book_id}/reviews", variables) == "/books/37/reviews"
    assert substitute({"ids": ["{book_id}"], "If": "{etag}"}, variables) == {
        "ids": [37],
        "If": '"2"',
    }
    assert substitute("{unknown} and {book_id}", variables) == "{unknown} and 37"
    assert substitute(5, variables) == 5


def test_steps_become_requests_with_their_variables_replaced() -> None:
    flows = write_steps(
        {
            "method": "patch",
            "path": "/books/{book_id}",
            "headers": {"If-Match": "{etag}"},
            "json": {"year": None, "book": "{book_id}"},
        },
        {
            "method": "POST",
            "path": "/raw",
            "headers": {"Content-Type": "text/plain"},
            "body": "a {x}",
        },
        {"method": "POST", "path": "/bytes", "body_base64": "/w=="},
        {
            "method": "PUT",
            "path": "/books/1/cover",
            "files": {
                "file": {"filename": "c.png", "content_type": "image/png", "base64": "iVBORw=="}
            },
            "form": {"note": "{x}"},
        },
    )
    with httpx.Client(base_url="http://127.0.0.1:8000") as client:
        requests = [
            build_request(client, step, {"book_id": 37, "etag": '"2"', "x": "y"}) for step in flows
        ]

    patch, raw, binary, upload = requests
    assert (patch.method, patch.url.path, patch.headers["If-Match"]) == (
        "PATCH",
        "/books/37",
        '"2"',
    )
    assert json.loads(patch.content) == {"year": None, "book": 37}
    assert raw.content == b"a y"
    assert binary.content == b"\xff"
    assert upload.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="c.png"' in upload.read()
    assert b"\x89PNG" in upload.content
    assert b'name="note"\r\n\r\ny' in upload.content


def write_steps(*steps: dict[str, Any]) -> list[Step]:
    return [Step.model_validate(step) for step in steps]


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/things/{thing_id}": {
            "delete": {"parameters": [{"$ref": "#/components/parameters/ThingId"}]},
            "get": {
                "parameters": [
                    {"$ref": "#/components/parameters/ThingId"},
                    {"in": "query", "name": "limit", "schema": {"type": "integer"}},
                    {"in": "query", "name": "q", "required": True, "schema": {"type": "string"}},
                ]
            },
            "put": {
                "parameters": [{"$ref": "#/components/parameters/ThingId"}],
                "requestBody": {
                    "content": {
                        "application/merge-patch+json": {"schema": {"type": "object"}},
                        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}},
                    }
                },
            },
        },
        "/things/{thing_id}/picture": {
            "put": {
                "parameters": [{"$ref": "#/components/parameters/ThingId"}],
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "caption": {"type": "string", "maxLength": 3},
                                },
                                "required": ["file", "caption"],
                            }
                        }
                    }
                },
            }
        },
        "/logout": {"post": {}},
    },
    "components": {
        "parameters": {
            "ThingId": {
                "in": "path",
                "name": "thing_id",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 10},
                    "size": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 3}]},
                    "kind": {"enum": ["big", "small"]},
                    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "note": {"type": "string"},
                },
                "required": ["name", "size", "kind", "tags"],
            }
        },
    },
}


def test_one_step_per_documented_operation_reads_first_deletes_last() -> None:
    steps = openapi_steps(DOCUMENT, skip=["POST /logout"])

    assert [step.label() for step in steps] == [
        "GET /things/{thing_id}",
        "PUT /things/{thing_id}",
        "PUT /things/{thing_id}/picture",
        "DELETE /things/{thing_id}",
    ]
    get, put, picture, delete = steps
    assert get.path == "/things/1?q=example"
    assert delete.path == "/things/1"
    assert put.headers == {"Content-Type": "application/json"}
    assert json.loads(put.body or "") == {
        "name": "exampleexa",
        "size": 3,
        "kind": "big",
        "tags": ["example"],
    }
    assert picture.files["file"].content() == SAMPLE_PNG
    assert picture.form == {"caption": "exa"}


def test_documented_examples_and_defaults_win() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer", "default": 4}},
        "required": ["a"],
    }

    assert example_value({}, {"type": "string", "example": "Dune"}) == "Dune"
    assert example_value({}, {"type": "string", "examples": ["Emma", "x"]}) == "Emma"
    assert example_value({}, schema) == {"a": 4}
    assert example_value({}, {"const": 7}) == 7
    assert example_value({}, {"type": "boolean"}) is False
    assert example_value({}, {}) is None


def test_an_openapi_step_is_told_apart_from_a_request() -> None:
    flows = load_flows()

    kinds = {type(step) for flow in flows.flows for step in flow.steps}

    assert kinds == {Step, OpenAPIStep}
