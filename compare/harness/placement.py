"""Where the servers and the load generators run: CPU pinning with ``taskset``.

On a machine with two cores, a server and its load generator left to the scheduler share both
cores and the result depends on where they land (unpinned, the CPU-light comparison between
Waitress and Hypercorn flips). :func:`choose_placement` gives the server the first CPU this
process may use and the load generators the second; with fewer CPUs, or without ``taskset``
(util-linux), everything runs unpinned and the placement says so.
"""

from __future__ import annotations

import os
import resource
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Placement", "choose_placement", "raise_open_files_limit"]


@dataclass(frozen=True)
class Placement:
    """The CPU of the servers and the CPU of the load generators (``None``: unpinned), and the
    CPUs the harness was allowed when it chose them (before it pinned itself)."""

    server_cpu: int | None
    client_cpu: int | None
    allowed_cpus: tuple[int, ...] = ()

    @property
    def pinned(self) -> bool:
        """Whether servers and clients run on separate, fixed CPUs."""
        return self.server_cpu is not None and self.client_cpu is not None

    def pin(self, cpu: int | None, argv: Sequence[str]) -> list[str]:
        """Return ``argv`` prefixed with ``taskset -c cpu``, or unchanged when ``cpu`` is None."""
        return list(argv) if cpu is None else ["taskset", "-c", str(cpu), *argv]

    def pin_server(self, argv: Sequence[str]) -> list[str]:
        """Return ``argv`` pinned to the servers' CPU."""
        return self.pin(self.server_cpu, argv)

    def pin_client(self, argv: Sequence[str]) -> list[str]:
        """Return ``argv`` pinned to the load generators' CPU."""
        return self.pin(self.client_cpu, argv)

    def pin_shared(self, argv: Sequence[str]) -> list[str]:
        """Return ``argv`` given both CPUs, the servers' and the load generators'.

        For servers of several processes: the harness pins itself to the load generators' CPU
        and its children inherit that pin, so a multi-process server is given both CPUs
        explicitly. Unchanged when the run is unpinned.
        """
        if self.server_cpu is None or self.client_cpu is None:
            return list(argv)
        cpus = sorted({self.server_cpu, self.client_cpu})
        return ["taskset", "-c", ",".join(map(str, cpus)), *argv]

    def describe(self) -> str:
        """One line for humans: which process runs where."""
        if not self.pinned:
            return "unpinned (fewer than 2 CPUs allowed, or taskset missing)"
        return f"server on CPU {self.server_cpu}, load generator on CPU {self.client_cpu} (taskset)"

    def as_json(self) -> dict[str, Any]:
        """The placement as a JSON-ready mapping, with the CPUs this process may use."""
        return {
            "pinned": self.pinned,
            "server_cpu": self.server_cpu,
            "client_cpu": self.client_cpu,
            "allowed_cpus": list(self.allowed_cpus),
            "cpu_count": os.cpu_count(),
            "description": self.describe(),
        }


def _allowed_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def choose_placement() -> Placement:
    """Return the server on the first allowed CPU and the clients on the second, when possible."""
    cpus = _allowed_cpus()
    if len(cpus) < 2 or shutil.which("taskset") is None:
        return Placement(None, None, tuple(cpus))
    return Placement(cpus[0], cpus[1], tuple(cpus))


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process' soft limit of open files towards ``wanted``; return the new limit.

    Children inherit the limit: 1,000 connections need as many descriptors in wrk and in the
    server. The hard limit is never exceeded.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft
