"""``python -m compare run --quick``, once per module: the results file and the report.

Asserts what the run produced, never how fast anything was.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest

from compare.balancer import BalancerUnavailableError
from compare.balancer import haproxy_path
from compare.harness import c10k as c10k_harness
from compare.harness import report
from tests.compare.test_c10k import _document as _c10k_document

pytestmark = pytest.mark.timeout(300)

MAIN_SERVERS = ("flask-t4", "quart-asyncio")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class QuickRun:
    status: int
    stderr: str
    out: Path
    document: dict[str, Any]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuickRun]:
    missing = [tool for tool in ("wrk", "ss", "taskset") if shutil.which(tool) is None]
    try:
        haproxy_path()
    except BalancerUnavailableError:
        missing.append("haproxy")
    if missing:
        if os.environ.get("BOOKSTORE_REQUIRE_LOAD_TOOLS"):
            pytest.fail(
                f"CI needs {', '.join(missing)} (apt-get install wrk iproute2 util-linux haproxy)"
            )
        pytest.skip(f"not installed: {', '.join(missing)}")
    out = tmp_path_factory.mktemp("quick-run")
    done = subprocess.run(
        [sys.executable, "-m", "compare", "run", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    results = out / "results.json"
    document = json.loads(results.read_text()) if results.exists() else {}
    yield QuickRun(done.returncode, done.stderr, out, document)


def test_the_quick_run_succeeds_and_writes_every_file(quick_run: QuickRun) -> None:
    assert quick_run.status == 0, quick_run.stderr[-3000:]
    for name in ("results.json", "report.html", "summary.md"):
        assert (quick_run.out / name).stat().st_size > 0


def test_the_results_describe_the_machine_versions_and_configuration(quick_run: QuickRun) -> None:
    document = quick_run.document

    assert document["mode"] == "quick"
    assert document["machine"]["cpu_count"] >= 1
    for package in ("flask", "waitress", "quart", "hypercorn", "wrk"):
        assert document["versions"][package]
    assert "description" in document["placement"]
    assert {
        "flask-t4",
        "quart-asyncio",
        "quart-uvloop",
        "quart-stage1",
        "quart-naive",
        "floor-flask",
        "floor-quart",
    } <= set(document["servers"])
    bookstores = {k: v for k, v in document["servers"].items() if not k.startswith("floor-")}
    for server in document["servers"].values():
        assert server["command"]
    for server in bookstores.values():
        assert "BOOKSTORE_DATABASE_URL" in server["environment"]
    urls = {s["environment"]["BOOKSTORE_DATABASE_URL"] for s in bookstores.values()}
    assert len(urls) == len(bookstores), "each bookstore has a database of its own"


def test_every_scenario_has_throughput_on_both_apps(quick_run: QuickRun) -> None:
    document = quick_run.document
    points = document["closed_loop"]

    for endpoint in document["endpoints"]:
        for server in MAIN_SERVERS:
            mine = [p for p in points if p["server"] == server and p["endpoint"] == endpoint]
            assert mine, f"no point for {server} {endpoint}"
            assert all(p["requests_per_s"] > 0 and not p["failed"] for p in mine), mine
    for server in document["servers"]:
        if server != "quart-naive":
            assert any(p["requests_per_s"] > 0 for p in points if p["server"] == server), server
    assert document["open_loop"]
    assert all(p["ok_per_s"] > 0 for p in document["open_loop"])
    for condition in ("idle", "async", "blocking"):
        targets = document["naive"]["conditions"][condition]["targets"]
        assert targets["read"]["answered"] > 0
        assert targets["health"]["answered"] > 0


def test_no_point_has_unexpected_errors(quick_run: QuickRun) -> None:
    document = quick_run.document

    for point in (*document["closed_loop"], *document["open_loop"]):
        assert point["unexpected_errors"] == 0, (
            point["server"],
            point["endpoint"],
            point["errors"],
        )


def test_every_point_records_server_usage_and_queues(quick_run: QuickRun) -> None:
    for point in quick_run.document["closed_loop"]:
        assert point["rss_peak_bytes"] > 0
        assert point["threads_max"] >= 1
        assert point["server_cpu_s"] >= 0
        assert point["unaccepted_max"] >= 0
        assert "listen_overflows" in point
        for key in ("p50", "p90", "p99", "p99.9", "max"):
            assert key in point["latency_ms"]


def test_every_point_reports_server_cpu_per_request(quick_run: QuickRun) -> None:
    document = quick_run.document

    for point in (*document["closed_loop"], *document["open_loop"]):
        assert point["cpu_s_per_request"] > 0, (point["server"], point["endpoint"])
        for run in point["runs"]:
            expected = run["server"]["cpu_s"] / run.get("requests", run.get("answered"))
            if point["loop"] == "closed":
                assert run["cpu_s_per_request"] == pytest.approx(expected)
    summary = (quick_run.out / "summary.md").read_text()
    page = (quick_run.out / "report.html").read_text()
    assert "Quart CPU µs/req" in summary
    assert "Quart CPU µs/req" in page


def test_the_floor_apps_are_measured_beside_the_bookstores(quick_run: QuickRun) -> None:
    document = quick_run.document
    floor = {row["server"]: row for row in document["analysis"]["floor"]}

    assert set(floor) == {"flask-t4", "quart-asyncio"}
    for server, framework in (("flask-t4", "floor-flask"), ("quart-asyncio", "floor-quart")):
        row = floor[server]
        assert row["floor"] == framework
        assert row["multiple"] == pytest.approx(
            row["cpu_s_per_request"] / row["floor_cpu_s_per_request"]
        )
    targets = [t["target"] for t in document["analysis"]["targets"]]
    assert any("≤ 1.5× bare Quart's" in t for t in targets)
    assert any("≤ 1× legacy_flask's" in t for t in targets)
    report = html.unescape((quick_run.out / "report.html").read_text())
    assert "CPU per request against the framework's floor" in report


def test_every_run_records_the_quiet_machine_guard(quick_run: QuickRun) -> None:
    document = quick_run.document

    for point in (*document["closed_loop"], *document["open_loop"]):
        for run in (*point["runs"], *point["busy_runs"]):
            reading = run["guard"]
            assert len(reading["load_before"]) == len(reading["load_after"]) == 3
            assert 0 <= reading["other_share"] <= 1
            assert reading["steal_share"] >= 0
            assert reading["busy"] == bool(reading["reasons"])
        assert len(point["busy_runs"]) <= document["settings"]["busy_repeats"]
        assert point["busy"] == any(run["guard"]["busy"] for run in point["runs"])
    flagged = {(f["server"], f["endpoint"]) for f in document["analysis"]["flagged"] if f["busy"]}
    busy = {
        (p["server"], p["endpoint"])
        for p in (*document["closed_loop"], *document["open_loop"])
        if p["busy"]
    }
    assert flagged == busy
    assert "## Quiet-machine guard" in (quick_run.out / "summary.md").read_text()


def test_the_headline_point_is_repeated_with_its_spread(quick_run: QuickRun) -> None:
    headline = [p for p in quick_run.document["closed_loop"] if p["headline"]]

    assert headline
    for point in headline:
        assert len(point["runs"]) >= 3
        assert point["spread"] >= 0


def test_the_write_scenario_leaves_every_database_as_it_was(quick_run: QuickRun) -> None:
    for check in quick_run.document["database_check"].values():
        assert check["books_after"] == check["books_before"]


def test_the_generators_report_their_own_cpu_cost(quick_run: QuickRun) -> None:
    generators = quick_run.document["analysis"]["generators"]

    assert generators["openloop_cpu_s_per_1000_requests"] > 0
    assert generators["wrk_cpu_s_per_1000_requests"] > 0


def test_the_html_report_renders_every_plot(quick_run: QuickRun) -> None:
    page = (quick_run.out / "report.html").read_text()
    plots = quick_run.document["plots"]

    assert set(plots) >= {"throughput", "latency", "open_loop", "rss", "naive"}
    for name in plots:
        match = re.search(
            rf'id="plot-{name}"><img alt="[^"]+" src="data:image/png;base64,([^"]+)"', page
        )
        assert match, f"plot {name} is not embedded"
        data = base64.b64decode(match[1])
        assert data.startswith(PNG_MAGIC)
        image = matplotlib.image.imread(io.BytesIO(data), format="png")
        assert image.shape[0] > 100 and image.shape[1] > 100
    assert "http://" not in page.replace("http://127.0.0.1", ""), "the report loads nothing"


def test_the_markdown_summary_links_every_plot_file(quick_run: QuickRun) -> None:
    summary = (quick_run.out / "summary.md").read_text()

    for file_name in quick_run.document["plots"].values():
        assert f"]({file_name})" in summary
        assert (quick_run.out / file_name).read_bytes().startswith(PNG_MAGIC)
    assert "## Verdicts" in summary


def test_the_scaled_scenario_runs_each_app_on_two_backends_behind_haproxy(
    quick_run: QuickRun,
) -> None:
    scaled = quick_run.document["scaled"]
    single = quick_run.document["servers"]

    assert scaled["backends"] == 2
    assert scaled["cpu_count"] == os.cpu_count()
    assert scaled["database"] == "sqlite"
    assert set(scaled["apps"]) == {"scaled-flask", "scaled-quart"}
    for ident, app in scaled["apps"].items():
        commands = app["backend_commands"]
        assert len(commands) == 2 and commands[0] != commands[1], "one port each"
        assert "haproxy" in " ".join(app["balancer_command"])
        if quick_run.document["placement"]["pinned"]:
            # Every backend and the balancer may use both CPUs, not the load generator's alone.
            cpus = ",".join(map(str, scaled["cpus"]))
            for command in (*commands, app["balancer_command"]):
                assert command[:3] == ["taskset", "-c", cpus]
        # The backends of one app share one database, of their own.
        assert app["environment"]["BOOKSTORE_DATABASE_URL"] == app["database_url"]
        assert app["environment"]["BOOKSTORE_PROXY_HOPS"] == "1"
        others = {s["environment"].get("BOOKSTORE_DATABASE_URL") for s in single.values()}
        assert app["database_url"] not in others, ident
    measured = {(p["server"], p["endpoint"]) for p in scaled["points"]}
    assert measured == {
        (server, endpoint)
        for server in ("scaled-flask", "scaled-quart")
        for endpoint in ("read", "avail-50")
    }


def test_the_balancer_spread_every_scaled_point_over_both_backends(quick_run: QuickRun) -> None:
    for point in quick_run.document["scaled"]["points"]:
        where = (point["server"], point["endpoint"])
        assert not point["failed"] and point["requests_per_s"] > 0, where
        assert point["unexpected_errors"] == 0, (where, point["errors"])
        assert set(point["per_backend"]) == {"app1", "app2"}
        for name, usage in point["per_backend"].items():
            assert usage["answered"] > 0, (where, name)
            assert usage["cpu_s"] > 0, (where, name)
        # Every answer wrk counted went through a backend, by HAProxy's own count.
        answered = sum(usage["answered"] for usage in point["per_backend"].values())
        assert answered >= point["requests"], where
        assert point["backends_cpu_s_per_request"] > 0
        assert point["balancer_cpu_s_per_request"] is not None
        assert point["balancer_cpu_s_per_request"] >= 0
        assert {"p50", "p99"} <= set(point["latency_ms"])
        assert point["one_process"]["server"] in ("flask-t4", "quart-asyncio")
        for run in point["runs"]:
            assert run["backends_cpu_s_per_request"] == pytest.approx(
                run["backends_cpu_s"] / run["requests"], rel=1e-6, abs=1e-3 / run["requests"]
            )
            assert len(run["guard"]["load_before"]) == 3


def test_the_report_states_the_cores_beside_the_scaled_numbers(quick_run: QuickRun) -> None:
    cores = os.cpu_count()
    summary = (quick_run.out / "summary.md").read_text()
    page = html.unescape((quick_run.out / "report.html").read_text())

    assert "## Scaled: 2 processes behind HAProxy" in summary
    for text in (summary, page):
        assert f"This machine has {cores} CPU" in text
        assert "backends CPU µs/req" in text and "balancer CPU µs/req" in text


def test_the_report_adds_the_c10k_section_when_its_results_are_beside_it(
    quick_run: QuickRun, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    shutil.copytree(quick_run.out, out)
    c10k = _c10k_document(10_000, 50.0)
    c10k["targets"] = c10k_harness._targets(c10k)
    (out / "c10k.json").write_text(json.dumps(c10k))

    report.finish(json.loads((out / "results.json").read_text()), out)

    summary = (out / "summary.md").read_text()
    assert "## Many clients on one worker (c10k)" in summary
    assert "| 10,000 | 98 | open_timeout 9902 |" in summary
    assert "Many clients on one worker (c10k)" in (out / "report.html").read_text()
