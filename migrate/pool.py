"""A sized worker pool for sync code called from async code, with live gauges."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from . import current
from .gauges import PoolStats
from .lifespan import around_lifespan
from .limiter import CapacityLimiter

if TYPE_CHECKING:
    from quart import Quart

__all__ = ["PoolClosedError", "WorkerPool"]

P = ParamSpec("P")
R = TypeVar("R")

_log = logging.getLogger("migrate.pool")


class PoolClosedError(RuntimeError):
    """Raised by a call made to, or still queued in, a pool that has been closed."""


class _Call:
    """Timestamps and flags of one call, shared by the loop and the worker thread."""

    __slots__ = ("enqueued", "func", "orphaned", "started")

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.enqueued = time.perf_counter()
        self.started = self.enqueued
        self.orphaned = False


def _invoke(
    call: _Call,
    loop: asyncio.AbstractEventLoop,
    func: Callable[..., R],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> R:
    # Runs in the worker thread, inside the caller's copied context (PEP 567).
    call.started = time.perf_counter()
    current.owner_loop.set(loop)
    return func(*args, **kwargs)


class WorkerPool:
    """Run sync callables on at most *size* threads, queueing the calls beyond that.

    Create one at application start-up, :meth:`install` it on the event loop (or use
    :meth:`init_app` on a Quart app, or ``async with WorkerPool(16):``), and close it at
    shutdown. :func:`migrate.run_sync` and the other helpers then use it instead of the
    loop's default executor, whose ``min(32, CPUs + 4)`` threads cap an endpoint waiting
    50 ms on I/O at ``threads / 0.05 s`` requests per second (Little's law).

    Calls wait on a :class:`CapacityLimiter` of *size* tokens on the event loop, so a
    burst never starts more than *size* threads. A caller keeps its token until its
    function returns, even if it stopped waiting (see :attr:`PoolStats.orphaned`): a
    thread cannot be killed, and counting it as free would overcommit the pool.

    Each call runs in a copy of the caller's context (PEP 567), as
    :func:`asyncio.to_thread` does: Quart's ``request``, ``g`` and ``current_app`` are
    readable inside; a context variable set inside is not seen by the caller.

    :param size: maximum number of worker threads, at least 1.
    :param name: prefix of the worker threads' names (``f"{name}_{n}"``), so they can be
        told apart in ``threading.enumerate()``, stack dumps and profilers.
    :raises ValueError: if *size* is below 1.
    """

    def __init__(self, size: int, *, name: str = "migrate-worker") -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, not {size!r}")
        self.size = size
        self.name = name
        self.limiter = CapacityLimiter(size)
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self._closed = False
        self._running = 0
        self._queued = 0
        self._completed = 0
        self._failed = 0
        self._orphaned = 0
        self._wait_time_s = 0.0

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` or :meth:`aclose` has been called (bool)."""
        return self._closed

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The underlying executor, for code that only accepts one; it bypasses the gauges."""
        return self._executor

    def stats(self) -> PoolStats:
        """Return a snapshot of the gauges (read it on the event loop's thread)."""
        return PoolStats(
            size=self.size,
            running=self._running,
            queued=self._queued,
            completed=self._completed,
            failed=self._failed,
            orphaned=self._orphaned,
            wait_time_s=self._wait_time_s,
        )

    async def run(self, func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``func(*args, **kwargs)`` in a worker thread and return its result.

        :raises PoolClosedError: if the pool is closed, or closes while the call waits.
        :raises BaseException: whatever *func* raises, with its traceback.
        """
        return await self.call(func, args, kwargs)

    async def call(
        self,
        func: Callable[..., R],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        limiter: CapacityLimiter | None = None,
    ) -> R:
        """Call ``func(*args, **kwargs)`` in a worker thread, taking *limiter* first.

        Put a deadline around the await (``async with asyncio.timeout(2.0):``) to bound
        it: the deadline cancels the await as any cancellation does.

        :param limiter: an extra limiter taken before the pool's own, for calls that share
            a resource scarcer than the pool's threads.
        :raises asyncio.CancelledError: as soon as the awaiting task is cancelled. A call
            that had started runs on in its thread, its result is dropped and
            :attr:`PoolStats.orphaned` counts it.
        :raises PoolClosedError: if the pool is closed, or closes while the call waits.
        :raises BaseException: whatever *func* raises, with its traceback.
        """
        if self._closed:
            raise PoolClosedError(f"worker pool {self.name!r} is closed")
        loop = asyncio.get_running_loop()
        limiters = [self.limiter]
        if limiter is not None and limiter is not self.limiter:
            limiters.insert(0, limiter)
        call = _Call(func)
        await self._acquire(limiters)
        if self._closed:
            self._release(limiters)
            raise PoolClosedError(f"worker pool {self.name!r} closed while the call waited")
        context = contextvars.copy_context()
        try:
            future = self._executor.submit(
                context.run, _invoke, call, loop, func, args, kwargs or {}
            )
        except BaseException:
            self._release(limiters)
            raise
        self._running += 1
        future.add_done_callback(partial(self._on_done, loop, call, limiters))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # cancel() succeeds only for a call that never started; a started one cannot
            # be stopped, so it becomes an orphan that still holds its slot.
            if not future.cancel() and not future.done():
                call.orphaned = True
                self._orphaned += 1
            raise

    async def _acquire(self, limiters: list[CapacityLimiter]) -> None:
        self._queued += 1
        taken: list[CapacityLimiter] = []
        try:
            for limiter in limiters:
                await limiter.acquire()
                taken.append(limiter)
        except BaseException:
            self._release(taken)
            raise
        finally:
            self._queued -= 1

    @staticmethod
    def _release(limiters: list[CapacityLimiter]) -> None:
        for limiter in reversed(limiters):
            limiter.release()

    def _on_done(
        self,
        loop: asyncio.AbstractEventLoop,
        call: _Call,
        limiters: list[CapacityLimiter],
        future: Future[Any],
    ) -> None:
        # Runs in the worker thread (or on the loop if the call was cancelled before it
        # started). Gauges and limiters are touched on the loop's thread only, which keeps
        # them lock-free and keeps the loop from ever waiting on a lock a worker holds.
        with contextlib.suppress(RuntimeError):  # A closed loop has nothing to account to.
            loop.call_soon_threadsafe(self._settle, call, limiters, future)

    def _settle(self, call: _Call, limiters: list[CapacityLimiter], future: Future[Any]) -> None:
        self._running -= 1
        self._release(limiters)
        if future.cancelled():
            return
        self._completed += 1
        self._wait_time_s += call.started - call.enqueued
        error = future.exception()
        if error is not None:
            self._failed += 1
            if call.orphaned:
                _log.warning(
                    "%r raised after its caller stopped waiting; the error is dropped",
                    call.func,
                    exc_info=error,
                )

    def install(
        self, loop: asyncio.AbstractEventLoop | None = None, *, default_executor: bool = False
    ) -> None:
        """Make this the pool that :func:`~migrate.current_pool` returns on *loop*.

        :param loop: the event loop; by default the running one.
        :param default_executor: also make the pool's executor the loop's default
            executor, so Quart's own thread offloading (plain ``def`` views, sync hooks,
            ``quart.utils.run_sync``) shares these threads. Those calls bypass the limiter
            and the gauges, and once the pool is closed the loop's default executor is
            closed too.
        :raises RuntimeError: without *loop*, if no event loop is running.
        """
        loop = loop or asyncio.get_running_loop()
        current.install(self, loop)
        if default_executor:
            loop.set_default_executor(self._executor)

    def close(self) -> None:
        """Stop taking calls and return at once; running calls finish in the background."""
        self._closed = True
        current.uninstall(self)
        self._executor.shutdown(wait=False)

    async def aclose(self) -> None:
        """Stop taking calls and wait, without blocking the loop, until all have finished.

        Orphaned calls are waited for too, so the gauges are final when this returns.
        Calls still queued raise :class:`PoolClosedError` as slots free up.
        """
        self.close()
        loop = asyncio.get_running_loop()
        finished = loop.create_future()

        def shut_down() -> None:
            self._executor.shutdown(wait=True)
            # Scheduled after every worker's own settle callback, so they all run first.
            loop.call_soon_threadsafe(_resolve, finished)

        threading.Thread(target=shut_down, name=f"{self.name}-shutdown", daemon=True).start()
        await finished

    def init_app(self, app: Quart) -> None:
        """Install the pool when *app* starts serving and close it when it has stopped.

        The pool is installed before every ``before_serving`` function and closed after
        every ``after_serving`` function (see :func:`migrate.lifespan.around_lifespan`),
        so all of them can use it. It is stored as ``app.extensions["migrate.worker_pool"]``.
        A closed pool cannot be reopened: build the pool inside the application factory.
        """
        app.extensions["migrate.worker_pool"] = self
        around_lifespan(app, startup=self.install, shutdown=self.aclose)

    async def __aenter__(self) -> WorkerPool:
        self.install()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<WorkerPool {self.name!r} size={self.size} {state}>"


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
