"""Per-app resources: the data layer, the worker pool, the login limiter."""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from quart import current_app
from quart import request
from werkzeug.exceptions import TooManyRequests

from migrate import WorkerPool
from quart_app.store import DataLayer

STORE = "bookstore.store"
TORTOISE = "bookstore.tortoise"
POOL = "bookstore.pool"
LOGIN_LIMITER = "bookstore.login_limiter"
REGISTER_LIMITER = "bookstore.register_limiter"

P = ParamSpec("P")
R = TypeVar("R")


def data_layer() -> DataLayer:
    """Return the current app's data layer (Tortoise, or the threaded legacy layer)."""
    store: DataLayer = current_app.extensions[STORE]
    return store


#: Password hashes computed at once per process. One scrypt hash (werkzeug's default,
#: N=2**15, r=8) takes 32 MiB while it runs: 4 at once hold 128 MiB, where the worker pool's
#: 16 threads would hold 512 MiB. Waitress' 4 threads bound ``legacy_flask`` the same way.
HASHES_AT_ONCE = 4
HASHING = "bookstore.hashing"


def hashing_slot() -> asyncio.Semaphore:
    """Return the current app's semaphore for password hashing (:data:`HASHES_AT_ONCE`)."""
    slots: asyncio.Semaphore = current_app.extensions[HASHING]
    return slots


def worker_pool() -> WorkerPool:
    """Return the current app's pool for blocking calls (hashing, the threaded data layer)."""
    pool: WorkerPool = current_app.extensions[POOL]
    return pool


def _async_storage(storage_uri: str, options: Mapping[str, Any] | None = None) -> Storage:
    storage = storage_from_string(storage_uri, **(options or {}))
    assert isinstance(storage, Storage), f"{storage_uri} is not an asynchronous storage"
    return storage


class UnreadBodyTooManyRequests(TooManyRequests):
    """429 answered before the request's body was read: the connection closes after it.

    Hypercorn (h11) cannot take the next request on a connection whose request body was not
    read, and closes it; ``Connection: close`` says so (RFC 9112 §9.6), or a client that
    reuses the connection sends its next request into the close and gets no answer.
    """

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """Return the 429's headers (``Retry-After``) and ``Connection: close``."""
        return [*super().get_headers(*args, **kwargs), ("Connection", "close")]


def _too_many(message: str, reset_time: float) -> TooManyRequests:
    # RFC 9110 §10.2.3: Retry-After in seconds, until the window frees a place.
    return TooManyRequests(message, retry_after=max(1, math.ceil(reset_time - time.time())))


class LoginLimiter:
    """Count failed logins per client address in fixed windows (the ``limits`` library).

    Each attempt is counted, atomically in the storage, before the password is checked
    (:meth:`attempt`), and given back when the password was right (:meth:`succeeded`): at most
    ``limit`` wrong passwords are ever checked per window, however many arrive at once, and
    the 11th failure within the window gets 429 with a ``Retry-After``, as in
    ``legacy_flask`` (the same class on ``limits``' synchronous storages). quart-rate-limiter
    counts every request before the view runs and cannot give a success back.

    :param limit: failed logins allowed per window.
    :param window_s: the window, in seconds.
    :param storage_uri: a ``limits`` asynchronous storage URL (``async+memory://``,
        ``async+redis://host:6379``).
    :param storage_options: keyword arguments of that storage (``key_prefix`` …).
    """

    def __init__(
        self,
        limit: int,
        window_s: int,
        storage_uri: str = "async+memory://",
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.item = RateLimitItemPerSecond(limit, window_s)
        self.storage = _async_storage(storage_uri, storage_options)
        self.limiter = FixedWindowRateLimiter(self.storage)

    async def attempt(self) -> None:
        """Count one attempt for this client; raise 429 with ``Retry-After`` past the limit."""
        key = request.remote_addr or "unknown"
        if not await self.limiter.hit(self.item, key):
            stats = await self.limiter.get_window_stats(self.item, key)
            raise _too_many(
                "too many failed logins from this address; try again later", stats.reset_time
            )

    async def succeeded(self) -> None:
        """Give back the attempt counted for this client: its password was right."""
        key = request.remote_addr or "unknown"
        await self.storage.incr(self.item.key_for(key), self.item.get_expiry(), amount=-1)


def login_limiter() -> LoginLimiter:
    """Return the current app's :class:`LoginLimiter`."""
    limiter: LoginLimiter = current_app.extensions[LOGIN_LIMITER]
    return limiter


class RequestLimiter:
    """Count every request to one endpoint per client address in a moving window.

    The same algorithm and storage as Flask-Limiter's ``limit(...)`` in ``legacy_flask``:
    each request is counted, atomically, before the view runs (its body unread), and one past
    the limit gets 429 with ``Retry-After``.

    :param limit: requests allowed per window.
    :param window_s: the window, in seconds.
    :param message: the 429's detail.
    :param storage_uri: a ``limits`` asynchronous storage URL.
    :param storage_options: keyword arguments of that storage (``key_prefix`` …).
    """

    def __init__(
        self,
        limit: int,
        window_s: int,
        message: str,
        storage_uri: str = "async+memory://",
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.item = RateLimitItemPerSecond(limit, window_s)
        self.message = message
        self.limiter = MovingWindowRateLimiter(_async_storage(storage_uri, storage_options))

    async def hit(self) -> None:
        """Count this request; raise 429 with ``Retry-After`` past the limit."""
        # The endpoint is part of the key, as in Flask-Limiter's: in a shared store this
        # moving window must not meet the login limit's fixed window of the same size.
        identifiers = (request.endpoint or "", request.remote_addr or "unknown")
        if not await self.limiter.hit(self.item, *identifiers):
            stats = await self.limiter.get_window_stats(self.item, *identifiers)
            raise _too_many(self.message, stats.reset_time)


def rate_limited(name: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Count each request with the app's :class:`RequestLimiter` ``name`` before the view runs.

    Place it above the decorators that read and validate the body, so that a request is
    counted whatever its body.
    """

    def decorate(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            limiter: RequestLimiter = current_app.extensions[name]
            try:
                await limiter.hit()
            except TooManyRequests as exc:
                raise UnreadBodyTooManyRequests(
                    exc.description, retry_after=exc.retry_after
                ) from None
            return await view(*args, **kwargs)

        return wrapper

    return decorate
