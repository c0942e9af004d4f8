"""Run a load generator as a child process that cannot outlive the harness.

:func:`run_child` starts the child in a session of its own, so that a terminal's Ctrl-C reaches
only the harness, which then kills the child's whole process group; it reaps the child with
``wait4``, which also reports the CPU time the child used, and kills it after a time limit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ChildResult", "ChildTimeoutError", "run_child"]


class ChildTimeoutError(RuntimeError):
    """The child was still running at its time limit, and was killed."""


@dataclass(frozen=True)
class ChildResult:
    """What one child printed, its exit status, and the CPU time (user + system, s) it used."""

    stdout: str
    stderr: str
    returncode: int
    cpu_s: float


def run_child(
    argv: Sequence[str], *, limit_s: float, env: Mapping[str, str] | None = None
) -> ChildResult:
    """Run ``argv`` in a new session; kill its group after ``limit_s`` s or on any exception.

    The new session keeps a terminal's Ctrl-C away from the child: the caller's
    KeyboardInterrupt kills it here, so none outlives the harness. The output goes through
    temporary files, and the process is reaped with ``wait4``, which also gives its CPU time
    (user + system), and that of whatever it waited for.

    :raises ChildTimeoutError: when ``limit_s`` passes first.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            env=None if env is None else {**os.environ, **env},
        )
        try:
            status, cpu_s = _wait_cpu(popen.pid, time.monotonic() + limit_s)
        except BaseException:
            _kill_group(popen.pid)
            popen.returncode = -signal.SIGKILL
            raise
        popen.returncode = -signal.SIGKILL if status is None else status
        if status is None:
            raise ChildTimeoutError(f"{argv[0]} still running {limit_s:g} s after its start")
        out.seek(0)
        err.seek(0)
        return ChildResult(
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            returncode=status,
            cpu_s=cpu_s,
        )


def _wait_cpu(pid: int, deadline: float) -> tuple[int | None, float]:
    delay = 0.002
    while True:
        waited, status, usage = os.wait4(pid, os.WNOHANG)
        if waited:
            return os.waitstatus_to_exitcode(status), float(usage.ru_utime + usage.ru_stime)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill_group(pid)
            return None, 0.0
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.05)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
