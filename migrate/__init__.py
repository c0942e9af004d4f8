"""Helpers for moving a Flask application to Quart without blocking the event loop.

Sync code (ORM sessions, SDKs, hashing, file I/O) keeps working inside async views by
running in a sized :class:`WorkerPool`; :class:`StallDetector` shows where the loop is
still blocked; :func:`mount_wsgi` serves the routes not yet migrated from the legacy
Flask app on the same port. The reference is ``docs/migrate-api.md``.
"""

from __future__ import annotations

from .current import current_pool
from .current import default_pool_size
from .facade import AsyncFacade
from .from_thread import run_async
from .gauges import PoolStats
from .iterators import iterate_in_pool
from .limiter import CapacityLimiter
from .pool import PoolClosedError
from .pool import WorkerPool
from .stalls import Stall
from .stalls import StallDetector
from .threads import RUN_SYNC_MARKER
from .threads import is_run_sync
from .threads import run_sync
from .unit_of_work import UnitOfWork
from .wsgi_mount import SHARED_SESSION_KEYS
from .wsgi_mount import WSGIFallback
from .wsgi_mount import mount_wsgi

__all__ = [
    "RUN_SYNC_MARKER",
    "SHARED_SESSION_KEYS",
    "AsyncFacade",
    "CapacityLimiter",
    "PoolClosedError",
    "PoolStats",
    "Stall",
    "StallDetector",
    "UnitOfWork",
    "WSGIFallback",
    "WorkerPool",
    "current_pool",
    "default_pool_size",
    "is_run_sync",
    "iterate_in_pool",
    "mount_wsgi",
    "run_async",
    "run_sync",
]
