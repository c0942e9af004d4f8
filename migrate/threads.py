"""``run_sync``: turn a sync callable into an awaitable one that runs in the worker pool."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from collections.abc import Coroutine
from typing import Any
from typing import ParamSpec
from typing import TypeVar
from typing import overload

from .current import current_pool
from .limiter import CapacityLimiter
from .pool import WorkerPool

__all__ = ["RUN_SYNC_MARKER", "is_run_sync", "run_sync"]

P = ParamSpec("P")
R = TypeVar("R")

#: Attribute set to ``True`` on every wrapper that :func:`run_sync` returns, so tools
#: (the ``migrate`` checker, tests) can tell offloaded callables from native coroutines.
RUN_SYNC_MARKER = "__migrate_run_sync__"


@overload
def run_sync(
    func: Callable[P, R],
    /,
    *,
    pool: WorkerPool | None = None,
    timeout: float | None = None,
    limiter: CapacityLimiter | None = None,
) -> Callable[P, Coroutine[Any, Any, R]]: ...


@overload
def run_sync(
    func: None = None,
    /,
    *,
    pool: WorkerPool | None = None,
    timeout: float | None = None,
    limiter: CapacityLimiter | None = None,
) -> Callable[[Callable[P, R]], Callable[P, Coroutine[Any, Any, R]]]: ...


def run_sync(
    func: Callable[P, R] | None = None,
    /,
    *,
    pool: WorkerPool | None = None,
    timeout: float | None = None,
    limiter: CapacityLimiter | None = None,
) -> (
    Callable[P, Coroutine[Any, Any, R]]
    | Callable[[Callable[P, R]], Callable[P, Coroutine[Any, Any, R]]]
):
    """Wrap the sync *func* so that ``await run_sync(func)(*args)`` runs it in a thread.

    Shaped like ``quart.utils.run_sync``, and also a decorator, bare or with options::

        @run_sync
        def load(book_id: int) -> Book: ...

        @run_sync(timeout=2.0)
        def charge(order: Order) -> Receipt: ...

        book = await load(7)

    The call runs on *pool* (by default :func:`~migrate.current_pool` at call time) in a
    copy of the caller's context, as :func:`asyncio.to_thread` does (PEP 567): Quart's
    ``request``, ``g`` and ``current_app`` can be read inside. Never ``await`` in it and
    do not set context variables in it; return values instead, since a context variable
    set in the thread is not seen by the caller.

    The wrapper keeps *func*'s name, docstring and signature (``functools.wraps``; the
    parameters are typed with ``ParamSpec``) and carries :data:`RUN_SYNC_MARKER`.

    :param timeout: seconds, queueing included, before the call raises
        :class:`TimeoutError`; ``None`` waits without limit.
    :param limiter: an extra :class:`~migrate.CapacityLimiter` the call must take, for
        code that shares a resource scarcer than the pool's threads.
    :raises TypeError: if *func* is a coroutine function (it is already async).
    :raises ValueError: if *timeout* is not positive.

    Awaiting the wrapper raises what *func* raises, with its type and traceback;
    :class:`TimeoutError` at the deadline; :class:`asyncio.CancelledError` as soon as
    the awaiting task is cancelled. A thread cannot be interrupted: after a timeout or a
    cancellation, *func* runs to its end, its result is dropped, and
    :attr:`~migrate.PoolStats.orphaned` counts the call.
    """
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")

    def decorate(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
        if inspect.iscoroutinefunction(func):
            raise TypeError(f"run_sync() takes a sync callable; {func!r} is already async")

        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            chosen = pool if pool is not None else current_pool()
            # The deadline cancels the await like any cancellation, which makes a call
            # already running an orphan (WorkerPool.call).
            async with asyncio.timeout(timeout):
                return await chosen.call(func, args, kwargs, limiter=limiter)

        setattr(wrapper, RUN_SYNC_MARKER, True)
        return wrapper

    return decorate if func is None else decorate(func)


def is_run_sync(func: object) -> bool:
    """Return whether *func* is a wrapper made by :func:`run_sync` (bool)."""
    return getattr(func, RUN_SYNC_MARKER, False) is True
