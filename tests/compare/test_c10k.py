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

from compare.harness import c10k_app
from compare.harness.scenarios import WAITRESS_CONNECTION_LIMIT

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

    assert 0 < http["held"] <= WAITRESS_CONNECTION_LIMIT
    refused = sum(n for kind, n in http["errors"].items() if kind.startswith("open_"))
    assert http["held"] + refused == CONNECTIONS
    assert http["statuses"].get("2xx", 0) > 0


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
