"""The gauges of a worker pool, as one snapshot."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PoolStats"]


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a :class:`~migrate.WorkerPool`'s gauges, for logs and benchmarks.

    :param size: number of worker threads the pool may run (int).
    :param running: calls holding a worker thread now, orphans included (int).
    :param queued: calls waiting for a free slot (int).
    :param completed: calls whose function has finished in a thread, returned or
        raised, orphans included (cumulative int).
    :param failed: of ``completed``, the calls whose function raised (cumulative int).
    :param orphaned: calls whose awaiting task gave up (timeout or cancellation) while
        the function was already running; the thread ran on and its result was dropped
        (cumulative int).
    :param wait_time_s: total time, in seconds, that completed calls spent between the
        call and the start of the function in a thread (float).
    """

    size: int
    running: int
    queued: int
    completed: int
    failed: int
    orphaned: int
    wait_time_s: float
