"""Iterate a sync iterator (a DB cursor, a CSV writer's rows) from async code."""

from __future__ import annotations

import asyncio
import queue
import weakref
from collections.abc import AsyncGenerator
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any
from typing import TypeAlias
from typing import TypeVar
from typing import cast

from .current import current_pool
from .pool import WorkerPool

__all__ = ["iterate_in_pool"]

T = TypeVar("T")


class _Done:
    """The sentinel a step returns at the end, since ``StopIteration`` cannot cross a
    future (https://bugs.python.org/issue26221)."""


_DONE = _Done()


def iterate_in_pool(
    iterable: Iterable[T], *, pool: WorkerPool | None = None, pinned: bool = False
) -> AsyncGenerator[T, None]:
    """Return an async generator over *iterable* whose every step runs in the worker pool.

    ``iter(iterable)``, each ``next()`` and the final ``close()`` run in worker threads
    of *pool* (by default :func:`~migrate.current_pool` at the first step), never on
    the event loop::

        async with contextlib.aclosing(iterate_in_pool(rows(session))) as steps:
            async for row in steps:
                ...

    An exception raised by a step is raised by ``async for`` with its type and
    traceback. On early exit the iterator's ``close()`` (a generator's ``finally``)
    runs in the pool: at once with :func:`contextlib.aclosing` or an explicit
    ``aclose()``, otherwise when the event loop finalizes the abandoned async generator.

    :param pinned: run the whole iteration in one worker thread, which it holds until
        the end, for iterators bound to their thread (a ``sqlite3`` cursor with
        ``check_same_thread``). By default each step takes a thread only while it runs,
        so a slow consumer holds no thread between steps.

    If the consuming task is cancelled during a step, the step runs on. Without
    *pinned*, the iterator is then not closed by this function, as closing a running
    generator is an error; it is closed when garbage collected. With *pinned*, it is
    closed in its thread once the step ends.
    """
    if pinned:
        return _pinned(iterable, pool)
    return _stepwise(iterable, pool)


async def _stepwise(iterable: Iterable[T], chosen: WorkerPool | None) -> AsyncGenerator[T, None]:
    # The pool is resolved at the first step, on the loop that iterates.
    pool = chosen if chosen is not None else current_pool()

    def start() -> Iterator[T]:
        return iter(iterable)

    iterator = await pool.run(start)

    def step() -> T | _Done:
        return next(iterator, _DONE)

    stepping = False
    try:
        while True:
            stepping = True
            item = await pool.run(step)
            stepping = False
            if isinstance(item, _Done):
                return
            yield item
    finally:
        close: Callable[[], object] | None = getattr(iterator, "close", None)
        if close is not None and not stepping:
            await pool.run(close)


class _Lane:
    """Held only by the consuming generator's frame: when that frame is gone, a
    finalizer tells the worker thread to stop, so an abandoned iteration frees it."""


# What the consumer sends to the hosting thread: a future to fill with the next item,
# or None to stop.
_Request: TypeAlias = asyncio.Future[object] | None


async def _pinned(iterable: Iterable[T], chosen: WorkerPool | None) -> AsyncGenerator[T, None]:
    pool = chosen if chosen is not None else current_pool()
    loop = asyncio.get_running_loop()
    requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
    lane = _Lane()
    weakref.finalize(lane, requests.put, None)
    host = asyncio.ensure_future(pool.run(_host, iterable, requests, loop))
    # Read the host's outcome even if nobody awaits it, so its error is never "unretrieved".
    host.add_done_callback(lambda task: None if task.cancelled() else task.exception())
    finished = False
    try:
        while True:
            reply: asyncio.Future[object] = loop.create_future()
            requests.put(reply)
            pending: set[asyncio.Future[Any]] = {reply, host}
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if not reply.done():
                reply.cancel()
                host.result()  # Raises why the host ended (a closed pool, say).
                raise RuntimeError("the thread hosting the iteration ended early")
            item = reply.result()
            if isinstance(item, _Done):
                finished = True
                return
            yield cast(T, item)  # The hosting thread only ever hands over items of T.
    finally:
        requests.put(None)
        if not finished and not host.done():
            current = asyncio.current_task()
            if current is None or not current.cancelling():
                # Early exit: wait for close() in the hosting thread, which is quick. On
                # cancellation, do not wait for a step that may be long: it closes later.
                await asyncio.shield(host)
        del lane


def _host(
    iterable: Iterable[object],
    requests: queue.SimpleQueue[_Request],
    loop: asyncio.AbstractEventLoop,
) -> None:
    # Runs in one worker thread for the whole iteration.
    iterator: Iterator[object] | None = None
    try:
        while (reply := requests.get()) is not None:
            try:
                if iterator is None:
                    iterator = iter(iterable)
                outcome: object = next(iterator, _DONE)
            except BaseException as error:  # Handed to the consumer, whatever it is.
                loop.call_soon_threadsafe(_settle, reply, None, error)
                return
            loop.call_soon_threadsafe(_settle, reply, outcome, None)
            if isinstance(outcome, _Done):
                return
    finally:
        close: Callable[[], object] | None = getattr(iterator, "close", None)
        if close is not None:
            close()


def _settle(reply: asyncio.Future[object], item: object, error: BaseException | None) -> None:
    if reply.done():
        return  # The consumer stopped waiting.
    if error is not None:
        reply.set_exception(error)
    else:
        reply.set_result(item)
