"""What an outside probe tried: usernames that only look alike, paths that redirect elsewhere,
covers a browser might sniff, and how long a failed login takes for an unknown user."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contract.helpers import PNG
from tests.contract.helpers import assert_problem
from tests.contract.helpers import create_book
from tests.contract.targets import TARGETS

#: A password hash method of the werkzeug.security form, cheap enough for tests.
OTHER_HASH_METHOD = "pbkdf2:sha256:2000"


def test_a_username_that_only_folds_to_an_account_is_not_that_account(api: httpx.Client) -> None:
    # "\u212a" (KELVIN SIGN) lower-cases to "k": it must not log in as kate.
    api.post("/auth/register", json={"username": "kate", "password": "password1"})
    for name in ("\u212aate", "\u212aATE", "kat\u0435"):  # Kelvin sign; Cyrillic "е"
        response = api.post("/auth/login", json={"username": name, "password": "password1"})
        assert_problem(response, 401)
    assert api.post("/auth/login", json={"username": "KATE", "password": "password1"}).is_success


def test_doubled_slashes_do_not_redirect_to_the_host_header(api: httpx.Client) -> None:
    request = api.build_request("GET", "/", headers={"Host": "evil.example"})
    request.url = request.url.copy_with(raw_path=b"//books//1")
    response = api.send(request)
    assert "evil.example" not in response.headers.get("Location", "")
    assert_problem(response, 404)


def test_a_cover_is_served_with_nosniff(user: httpx.Client, api: httpx.Client) -> None:
    book = create_book(user)
    user.put(f"/books/{book['id']}/cover", files={"file": ("c.png", PNG, "image/png")})
    response = api.get(f"/books/{book['id']}/cover")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("target", "module"),
    [
        ("flask", "legacy_flask.auth"),
        ("quart", "quart_app.auth"),
        ("quart-threaded", "quart_app.auth"),
    ],
)
def test_an_unknown_user_costs_a_hash_of_the_configured_method(
    bookstore_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, target: str, module: str
) -> None:
    # Timing is not asserted (it depends on the machine): the unknown user's password is
    # checked against a hash of the same method, so of the same cost, as a real user's.
    import importlib

    auth = importlib.import_module(module)
    checked: list[str] = []
    real_check = auth.check_password_hash

    def recording_check(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return bool(real_check(password_hash, password))

    monkeypatch.setattr(auth, "check_password_hash", recording_check)
    # Another cost than the tests' usual one, which the old dummy hash happened to share.
    config = {**bookstore_config, "password_hash_method": OTHER_HASH_METHOD}
    with TARGETS[target](config, lambda _response: None) as bookstore:
        client: httpx.Client = bookstore.client()
        client.post("/auth/register", json={"username": "alice", "password": "password1"})
        wrong = client.post("/auth/login", json={"username": "alice", "password": "nope-nope"})
        unknown = client.post("/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    known_hash, dummy_hash = checked
    assert known_hash.split("$")[0] == dummy_hash.split("$")[0] == OTHER_HASH_METHOD


def test_a_cover_has_the_same_headers_from_both_apps(user: httpx.Client, api: httpx.Client) -> None:
    book = create_book(user)
    user.put(f"/books/{book['id']}/cover", files={"file": ("c.png", PNG, "image/png")})
    whole = api.get(f"/books/{book['id']}/cover")
    assert whole.headers["Cache-Control"] == "no-cache"
    assert "Expires" not in whole.headers
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert "Vary" not in whole.headers
    part = api.get(f"/books/{book['id']}/cover", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206
    assert part.content == PNG[:4]
    assert part.headers["Content-Range"] == f"bytes 0-3/{len(PNG)}"
    assert part.headers["ETag"] == whole.headers["ETag"]


def test_answers_that_read_the_session_vary_on_cookie(
    user: httpx.Client, api: httpx.Client
) -> None:
    book = create_book(user)
    assert "Cookie" in user.get("/auth/me").headers.get("Vary", "")
    assert "Cookie" in api.get("/auth/me").headers.get("Vary", "")  # 401: read, found none
    assert "Cookie" in user.patch(f"/books/{book['id']}", json={"year": 2000}).headers["Vary"]
    assert "Vary" not in api.get(f"/books/{book['id']}").headers
    assert "Vary" not in api.get("/books").headers


@pytest.mark.parametrize(
    "body",
    [
        '{"username": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"username": "a", "password": ' + "1" * 5000 + "}",
    ],
    ids=["nested-5000-deep", "integer-of-5000-digits"],
)
def test_json_the_decoder_refuses_is_400_not_500(api: httpx.Client, body: str) -> None:
    response = api.post(
        "/auth/register", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)
