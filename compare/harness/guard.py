"""The quiet-machine guard: was the machine busy with other work while a run measured?

Around every run the harness takes a :class:`Reading` (the load average and the machine's CPU
time counters from ``/proc/stat``, in clock ticks). From two readings and the CPU time the run's
own processes used (server, load generator, inventory stand-in, harness), :func:`assess` gives
the share of the machine's CPU time that *other* processes used and the share the hypervisor
stole (``steal``, the 8th value of the ``cpu`` line, proc(5)). :func:`busy_reasons` says why a
run counts as busy, and :func:`should_repeat` whether a busy run is measured again.

The load average is recorded, not judged: it is a one-minute average that includes the run's
own server and load generator, and it stays high for a minute after a busy spell, so a repeat
right after one would be refused for no reason.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any
from typing import Final

__all__ = [
    "Assessment",
    "CpuTimes",
    "Limits",
    "Reading",
    "assess",
    "busy_reasons",
    "parse_proc_stat",
    "read",
    "should_repeat",
]

_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU time since boot, in seconds, summed over all CPUs (``/proc/stat``)."""

    busy_s: float
    idle_s: float
    steal_s: float


def parse_proc_stat(text: str) -> CpuTimes:
    """Read the first ``cpu`` line of ``/proc/stat``.

    Fields (proc(5)): user nice system idle iowait irq softirq steal guest guest_nice, in
    clock ticks. ``guest`` and ``guest_nice`` are already counted in ``user`` and ``nice``.
    Busy is user + nice + system + irq + softirq; idle is idle + iowait.

    :raises ValueError: when there is no ``cpu`` line.
    """
    for line in text.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]] + [0] * 10
            user, nice, system, idle, iowait, irq, softirq, steal = values[:8]
            return CpuTimes(
                busy_s=(user + nice + system + irq + softirq) / _CLOCK_TICKS,
                idle_s=(idle + iowait) / _CLOCK_TICKS,
                steal_s=steal / _CLOCK_TICKS,
            )
    raise ValueError("no 'cpu' line in /proc/stat")


@dataclass(frozen=True)
class Reading:
    """The load average (1, 5, 15 min), the CPU counters and the monotonic clock (s)."""

    load_average: tuple[float, float, float]
    cpu: CpuTimes
    at_s: float


def read() -> Reading:
    """Take a reading now."""
    with open("/proc/stat") as stat:
        cpu = parse_proc_stat(stat.read())
    return Reading(os.getloadavg(), cpu, time.monotonic())


@dataclass(frozen=True)
class Limits:
    """Above ``other_share`` of the CPU time used by other processes, or ``steal_share`` of it
    stolen, a run is busy."""

    other_share: float
    steal_share: float


@dataclass(frozen=True)
class Assessment:
    """What the machine did during one run: shares of all CPUs' time over its wall time."""

    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    wall_s: float
    own_cpu_s: float
    other_share: float
    steal_share: float
    reasons: tuple[str, ...] = ()

    @property
    def busy(self) -> bool:
        """Whether the run was taken while the machine was busy."""
        return bool(self.reasons)

    def as_json(self) -> dict[str, Any]:
        """The assessment as a JSON-ready mapping."""
        return {
            "load_before": [round(x, 2) for x in self.load_before],
            "load_after": [round(x, 2) for x in self.load_after],
            "wall_s": round(self.wall_s, 3),
            "own_cpu_s": round(self.own_cpu_s, 3),
            "other_share": round(self.other_share, 4),
            "steal_share": round(self.steal_share, 4),
            "busy": self.busy,
            "reasons": list(self.reasons),
        }


def assess(
    before: Reading, after: Reading, own_cpu_s: float, limits: Limits, cpus: int | None = None
) -> Assessment:
    """Compare two readings; ``own_cpu_s`` is the CPU time the run's own processes used.

    Shares are of ``cpus`` (default: ``os.cpu_count()``) × the wall time between the readings.
    """
    wall = max(after.at_s - before.at_s, 1e-6)
    capacity = wall * (cpus or os.cpu_count() or 1)
    busy = after.cpu.busy_s - before.cpu.busy_s
    other = max(busy - own_cpu_s, 0.0) / capacity
    steal = max(after.cpu.steal_s - before.cpu.steal_s, 0.0) / capacity
    partial = Assessment(before.load_average, after.load_average, wall, own_cpu_s, other, steal)
    return Assessment(
        partial.load_before,
        partial.load_after,
        wall,
        own_cpu_s,
        other,
        steal,
        busy_reasons(partial, limits),
    )


def busy_reasons(assessment: Assessment, limits: Limits) -> tuple[str, ...]:
    """Return why the run counts as busy (empty: it was quiet)."""
    reasons = []
    if assessment.other_share > limits.other_share:
        reasons.append(
            f"other processes used {assessment.other_share:.0%} of the CPU time "
            f"(limit {limits.other_share:.0%})"
        )
    if assessment.steal_share > limits.steal_share:
        reasons.append(
            f"the hypervisor stole {assessment.steal_share:.0%} of the CPU time "
            f"(limit {limits.steal_share:.0%})"
        )
    return tuple(reasons)


def should_repeat(
    busy: bool, repeats_done: int, max_repeats: int, time_left: bool, answered: bool = True
) -> bool:
    """Whether to measure a run again: it was busy, the point has repeats left, and there is
    time, or the run answered nothing (a point without answers fails the whole run, so one
    more run is worth going over the time budget)."""
    return busy and repeats_done < max_repeats and (time_left or not answered)
