"""Session cookies: how long they last, and how they end (logout, password change).

The cookie is signed and holds the user's id and session version; the app compares the version
with the user's row on each request, so logout and a password change end every session issued
before them, and a cookie copied before logout is refused after it.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy import inspect
from sqlalchemy import text

from legacy_flask.db import create_tables
from legacy_flask.db import sqlalchemy_url
from tests.contract.conftest import USER
from tests.contract.conftest import login
from tests.contract.helpers import assert_field_errors
from tests.contract.helpers import assert_problem
from tests.contract.helpers import book_fields

#: Seconds the expiry test waits, at most, for a short-lived session to be refused.
EXPIRY_WITHIN_S = 10.0


def copy_of(bookstore: Any, client: httpx.Client) -> httpx.Client:
    """Return a new client holding ``client``'s cookies as they are now (a saved cookie)."""
    saved: httpx.Client = bookstore.client()
    for cookie in client.cookies.jar:
        saved.cookies.set(cookie.name, cookie.value or "")
    return saved


def test_a_cookie_saved_before_logout_is_refused_after_it(
    bookstore: Any, user: httpx.Client
) -> None:
    saved = copy_of(bookstore, user)
    assert saved.get("/auth/me").status_code == 200
    assert user.post("/auth/logout").status_code == 204
    assert_problem(saved.get("/auth/me"), 401)
    assert_problem(saved.post("/books", json=book_fields()), 401)
    # Logging in again starts a new session.
    login(user, *USER)
    assert user.get("/auth/me").status_code == 200
    assert_problem(saved.get("/auth/me"), 401)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    bookstore: Any, user: httpx.Client
) -> None:
    other = login(bookstore.client(), *USER)
    response = user.post(
        "/auth/password", json={"current_password": USER[1], "new_password": "a new password"}
    )
    assert response.status_code == 204, response.text
    assert user.get("/auth/me").json()["username"] == USER[0]
    assert_problem(other.get("/auth/me"), 401)
    anonymous = bookstore.client()
    old = {"username": USER[0], "password": USER[1]}
    assert_problem(anonymous.post("/auth/login", json=old), 401)
    login(anonymous, USER[0], "a new password")


def test_a_password_change_needs_the_current_password(bookstore: Any, user: httpx.Client) -> None:
    wrong = {"current_password": "not it at all", "new_password": "a new password"}
    assert_problem(user.post("/auth/password", json=wrong), 403)
    assert user.get("/auth/me").status_code == 200
    login(bookstore.client(), *USER)  # unchanged


def test_a_password_change_checks_its_body_and_its_session(
    api: httpx.Client, user: httpx.Client
) -> None:
    body = {"current_password": USER[1], "new_password": "a new password"}
    assert_problem(api.post("/auth/password", json=body), 401)
    assert_field_errors(
        user.post("/auth/password", json={**body, "new_password": "short"}),
        ("body", "new_password"),
    )
    assert_field_errors(
        user.post("/auth/password", json={**body, "is_admin": True}), ("body", "is_admin")
    )


def test_guesses_at_the_current_password_count_as_failed_logins(user: httpx.Client) -> None:
    wrong = {"current_password": "not it at all", "new_password": "a new password"}
    statuses = [user.post("/auth/password", json=wrong).status_code for _ in range(11)]
    assert statuses == [403] * 10 + [429]


class TestLifetime:
    @pytest.fixture
    def bookstore_config(self, bookstore_config: dict[str, Any]) -> dict[str, Any]:
        return {**bookstore_config, "session_lifetime": 2}

    def test_a_session_ends_after_its_lifetime(self, user: httpx.Client) -> None:
        # Signatures carry whole seconds: a 2 s session is good for at least 1 s after login.
        login(user, *USER)
        assert user.get("/auth/me").status_code == 200
        deadline = time.monotonic() + EXPIRY_WITHIN_S
        while user.get("/auth/me").status_code == 200:
            assert time.monotonic() < deadline, "the session outlived its lifetime"
            time.sleep(0.2)
        assert_problem(user.get("/auth/me"), 401)


def test_the_session_version_column_is_added_to_an_older_database(database_url: str) -> None:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(32) UNIQUE,"
                    " password_hash VARCHAR(255), is_admin BOOLEAN,"
                    " created_at TIMESTAMP WITH TIME ZONE)"
                )
            )
            connection.execute(
                text("INSERT INTO users VALUES (1, 'old', 'x', false, '2026-01-01 00:00:00+00:00')")
            )
        create_tables(engine)
        create_tables(engine)  # a second run changes nothing
        assert "session_version" in {c["name"] for c in inspect(engine).get_columns("users")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT session_version FROM users")).all() == [(1,)]
    finally:
        engine.dispose()
