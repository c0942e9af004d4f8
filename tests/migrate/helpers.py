"""Helpers shared by the migration helpers' tests."""

from __future__ import annotations

import asyncio
import threading

from migrate import WorkerPool


def pool_threads(pool: WorkerPool) -> list[threading.Thread]:
    """The live threads of *pool*, found by its thread-name prefix."""
    return [t for t in threading.enumerate() if t.name.startswith(f"{pool.name}_")]


class Gate:
    """A worker-side latch the test opens, and a loop-side event the worker sets.

    ``entered`` tells the test (on the loop) that the worker reached the gate, without
    polling; ``opened`` holds the worker until the test lets it through.
    """

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.entered = asyncio.Event()
        self.opened = threading.Event()

    def wait(self) -> None:
        """Called in the worker thread: signal arrival, then block until opened."""
        self.loop.call_soon_threadsafe(self.entered.set)
        self.opened.wait(timeout=30)  # A bound, so a failing test cannot hang the pool.
