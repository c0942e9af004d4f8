"""The scaled scenario's load-free parts: the plans, the summary of its runs, the reference to
the single-process point, its report section and its flag; the balancer's answer counts; and
one app's topology started and stopped.

``tests/compare/test_run.py`` runs the scenario itself, in the quick run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from compare.balancer import SERVER_HEADER
from compare.balancer import balancing
from compare.cli import main
from compare.harness.placement import Placement
from compare.harness.report import scaled_section
from compare.harness.scaled import shared_cpus
from compare.harness.scaled import single_process_reference
from compare.harness.scaled import summarize
from compare.harness.scaled import topology
from compare.harness.scenarios import ENDPOINTS
from compare.harness.scenarios import ServerConfig
from compare.harness.scenarios import full_plan
from compare.harness.scenarios import quick_plan
from compare.harness.scenarios import scaled_servers
from compare.harness.servers import ManagedServer
from compare.harness.servers import prepare_databases
from compare.procs import free_port
from compare.procs import running

ENDPOINT_LABELS = {e.id: {"label": e.label} for e in ENDPOINTS}


def test_both_plans_scale_each_app_on_the_read_and_the_io_endpoint() -> None:
    for plan in (quick_plan(), full_plan()):
        assert plan.scaled is not None
        assert plan.scaled.backends == 2
        assert {endpoint for endpoint, _ in plan.scaled.points} == {"read", "avail-50"}
        assert [s.app for s in plan.scaled.servers] == ["legacy_flask", "quart_app"]
        assert plan.scaled_points == 4
        # Each scaled point has the single-process point of the same run to be set against.
        sweeps = {(s.server, s.endpoint, c) for s in plan.sweeps for c in s.connections}
        for endpoint, connections in plan.scaled.points:
            assert ("flask-t4", endpoint, connections) in sweeps
            assert ("quart-asyncio", endpoint, connections) in sweeps
    three = full_plan(backends=3).scaled
    assert three is not None
    assert three.servers[1].label.endswith("× 3 behind HAProxy")
    assert three.repeats == 3


def test_the_backends_share_both_cpus_when_the_run_is_pinned() -> None:
    assert shared_cpus(Placement(0, 1)) == [0, 1]
    assert shared_cpus(Placement(None, None)) is None


def test_a_server_of_several_workers_is_given_both_cpus(tmp_path: Path) -> None:
    # The harness runs pinned to the load generators' CPU, which its children inherit.
    placement = Placement(0, 1)
    two = ServerConfig("quart-w2", "w2", "quart_app", "hypercorn", workers=2)
    one = ServerConfig("quart-asyncio", "one", "quart_app", "hypercorn")
    argv = {
        config.id: ManagedServer(
            config,
            placement=placement,
            database_url="sqlite:///unused.db",
            inventory_url="http://127.0.0.1:9",
            log_path=tmp_path / "log",
        ).argv[:3]
        for config in (two, one)
    }
    assert argv == {
        "quart-w2": ["taskset", "-c", "0,1"],
        "quart-asyncio": ["taskset", "-c", "0"],
    }
    assert Placement(None, None).pin_shared(["hypercorn"]) == ["hypercorn"]


def _run(
    rate: float, answered: tuple[int, int], cpu: tuple[float, float], busy: bool = False
) -> dict[str, Any]:
    requests = int(rate)
    return {
        "requests_per_s": rate,
        "ok_per_s": rate,
        "requests": requests,
        "latency_ms": {"p50": rate / 100, "p99": rate / 10},
        "errors": {"timeout": 1},
        "backends_cpu_s_per_request": sum(cpu) / requests,
        "balancer_cpu_s_per_request": 0.01 / requests,
        "per_backend": {
            "app1": {"answered": answered[0], "cpu_s": cpu[0]},
            "app2": {"answered": answered[1], "cpu_s": cpu[1]},
        },
        "rss_bytes": 1000,
        "guard": {"busy": busy, "load_before": [1.0, 0, 0], "load_after": [2.0, 0, 0]},
    }


def test_summarize_takes_medians_and_adds_up_each_backend() -> None:
    summary = summarize(
        [
            _run(100, (50, 50), (0.1, 0.1)),
            _run(200, (100, 100), (0.2, 0.2), busy=True),
            _run(300, (160, 140), (0.3, 0.2)),
        ]
    )

    assert summary["requests_per_s"] == 200
    assert summary["spread"] == pytest.approx(1.0)
    assert summary["latency_ms"] == {"p50": 2.0, "p99": 20.0}
    assert summary["errors"] == {"timeout": 3}
    assert summary["requests"] == 600
    assert summary["backends_cpu_s_per_request"] == pytest.approx(0.002)
    assert summary["per_backend"] == {
        "app1": {"answered": 310, "cpu_s": 0.6},
        "app2": {"answered": 290, "cpu_s": 0.5},
    }
    assert summary["busy"] is True
    assert summary["load_average"] == [1.0, 1.0, 1.0, 2.0]


def test_a_scaled_point_is_set_against_the_single_process_point_of_its_app() -> None:
    closed = [
        {
            "server": server,
            "endpoint": "read",
            "connections": 50,
            "requests_per_s": rate,
            "cpu_s_per_request": 0.001,
            "latency_ms": {"p50": 1.0, "p99": 9.0},
        }
        for server, rate in (("flask-t4", 900.0), ("quart-asyncio", 800.0))
    ]
    point = {"server": "scaled-quart", "endpoint": "read", "connections": 50}

    reference = single_process_reference(point, closed)

    assert reference == {
        "server": "quart-asyncio",
        "requests_per_s": 800.0,
        "cpu_s_per_request": 0.001,
        "latency_ms": {"p50": 1.0, "p99": 9.0},
    }
    assert single_process_reference({**point, "connections": 200}, closed) is None


def test_the_report_section_states_the_cores_and_each_cpu_share() -> None:
    point = {
        "server": "scaled-flask",
        "endpoint": "avail-50",
        "connections": 200,
        **summarize([_run(150, (75, 76), (0.15, 0.16))]),
        "one_process": {"requests_per_s": 78.0, "cpu_s_per_request": 0.0012},
    }
    scaled = {
        "backends": 2,
        "cpu_count": 2,
        "cpus": [0, 1],
        "database": "sqlite",
        "balancer": {"version": "HAProxy version 2.6.12"},
        "apps": {"scaled-flask": {"label": "legacy_flask · Waitress 4 threads × 2"}},
        "points": [point],
    }

    title, lines = scaled_section(scaled, ENDPOINT_LABELS)

    text = "\n".join(lines)
    assert title == "Scaled: 2 processes behind HAProxy"
    assert "**This machine has 2 CPUs**" in text
    assert "the load generator, the balancer and the backends share them" in text
    row = next(line for line in lines if line.startswith("| legacy_flask"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # req/s, p50, p99, backends' and balancer's CPU µs per request, answers, one process.
    assert cells[3:] == ["150", "1.5", "15.0", "2,067", "67", "75 / 76", "78", "1,200"]


@pytest.mark.parametrize("value", ["0", "17", "two"])
def test_a_bad_backend_count_gives_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    assert main(["run", "--backends", value]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "argument --backends: must be an integer from 1 to 16" in err


def test_the_balancer_counts_each_backends_answers() -> None:
    ports = [free_port(), free_port()]
    argv = [sys.executable, "-m", "compare", "inventory", "--latency-ms", "0", "--port"]
    with (
        running([*argv, str(ports[0])], port=ports[0]),
        running([*argv, str(ports[1])], port=ports[1]),
        balancing([("127.0.0.1", port) for port in ports], check_interval_ms=1000) as balancer,
    ):
        balancer.wait_for_state("app1", "UP")
        balancer.wait_for_state("app2", "UP")
        before = balancer.answers()
        with httpx.Client(base_url=balancer.base_url, trust_env=False, timeout=5) as client:
            for _ in range(6):
                client.get("/health").raise_for_status()
            client.get("/no-such-route")
        after = balancer.answers()

    # Round robin: 7 answers, 2xx and 4xx alike, and the health checks are not among them.
    answered = {name: after[name] - before[name] for name in after}
    assert sum(answered.values()) == 7
    assert answered["app1"] >= 3 and answered["app2"] >= 3


def test_a_topology_serves_through_every_backend_and_stops_every_process(
    tmp_path: Path,
) -> None:
    config = scaled_servers(2)[0]
    with (
        prepare_databases(None, tmp_path, [config.id]) as databases,
        topology(
            config,
            backends=2,
            database_url=databases[config.id],
            inventory_url="http://127.0.0.1:9",
            log_dir=tmp_path,
            cpus=None,
            check_interval_ms=2000,
        ) as topo,
    ):
        pids = [backend.pid for backend in topo.backends] + [topo.balancer.process.pid]
        assert topo.balancer.server_states() == {"app1": "UP", "app2": "UP"}
        with httpx.Client(base_url=topo.balancer.base_url, trust_env=False) as client:
            served = [client.get("/books", params={"limit": 1}) for _ in range(4)]
        # Both backends read the one shared database.
        assert {answer.json()["total"] for answer in served} == {36}
        assert {answer.headers[SERVER_HEADER] for answer in served} == {"app1", "app2"}
        assert all(usage > 0 for usage in topo.backends_cpu_s().values())
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} is still running"
