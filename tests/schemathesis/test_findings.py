"""What the schemathesis runs found, pinned as plain requests to both live apps.

Each was a failure of ``test_contract.py`` before its fix; the property-based run would find
it again, but only by its seed, so each is also stated here once, directly.
"""

from __future__ import annotations

import httpx
import pytest

from tests.contract.live import next_client_address
from tests.diff.servers import LiveApps

BEYOND_64_BITS = 2**63  # one more than the largest id (``legacy_flask.schemas.MAX_ID``)


@pytest.fixture(params=["flask", "quart"])
def api(request: pytest.FixtureRequest, apps: LiveApps) -> httpx.Client:
    return httpx.Client(base_url=apps.url(request.param), trust_env=False, timeout=10)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/books/{id}"),
        ("PUT", "/books/{id}"),
        ("PATCH", "/books/{id}"),
        ("DELETE", "/books/{id}"),
        ("GET", "/books/{id}/cover"),
        ("POST", "/books/{id}/reviews"),
    ],
)
def test_an_id_beyond_64_bits_is_not_found_not_a_wrong_method(
    api: httpx.Client, method: str, path: str
) -> None:
    # Was 405 with an Allow header naming the path's other methods: werkzeug converts the id
    # only after it has matched the method, and a failed conversion then reads as a mismatch.
    with api:
        response = api.request(method, path.format(id=BEYOND_64_BITS))

    assert response.status_code == 404, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "Allow" not in response.headers


def test_a_login_with_a_name_longer_than_any_account_is_refused_not_a_server_error(
    api: httpx.Client,
) -> None:
    # Was a 500 from quart_app: Tortoise checks a filter value against the column's length.
    # From an address of its own: other tests' failed logins count towards the limit.
    api = httpx.Client(
        transport=httpx.HTTPTransport(local_address=next_client_address()),
        base_url=api.base_url,
        trust_env=False,
        timeout=10,
    )
    with api:
        response = api.post("/auth/login", json={"username": "0" * 255, "password": "x" * 8})

    assert response.status_code == 401, response.text
    assert response.json()["detail"] == "unknown username or wrong password"


def test_every_request_body_is_documented_as_required(apps: LiveApps) -> None:
    # Was optional (OpenAPI's default), so a write without a body was "valid" yet got 415.
    document = httpx.get(f"{apps.quart}/openapi.json", trust_env=False).json()

    bodies = {
        f"{method.upper()} {path}": operation["requestBody"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }

    assert len(bodies) == 8
    assert all(body.get("required") is True for body in bodies.values()), bodies


def test_the_promised_headers_are_documented(apps: LiveApps) -> None:
    document = httpx.get(f"{apps.quart}/openapi.json", trust_env=False).json()
    paths = document["paths"]

    def headers(path: str, method: str, status: str) -> dict[str, bool]:
        found = paths[path][method]["responses"][status].get("headers", {})
        return {name: header["required"] for name, header in found.items()}

    assert headers("/books", "post", "201") == {"ETag": True, "Location": True}
    assert headers("/books", "get", "200") == {"Link": False}
    assert headers("/books/{book_id}", "get", "200") == {"ETag": True}
    assert headers("/books/{book_id}", "get", "304") == {"ETag": True}
    assert headers("/books/{book_id}", "put", "200") == {"ETag": True}
    assert headers("/books/{book_id}", "patch", "200") == {"ETag": True}
    assert headers("/books/{book_id}/reviews", "get", "200") == {"Link": False}
    assert headers("/books/{book_id}/reviews", "post", "201") == {"Location": True}
    assert headers("/books/{book_id}/cover", "get", "200") == {"ETag": True}
    assert headers("/auth/login", "post", "429") == {"Retry-After": True}
