"""Per-app resources: the data layer, the worker pool, the login limiter."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from quart import current_app
from quart import request
from werkzeug.exceptions import TooManyRequests

from migrate import WorkerPool
from quart_app.store import DataLayer

STORE = "bookstore.store"
TORTOISE = "bookstore.tortoise"
POOL = "bookstore.pool"
LOGIN_LIMITER = "bookstore.login_limiter"


def data_layer() -> DataLayer:
    """Return the current app's data layer (Tortoise, or the threaded legacy layer)."""
    store: DataLayer = current_app.extensions[STORE]
    return store


def worker_pool() -> WorkerPool:
    """Return the current app's pool for blocking calls (hashing, the threaded data layer)."""
    pool: WorkerPool = current_app.extensions[POOL]
    return pool


class LoginLimiter:
    """Count failed logins per client address in a moving window (the ``limits`` library).

    The same algorithm and storage as Flask-Limiter uses in ``legacy_flask``, so both apps
    answer the 11th attempt within the window with 429 and a ``Retry-After``.
    quart-rate-limiter counts every request before the view runs and cannot count failures
    only, which is what the contract limits.

    :param limit: failed logins allowed per window.
    :param window_s: the window, in seconds.
    """

    def __init__(self, limit: int, window_s: int) -> None:
        self.item = RateLimitItemPerSecond(limit, window_s)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check(self) -> None:
        """Raise 429 with ``Retry-After`` when this client has no failed logins left."""
        key = request.remote_addr or "unknown"
        if not await self.limiter.test(self.item, key):
            stats = await self.limiter.get_window_stats(self.item, key)
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise TooManyRequests(
                "too many failed logins from this address; try again later",
                retry_after=retry_after,
            )

    async def failed(self) -> None:
        """Count one failed login for this client."""
        await self.limiter.hit(self.item, request.remote_addr or "unknown")


def login_limiter() -> LoginLimiter:
    """Return the current app's :class:`LoginLimiter`."""
    limiter: LoginLimiter = current_app.extensions[LOGIN_LIMITER]
    return limiter
