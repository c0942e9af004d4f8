"""The quiet-machine guard's decisions, from readings made up and from this machine."""

from __future__ import annotations

import pytest

from compare.harness import guard
from compare.harness.guard import CpuTimes
from compare.harness.guard import Limits
from compare.harness.guard import Reading

LIMITS = Limits(other_share=0.10, steal_share=0.05)

#: proc(5): cpu user nice system idle iowait irq softirq steal guest guest_nice (clock ticks).
PROC_STAT = "cpu  1000 10 200 5000 40 5 5 30 0 0\ncpu0 500 5 100 2500 20 2 3 15 0 0\nintr 1\n"


def _reading(at_s: float, busy_s: float, steal_s: float = 0.0, load: float = 1.0) -> Reading:
    return Reading((load, load, load), CpuTimes(busy_s, 0.0, steal_s), at_s)


def test_parse_proc_stat_sums_busy_idle_and_steal() -> None:
    ticks = guard._CLOCK_TICKS

    times = guard.parse_proc_stat(PROC_STAT)

    assert times.busy_s == pytest.approx((1000 + 10 + 200 + 5 + 5) / ticks)
    assert times.idle_s == pytest.approx((5000 + 40) / ticks)
    assert times.steal_s == pytest.approx(30 / ticks)


def test_parse_proc_stat_rejects_text_without_a_cpu_line() -> None:
    with pytest.raises(ValueError):
        guard.parse_proc_stat("intr 1\n")


def test_a_run_that_used_the_machine_alone_is_quiet() -> None:
    # 2 CPUs for 10 s; the machine was busy 12 CPU-s, of which the run's own processes 11.
    assessment = guard.assess(_reading(0, 100), _reading(10, 112), 11.0, LIMITS, cpus=2)

    assert assessment.other_share == pytest.approx(0.05)
    assert not assessment.busy
    assert assessment.as_json()["reasons"] == []


def test_other_processes_make_a_run_busy() -> None:
    assessment = guard.assess(_reading(0, 100), _reading(10, 115), 11.0, LIMITS, cpus=2)

    assert assessment.other_share == pytest.approx(0.20)
    assert assessment.busy
    assert assessment.reasons == ("other processes used 20% of the CPU time (limit 10%)",)


def test_stolen_time_makes_a_run_busy() -> None:
    before, after = _reading(0, 100, steal_s=1.0), _reading(10, 111, steal_s=3.0)

    assessment = guard.assess(before, after, 11.0, LIMITS, cpus=2)

    assert assessment.steal_share == pytest.approx(0.10)
    assert assessment.reasons == ("the hypervisor stole 10% of the CPU time (limit 5%)",)


def test_the_load_average_is_recorded_but_not_judged() -> None:
    before, after = _reading(0, 100, load=0.2), _reading(10, 111, load=9.0)

    assessment = guard.assess(before, after, 11.0, LIMITS, cpus=2)

    assert not assessment.busy
    assert assessment.as_json()["load_after"] == [9.0, 9.0, 9.0]


@pytest.mark.parametrize(
    ("busy", "done", "most", "time_left", "answered", "expected"),
    [
        (True, 0, 2, True, True, True),
        (True, 1, 2, True, True, True),
        (True, 2, 2, True, True, False),  # bounded: no third repeat
        (True, 0, 2, False, True, False),  # not past the time budget
        (True, 0, 2, False, False, True),  # unless the busy run answered nothing
        (True, 2, 2, False, False, False),  # still bounded
        (False, 0, 2, True, False, False),  # a quiet run stands, even without answers
        (True, 0, 0, True, True, False),  # a plan without repeats
    ],
)
def test_a_busy_run_is_repeated_within_its_bounds(
    busy: bool, done: int, most: int, time_left: bool, answered: bool, expected: bool
) -> None:
    assert guard.should_repeat(busy, done, most, time_left, answered) is expected


def test_read_takes_a_reading_of_this_machine() -> None:
    first = guard.read()
    second = guard.read()

    assert second.at_s >= first.at_s
    assert second.cpu.busy_s >= first.cpu.busy_s
    assert len(first.load_average) == 3
