"""``python -m compare c10k --connections 2000``: many clients held on one worker.

Asserts what the run held and delivered, never how fast: every subscriber connected and
received every write's event, no errors on quart_app, and legacy_flask's section shows
Waitress' connection limit.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compare.harness import c10k
from compare.harness import c10k_app
from compare.harness import report
from compare.harness.scenarios import waitress_limits

pytestmark = pytest.mark.timeout(240)

CONNECTIONS = 2000
SUMMARY_KEYS = {
    "connections_held",
    "errors",
    "fanout_p50_ms",
    "fanout_p99_ms",
    "rss_per_connection_kib",
    "http_p99_ms",
}


@dataclass(frozen=True)
class C10kRun:
    status: int
    stderr: str
    out: Path
    document: dict[str, Any]


@pytest.fixture(scope="module")
def c10k_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[C10kRun]:
    if shutil.which("ss") is None or shutil.which("taskset") is None:
        pytest.fail("the c10k run needs ss and taskset (apt-get install iproute2 util-linux)")
    out = tmp_path_factory.mktemp("c10k")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "compare", "c10k"),
            *("--connections", str(CONNECTIONS), "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )
    results = out / "c10k.json"
    document = json.loads(results.read_text()) if results.exists() else {}
    yield C10kRun(done.returncode, done.stderr, out, document)


def test_the_run_succeeds_and_writes_its_files(c10k_run: C10kRun) -> None:
    assert c10k_run.status == 0, c10k_run.stderr[-3000:]
    assert set(c10k_run.document) >= SUMMARY_KEYS
    for name in ("c10k.json", "c10k.html", "c10k.md"):
        assert (c10k_run.out / name).stat().st_size > 0


def test_every_subscriber_is_held_and_reached_without_errors(c10k_run: C10kRun) -> None:
    document = c10k_run.document
    ws = document["websocket"]

    assert document["connections_held"] == CONNECTIONS
    assert document["errors"] == 0, (ws["errors"], document["http"]["quart_app"]["errors"])
    assert ws["established_server_side"] >= CONNECTIONS
    assert len(ws["writes"]) == document["settings"]["writes"] > 0
    assert all(write["reached"] == CONNECTIONS for write in ws["writes"]), ws["writes"]
    assert ws["every_subscriber_reached"] is True
    assert document["fanout_p99_ms"] >= document["fanout_p50_ms"] >= 0
    assert document["rss_per_connection_kib"] > 0


def test_quart_app_holds_every_keep_alive_connection_while_answering(c10k_run: C10kRun) -> None:
    http = c10k_run.document["http"]["quart_app"]

    assert http["held"] == CONNECTIONS
    assert http["established_server_side"] >= CONNECTIONS
    assert http["statuses"].get("2xx", 0) == http["scheduled"] > 0
    assert c10k_run.document["http_p99_ms"] == http["latency_ms"]["p99"]


def test_waitress_holds_no_more_than_its_connection_limit(c10k_run: C10kRun) -> None:
    http = c10k_run.document["http"]["legacy_flask"]
    limit = c10k_run.document["settings"]["waitress_connection_limit"]

    assert limit == waitress_limits()["connection_limit"]
    assert 0 < http["held"] <= limit
    refused = sum(n for kind, n in http["errors"].items() if kind.startswith("open_"))
    assert http["held"] + refused == CONNECTIONS
    assert http["statuses"].get("2xx", 0) > 0
    assert http["answered"] == sum(http["statuses"].values())
    page = html.unescape((c10k_run.out / "c10k.md").read_text())
    assert (
        f"{http['answered']:,} of its {http['scheduled']:,} active requests were answered" in page
    )


def test_the_report_section_shows_all_three_parts(c10k_run: C10kRun) -> None:
    page = html.unescape((c10k_run.out / "c10k.html").read_text())

    assert "Many clients on one worker (c10k)" in page
    assert "WebSocket /ws/events, fan-out of a write" in page
    assert "legacy_flask · Waitress 4 threads" in page
    assert f"{CONNECTIONS:,}" in page
    assert c10k_run.document["settings"]["subscriber_cap"]["EVENTS_MAX_SUBSCRIBERS"] == CONNECTIONS


def test_the_factory_passes_the_subscriber_cap_to_quart_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(c10k_app.CAP_ENV, "12345")

    app = c10k_app.create_app()

    assert app.config[c10k_app.CAP_CONFIG_KEY] == 12345


def test_the_factory_rejects_a_cap_that_is_not_a_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(c10k_app.CAP_ENV, "lots")

    with pytest.raises(ValueError, match="COMPARE_EVENTS_MAX_SUBSCRIBERS"):
        c10k_app.create_app()


def _section(held: int, errors: dict[str, int], p99_ms: float) -> dict[str, Any]:
    return {
        "held": held,
        "errors": errors,
        "latency_ms": {"p50": p99_ms / 4, "p99": p99_ms},
        "rate_per_s": 300.0,
        "rss_per_connection_kib": 20.0,
        "server_cpu_s": 2.0,
        "unanswered_held": 0,
        "guard": {"other_share": 0.02, "busy": False},
    }


def _document(connections: int, p99_ms: float) -> dict[str, Any]:
    ws = {
        "held": connections,
        "errors": {},
        "fanout_ms": {"p50": 100.0, "p99": 400.0},
        "fanout_from_send_ms": {"p50": 120.0, "p99": 420.0},
        "rss_per_connection_kib": 30.0,
        "server_cpu_s": 5.0,
        "writes": [{"reached": connections, "response_ms": 5.0, "last_from_send_ms": 420.0}],
        "guard": {"other_share": 0.03, "busy": False},
    }
    flask = {**_section(98, {"open_timeout": connections - 98}, 20.0), "unanswered_held": 0}
    return {
        "connections": connections,
        "websocket": ws,
        "http": {"quart_app": _section(connections, {}, p99_ms), "legacy_flask": flask},
        "settings": {
            "waitress_connection_limit": 100,
            "http_open_timeout_s": {"quart_app": 60.0, "legacy_flask": 5.0},
            "subscriber_cap": {"EVENTS_MAX_SUBSCRIBERS": connections, "set_through": "X"},
            "hypercorn_keep_alive_s": 3600,
        },
        "open_files_limit": 20000,
        "machine": {"load_average_at_start": [0.5, 0.4, 0.3], "load_average_at_end": [1, 1, 1]},
        "elapsed_s": 100.0,
    }


@pytest.mark.parametrize(
    ("connections", "p99_ms", "met"),
    [
        (10_000, 50.0, [True, True, True, True]),
        (10_000, 150.0, [True, True, True, False]),
        (2_000, 50.0, [False, False, False, False]),  # the targets are for 10,000
    ],
)
def test_the_targets_and_the_report_section(
    connections: int, p99_ms: float, met: list[bool]
) -> None:
    document = _document(connections, p99_ms)

    summary = c10k.summary_keys(document)
    document["targets"] = c10k._targets(document)
    title, lines = report.c10k_section(document)

    assert summary == {
        "connections_held": connections,
        "errors": 0,
        "fanout_p50_ms": 100.0,
        "fanout_p99_ms": 400.0,
        "rss_per_connection_kib": 30.0,
        "http_p99_ms": p99_ms,
    }
    assert [t["met"] for t in document["targets"]] == met
    text = "\n".join(lines)
    assert title == "Many clients on one worker (c10k)"
    assert f"| {connections:,} | 98 | open_timeout {connections - 98} |" in text
    assert "Waitress accepts at most 100 connections" in text


def test_the_report_says_when_waitress_closed_the_held_connections() -> None:
    document = _document(10_000, 50.0)
    flask = document["http"]["legacy_flask"]
    flask.update(
        scheduled=1500,
        answered=0,
        errors={
            "open_timeout": 9002,
            "active_ConnectionResetError": 998,
            "active_no_idle_connection": 502,
        },
        latency_ms={},
    )
    document["settings"]["waitress_channel_timeout_s"] = 15
    document["targets"] = c10k._targets(document)

    text = "\n".join(report.c10k_section(document)[1])

    assert "Waitress closes a connection idle for 15 s (`channel_timeout`)" in text
    assert (
        "0 of its 1,500 active requests were answered, 998 found their held connection closed "
        "by the server, and 502 found no held connection left"
    ) in text
