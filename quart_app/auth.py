"""``/auth``: register, log in and out with a signed session cookie (quart-auth), change
password, who am I.

The cookie's auth id is ``"<user id>:<session version>"``, signed; a request is logged in while
the cookie is younger than ``session_lifetime`` (``QUART_AUTH_DURATION``) and its version is the
user's current one. Logout and a password change add 1 to the version, which ends every
session issued before.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from quart import Blueprint
from quart import Response
from quart import current_app
from quart import g
from quart.sessions import SecureCookieSessionInterface
from quart_auth import AuthUser
from quart_auth import current_user
from quart_auth import login_user
from quart_auth import logout_user
from quart_schema import validate_request
from quart_schema import validate_response
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import Unauthorized
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from legacy_flask.schemas import Credentials
from legacy_flask.schemas import LoginIn
from legacy_flask.schemas import PasswordChange
from legacy_flask.schemas import UserOut
from migrate import run_sync
from quart_app.extensions import REGISTER_LIMITER
from quart_app.extensions import data_layer
from quart_app.extensions import hashing_slot
from quart_app.extensions import login_limiter
from quart_app.extensions import rate_limited
from quart_app.extensions import worker_pool
from quart_app.openapi import headers
from quart_app.openapi import problems
from quart_app.openapi import responds
from quart_app.responses import no_content
from quart_app.store import UserRow
from quart_app.validation import json_body

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


async def hash_password(password: str) -> str:
    """Return a salted hash of ``password``, computed in the worker pool (it is CPU-bound)."""
    method: str = current_app.config["BOOKSTORE"].password_hash_method
    async with hashing_slot():
        return await run_sync(generate_password_hash, pool=worker_pool())(password, method=method)


async def password_matches(password_hash: str, password: str) -> bool:
    """Tell whether ``password`` matches ``password_hash``, checked in the worker pool."""
    async with hashing_slot():
        return await run_sync(check_password_hash, pool=worker_pool())(password_hash, password)


async def dummy_hash_of(method: str) -> str:
    """Return :func:`dummy_hash` of ``method``; the first call computes it in the worker pool."""
    async with hashing_slot():
        return await run_sync(dummy_hash, pool=worker_pool())(method)


def user_json(user: UserRow) -> dict[str, Any]:
    """Return ``{"username", "is_admin"}``."""
    return {"username": user.username, "is_admin": user.is_admin}


async def load_user() -> UserRow | None:
    """Return the logged-in user of this request, or ``None``."""
    g.session_read = True
    if "user" not in g:
        user_id, _, version = (current_user.auth_id or "").partition(":")
        user = None
        if user_id.isdigit() and version.isdigit():
            user = await data_layer().get_user(int(user_id))
        g.user = user if user is not None and user.session_version == int(version) else None
    current: UserRow | None = g.user
    return current


def _start_session(user_id: int, version: int) -> None:
    g.session_read = True
    login_user(AuthUser(f"{user_id}:{version}"))


class NullSessionInterface(SecureCookieSessionInterface):
    """Give every request Quart's null session: the app never uses ``quart.session``.

    The login lives in quart-auth's own signed cookie. Without this, Quart opens (parses)
    its session cookie on every request, and Quart 0.23 marks that session accessed when it
    saves it (``Quart.process_response`` reads ``ctx.session``), which adds
    ``Vary: Cookie`` to every answer. A null session is neither opened nor saved, so
    ``Vary: Cookie`` comes only from :func:`vary_on_cookie`, as in ``legacy_flask``.
    """

    async def open_session(self, app: Any, request: Any) -> None:
        return None


@bp.after_app_request
async def vary_on_cookie(response: Response) -> Response:
    # As Flask does for a request that read its session: the answer depends on the cookie,
    # so a cache must not give it to a request with another one.
    if g.get("session_read"):
        response.vary.add("Cookie")
    return response


def login_required(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Answer 401 unless the request has a valid session."""

    @functools.wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if await load_user() is None:
            raise Unauthorized("log in first: POST /auth/login")
        return await view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Answer 401 without a session and 403 to a logged-in user who is not an admin."""

    @functools.wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        user = await load_user()
        if user is None:
            raise Unauthorized("log in first: POST /auth/login")
        if not user.is_admin:
            raise Forbidden("only an admin may do this")
        return await view(*args, **kwargs)

    return wrapper


@bp.post("/register")
@headers(429, "Retry-After")
@problems(400, 409, 413, 415, 429)
@rate_limited(REGISTER_LIMITER)
@json_body()
@validate_request(Credentials)
@validate_response(UserOut, 201)
async def register(data: Credentials) -> tuple[dict[str, Any], int]:
    password_hash = await hash_password(data.password)
    user = await data_layer().create_user(data.username, password_hash, is_admin=False)
    return user_json(user), 201


@bp.post("/login")
@headers(429, "Retry-After")
@responds(204)
@problems(400, 401, 413, 415, 429)
@json_body()
@validate_request(LoginIn)
async def login(data: LoginIn) -> Response:
    limiter = login_limiter()
    await limiter.attempt()
    user = await data_layer().find_user(data.username)
    method: str = current_app.config["BOOKSTORE"].password_hash_method
    stored_hash = user.password_hash if user is not None else await dummy_hash_of(method)
    matches = await password_matches(stored_hash, data.password)
    if not matches or user is None:
        raise Unauthorized("unknown username or wrong password")
    await limiter.succeeded()
    _start_session(user.id, user.session_version)
    return no_content()


@bp.post("/logout")
@responds(204)
async def logout() -> Response:
    user = await load_user()
    if user is not None:
        await data_layer().end_sessions(user.id)
    logout_user()
    return no_content()


@bp.post("/password")
@headers(429, "Retry-After")
@responds(204)
@problems(400, 401, 403, 413, 415, 429)
@json_body()
@validate_request(PasswordChange)
@login_required
async def change_password(data: PasswordChange) -> Response:
    user = await load_user()
    assert user is not None  # login_required
    # A guess at the current password is a login attempt: the same limit counts it.
    limiter = login_limiter()
    await limiter.attempt()
    if not await password_matches(user.password_hash, data.current_password):
        raise Forbidden("the current password is wrong")
    await limiter.succeeded()
    password_hash = await hash_password(data.new_password)
    version = await data_layer().end_sessions(user.id, password_hash)
    _start_session(user.id, version)
    return no_content()


@bp.get("/me")
@problems(401)
@login_required
@validate_response(UserOut)
async def me() -> dict[str, Any]:
    user = await load_user()
    assert user is not None  # login_required
    return user_json(user)


async def ensure_admin(username: str, password: str) -> UserRow:
    """Create admin ``username`` unless that user exists; an existing user is made admin."""
    store = data_layer()
    user = await store.find_user(username)
    if user is None:
        return await store.create_user(
            username.lower(), await hash_password(password), is_admin=True
        )
    if not user.is_admin:
        await store.make_admin(user)
    return user
