"""iterate_in_pool: sync iterators as async ones, step by step or pinned to a thread."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import pytest

from migrate import WorkerPool
from migrate import iterate_in_pool

MODES = [pytest.param(False, id="stepwise"), pytest.param(True, id="pinned")]


class Rows:
    """A generator-backed source that records where it ran and whether it was closed."""

    def __init__(self, count: int, *, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.threads: set[str] = set()
        self.closed_in: str | None = None

    def __iter__(self) -> Iterator[int]:
        try:
            for n in range(self.count):
                self.threads.add(threading.current_thread().name)
                if n == self.fail_at:
                    raise LookupError(f"row {n} is corrupt")
                yield n
        finally:
            self.closed_in = threading.current_thread().name


@pytest.mark.parametrize("pinned", MODES)
async def test_every_item_arrives_and_every_step_runs_in_the_pool(
    pool: WorkerPool, pinned: bool
) -> None:
    rows = Rows(5)
    items = [item async for item in iterate_in_pool(iter(rows), pool=pool, pinned=pinned)]
    assert items == [0, 1, 2, 3, 4]
    assert rows.threads and all(name.startswith(f"{pool.name}_") for name in rows.threads)
    if pinned:
        assert len(rows.threads) == 1


@pytest.mark.parametrize("pinned", MODES)
async def test_the_generator_is_closed_on_early_exit(pool: WorkerPool, pinned: bool) -> None:
    rows = Rows(100)
    async with aclosing(iterate_in_pool(iter(rows), pool=pool, pinned=pinned)) as steps:
        async for item in steps:
            if item == 2:
                break
    assert rows.closed_in is not None
    assert rows.closed_in.startswith(f"{pool.name}_")
    if pinned:
        assert rows.threads == {rows.closed_in}


@pytest.mark.parametrize("pinned", MODES)
async def test_exceptions_keep_their_type(pool: WorkerPool, pinned: bool) -> None:
    rows = Rows(10, fail_at=3)
    seen: list[int] = []
    with pytest.raises(LookupError, match="row 3 is corrupt"):
        async for item in iterate_in_pool(iter(rows), pool=pool, pinned=pinned):
            seen.append(item)
    assert seen == [0, 1, 2]


@pytest.mark.parametrize("pinned", MODES)
async def test_a_failing_iter_call_is_raised(pool: WorkerPool, pinned: bool) -> None:
    class Unreadable:
        def __iter__(self) -> Iterator[int]:
            raise PermissionError("cursor closed")

    with pytest.raises(PermissionError):
        async for _ in iterate_in_pool(Unreadable(), pool=pool, pinned=pinned):
            pass


@pytest.mark.parametrize("pinned", MODES)
async def test_an_iterator_raising_stop_iteration_ends_cleanly(
    pool: WorkerPool, pinned: bool
) -> None:
    # StopIteration cannot be raised into a future (bpo-26221); the sentinel avoids it.
    class Countdown:
        def __init__(self) -> None:
            self.left = 2

        def __iter__(self) -> Countdown:
            return self

        def __next__(self) -> int:
            if self.left == 0:
                raise StopIteration
            self.left -= 1
            return self.left

    assert [n async for n in iterate_in_pool(Countdown(), pool=pool, pinned=pinned)] == [1, 0]
    assert [n async for n in iterate_in_pool(list[int](), pool=pool, pinned=pinned)] == []


async def test_a_thread_bound_sqlite_cursor_works_pinned(pool: WorkerPool, tmp_path: Path) -> None:
    database = tmp_path / "rows.sqlite3"
    with sqlite3.connect(database) as setup:
        setup.execute("CREATE TABLE t (n INTEGER)")
        setup.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(20)])
    setup.close()

    def rows() -> Iterator[int]:
        # check_same_thread is on: every use must happen in the thread that connected.
        connection = sqlite3.connect(database)
        try:
            for (n,) in connection.execute("SELECT n FROM t ORDER BY n"):
                yield n
        finally:
            connection.close()

    total = [n async for n in iterate_in_pool(rows(), pool=pool, pinned=True)]
    assert total == list(range(20))
