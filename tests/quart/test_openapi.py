"""``GET /openapi.json`` and ``GET /docs`` (**Quart only**): the document quart-schema generates.

The document must be valid OpenAPI 3, describe every endpoint of the contract, and describe
what the API really accepts and returns: real requests and responses are checked against it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator
from openapi_spec_validator import OpenAPIV31SpecValidator
from quart import Quart

# Aliased: pytest would take a name starting with "Test" for a test class.
from quart.typing import TestClientProtocol as QuartTestClient

from tests.contract.helpers import book_fields
from tests.quart.helpers import USER
from tests.quart.helpers import quart_login

#: Every HTTP row of the contract's endpoint table, as OpenAPI names it (``WS /ws/events`` is
#: not HTTP, and ``/openapi.json`` and ``/docs`` are the documentation itself).
CONTRACT_OPERATIONS = {
    ("get", "/health"),
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/logout"),
    ("post", "/auth/password"),
    ("get", "/auth/me"),
    ("get", "/books"),
    ("post", "/books"),
    ("get", "/books/{book_id}"),
    ("put", "/books/{book_id}"),
    ("patch", "/books/{book_id}"),
    ("delete", "/books/{book_id}"),
    ("get", "/books/{book_id}/reviews"),
    ("post", "/books/{book_id}/reviews"),
    ("put", "/books/{book_id}/cover"),
    ("get", "/books/{book_id}/cover"),
    ("get", "/books/export.csv"),
    ("get", "/books/{book_id}/availability"),
}

BOOK_WRITE_FIELDS = {"title", "author", "year", "isbn", "price_cents"}

#: Operations with a JSON body → (the fields the contract lets a client send, those required).
REQUEST_BODIES = {
    ("post", "/auth/register"): ({"username", "password"}, {"username", "password"}),
    ("post", "/auth/login"): ({"username", "password"}, {"username", "password"}),
    ("post", "/auth/password"): (
        {"current_password", "new_password"},
        {"current_password", "new_password"},
    ),
    ("post", "/books"): (BOOK_WRITE_FIELDS, {"title", "author"}),
    ("put", "/books/{book_id}"): (BOOK_WRITE_FIELDS, {"title", "author"}),
    ("patch", "/books/{book_id}"): (BOOK_WRITE_FIELDS, set()),
    ("post", "/books/{book_id}/reviews"): ({"rating", "text"}, {"rating"}),
}

BOOK_FIELDS = {*BOOK_WRITE_FIELDS, "id", "created_at", "updated_at", "version"}
PAGE_FIELDS = {"items", "total", "limit", "offset"}

#: Operations whose view declares its response → (status, the fields of the JSON body).
RESPONSE_BODIES = {
    ("get", "/health"): ("200", {"status", "database"}),
    ("post", "/auth/register"): ("201", {"username", "is_admin"}),
    ("get", "/auth/me"): ("200", {"username", "is_admin"}),
    ("get", "/books"): ("200", PAGE_FIELDS),
    ("post", "/books"): ("201", BOOK_FIELDS),
    ("get", "/books/{book_id}"): ("200", BOOK_FIELDS),
    ("put", "/books/{book_id}"): ("200", BOOK_FIELDS),
    ("patch", "/books/{book_id}"): ("200", BOOK_FIELDS),
    ("get", "/books/{book_id}/reviews"): ("200", PAGE_FIELDS),
    ("post", "/books/{book_id}/reviews"): (
        "201",
        {"id", "book_id", "rating", "text", "reviewer", "created_at"},
    ),
    ("get", "/books/{book_id}/availability"): (
        "200",
        {"book_id", "isbn", "in_stock", "checked_at"},
    ),
}

#: The other operations → (status, the media types of the body: none for 204).
OTHER_SUCCESSES = {
    ("post", "/auth/login"): ("204", set()),
    ("post", "/auth/logout"): ("204", set()),
    ("post", "/auth/password"): ("204", set()),
    ("delete", "/books/{book_id}"): ("204", set()),
    ("put", "/books/{book_id}/cover"): ("204", set()),
    ("get", "/books/{book_id}/cover"): ("200", {"image/png", "image/jpeg"}),
    ("get", "/books/export.csv"): ("200", {"text/csv"}),
}

PROBLEM_JSON = "application/problem+json"


@pytest.fixture
async def client(app: Quart) -> AsyncIterator[QuartTestClient]:
    async with app.test_app() as test_app:
        yield test_app.test_client()


@pytest.fixture
async def document(client: QuartTestClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body: dict[str, Any] = await response.get_json()
    return body


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Return every operation of ``document`` by ``(method, path)``."""
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    }


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/schemas/BookOut``) to the schema it names."""
    while "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def json_schema(document: dict[str, Any], operation: dict[str, Any], *path: str) -> dict[str, Any]:
    """Return the JSON schema at ``path`` inside ``operation``, resolved against ``document``."""
    target: Any = operation
    for part in path:
        target = target[part]
    return resolve(document, target["content"]["application/json"]["schema"])


def assert_matches(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """Validate ``instance`` against ``schema`` (JSON Schema 2020-12, as OpenAPI 3.1 uses)."""
    # Carrying the components along lets the schema's "#/components/…" references resolve.
    rooted = {**schema, "components": document.get("components", {})}
    jsonschema.Draft202012Validator(rooted).validate(instance)


async def test_the_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    version = document["openapi"]
    assert version.startswith(("3.0.", "3.1.")), version
    validator = OpenAPIV30SpecValidator if version.startswith("3.0.") else OpenAPIV31SpecValidator
    # Every problem, by place, so that one run names all that is wrong.
    problems = sorted(
        {
            f"{' > '.join(str(part) for part in error.path)}: {error.message}"
            for error in validator(document).iter_errors()
        }
    )
    assert not problems, "\n".join(problems)


async def test_every_contract_endpoint_is_documented(document: dict[str, Any]) -> None:
    assert set(operations(document)) == CONTRACT_OPERATIONS


async def test_json_bodies_are_documented_with_the_fields_the_contract_allows(
    document: dict[str, Any],
) -> None:
    documented = operations(document)
    for key, (fields, required) in REQUEST_BODIES.items():
        schema = json_schema(document, documented[key], "requestBody")
        assert set(schema["properties"]) == fields, key
        assert set(schema.get("required", [])) == required, key
        # The contract rejects unknown fields (no mass assignment); the schema says so.
        assert schema.get("additionalProperties") is False, key
    without_json_body = {
        key
        for key, operation in documented.items()
        if "application/json" not in operation.get("requestBody", {}).get("content", {})
    }
    assert without_json_body == CONTRACT_OPERATIONS - set(REQUEST_BODIES)


async def test_every_operation_documents_its_success_response(document: dict[str, Any]) -> None:
    assert set(RESPONSE_BODIES) | set(OTHER_SUCCESSES) == CONTRACT_OPERATIONS
    documented = operations(document)
    for key, (status, fields) in RESPONSE_BODIES.items():
        schema = json_schema(document, documented[key], "responses", status)
        assert set(schema["properties"]) == fields, key
    for key, (status, media_types) in OTHER_SUCCESSES.items():
        response = documented[key]["responses"][status]
        assert set(response.get("content", {})) == media_types, key


async def test_the_api_sends_and_accepts_what_the_document_describes(
    client: QuartTestClient, document: dict[str, Any]
) -> None:
    documented = operations(document)

    def request_schema(key: tuple[str, str]) -> dict[str, Any]:
        return json_schema(document, documented[key], "requestBody")

    def response_schema(key: tuple[str, str]) -> dict[str, Any]:
        status, _ = RESPONSE_BODIES[key]
        return json_schema(document, documented[key], "responses", status)

    credentials = {"username": USER[0], "password": USER[1]}
    new_book = book_fields()
    change = {"title": "Dune Messiah", "year": None}
    review = {"rating": 5, "text": "Still good."}
    assert_matches(document, request_schema(("post", "/auth/register")), credentials)
    assert_matches(document, request_schema(("post", "/books")), new_book)
    assert_matches(document, request_schema(("put", "/books/{book_id}")), new_book)
    assert_matches(document, request_schema(("patch", "/books/{book_id}")), change)
    assert_matches(document, request_schema(("post", "/books/{book_id}/reviews")), review)
    # A field the API refuses (400) is refused by the documented schema too.
    with pytest.raises(jsonschema.ValidationError):
        assert_matches(document, request_schema(("post", "/books")), {**new_book, "version": 7})

    registered = await client.post("/auth/register", json=credentials)
    await quart_login(client, *USER)
    created = await client.post("/books", json=new_book)
    book_path = f"/books/{(await created.get_json())['id']}"
    answers = {
        ("get", "/health"): await client.get("/health"),
        ("post", "/auth/register"): registered,
        ("get", "/auth/me"): await client.get("/auth/me"),
        ("post", "/books"): created,
        ("get", "/books/{book_id}"): await client.get(book_path),
        ("put", "/books/{book_id}"): await client.put(book_path, json=new_book),
        ("patch", "/books/{book_id}"): await client.patch(book_path, json=change),
        ("post", "/books/{book_id}/reviews"): await client.post(
            f"{book_path}/reviews", json=review
        ),
        ("get", "/books"): await client.get("/books"),
        ("get", "/books/{book_id}/reviews"): await client.get(f"{book_path}/reviews"),
    }
    for key, response in answers.items():
        assert response.status_code == int(RESPONSE_BODIES[key][0]), key
        assert_matches(document, response_schema(key), await response.get_json())


async def test_error_answers_match_the_documented_problem_document(
    client: QuartTestClient, document: dict[str, Any]
) -> None:
    documented = operations(document)
    credentials = {"username": USER[0], "password": USER[1]}
    await client.post("/auth/register", json=credentials)
    answers = {
        ("post", "/books", "401"): await client.post("/books", json=book_fields()),
        ("get", "/books/{book_id}", "404"): await client.get("/books/999999"),
        ("post", "/auth/register", "409"): await client.post("/auth/register", json=credentials),
        ("post", "/auth/register", "400"): await client.post(
            "/auth/register", json={**credentials, "is_admin": True}
        ),
        ("post", "/auth/register", "415"): await client.post(
            "/auth/register", data="username=x", headers={"Content-Type": "text/plain"}
        ),
    }
    for (method, path, status), response in answers.items():
        assert response.status_code == int(status), (method, path)
        assert response.mimetype == PROBLEM_JSON
        documented_response = documented[method, path]["responses"][status]
        schema = resolve(document, documented_response["content"][PROBLEM_JSON]["schema"])
        assert_matches(document, schema, await response.get_json())


async def test_docs_serve_an_interactive_page_for_the_document(
    client: QuartTestClient,
) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/openapi.json" in await response.get_data(as_text=True)


async def test_ids_merge_patches_and_cover_uploads_are_documented(document: dict[str, Any]) -> None:
    documented = operations(document)
    for (_, path), operation in documented.items():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"]["type"] == "integer", path
                assert parameter["schema"]["minimum"] == 1, path
    patch = documented[("patch", "/books/{book_id}")]["requestBody"]["content"]
    assert patch["application/merge-patch+json"]["schema"] == patch["application/json"]["schema"]
    upload = documented[("put", "/books/{book_id}/cover")]["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data"}
    assert upload["multipart/form-data"]["schema"]["required"] == ["file"]


async def test_the_docs_page_may_load_only_its_pinned_files_and_its_own_script(
    client: QuartTestClient, app: Quart
) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    (inline,) = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert policy["script-src"].split() == [
        app.config["QUART_SCHEMA_SWAGGER_JS_URL"],
        f"'sha256-{digest}'",
    ]
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert app.config["QUART_SCHEMA_SWAGGER_JS_URL"] in html
    assert "Content-Security-Policy" not in (await client.get("/openapi.json")).headers
