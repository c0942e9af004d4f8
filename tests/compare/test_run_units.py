"""The load-free parts of ``python -m compare run``: wrk's Lua result, statistics, error
classes, the ceiling, the open-loop generator against an in-process server, ``/proc`` and
``ss`` readings, and the command line."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest

from compare import inventory
from compare.cli import main
from compare.harness import openloop
from compare.harness import procstats
from compare.harness.analysis import analyse
from compare.harness.analysis import ceiling
from compare.harness.measure import summarize
from compare.harness.measure import unexpected_errors
from compare.harness.scenarios import ENDPOINTS
from compare.harness.scenarios import full_plan
from compare.harness.scenarios import quick_plan
from compare.harness.wrk import WrkOutputError
from compare.harness.wrk import lua_script
from compare.harness.wrk import parse_lua_result
from compare.harness.wrk import wrk_argv

#: What the Lua ``done()`` printed for a 2 s run with two 404s and one timeout.
RESULT_LINE = (
    'HARNESS_RESULT {"duration_us": 2000000, "requests": 1000, "bytes": 250000, '
    '"errors": {"connect": 0, "read": 1, "write": 0, "status": 2, "timeout": 1}, '
    '"statuses": {"2xx": 998, "3xx": 0, "4xx": 2, "5xx": 0}, '
    '"latency_us": {"p50": 1500, "p75": 2000, "p90": 3000, "p99": 9000, "p99.9": 15000, '
    '"p99.99": 18000, "max": 20000, "min": 400, "mean": 1800.5}}'
)


def test_parse_lua_result_reads_rate_distribution_and_errors() -> None:
    run = parse_lua_result("Running 2s test @ http://x/\n" + RESULT_LINE + "\n")

    assert run.requests_per_s == pytest.approx(500.0)
    assert run.ok_per_s == pytest.approx(499.0)
    assert run.latency_ms["p50"] == pytest.approx(1.5)
    assert run.latency_ms["p99.9"] == pytest.approx(15.0)
    assert run.latency_ms["max"] == pytest.approx(20.0)
    assert run.errors == {
        "connect": 0,
        "read": 1,
        "write": 0,
        "timeout": 1,
        "status_4xx": 2,
        "status_5xx": 0,
    }


@pytest.mark.parametrize("text", ["", "HARNESS_RESULT {not json", 'HARNESS_RESULT {"requests": 1}'])
def test_parse_lua_result_rejects_a_missing_or_broken_line(text: str) -> None:
    with pytest.raises(WrkOutputError):
        parse_lua_result(text)


def test_a_static_script_sets_the_request_once_and_counts_statuses() -> None:
    script = lua_script(
        mode="static",
        path="/auth/login",
        method="POST",
        headers={"Content-Type": "application/json"},
        body='{"username": "a\\"b"}',
    )

    assert 'wrk.method = "POST"' in script
    assert 'wrk.path = "/auth/login"' in script
    assert "function request" not in script, "a request() would cost a Lua call per request"
    assert "function response" in script
    assert "\\34" in script, "quotes in the body are escaped"


def test_a_write_script_deletes_what_it_created() -> None:
    script = lua_script(mode="write", path="/books", headers={"Cookie": "s=1"}, body="{}")

    assert 'wrk.format("POST"' in script
    assert 'wrk.format("DELETE"' in script
    assert 'headers["Location"] or headers["location"]' in script


def test_wrk_takes_whole_seconds() -> None:
    argv = wrk_argv("http://h/", connections=10, duration_s=1.2, timeout_s=0.5, script="s.lua")

    assert argv[:5] == ["wrk", "-t1", "-c10", "-d2s", "--timeout=1s"]
    assert argv[-3:] == ["-s", "s.lua", "http://h/"]


def _run(rate: float, p99: float, **errors: int) -> dict[str, Any]:
    return {
        "requests_per_s": rate,
        "ok_per_s": rate,
        "requests": int(rate),
        "latency_ms": {"p50": p99 / 2, "p99": p99},
        "errors": {"timeout": 0, "status_5xx": 0, **errors},
        "server": {
            "rss_peak_bytes": 100,
            "threads_max": 4,
            "cpu_s": 1.0,
            "unaccepted_max": 0,
            "listen_overflows": 0,
            "listen_drops": 0,
        },
    }


def test_summarize_takes_medians_and_the_spread() -> None:
    summary = summarize([_run(100, 10), _run(110, 30), _run(90, 20, timeout=2)])

    assert summary["requests_per_s"] == 100
    assert summary["spread"] == pytest.approx(0.2)
    assert summary["latency_ms"]["p99"] == 20
    assert summary["errors"]["timeout"] == 2


def test_timeouts_are_expected_only_from_an_overloaded_point() -> None:
    timeouts = summarize([_run(10, 900, timeout=5)])

    # 1,000 connections at 10 req/s wait 100 s each: far past a 10 s timeout.
    assert unexpected_errors(timeouts, in_flight=1000, timeout_s=10, offered_per_s=None)[0] == 0
    assert unexpected_errors(timeouts, in_flight=10, timeout_s=10, offered_per_s=None)[0] == 5
    # Open loop: 10 answered per second of 50 offered is an overload; of 10 it is not.
    assert unexpected_errors(timeouts, in_flight=0, timeout_s=5, offered_per_s=50)[0] == 0
    assert unexpected_errors(timeouts, in_flight=0, timeout_s=5, offered_per_s=10)[0] == 5


def test_server_errors_are_never_expected() -> None:
    summary = summarize([_run(10, 900, timeout=5, status_5xx=3)])

    assert unexpected_errors(summary, in_flight=1000, timeout_s=10, offered_per_s=None)[0] == 3


@pytest.mark.parametrize(
    ("connections", "cap", "latency_ms", "expected"),
    [
        (200, 4, 50.0, 80.0),
        (10, 100, 50.0, 200.0),
        (1000, 100, 200.0, 500.0),
        (1000, None, 50.0, 20_000.0),
        (10, 4, 0.0, None),
    ],
)
def test_littles_law_ceiling(
    connections: int, cap: int | None, latency_ms: float, expected: float | None
) -> None:
    assert ceiling(connections, cap, latency_ms) == expected


def test_the_plans_cover_every_endpoint_on_both_apps() -> None:
    for plan in (quick_plan(), full_plan()):
        pairs = {(s.server, s.endpoint) for s in plan.sweeps}
        for endpoint in ENDPOINTS:
            assert ("flask-t4", endpoint.id) in pairs
            assert ("quart-asyncio", endpoint.id) in pairs
        assert {s.id for s in plan.servers} >= {"flask-t4", "flask-t32", "quart-stage1"}
    full = full_plan()
    assert all(set(s.headline) >= {1, 50} for s in full.sweeps if s.server == "flask-t4")
    headline = {
        (s.endpoint, c) for s in full.sweeps if s.server == "quart-asyncio" for c in s.headline
    }
    assert {("read", 1000), ("avail-50", 200), ("avail-50", 1000)} <= headline
    assert full.repeats >= 3


def _point(
    server: str, endpoint: str, connections: int, rate: float, cpu_us: float | None = None
) -> dict[str, Any]:
    return {
        "loop": "closed",
        "server": server,
        "endpoint": endpoint,
        "connections": connections,
        "headline": True,
        "requests_per_s": rate,
        "cpu_s_per_request": None if cpu_us is None else cpu_us / 1e6,
        "latency_ms": {"p99": 100.0},
        "runs": [{"requests": 100, "client_cpu_s": 0.01}],
        "failed": False,
        "flagged": False,
        "unexpected_errors": 0,
    }


def test_analyse_gives_ratios_targets_and_verdicts() -> None:
    document: dict[str, Any] = {
        "endpoints": {
            "read": {"kind": "cpu-light", "upstream_ms": None},
            "avail-50": {"kind": "io", "upstream_ms": 50.0},
        },
        "servers": {"flask-t4": {"cap": 4}, "quart-asyncio": {"cap": None}},
        "closed_loop": [
            _point("flask-t4", "read", 50, 1000.0, cpu_us=500),
            _point("quart-asyncio", "read", 50, 600.0, cpu_us=800),
            _point("floor-flask", "read", 50, 2000.0, cpu_us=250),
            _point("floor-quart", "read", 50, 1500.0, cpu_us=400),
            _point("flask-t4", "avail-50", 200, 78.0),
            _point("quart-asyncio", "avail-50", 200, 900.0),
        ],
        "open_loop": [],
        "naive": {"block_ms": 50.0, "background_rate": 5.0, "conditions": {}},
    }

    analysis = analyse(document)

    read = next(r for r in analysis["ratios"] if r["endpoint"] == "read")
    assert read["ratio"] == pytest.approx(0.6)
    assert read["cpu_ratio"] == pytest.approx(1.6)
    assert (
        "quart_app uses 1.60× legacy_flask's server CPU per request"
        in (analysis["verdicts"]["read"])
    )
    assert "legacy_flask serves 1.7×" in analysis["verdicts"]["read"]
    floors = {r["server"]: r["multiple"] for r in analysis["floor"]}
    assert floors == {"flask-t4": pytest.approx(2.0), "quart-asyncio": pytest.approx(2.0)}
    assert "quart_app serves 11.5×" in analysis["verdicts"]["avail-50"]
    flask_io = next(r for r in analysis["efficiency"] if r["server"] == "flask-t4")
    assert flask_io["ceiling_rps"] == pytest.approx(80.0)
    assert flask_io["efficiency"] == pytest.approx(78 / 80)
    met = {t["target"].split(":")[0]: t["met"] for t in analysis["targets"]}
    assert met["I/O endpoint, 50 ms upstream, 200 connections"] is True
    cpu = {t["target"].split(": ")[1]: (t["met"], t["value"]) for t in analysis["targets"][2:]}
    assert cpu["quart_app's CPU per request ≤ 1× legacy_flask's"] == (
        False,
        "1.60× (800 µs vs 500 µs)",
    )
    assert cpu["quart_app's CPU per request ≤ 1.5× bare Quart's"] == (
        False,
        "2.00× (800 µs vs 400 µs)",
    )


def test_summarize_reports_cpu_per_request_and_a_busy_run() -> None:
    quiet, busy = _run(100, 10), _run(110, 30)
    quiet["cpu_s_per_request"], busy["cpu_s_per_request"] = 0.0005, 0.0007
    quiet["guard"] = {"busy": False, "load_before": [0.5], "load_after": [0.7]}
    busy["guard"] = {"busy": True, "load_before": [0.7], "load_after": [2.5]}

    assert summarize([quiet])["cpu_s_per_request"] == pytest.approx(0.0005)
    assert summarize([quiet])["busy"] is False
    both = summarize([quiet, busy])
    assert both["cpu_s_per_request"] == pytest.approx(0.0006)
    assert both["busy"] is True
    assert both["load_average"] == [0.5, 0.7, 2.5]


@pytest.mark.parametrize("text", ["x", "a=http://h/@0", "a=ftp://h/@5", "=http://h/@5"])
def test_parse_target_rejects_bad_forms(text: str) -> None:
    with pytest.raises(ValueError):
        openloop.parse_target(text)


async def test_the_open_loop_generator_keeps_its_schedule() -> None:
    async with inventory.serve_app(inventory.create_app(latency_ms=20)) as server:
        url = f"{server.base_url}/stock/9780306406157"
        result = await openloop.generate(
            [openloop.Target("stock", url, 100.0)], duration_s=0.5, warmup_s=0.1, timeout_s=2
        )

    stock = result["targets"]["stock"]
    assert stock["scheduled"] == 50
    assert stock["answered"] == 50
    assert stock["unanswered"] == 0
    assert 20 <= stock["latency_ms"]["p50"] < 1000
    assert result["cpu_s_per_1000_requests"] > 0


async def test_the_open_loop_generator_counts_what_a_stalled_server_never_answers() -> None:
    app = inventory.create_app(fail="hang")
    async with inventory.serve_app(app) as server:
        url = f"{server.base_url}/stock/9780306406157"
        result = await openloop.generate(
            [openloop.Target("stock", url, 40.0)], duration_s=0.25, timeout_s=0.3
        )

    stock = result["targets"]["stock"]
    assert stock["answered"] == 0
    assert stock["errors"]["timeout"] == stock["scheduled"] == 10
    # Latency counts from the scheduled send time, up to the timeout.
    assert stock["latency_ms"]["p50"] >= 300


def test_accept_queue_counts_connections_nobody_accepted() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        try:
            assert procstats.accept_queue(port) == 3
        finally:
            for client in clients:
                client.close()


def test_tree_usage_reads_this_process() -> None:
    usage = procstats.tree_usage(os.getpid())

    assert usage.rss_bytes > 10 * 2**20
    assert usage.threads >= 1
    assert procstats.tree_cpu_s(os.getpid()) > 0
    assert set(procstats.listen_counters()) == {"listen_overflows", "listen_drops"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--flask-threads", "0"], "argument --flask-threads: must be an integer"),
        (["run", "--workers", "many"], "argument --workers: must be an integer"),
        (["run", "--fast"], "unrecognized arguments: --fast"),
    ],
)
def test_bad_run_flags_give_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


def test_pending_connections_counts_unread_requests_not_idle_ones() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        waiting = socket.create_connection(("127.0.0.1", port))
        idle = socket.create_connection(("127.0.0.1", port))
        idle_address = idle.getsockname()
        accepted = [listener.accept()[0] for _ in range(2)]
        try:
            # One client sends a request and leaves before the server reads it; the other
            # leaves without a request, and the server reads its end of stream.
            waiting.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            waiting.close()
            idle.close()
            served = next(conn for conn in accepted if conn.getpeername() == idle_address)
            served.settimeout(2)
            assert served.recv(1024) == b""
            time.sleep(0.05)

            assert procstats.pending_connections(port) == 1
            # The idle one is still open (CLOSE-WAIT) until the server closes it.
            assert procstats.pending_connections(port, count_idle=True) == 2
        finally:
            for conn in accepted:
                conn.close()
