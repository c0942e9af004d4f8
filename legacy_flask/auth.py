"""``/auth``: register, log in and out with a signed session cookie, change password, who am I.

The cookie holds the user's id and session version, signed; a request is logged in while the
cookie is younger than ``session_lifetime`` and its version is the user's current one. Logout
and a password change add 1 to the version, which ends every session issued before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from flask import session
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import Unauthorized
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from legacy_flask import store
from legacy_flask.extensions import db_session
from legacy_flask.extensions import login_limiter
from legacy_flask.models import User
from legacy_flask.responses import no_content
from legacy_flask.schemas import Credentials
from legacy_flask.schemas import LoginIn
from legacy_flask.schemas import PasswordChange
from legacy_flask.validation import json_body

bp = Blueprint("auth", __name__, url_prefix="/auth")

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def dummy_hash(method: str) -> str:
    """Return a hash made with ``method``, checked when the username is unknown.

    The same method as real users' hashes (scrypt by default) makes both failures cost the
    same, so the time of a failed login does not tell whether the username exists. Made once
    per method and process.
    """
    return generate_password_hash("not a password", method=method)


def hash_password(password: str) -> str:
    """Return a salted hash of ``password`` (werkzeug.security, method from the settings)."""
    method: str = current_app.config["BOOKSTORE"].password_hash_method
    return generate_password_hash(password, method=method)


def user_json(user: User) -> dict[str, Any]:
    """Return ``{"username", "is_admin"}``."""
    return {"username": user.username, "is_admin": user.is_admin}


def current_user() -> User | None:
    """Return the logged-in user of this request, or ``None``."""
    if "user" not in g:
        user_id = session.get("user_id")
        version = session.get("session_version")
        user = None
        if isinstance(user_id, int) and isinstance(version, int):
            user = store.get_user(db_session(), user_id)
        g.user = user if user is not None and user.session_version == version else None
    current: User | None = g.user
    return current


def _start_session(user_id: int, version: int) -> None:
    session.clear()
    session["user_id"] = user_id
    session["session_version"] = version


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Answer 401 unless the request has a valid session."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if current_user() is None:
            raise Unauthorized("log in first: POST /auth/login")
        return view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[P, R]) -> Callable[P, R]:
    """Answer 401 without a session and 403 to a logged-in user who is not an admin."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        user = current_user()
        if user is None:
            raise Unauthorized("log in first: POST /auth/login")
        if not user.is_admin:
            raise Forbidden("only an admin may do this")
        return view(*args, **kwargs)

    return wrapper


@bp.post("/register")
def register() -> tuple[Response, int]:
    credentials = json_body(Credentials)
    user = store.create_user(
        db_session(), credentials.username, hash_password(credentials.password), is_admin=False
    )
    db_session().commit()
    return jsonify(user_json(user)), 201


@bp.post("/login")
def login() -> Response:
    credentials = json_body(LoginIn)
    client = request.remote_addr or "unknown"
    limiter = login_limiter()
    limiter.attempt(client)
    user = store.find_user(db_session(), credentials.username)
    method: str = current_app.config["BOOKSTORE"].password_hash_method
    stored_hash = user.password_hash if user is not None else dummy_hash(method)
    if not check_password_hash(stored_hash, credentials.password) or user is None:
        raise Unauthorized("unknown username or wrong password")
    limiter.succeeded(client)
    _start_session(user.id, user.session_version)
    return no_content()


@bp.post("/logout")
def logout() -> Response:
    user = current_user()
    if user is not None:
        store.end_sessions(db_session(), user.id)
        db_session().commit()
    session.clear()
    return no_content()


@bp.post("/password")
@login_required
def change_password() -> Response:
    change = json_body(PasswordChange)
    user = current_user()
    assert user is not None  # login_required
    # A guess at the current password is a login attempt: the same limit counts it.
    client = request.remote_addr or "unknown"
    limiter = login_limiter()
    limiter.attempt(client)
    if not check_password_hash(user.password_hash, change.current_password):
        raise Forbidden("the current password is wrong")
    limiter.succeeded(client)
    version = store.end_sessions(db_session(), user.id, hash_password(change.new_password))
    db_session().commit()
    _start_session(user.id, version)
    return no_content()


@bp.get("/me")
@login_required
def me() -> Response:
    user = current_user()
    assert user is not None  # login_required
    return jsonify(user_json(user))


def ensure_admin(username: str, password: str) -> User:
    """Create admin ``username`` unless that user exists; an existing user is made admin."""
    session_ = db_session()
    user = store.find_user(session_, username)
    if user is None:
        user = store.create_user(session_, username.lower(), hash_password(password), is_admin=True)
    elif not user.is_admin:
        user.is_admin = True
    session_.commit()
    return user
