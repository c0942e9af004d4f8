"""Event-loop stall detection: report when the loop is blocked, where, and by what code."""

from __future__ import annotations

import asyncio
import collections
import logging
import selectors
import sys
import threading
import time
import traceback
import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .lifespan import around_lifespan

if TYPE_CHECKING:
    from quart import Quart

__all__ = ["Stall", "StallDetector"]

_log = logging.getLogger("migrate.stalls")


@dataclass(frozen=True)
class Stall:
    """One period during which the event loop could run nothing else.

    :param duration_ms: how late the loop ran a callback due at a fixed time, in ms: a
        lower bound of the block, short of it by at most the heartbeat interval.
    :param threshold_ms: the detector's threshold, in ms.
    :param route: ``"METHOD /path"`` of the Quart request whose task blocked the loop,
        when the app is watched (:meth:`StallDetector.watch`), else ``None``.
    :param task: name of the asyncio task that blocked the loop, or ``None`` when the
        blocking code ran outside a task (a plain callback) or was not sampled.
    :param stack: the loop thread's stack sampled during the block, outermost frame
        first, as :func:`traceback.format_stack` lines; empty if the block ended before
        the sample (a block barely over the threshold), in which case :meth:`format`
        says how to catch it.
    """

    duration_ms: float
    threshold_ms: float
    route: str | None
    task: str | None
    stack: tuple[str, ...]

    def format(self) -> str:
        """Return a multi-line report: the summary, then the stack of the blocking code."""
        where = f" in {self.route}" if self.route else ""
        task = f" (task {self.task})" if self.task else ""
        head = (
            f"Event loop blocked for {self.duration_ms:.0f} ms{where}{task}, "
            f"over the {self.threshold_ms:.0f} ms threshold"
        )
        if not self.stack:
            return (
                f"{head}. The block ended before the watchdog thread could sample the "
                "loop's stack (it lasted barely over the threshold, or it held the GIL). "
                f"To see the code, run again with threshold_ms={self.duration_ms / 2:.0f} "
                "(half this block), or with the pytest plugin's `blockbuster` fixture, "
                "which raises at a known blocking call.\n"
            )
        body = "".join(self.stack)
        return f"{head}. Blocking code, most recent call last:\n{body}"


@dataclass(frozen=True)
class _Sample:
    beat: int
    stack: tuple[str, ...]
    route: str | None
    task: str | None
    idle: bool = False


class StallDetector:
    """Report every time the event loop is blocked for *threshold_ms* or more.

    A heartbeat callback is scheduled on the loop every ``threshold_ms / 5``; when it
    runs late by the threshold or more, a :class:`Stall` is recorded in :attr:`stalls`
    and passed to *on_stall*. A watchdog thread samples the loop thread's stack while the
    heartbeat is overdue (``sys._current_frames()``), so the report shows the blocking
    code itself, together with the request being served. It catches any block,
    including CPU-bound work and calls no list knows; use it in development and tests::

        detector = StallDetector(threshold_ms=100)
        detector.init_app(app)

    asyncio's debug mode (``loop.slow_callback_duration``) logs slow callbacks too, but
    without the stack of the blocking code; ``blockbuster`` (see
    :mod:`migrate.pytest_plugin`) raises at known blocking calls whatever their length.

    :param threshold_ms: shortest block reported, in ms, above 0.
    :param on_stall: called on the loop's thread with each :class:`Stall`, once the
        loop runs again; by default it is logged as a warning on ``migrate.stalls``.
    :param keep: how many of the latest stalls :attr:`stalls` keeps.
    :raises ValueError: if *threshold_ms* is not above 0.
    """

    def __init__(
        self,
        threshold_ms: float = 100.0,
        *,
        on_stall: Callable[[Stall], object] | None = None,
        keep: int = 1000,
    ) -> None:
        if threshold_ms <= 0:
            raise ValueError(f"threshold_ms must be above 0, not {threshold_ms!r}")
        self.threshold_ms = threshold_ms
        self.on_stall = on_stall if on_stall is not None else _log_stall
        self._stalls: collections.deque[Stall] = collections.deque(maxlen=keep)
        self._interval = threshold_ms / 5000  # seconds
        self._routes: weakref.WeakKeyDictionary[asyncio.Task[object], str] = (
            weakref.WeakKeyDictionary()
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id = 0
        self._handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        # (beat number, monotonic time in s the beat is due), replaced as one object so
        # the watchdog thread always reads a consistent pair.
        self._due: tuple[int, float] = (0, 0.0)
        self._sample: _Sample | None = None
        self._idle_late = 0

    @property
    def stalls(self) -> list[Stall]:
        """The stalls recorded since :meth:`start` or :meth:`clear`, oldest first."""
        return list(self._stalls)

    @property
    def idle_late_beats(self) -> int:
        """How many late heartbeats found the loop idle in its selector (int).

        No code held the loop: the operating system ran the process late (a loaded
        machine). These are not stalls, are not recorded and are not passed to
        *on_stall*; a count that grows says the measurements are taken on a busy host.
        """
        return self._idle_late

    @property
    def running(self) -> bool:
        """Whether the detector is started (bool)."""
        return self._handle is not None

    def clear(self) -> None:
        """Forget the recorded stalls."""
        self._stalls.clear()

    def start(self) -> None:
        """Start watching the running event loop; a started detector is left as it is.

        :raises RuntimeError: if no event loop is running in this thread.
        """
        if self._handle is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread_id = threading.get_ident()
        self._stop = threading.Event()
        self._schedule(0)
        # A daemon thread that is never joined: joining would block the loop.
        threading.Thread(
            target=self._watch, args=(self._stop,), name="migrate-stall-watchdog", daemon=True
        ).start()

    def stop(self) -> None:
        """Stop watching; a block in progress, if over the threshold, is recorded first."""
        if self._handle is None:
            return
        self._check_overdue()
        self._handle.cancel()
        self._handle = None
        self._stop.set()

    def watch(self, app: Quart) -> None:
        """Attribute stalls to the requests of the Quart *app* (``Stall.route``).

        Quart serves each request in a task of its own; a ``before_request`` function,
        run first, notes which task serves which request, and ``teardown_request``
        forgets it.
        """
        from quart import request

        async def note_route() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._routes[task] = f"{request.method} {request.path}"

        async def forget_route(_: BaseException | None) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._routes.pop(task, None)

        app.before_request_funcs.setdefault(None, []).insert(0, note_route)
        app.teardown_request(forget_route)

    def init_app(self, app: Quart) -> None:
        """Watch *app* (:meth:`watch`) and run while it serves.

        The detector starts before every ``before_serving`` function and stops after
        every ``after_serving`` function (see :func:`migrate.lifespan.around_lifespan`), so
        a blocking start-up or shutdown step is reported too. It is stored as
        ``app.extensions["migrate.stall_detector"]``.
        """
        app.extensions["migrate.stall_detector"] = self
        self.watch(app)

        async def stop() -> None:
            self.stop()

        around_lifespan(app, startup=self.start, shutdown=stop)

    async def __aenter__(self) -> StallDetector:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.stop()

    def _schedule(self, beat: int) -> None:
        assert self._loop is not None
        self._due = (beat, time.monotonic() + self._interval)
        self._handle = self._loop.call_later(self._interval, self._beat)

    def _beat(self) -> None:
        self._check_overdue()
        self._schedule(self._due[0] + 1)

    def _check_overdue(self) -> None:
        beat, due = self._due
        late_ms = (time.monotonic() - due) * 1000
        if late_ms < self.threshold_ms:
            return
        sample = self._sample if self._sample is not None and self._sample.beat == beat else None
        self._due = (beat, float("inf"))  # Report each late beat once.
        if sample is not None and sample.idle:
            self._idle_late += 1
            return
        stall = Stall(
            duration_ms=late_ms,
            threshold_ms=self.threshold_ms,
            route=sample.route if sample else None,
            task=sample.task if sample else None,
            stack=sample.stack if sample else (),
        )
        self._stalls.append(stall)
        try:
            self.on_stall(stall)
        except Exception:
            _log.exception("the on_stall callback of %r failed", self)

    def _watch(self, stop: threading.Event) -> None:
        # The watchdog thread: samples once per late beat, half-way to the threshold, so
        # the sample is taken while the block is still in progress.
        while not stop.wait(self._interval):
            beat, due = self._due
            if (time.monotonic() - due) * 1000 < self.threshold_ms / 2:
                continue
            if self._sample is not None and self._sample.beat == beat:
                continue
            self._sample = self._take_sample(beat)

    def _take_sample(self, beat: int) -> _Sample:
        frame = sys._current_frames().get(self._thread_id)
        if frame is not None and _waiting_for_io(frame):
            # The loop is idle in its selector: no code holds it, the OS has just not woken
            # it yet (a loaded machine). Such a late beat is not a stall.
            return _Sample(beat, (), None, None, idle=True)
        stack = tuple(traceback.format_stack(frame)) if frame is not None else ()
        task = asyncio.current_task(self._loop) if self._loop is not None else None
        route = self._routes.get(task) if task is not None else None
        return _Sample(beat, stack, route, task.get_name() if task is not None else None)

    def __repr__(self) -> str:
        return f"<StallDetector threshold_ms={self.threshold_ms} stalls={len(self._stalls)}>"


def _waiting_for_io(frame: types.FrameType) -> bool:
    """Whether the innermost frame is the event loop waiting in :mod:`selectors`."""
    return frame.f_code.co_filename == selectors.__file__


def _log_stall(stall: Stall) -> None:
    _log.warning("%s", stall.format())
