"""The load-free parts of ``compare.bench_pool``: wrk parsing, flags, and the ceiling formula."""

from __future__ import annotations

import pytest

from compare import bench_pool
from compare.bench_pool import WrkOutputError
from compare.bench_pool import littles_law_ceiling
from compare.bench_pool import main
from compare.bench_pool import parse_sizes
from compare.bench_pool import parse_wrk_output

#: wrk 4.1.0 (Debian) with ``-t1 -c200 -d3s --latency`` against ``/sleep`` on a pool of 16.
WRK_REPORT = """\
Running 3s test @ http://127.0.0.1:47551/sleep
  1 threads and 200 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   584.12ms  136.76ms 720.97ms   87.46%
    Req/Sec   306.27     36.07   330.00     90.00%
  Latency Distribution
     50%  633.34ms
     75%  645.50ms
     90%  661.03ms
     99%  684.12ms
  917 requests in 3.01s, 146.86KB read
Requests/sec:    304.41
Transfer/sec:     48.75KB
"""

#: The same wrk against a missing route: every answer is a 404.
WRK_REPORT_NON_2XX = """\
Running 1s test @ http://127.0.0.1:47551/nothere
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.02ms    4.86ms  36.71ms   93.41%
    Req/Sec     2.39k   367.17     2.87k    70.00%
  Latency Distribution
     50%    3.44ms
     75%    4.55ms
     90%    7.49ms
     99%   28.25ms
  2379 requests in 1.00s, 801.52KB read
  Non-2xx or 3xx responses: 2379
Requests/sec:   2377.61
Transfer/sec:    801.05KB
"""


def test_parse_wrk_output_reads_rate_percentiles_and_count() -> None:
    report = parse_wrk_output(WRK_REPORT)

    assert report.requests_per_s == 304.41
    assert report.p50_ms == pytest.approx(633.34)
    assert report.p75_ms == pytest.approx(645.50)
    assert report.p90_ms == pytest.approx(661.03)
    assert report.p99_ms == pytest.approx(684.12)
    assert report.requests == 917
    assert report.socket_errors == 0
    assert report.non_2xx == 0


def test_parse_wrk_output_counts_errors() -> None:
    # wrk prints the socket-errors line only when there were some (wrk.c, print_stats).
    with_timeouts = WRK_REPORT.replace(
        "  917 requests in 3.01s, 146.86KB read\n",
        "  917 requests in 3.01s, 146.86KB read\n"
        "  Socket errors: connect 1, read 2, write 3, timeout 4\n",
    )

    assert parse_wrk_output(with_timeouts).socket_errors == 10
    assert parse_wrk_output(WRK_REPORT_NON_2XX).non_2xx == 2379


@pytest.mark.parametrize(
    ("printed", "expected_ms"),
    [("812.00us", 0.812), ("633.34ms", 633.34), ("2.50s", 2_500.0), ("1.02m", 61_200.0)],
)
def test_parse_wrk_output_converts_time_units_to_ms(printed: str, expected_ms: float) -> None:
    report = parse_wrk_output(WRK_REPORT.replace("99%  684.12ms", f"99%  {printed}"))

    assert report.p99_ms == pytest.approx(expected_ms)


@pytest.mark.parametrize(
    ("missing", "message"),
    [("Requests/sec:    304.41\n", "Requests/sec"), ("     99%  684.12ms\n", "99%")],
)
def test_parse_wrk_output_rejects_a_report_without_a_figure(missing: str, message: str) -> None:
    with pytest.raises(WrkOutputError, match=message):
        parse_wrk_output(WRK_REPORT.replace(missing, ""))


@pytest.mark.parametrize(
    ("connections", "threads", "latency_ms", "ceiling"),
    [
        (200, 4, 50.0, 80.0),
        (200, 6, 50.0, 120.0),
        (200, 64, 50.0, 1_280.0),
        (10, 64, 50.0, 200.0),  # fewer connections than threads: the load is the limit
        (200, 16, 10.0, 1_600.0),
    ],
)
def test_littles_law_ceiling(
    connections: int, threads: int, latency_ms: float, ceiling: float
) -> None:
    assert littles_law_ceiling(connections, threads, latency_ms) == pytest.approx(ceiling)


def test_littles_law_ceiling_rejects_a_zero_latency() -> None:
    with pytest.raises(ValueError, match="positive"):
        littles_law_ceiling(200, 4, 0.0)


def test_parse_sizes_keeps_the_order_given() -> None:
    assert parse_sizes("64, 4,16") == [64, 4, 16]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sizes", "4,x"], "not an integer: 'x'"),
        (["--sizes", ""], "not an integer: ''"),
        (["--sizes", "4,0"], "at least 1, not 0"),
        (["--sizes", "4,-2"], "at least 1, not -2"),
        (["--sizes", "16,16"], "given twice"),
        (["--duration-s", "0"], "at least 1, not 0"),
        (["--connections", "many"], "not an integer"),
        (["--latency-ms", "-5"], "positive number"),
        (["--no-such-flag"], "unrecognized arguments"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("bench_pool: error: ")
    assert message in captured.err


def test_missing_wrk_exits_2_before_starting_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_pool.shutil, "which", lambda name: None)

    def no_server(*args: object, **kwargs: object) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(bench_pool.procs, "running", no_server)

    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "wrk not found" in err
