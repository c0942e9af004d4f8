"""``/auth``: register, log in and out, who am I, and the login rate limit."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest

from tests.contract.conftest import ADMIN
from tests.contract.conftest import USER
from tests.contract.helpers import assert_field_errors
from tests.contract.helpers import assert_problem

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def test_register_creates_a_plain_user(api: httpx.Client) -> None:
    response = api.post("/auth/register", json={"username": "Alice_1", "password": "long enough"})
    assert response.status_code == 201
    assert response.json() == {"username": "alice_1", "is_admin": False}


def test_register_twice_is_409_whatever_the_case(api: httpx.Client, db_snapshot: Snapshot) -> None:
    assert (
        api.post("/auth/register", json={"username": "alice", "password": "password1"}).status_code
        == 201
    )
    before = db_snapshot()
    assert_problem(
        api.post("/auth/register", json={"username": "ALICE", "password": "password2"}), 409
    )
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("body", "locs"),
    [
        ({"username": "al", "password": "password1"}, [("body", "username")]),
        ({"username": "a" * 33, "password": "password1"}, [("body", "username")]),
        ({"username": "al ice", "password": "password1"}, [("body", "username")]),
        ({"username": "élise", "password": "password1"}, [("body", "username")]),
        ({"username": "alice", "password": "short"}, [("body", "password")]),
        ({"username": "alice", "password": "x" * 129}, [("body", "password")]),
        ({"username": "alice"}, [("body", "password")]),
        ({"username": 42, "password": ["password1"]}, [("body", "username"), ("body", "password")]),
        ({"username": "alice", "password": "password1", "is_admin": True}, [("body", "is_admin")]),
        ([], [("body",)]),
    ],
)
def test_register_rejects_bad_fields(
    api: httpx.Client, db_snapshot: Snapshot, body: Any, locs: list[tuple[str, ...]]
) -> None:
    before = db_snapshot()
    assert_field_errors(api.post("/auth/register", json=body), *locs)
    assert db_snapshot() == before


def test_login_sets_a_session_cookie(bookstore: Any) -> None:
    client: httpx.Client = bookstore.client()
    client.post("/auth/register", json={"username": USER[0], "password": USER[1]})
    response = client.post("/auth/login", json={"username": USER[0], "password": USER[1]})
    assert response.status_code == 204
    assert response.content == b""
    cookie = SimpleCookie(response.headers["Set-Cookie"])
    (morsel,) = cookie.values()
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert not morsel["secure"], "Secure is off by default so that plain-HTTP localhost works"
    assert client.get("/auth/me").json() == {"username": USER[0], "is_admin": False}


def test_login_is_case_insensitive_in_the_username(api: httpx.Client) -> None:
    api.post("/auth/register", json={"username": "alice", "password": "password1"})
    assert (
        api.post("/auth/login", json={"username": "Alice", "password": "password1"}).status_code
        == 204
    )


def test_unknown_user_and_wrong_password_get_the_same_401(api: httpx.Client) -> None:
    api.post("/auth/register", json={"username": "alice", "password": "password1"})
    unknown = api.post("/auth/login", json={"username": "nobody", "password": "password1"})
    wrong = api.post("/auth/login", json={"username": "alice", "password": "password2"})
    assert assert_problem(unknown, 401) == assert_problem(wrong, 401)
    assert "set-cookie" not in unknown.headers and "set-cookie" not in wrong.headers


def test_login_rejects_a_body_that_is_not_credentials(api: httpx.Client) -> None:
    assert_field_errors(api.post("/auth/login", json={"username": "alice"}), ("body", "password"))


def test_eleventh_failed_login_within_a_minute_is_429(api: httpx.Client) -> None:
    api.post("/auth/register", json={"username": "alice", "password": "password1"})
    for _ in range(10):
        assert_problem(
            api.post("/auth/login", json={"username": "alice", "password": "wrong-one"}), 401
        )
    response = api.post("/auth/login", json={"username": "alice", "password": "password1"})
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0


def test_successful_logins_do_not_count_towards_the_limit(api: httpx.Client) -> None:
    api.post("/auth/register", json={"username": "alice", "password": "password1"})
    for _ in range(12):
        assert (
            api.post("/auth/login", json={"username": "alice", "password": "password1"}).status_code
            == 204
        )


def test_concurrent_failed_logins_are_counted_before_the_password_is_checked(
    bookstore: Any,
) -> None:
    # Every attempt is counted before its password is checked, so of 30 wrong passwords sent
    # at once only 10 are checked (401); the others get 429 without a check.
    client: httpx.Client = bookstore.client()
    client.post("/auth/register", json={"username": "alice", "password": "password1"})
    wrong = {"username": "alice", "password": "wrong-one"}
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = sorted(
            pool.map(lambda _: client.post("/auth/login", json=wrong).status_code, range(30))
        )
    assert statuses == [401] * 10 + [429] * 20
    # A right password is no exception while the window lasts.
    assert_problem(client.post("/auth/login", json={**wrong, "password": "password1"}), 429)


def test_registrations_from_one_address_are_limited(bookstore: Any) -> None:
    # Each registration costs a password hash: 10 per client address per 60 s, counted before
    # the body is read, so 15 sent at once create at most 10 accounts.
    client: httpx.Client = bookstore.client()

    def register(n: int) -> int:
        body = {"username": f"user_{n}", "password": "password1"}
        return client.post("/auth/register", json=body).status_code

    with ThreadPoolExecutor(max_workers=15) as pool:
        statuses = sorted(pool.map(register, range(15)))
    assert statuses == [201] * 10 + [429] * 5
    response = client.post("/auth/register", json={"username": "late", "password": "x"})
    assert_problem(response, 429)  # counted before the body is validated
    assert int(response.headers["Retry-After"]) > 0


def test_me_without_a_session_is_401(api: httpx.Client) -> None:
    assert_problem(api.get("/auth/me"), 401)


def test_me_knows_the_admin(admin: httpx.Client) -> None:
    assert admin.get("/auth/me").json() == {"username": ADMIN[0], "is_admin": True}


def test_logout_clears_the_cookie(user: httpx.Client) -> None:
    response = user.post("/auth/logout")
    assert response.status_code == 204
    cookie = SimpleCookie(response.headers["Set-Cookie"])
    (morsel,) = cookie.values()
    assert morsel.value == "" or morsel["max-age"] == "0" or "1970" in morsel["expires"]
    assert_problem(user.get("/auth/me"), 401)


def test_logout_without_a_session_is_204(api: httpx.Client) -> None:
    assert api.post("/auth/logout").status_code == 204


def test_a_forged_cookie_is_not_a_session(bookstore: Any, user: httpx.Client) -> None:
    forged: httpx.Client = bookstore.client()
    for name, value in user.cookies.items():
        forged.cookies.set(name, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert_problem(forged.get("/auth/me"), 401)
