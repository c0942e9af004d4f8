"""``run_async``: the reverse bridge, from sync code in a worker thread to the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from .current import owner_loop

__all__ = ["run_async"]

P = ParamSpec("P")
R = TypeVar("R")


def run_async(
    func: Callable[P, Awaitable[R]],
    /,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    timeout: float | None = None,
) -> Callable[P, R]:
    """Wrap the async *func* so that sync code in a worker thread can call it and wait.

    The mirror of :func:`~migrate.run_sync`, for the halfway step of a migration:
    legacy sync code, already running in a worker thread, reuses the application's
    async clients (an ``httpx.AsyncClient``, an async driver) on the application's
    event loop::

        def legacy_report(order_id: int) -> dict[str, object]:
            stock = run_async(inventory_client.fetch_stock)(order_id)
            ...

        report = await run_sync(legacy_report)(42)

    The coroutine runs as a task on the event loop, in a copy of the worker's context
    (so Quart's ``request`` and ``g`` stay readable); no second event loop is started,
    unlike ``asyncio.run`` or asgiref's ``async_to_sync`` outside a loop, so loop-bound
    clients and pools keep working. It is ``trio.from_thread.run`` for asyncio.

    Do not hold every slot of the pool while the coroutine needs one: a coroutine that
    itself calls ``run_sync`` on the same, full, pool waits forever. A *timeout* bounds it.

    :param loop: the event loop to run on. By default, the loop that started the
        current call of a :class:`~migrate.WorkerPool` (``run_sync``, ``AsyncFacade``,
        ``UnitOfWork``, a mounted WSGI app). Pass it from threads the pool did not start.
    :param timeout: seconds to wait before the coroutine is cancelled and
        :class:`TimeoutError` is raised; ``None`` waits without limit.
    :raises ValueError: if *timeout* is not positive.

    Calling the wrapper raises what the coroutine raises, with its type and traceback;
    :class:`TimeoutError` at the deadline; :class:`concurrent.futures.CancelledError` if
    the task is cancelled on the loop (at loop shutdown, for instance). It raises
    :class:`RuntimeError`, before creating the coroutine, when called on a thread that
    runs an event loop (waiting there would block the very loop it waits for: ``await``
    instead), when no loop is known, or when the loop is closed.
    """
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        target = _target_loop(loop, func)
        context = contextvars.copy_context()
        result: concurrent.futures.Future[R] = concurrent.futures.Future()
        tasks: list[asyncio.Task[R]] = []

        async def main() -> R:
            return await func(*args, **kwargs)

        def start() -> None:
            # Created on the loop's thread, in the worker's context, so the coroutine is
            # only ever created when it will also be awaited.
            task = target.create_task(main(), context=context)
            tasks.append(task)
            task.add_done_callback(functools.partial(_relay, result))

        try:
            target.call_soon_threadsafe(start)
        except RuntimeError as error:
            raise RuntimeError(f"run_async(): the event loop {target!r} is closed") from error
        try:
            return result.result(timeout)
        except TimeoutError:
            # The task exists by now unless the loop has not yet run ``start``; either way
            # a callback queued after it finds and cancels it.
            with contextlib.suppress(RuntimeError):  # A closed loop has no task left.
                target.call_soon_threadsafe(_cancel, tasks)
            raise

    return wrapper


def _target_loop(
    loop: asyncio.AbstractEventLoop | None, func: Callable[..., Any]
) -> asyncio.AbstractEventLoop:
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        raise RuntimeError(
            f"run_async({func!r}) was called on the thread of a running event loop; "
            "waiting there would block the loop it waits for: use `await` instead"
        )
    target = loop if loop is not None else owner_loop.get()
    if target is None:
        raise RuntimeError(
            f"run_async({func!r}) does not know which event loop to use: call it from a "
            "worker thread started by run_sync()/WorkerPool, or pass loop="
        )
    if target.is_closed():
        raise RuntimeError(f"run_async(): the event loop {target!r} is closed")
    return target


def _relay(result: concurrent.futures.Future[R], task: asyncio.Task[R]) -> None:
    if task.cancelled():
        result.set_exception(concurrent.futures.CancelledError())
    elif (error := task.exception()) is not None:
        result.set_exception(error)
    else:
        result.set_result(task.result())


def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
