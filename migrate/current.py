"""Which worker pool serves the running event loop, and which loop a worker serves."""

from __future__ import annotations

import asyncio
import contextvars
import os
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pool import WorkerPool

__all__ = ["current_pool", "default_pool_size", "owner_loop"]

#: The event loop that handed the current call to a worker thread. It is set in the
#: call's copied context only, so :func:`migrate.run_async` finds the loop from the
#: worker without any global state.
owner_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "migrate_owner_loop", default=None
)

# One pool per event loop. Keyed by the loop rather than held in a ContextVar: Quart's
# ``before_serving`` runs in the lifespan task, and context variables set there never
# reach the request tasks.
_installed: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WorkerPool] = (
    weakref.WeakKeyDictionary()
)
# The pools that current_pool() made because none was installed.
_made_by_default: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


def default_pool_size() -> int:
    """Return the size the standard library gives the loop's default executor.

    ``min(32, CPUs + 4)``, as :class:`concurrent.futures.ThreadPoolExecutor` computes it.
    """
    return min(32, (os.cpu_count() or 1) + 4)


def install(pool: WorkerPool, loop: asyncio.AbstractEventLoop) -> None:
    """Make *pool* the one :func:`current_pool` returns on *loop*."""
    previous = _installed.get(loop)
    if previous is not None and previous is not pool and previous in _made_by_default:
        previous.close()  # Its idle threads are not needed any more.
    _installed[loop] = pool


def uninstall(pool: WorkerPool) -> None:
    """Forget *pool* on every loop it was installed on."""
    for loop, installed in list(_installed.items()):
        if installed is pool:
            del _installed[loop]


def current_pool() -> WorkerPool:
    """Return the pool installed on the running event loop.

    If none is installed, a pool of :func:`default_pool_size` threads named
    ``migrate-default`` is created for the loop and closed when the loop is garbage
    collected, so the helpers work in scripts and tests without set-up.

    :raises RuntimeError: if no event loop is running in this thread.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError("current_pool() needs a running event loop") from None
    pool = _installed.get(loop)
    if pool is None:
        from .pool import WorkerPool  # Imported here: the pool module imports this one.

        pool = WorkerPool(default_pool_size(), name="migrate-default")
        _made_by_default.add(pool)
        install(pool, loop)
        weakref.finalize(loop, pool.close)
    return pool
