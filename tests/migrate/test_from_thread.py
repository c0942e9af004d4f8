"""run_async: sync code in a worker thread calls async code on the app's loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
import traceback

import pytest
from quart import Quart
from quart import request

from migrate import WorkerPool
from migrate import run_async
from migrate import run_sync

trace_id: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="-")


async def fetch_stock(isbn: str) -> dict[str, object]:
    """Stand-in for an async HTTP client call, bound to the running loop."""
    await asyncio.sleep(0)
    return {
        "isbn": isbn,
        "loop": asyncio.get_running_loop(),
        "thread": threading.current_thread().name,
        "trace": trace_id.get(),
    }


async def test_a_worker_calls_a_coroutine_on_the_apps_loop(pool: WorkerPool) -> None:
    def legacy_report() -> tuple[dict[str, object], str]:
        return run_async(fetch_stock)("9780441013593"), threading.current_thread().name

    token = trace_id.set("req-7")
    try:
        stock, worker = await run_sync(legacy_report)()
    finally:
        trace_id.reset(token)

    assert worker.startswith(f"{pool.name}_")
    assert stock["isbn"] == "9780441013593"
    assert stock["loop"] is asyncio.get_running_loop()  # No nested or second loop.
    assert stock["thread"] == threading.current_thread().name
    assert stock["trace"] == "req-7"  # The worker's context went along.


async def test_quart_request_is_visible_in_the_coroutine(pool: WorkerPool) -> None:
    app = Quart(__name__)

    async def current_path() -> str:
        return request.path

    def legacy_view_helper() -> str:
        return run_async(current_path)()

    @app.get("/legacy/path")
    async def view() -> str:
        return await run_sync(legacy_view_helper)()

    response = await app.test_client().get("/legacy/path")
    assert await response.get_data(as_text=True) == "/legacy/path"


async def test_calling_it_on_the_loops_thread_raises_instead_of_deadlocking() -> None:
    # The coroutine is never created, so no "never awaited" warning either.
    with pytest.raises(RuntimeError, match=r"running event loop.*use `await` instead"):
        run_async(fetch_stock)("isbn")


async def test_exceptions_keep_type_and_traceback(pool: WorkerPool) -> None:
    async def refuse() -> None:
        await asyncio.sleep(0)
        raise PermissionError("inventory says no")

    with pytest.raises(PermissionError, match="inventory says no") as raised:
        await run_sync(run_async(refuse))()
    frames = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert "refuse" in frames


async def test_timeout_cancels_the_coroutine(pool: WorkerPool) -> None:
    cancelled = asyncio.Event()

    async def hang() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        await run_sync(run_async(hang, timeout=0.05))()
    await cancelled.wait()


async def test_a_foreign_thread_needs_the_loop_passed() -> None:
    loop = asyncio.get_running_loop()
    results: concurrent.futures.Future[object] = concurrent.futures.Future()

    def foreign() -> None:
        try:
            run_async(fetch_stock)("x")
        except RuntimeError as error:
            results.set_result(str(error))

    def foreign_with_loop() -> dict[str, object]:
        return run_async(fetch_stock, loop=loop)("y")

    threading.Thread(target=foreign).start()
    assert "does not know which event loop" in str(await asyncio.wrap_future(results))
    stock = await asyncio.to_thread(foreign_with_loop)
    assert stock["isbn"] == "y"


def test_a_closed_loop_is_reported() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    with pytest.raises(RuntimeError, match="is closed"):
        run_async(fetch_stock, loop=loop)("x")


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout"):
        run_async(fetch_stock, timeout=-1)
