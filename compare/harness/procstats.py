"""What a server process tree uses while it is loaded, read from ``/proc`` (Linux only).

:class:`Sampler` polls, every :data:`INTERVAL_S`, the server's process tree (the leader and
every descendant: Hypercorn's supervisor and its workers) for resident memory and threads, and
the server's listening socket for its accept queue (``ss -ltn``: the ``Recv-Q`` of a listening
socket is the number of connections the kernel completed that the server has not accepted).
It reports the peaks, and the CPU time the tree used between :meth:`Sampler.start` and
:meth:`Sampler.stop`. :func:`listen_counters` reads the kernel's ``ListenOverflows`` and
``ListenDrops`` (what ``nstat`` shows as ``TcpExtListenOverflows``); they count for every
socket of the network namespace, so a delta around one measurement is attributed to it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

__all__ = [
    "INTERVAL_S",
    "Sample",
    "Sampler",
    "TreeUsage",
    "accept_queue",
    "listen_counters",
    "pending_connections",
    "tree_cpu_s",
    "tree_pids",
    "tree_usage",
]

#: Seconds between two samples.
INTERVAL_S: Final = 0.2
_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE_BYTES: Final = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_pids(root: int) -> list[int]:
    """Return ``root`` and its descendants that are alive, parents first."""
    pids = [root]
    index = 0
    while index < len(pids):
        pid = pids[index]
        index += 1
        for task in _listdir(f"/proc/{pid}/task"):
            text = _read(f"/proc/{pid}/task/{task}/children")
            pids.extend(int(child) for child in text.split())
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _cpu_s(pid: int) -> float:
    # Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ")" that ends the
    # command name, which may itself hold spaces.
    text = _read(f"/proc/{pid}/stat")
    fields = text.rpartition(")")[2].split()
    if len(fields) < 13:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def tree_cpu_s(root: int) -> float:
    """Return the CPU time (user + system, s) the live processes of ``root``'s tree have used."""
    return sum(_cpu_s(pid) for pid in tree_pids(root))


@dataclass(frozen=True)
class TreeUsage:
    """Resident memory (bytes), threads and processes of a process tree at one moment."""

    rss_bytes: int
    threads: int
    processes: int


def tree_usage(root: int) -> TreeUsage:
    """Return the summed resident memory and thread count of ``root``'s tree."""
    rss = threads = processes = 0
    for pid in tree_pids(root):
        fields = _read(f"/proc/{pid}/stat").rpartition(")")[2].split()
        statm = _read(f"/proc/{pid}/statm").split()
        if len(fields) < 18 or len(statm) < 2:
            continue
        processes += 1
        threads += int(fields[17])
        rss += int(statm[1]) * _PAGE_BYTES
    return TreeUsage(rss_bytes=rss, threads=threads, processes=processes)


def accept_queue(port: int) -> int | None:
    """Return how many connections wait unaccepted on the listener of ``port`` (``ss``).

    ``None`` when ``ss`` is missing or shows no listener on that port.
    """
    try:
        done = subprocess.run(
            ["ss", "-Hltn", f"sport = :{port}"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    queued = [int(line.split()[1]) for line in done.stdout.splitlines() if len(line.split()) > 2]
    return max(queued) if queued else None


def pending_connections(port: int, *, count_idle: bool = False) -> int | None:
    """Return how many connections to the server on ``port`` it has not finished with (``ss``).

    Counted: connections holding data the server has not read (a request, or the FIN of a
    client that has gone), including those still in the accept queue. With ``count_idle``,
    every connection not yet closed counts too: Waitress reads a request and the client's FIN
    at once, then leaves the connection in CLOSE-WAIT until a worker has served the request,
    even though nobody will read the answer. Hypercorn may keep a connection whose client has
    gone open for a while without any work pending, so for it only unread data counts.
    ``None`` when ``ss`` is missing.
    """
    try:
        done = subprocess.run(
            ["ss", "-Htn", "state", "connected", "exclude", "time-wait", f"sport = :{port}"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    rows = [line.split() for line in done.stdout.splitlines()]
    return sum(1 for row in rows if len(row) > 1 and (count_idle or row[1] != "0"))


def listen_counters() -> dict[str, int]:
    """Return the kernel's ``ListenOverflows`` and ``ListenDrops`` (``/proc/net/netstat``)."""
    lines = _read("/proc/net/netstat").splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return {
                "listen_overflows": int(table.get("ListenOverflows", 0)),
                "listen_drops": int(table.get("ListenDrops", 0)),
            }
    return {"listen_overflows": 0, "listen_drops": 0}


@dataclass
class Sample:
    """The peaks and totals of one sampled interval."""

    rss_peak_bytes: int = 0
    threads_max: int = 0
    processes_max: int = 0
    cpu_s: float = 0.0
    unaccepted_max: int = 0
    listen_overflows: int = 0
    listen_drops: int = 0
    samples: int = 0

    def as_json(self) -> dict[str, Any]:
        """The sample as a JSON-ready mapping."""
        return {
            "rss_peak_bytes": self.rss_peak_bytes,
            "threads_max": self.threads_max,
            "processes_max": self.processes_max,
            "cpu_s": round(self.cpu_s, 3),
            "unaccepted_max": self.unaccepted_max,
            "listen_overflows": self.listen_overflows,
            "listen_drops": self.listen_drops,
            "samples": self.samples,
        }


class Sampler:
    """Sample the tree of ``pid`` and the listener on ``port`` in a background thread.

    Use as a context manager around one measurement; :attr:`result` holds the :class:`Sample`
    once the block has ended.
    """

    def __init__(self, pid: int, port: int, interval_s: float = INTERVAL_S) -> None:
        self.pid = pid
        self.port = port
        self.interval_s = interval_s
        self.result = Sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self._cpu_start = 0.0
        self._counters_start: dict[str, int] = {}

    def __enter__(self) -> Sampler:
        self._cpu_start = tree_cpu_s(self.pid)
        self._counters_start = listen_counters()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()
        self.result.cpu_s = max(tree_cpu_s(self.pid) - self._cpu_start, 0.0)
        counters = listen_counters()
        self.result.listen_overflows = (
            counters["listen_overflows"] - self._counters_start["listen_overflows"]
        )
        self.result.listen_drops = counters["listen_drops"] - self._counters_start["listen_drops"]

    def _take(self) -> None:
        usage = tree_usage(self.pid)
        queued = accept_queue(self.port)
        result = self.result
        result.samples += 1
        result.rss_peak_bytes = max(result.rss_peak_bytes, usage.rss_bytes)
        result.threads_max = max(result.threads_max, usage.threads)
        result.processes_max = max(result.processes_max, usage.processes)
        if queued is not None:
            result.unaccepted_max = max(result.unaccepted_max, queued)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._take()
            self._stop.wait(max(self.interval_s - (time.monotonic() - started), 0.01))
