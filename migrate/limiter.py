"""A capacity limiter: at most ``total`` borrowers at once, the rest wait in line."""

from __future__ import annotations

import asyncio

__all__ = ["CapacityLimiter"]


class CapacityLimiter:
    """Admit at most *total* concurrent holders; later callers wait first-in, first-out.

    The limiter is what makes a call beyond a pool's size *queue* on the event loop
    instead of starting a thread: a caller holds one token from before its work is
    handed to a thread until that thread has finished it. Give a second, smaller limiter
    to calls that share a scarcer resource (``CapacityLimiter(5)`` for a database with
    five connections) while they still run on the pool's threads.

    It is an :class:`asyncio.Semaphore` with counters. Unlike anyio's ``CapacityLimiter``,
    a token is not tied to the task that took it: a :class:`~migrate.WorkerPool` releases
    it from a callback when the worker thread finishes, which may be after the awaiting
    task was cancelled or timed out (the thread runs on, so its token stays taken).

    Use it from one event loop, like every asyncio primitive: :meth:`acquire` and
    :meth:`release` must run on that loop's thread.

    :param total: number of tokens, at least 1.
    :raises ValueError: if *total* is below 1.
    """

    def __init__(self, total: int) -> None:
        if total < 1:
            raise ValueError(f"total must be at least 1, not {total!r}")
        self._total = total
        self._semaphore = asyncio.Semaphore(total)
        self._borrowed = 0
        self._waiting = 0

    @property
    def total(self) -> int:
        """Number of tokens (int, fixed at creation)."""
        return self._total

    @property
    def borrowed(self) -> int:
        """Tokens currently held (int, ``0 <= borrowed <= total``)."""
        return self._borrowed

    @property
    def waiting(self) -> int:
        """Callers waiting in :meth:`acquire` for a token (int)."""
        return self._waiting

    async def acquire(self) -> None:
        """Wait until a token is free and take it.

        :raises asyncio.CancelledError: if the waiting task is cancelled; no token is
            taken then.
        """
        self._waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self._waiting -= 1
        self._borrowed += 1

    def release(self) -> None:
        """Return one token, waking the longest waiter.

        :raises RuntimeError: if no token is held.
        """
        if self._borrowed == 0:
            raise RuntimeError("release() called on a CapacityLimiter with no token held")
        self._borrowed -= 1
        self._semaphore.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<CapacityLimiter borrowed={self._borrowed}/{self._total} waiting={self._waiting}>"
