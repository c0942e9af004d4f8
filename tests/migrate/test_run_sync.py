"""run_sync: context, metadata, errors, timeouts and cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
import traceback

import pytest
from quart import Quart
from quart import current_app
from quart import g
from quart import request

from migrate import RUN_SYNC_MARKER
from migrate import WorkerPool
from migrate import is_run_sync
from migrate import run_sync
from tests.migrate.helpers import Gate

tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="none")


def price_with_tax(cents: int, *, rate: float = 0.2) -> int:
    """Return *cents* with tax, rounded down."""
    return int(cents * (1 + rate))


async def test_request_and_g_are_visible_inside(pool: WorkerPool) -> None:
    app = Quart("bookstore")

    def describe() -> str:
        return f"{request.method} {request.path} {g.user} {current_app.name}"

    @app.get("/whoami")
    async def whoami() -> str:
        g.user = "ada"
        return await run_sync(describe)()

    response = await app.test_client().get("/whoami")
    assert await response.get_data(as_text=True) == "GET /whoami ada bookstore"


async def test_context_is_copied_in_and_not_back(pool: WorkerPool) -> None:
    def read_then_set() -> str:
        seen = tenant.get()
        tenant.set("set-in-thread")
        return seen

    token = tenant.set("acme")
    try:
        assert await run_sync(read_then_set)() == "acme"
        assert tenant.get() == "acme"
    finally:
        tenant.reset(token)


async def test_runs_in_the_pool(pool: WorkerPool) -> None:
    thread = await run_sync(threading.current_thread)()
    assert thread.name.startswith(f"{pool.name}_")
    assert thread is not threading.current_thread()


async def test_args_kwargs_and_result(pool: WorkerPool) -> None:
    assert await run_sync(price_with_tax)(1000, rate=0.5) == 1500


def test_wrapper_keeps_name_docstring_signature_and_carries_the_marker() -> None:
    wrapped = run_sync(price_with_tax)
    assert wrapped.__name__ == "price_with_tax"
    assert wrapped.__doc__ == price_with_tax.__doc__
    assert inspect.signature(wrapped) == inspect.signature(price_with_tax)
    assert inspect.iscoroutinefunction(wrapped)
    assert getattr(wrapped, RUN_SYNC_MARKER) is True
    assert is_run_sync(wrapped)
    assert not is_run_sync(price_with_tax)


async def test_decorator_forms(pool: WorkerPool) -> None:
    @run_sync
    def bare(x: int) -> int:
        return x + 1

    @run_sync(timeout=5.0)
    def configured(x: int) -> int:
        return x + 2

    assert (await bare(1), await configured(1)) == (2, 3)
    assert is_run_sync(bare) and is_run_sync(configured)


def test_refuses_coroutine_functions_and_bad_timeouts() -> None:
    async def already_async() -> None:
        pass

    with pytest.raises(TypeError, match="already async"):
        run_sync(already_async)
    with pytest.raises(ValueError, match="timeout"):
        run_sync(price_with_tax, timeout=0)


async def test_exceptions_keep_type_and_traceback(pool: WorkerPool) -> None:
    def lookup_missing_book() -> None:
        raise KeyError("book 42")

    with pytest.raises(KeyError, match="book 42") as raised:
        await run_sync(lookup_missing_book)()
    frames = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert frames[-1] == "lookup_missing_book"


async def test_timeout_raises_and_the_call_becomes_an_orphan(pool_name: str) -> None:
    pool = WorkerPool(1, name=pool_name)
    gate = Gate()

    with pytest.raises(TimeoutError):
        await run_sync(gate.wait, pool=pool, timeout=0.05)()

    stats = pool.stats()
    assert (stats.orphaned, stats.running, stats.completed) == (1, 1, 0)
    assert not gate.opened.is_set()  # The function is still running in its thread.

    # The orphan keeps its slot: a second call queues behind it and times out unstarted.
    with pytest.raises(TimeoutError):
        await run_sync(int, pool=pool, timeout=0.05)("1")
    assert pool.stats().orphaned == 1

    gate.opened.set()
    await pool.aclose()
    stats = pool.stats()
    assert (stats.orphaned, stats.running, stats.completed) == (1, 0, 1)


async def test_cancellation_is_prompt_and_makes_an_orphan(pool_name: str) -> None:
    pool = WorkerPool(1, name=pool_name)
    gate = Gate()
    task = asyncio.create_task(run_sync(gate.wait, pool=pool)())
    await gate.entered.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not gate.opened.is_set()  # Cancelled while the thread still blocks.
    assert pool.stats().orphaned == 1

    gate.opened.set()
    await pool.aclose()
    assert (pool.stats().running, pool.stats().completed) == (0, 1)


async def test_cancelling_a_queued_call_never_runs_it(pool_name: str) -> None:
    pool = WorkerPool(1, name=pool_name)
    gate = Gate()
    holder = asyncio.create_task(run_sync(gate.wait, pool=pool)())
    await gate.entered.wait()
    ran: list[str] = []
    queued = asyncio.create_task(run_sync(ran.append, pool=pool)("ran"))
    await asyncio.sleep(0)  # One loop turn: the new task runs up to the limiter.

    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    gate.opened.set()
    await holder
    await pool.aclose()
    assert ran == []
    assert (pool.stats().orphaned, pool.stats().completed) == (0, 1)
