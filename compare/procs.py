"""Start HTTP servers as child processes, wait until they answer, and always stop them.

Used by the demo, the over-the-wire tests and the load harness. POSIX only: every child runs
in a session (and so a process group) of its own, which lets :meth:`ServerProcess.stop` signal
the server together with any worker processes it forked, and keeps a terminal's Ctrl-C from
reaching the children directly, so that they stop in a known order.

One server::

    port = free_port()
    argv = [sys.executable, "-m", "compare", "inventory", "--port", str(port)]
    with running(argv, port=port) as inventory:
        httpx.get(f"{inventory.base_url}/stock/9780306406157")

Several, stopped in reverse order however the block ends (an exception, Ctrl-C)::

    with contextlib.ExitStack() as stack:
        inventory = stack.enter_context(running(inventory_argv, port=inventory_port))
        app = stack.enter_context(running(app_argv, port=app_port, env=app_env))
        ...

All durations are in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import IO
from typing import Final

import httpx

#: Seconds between two readiness probes.
POLL_INTERVAL_S: Final = 0.05
#: Seconds one readiness probe may take.
PROBE_TIMEOUT_S: Final = 1.0
#: Lines of the child's output quoted in errors.
TAIL_LINES: Final = 20
_TAIL_BYTES: Final = 16_384


class ServerStartError(RuntimeError):
    """A server did not become ready; the message quotes the end of its output."""


class ServerExitedError(ServerStartError):
    """The server process ended before it answered its readiness URL."""


class ServerNotReadyError(ServerStartError, TimeoutError):
    """The readiness URL did not answer 2xx within the time allowed."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago.

    The OS picks it (bind to port 0) and the socket is closed again, so another process may take
    it before the caller binds; on a test machine that is rare, and :func:`running` then fails
    with :class:`ServerExitedError` rather than hanging.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def bind_error(host: str, port: int) -> OSError | None:
    """Return why a server could not listen on ``host:port`` now, or ``None`` if it could.

    Binds a socket (with ``SO_REUSEADDR``, as Waitress and Hypercorn do, so a port that only
    holds connections in TIME_WAIT counts as free) and closes it again; the usual error is
    ``EADDRINUSE`` ("Address already in use"). Like :func:`free_port`, the answer may be stale
    by the time the server binds.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc
    return None


@dataclass
class ServerProcess:
    """One server process, started from ``argv``, listening on ``host:port``.

    ``env`` is added to a copy of ``os.environ``. The child's stdout and stderr go to
    ``log_path`` (appended to), or to an anonymous temporary file; either way the last
    :data:`TAIL_LINES` lines of this run are quoted when the server fails to start.
    :meth:`stop` is safe to call at any time, any number of times.
    """

    argv: Sequence[str]
    port: int
    host: str = "127.0.0.1"
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    log_path: Path | None = None
    _popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)
    _log_start: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def base_url(self) -> str:
        """``http://host:port``, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The process id, which is also its process group id.

        :raises RuntimeError: before :meth:`start`.
        """
        if self._popen is None:
            raise RuntimeError("the server has not been started")
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has been reaped, else ``None``."""
        return None if self._popen is None else self._popen.returncode

    def start(self) -> None:
        """Start the process in a new session; return at once, without waiting for readiness.

        :raises RuntimeError: when already started.
        :raises OSError: when ``argv[0]`` cannot be executed.
        """
        if self._popen is not None:
            raise RuntimeError("the server has already been started")
        # Kept open until stop(): the child writes to it for its whole life, and _tail reads it.
        self._log = (
            tempfile.TemporaryFile()  # noqa: SIM115
            if self.log_path is None
            else self.log_path.open("a+b")
        )
        self._log_start = self._log.seek(0, os.SEEK_END)
        try:
            self._popen = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(self.env or {})},
                cwd=self.cwd,
                start_new_session=True,
            )
        except BaseException:
            self._close_log()
            raise

    def wait_ready(self, path: str = "/health", timeout_s: float = 30.0) -> None:
        """Poll ``GET {base_url}{path}`` until it answers 2xx.

        Probes are :data:`POLL_INTERVAL_S` apart and each may take :data:`PROBE_TIMEOUT_S`.
        Proxy settings from the environment are ignored: the server is local.

        :raises ServerExitedError: when the process ends first.
        :raises ServerNotReadyError: when ``timeout_s`` passes first.
        :raises RuntimeError: before :meth:`start`.
        """
        pid = self.pid
        url = f"{self.base_url}{path}"
        deadline = time.monotonic() + timeout_s
        last = "no answer yet"
        with httpx.Client(timeout=PROBE_TIMEOUT_S, trust_env=False) as client:
            while True:
                ended = _wait_unreaped(pid, 0)
                if ended is not None:
                    raise ServerExitedError(
                        f"{self._name()} {_describe_exit(ended)} before {url} answered"
                        f"{self._tail()}"
                    )
                try:
                    status = client.get(url).status_code
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if 200 <= status < 300:
                        return
                    last = f"status {status}"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ServerNotReadyError(
                        f"{self._name()} did not answer {url} with 2xx within {timeout_s:g} s "
                        f"(last: {last}){self._tail()}"
                    )
                # Waiting on the process is the pause between probes: an exit ends it early.
                # Nothing here reaps the process; that is stop()'s job.
                _wait_unreaped(pid, min(POLL_INTERVAL_S, remaining))

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """Stop the server and reap it; return its exit status (``None`` if never started).

        Sends SIGTERM to the process group, waits up to ``timeout_s`` for the leader to exit,
        then sends SIGKILL. Once the leader has exited, whatever is left of its group is killed
        too. A KeyboardInterrupt during the wait skips to SIGKILL, then propagates. Safe to call
        from several threads.
        """
        popen = self._popen
        if popen is None:
            return None
        with self._lock:
            try:
                if popen.returncode is None:
                    self._terminate(popen, timeout_s)
            finally:
                self._close_log()
        return popen.returncode

    def _terminate(self, popen: subprocess.Popen[bytes], timeout_s: float) -> None:
        pgid = popen.pid
        _signal_group(pgid, signal.SIGTERM)
        try:
            ended = _wait_unreaped(pgid, timeout_s)
        except KeyboardInterrupt:
            _signal_group(pgid, signal.SIGKILL)
            popen.wait()
            raise
        if ended is None:
            _signal_group(pgid, signal.SIGKILL)
            _wait_unreaped(pgid, None)
        # The leader is a zombie until reaped, so its pid cannot have been reused as a group id
        # yet: this kills only stragglers of our own group (workers that ignored SIGTERM).
        _signal_group(pgid, signal.SIGKILL)
        popen.wait()

    def _name(self) -> str:
        return f"server {' '.join(self.argv)!r} (pid {self.pid})"

    def _tail(self) -> str:
        if self._log is None:
            return ""
        # Only this run's output (the log may hold earlier ones), and only its end.
        end = self._log.seek(0, os.SEEK_END)
        self._log.seek(max(self._log_start, end - _TAIL_BYTES))
        lines = self._log.read().decode(errors="replace").splitlines()[-TAIL_LINES:]
        if not lines:
            return "; it wrote nothing"
        return "; its last output:\n" + "\n".join(f"    {line}" for line in lines)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _wait_unreaped(pid: int, timeout_s: float | None) -> os.waitid_result | None:
    """Wait up to ``timeout_s`` (``None``: no limit) for child ``pid`` to end, leaving it unreaped.

    Returns how it ended, or ``None`` if it is still running. Until it is reaped its pid stays
    taken, so signalling its process group cannot hit an unrelated process.
    """
    if timeout_s is None:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    deadline = time.monotonic() + timeout_s
    delay = 0.001
    while (ended := os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)) is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        # Short first pauses: most servers stop within a few milliseconds of SIGTERM.
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, POLL_INTERVAL_S)
    return ended


def _describe_exit(ended: os.waitid_result) -> str:
    if ended.si_code == os.CLD_EXITED:
        return f"exited with status {ended.si_status}"
    return f"was killed by {signal.Signals(ended.si_status).name}"


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    *,
    port: int,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log_path: Path | None = None,
    ready_path: str = "/health",
    ready_timeout_s: float = 30.0,
    stop_timeout_s: float = 10.0,
) -> Iterator[ServerProcess]:
    """Start a :class:`ServerProcess`, wait until ``ready_path`` answers 2xx, stop it on exit.

    The server is stopped however the block ends, including by KeyboardInterrupt, and also when
    it fails to become ready.

    :raises ServerExitedError: when the process ends before it is ready.
    :raises ServerNotReadyError: when it is not ready within ``ready_timeout_s``.
    """
    server = ServerProcess(argv, port=port, host=host, env=env, cwd=cwd, log_path=log_path)
    try:
        server.start()
        server.wait_ready(ready_path, ready_timeout_s)
        yield server
    finally:
        server.stop(stop_timeout_s)


@contextlib.asynccontextmanager
async def arunning(
    argv: Sequence[str],
    *,
    port: int,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log_path: Path | None = None,
    ready_path: str = "/health",
    ready_timeout_s: float = 30.0,
    stop_timeout_s: float = 10.0,
) -> AsyncIterator[ServerProcess]:
    """Do what :func:`running` does from async code, without blocking the event loop.

    Waiting for readiness and stopping run in a worker thread (``asyncio.to_thread``). Stopping
    is shielded: when the task is cancelled the server is still stopped and reaped.
    """
    server = ServerProcess(argv, port=port, host=host, env=env, cwd=cwd, log_path=log_path)
    try:
        # Not in a thread: starting takes milliseconds, and a cancellation arriving while a
        # thread starts the process could leave it running unseen by the ``finally``.
        server.start()
        await asyncio.to_thread(server.wait_ready, ready_path, ready_timeout_s)
        yield server
    finally:
        await asyncio.shield(asyncio.to_thread(server.stop, stop_timeout_s))
