"""``python -m compare.bench_client``: a short real run, and its usage errors."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from compare import bench_client
from compare.bench_client import main

needs_two_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2 or shutil.which("taskset") is None,
    reason="needs two CPUs and taskset",
)


@needs_two_cpus
def test_a_short_run_measures_both_clients(capsys: pytest.CaptureFixture[str]) -> None:
    first, second = sorted(os.sched_getaffinity(0))[:2]
    argv = ["--concurrency", "4", "--duration-s", "0.5", "--latency-ms", "5"]
    argv += ["--server-cpu", str(first), "--client-cpu", str(second)]

    assert main(argv) == 0

    out = capsys.readouterr().out
    assert "Little's-law ceiling 800 calls/s" in out
    rows = {
        match["client"]: (float(match["rate"].replace(",", "")), float(match["cpu"]))
        for match in re.finditer(
            r"^(?P<client>httpx|aiohttp)\s+(?P<rate>[\d,]+)\s+(?P<cpu>[\d.]+)\s+[\d,]+$",
            out,
            re.MULTILINE,
        )
    }
    assert set(rows) == {"httpx", "aiohttp"}
    for rate, cpu_ms in rows.values():
        assert 0 < rate <= 800 * 1.1  # 4 calls in flight, 5 ms each
        assert cpu_ms > 0
    # The process is pinned back to every CPU it had.
    assert len(os.sched_getaffinity(0)) >= 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--concurrency", "0"], "at least 1, not 0"),
        (["--duration-s", "-1"], "positive number"),
        (["--latency-ms", "x"], "not a number"),
        (["--server-cpu", "0", "--client-cpu", "0"], "two different CPUs"),
        (["--client-cpu", "4096"], "two different CPUs"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("bench_client: error: ")
    assert message in captured.err


def test_missing_taskset_exits_2_before_starting_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_client.shutil, "which", lambda name: None)

    def no_server(*args: object, **kwargs: object) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(bench_client.procs, "running", no_server)

    assert main([]) == 2
    assert "taskset not found" in capsys.readouterr().err
