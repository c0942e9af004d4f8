"""WorkerPool: sized threads, a queue beyond them, gauges, lifecycle."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from quart import Quart

from migrate import CapacityLimiter
from migrate import PoolClosedError
from migrate import WorkerPool
from migrate import current_pool
from migrate import default_pool_size
from migrate import run_sync
from tests.migrate.helpers import Gate
from tests.migrate.helpers import pool_threads


@pytest.mark.parametrize("size", [1, 4])
async def test_ten_times_size_calls_never_exceed_size_threads(pool_name: str, size: int) -> None:
    pool = WorkerPool(size, name=pool_name)
    lock = threading.Lock()
    in_flight = 0
    peak_in_flight = 0
    peak_threads = 0

    def work(n: int) -> int:
        nonlocal in_flight, peak_in_flight, peak_threads
        with lock:
            in_flight += 1
            peak_in_flight = max(peak_in_flight, in_flight)
            peak_threads = max(peak_threads, len(pool_threads(pool)))
        time.sleep(0.005)  # The blocking workload.
        with lock:
            in_flight -= 1
        return n * n

    results = await asyncio.gather(*(pool.run(work, n) for n in range(10 * size)))
    assert len(pool_threads(pool)) <= size
    await pool.aclose()

    assert results == [n * n for n in range(10 * size)]
    assert peak_in_flight <= size
    assert 1 <= peak_threads <= size
    assert pool_threads(pool) == []
    stats = pool.stats()
    assert (stats.completed, stats.failed, stats.running, stats.queued) == (10 * size, 0, 0, 0)


async def test_calls_beyond_the_size_queue_on_the_loop(pool: WorkerPool) -> None:
    gates = [Gate() for _ in range(pool.size)]
    holders = [asyncio.create_task(pool.run(gate.wait)) for gate in gates]
    for gate in gates:
        await gate.entered.wait()
    waiting = [asyncio.create_task(pool.run(int, "7")) for _ in range(3)]
    await asyncio.sleep(0)  # One loop turn: each new task runs up to the limiter.

    stats = pool.stats()
    assert (stats.running, stats.queued, stats.completed) == (pool.size, 3, 0)
    assert len(pool_threads(pool)) == pool.size

    for gate in gates:
        gate.opened.set()
    assert await asyncio.gather(*waiting) == [7, 7, 7]
    await asyncio.gather(*holders)
    await pool.aclose()
    stats = pool.stats()
    assert (stats.running, stats.queued, stats.completed) == (0, 0, pool.size + 3)
    assert stats.wait_time_s > 0


async def test_gauges_count_failures(pool: WorkerPool) -> None:
    with pytest.raises(ZeroDivisionError):
        await pool.run(divmod, 1, 0)
    await pool.run(divmod, 4, 2)
    await pool.aclose()
    stats = pool.stats()
    assert (stats.completed, stats.failed) == (2, 1)


async def test_an_extra_limiter_narrows_concurrency(pool: WorkerPool) -> None:
    database = CapacityLimiter(1)
    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def query() -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.005)  # The blocking workload.
        with lock:
            in_flight -= 1

    await asyncio.gather(*(run_sync(query, pool=pool, limiter=database)() for _ in range(8)))
    assert peak == 1
    assert (database.borrowed, pool.limiter.borrowed) == (0, 0)


async def test_a_closed_pool_refuses_calls(pool_name: str) -> None:
    pool = WorkerPool(1, name=pool_name)
    await pool.aclose()
    assert pool.closed
    with pytest.raises(PoolClosedError):
        await pool.run(int, "1")


async def test_calls_queued_when_the_pool_closes_are_refused(pool_name: str) -> None:
    pool = WorkerPool(1, name=pool_name)
    gate = Gate()
    holder = asyncio.create_task(pool.run(gate.wait))
    await gate.entered.wait()
    queued = asyncio.create_task(pool.run(int, "1"))
    await asyncio.sleep(0)  # One loop turn: the new task runs up to the limiter.
    closing = asyncio.create_task(pool.aclose())
    gate.opened.set()
    await holder
    with pytest.raises(PoolClosedError):
        await queued
    await closing


async def test_current_pool_is_the_installed_pool(pool: WorkerPool) -> None:
    assert current_pool() is pool


async def test_without_an_installed_pool_a_default_one_is_made_per_loop() -> None:
    default = current_pool()
    assert default.name == "migrate-default"
    assert default.size == default_pool_size()
    assert current_pool() is default
    assert await run_sync(threading.current_thread)() in pool_threads(default)


async def test_installing_a_pool_closes_the_default_one(pool_name: str) -> None:
    default = current_pool()
    async with WorkerPool(2, name=pool_name) as pool:
        assert current_pool() is pool
        assert default.closed


async def test_closing_uninstalls(pool_name: str) -> None:
    pool = WorkerPool(2, name=pool_name)
    pool.install()
    await pool.aclose()
    assert current_pool() is not pool


async def test_default_executor_option_shares_the_threads_with_quart(pool_name: str) -> None:
    pool = WorkerPool(2, name=pool_name)
    pool.install(default_executor=True)
    loop = asyncio.get_running_loop()
    try:
        thread = await loop.run_in_executor(None, threading.current_thread)
        assert thread.name.startswith(f"{pool_name}_")
    finally:
        await pool.aclose()
        loop.set_default_executor(ThreadPoolExecutor())  # The closed one would refuse work.


def test_size_and_limiter_totals_must_be_positive() -> None:
    with pytest.raises(ValueError, match="size"):
        WorkerPool(0)
    with pytest.raises(ValueError, match="total"):
        CapacityLimiter(0)


async def test_init_app_installs_at_startup_and_closes_at_shutdown(pool_name: str) -> None:
    app = Quart(__name__)
    pool = WorkerPool(2, name=pool_name)
    pool.init_app(app)

    @app.get("/thread")
    async def thread_name() -> str:
        return await run_sync(lambda: threading.current_thread().name)()

    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/thread")
        assert (await response.get_data(as_text=True)).startswith(f"{pool_name}_")
        assert app.extensions["migrate.worker_pool"] is pool
    assert pool.closed
    assert pool.stats().completed == 1


async def test_init_app_serves_every_serving_hook_whatever_the_order(pool_name: str) -> None:
    app = Quart(__name__)
    pool = WorkerPool(2, name=pool_name)
    pool.init_app(app)  # Registered first, yet closed last.
    seen: list[str] = []

    @app.before_serving
    async def open_resources() -> None:
        seen.append("installed" if current_pool() is pool else "not installed")

    @app.after_serving
    async def close_resources() -> None:
        await run_sync(seen.append)("closed in a worker")

    async with app.test_app():
        pass
    assert seen == ["installed", "closed in a worker"]
    assert pool.closed
