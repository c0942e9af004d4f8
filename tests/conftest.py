"""What every test folder shares: a count of the results per part of the suite at the end.

``make test`` runs every part in one pytest run; the summary says how many tests each part
passed, so a CI log shows at a glance that the contract ran in-process and over the wire, and
that schemathesis, the response diff and the reliability tests ran at all.
"""

from __future__ import annotations

from collections import Counter

import pytest

#: (label, test path prefix) in the order they are printed; the first match wins.
PARTS = (
    ("contract, over the wire (Waitress, Hypercorn)", "tests/contract/", "-live"),
    ("contract, in-process (Flask, Quart, stage 1)", "tests/contract/", ""),
    ("schemathesis", "tests/schemathesis/", ""),
    ("response diff", "tests/diff/", ""),
    ("reliability, live servers", "tests/live/", ""),
    ("quart_app only (OpenAPI, events, serving)", "tests/quart/", ""),
    ("migrate helpers", "tests/migrate/", ""),
    ("migrate check", "tests/checker/", ""),
    ("compare (stand-in, demo, harness)", "tests/compare/", ""),
    ("docs", "tests/docs/", ""),
    ("command lines", "tests/cli/", ""),
    ("packaging (wheel, pre-commit hook, make)", "tests/packaging/", ""),
)


def _part(nodeid: str) -> str:
    for label, prefix, marker in PARTS:
        if nodeid.startswith(prefix) and marker in nodeid:
            return label
    return "other"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, Counter[str]] = {}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if nodeid and getattr(report, "when", "call") in ("call", "setup"):
                counts.setdefault(_part(nodeid), Counter())[outcome] += 1
    if not counts:
        return
    terminalreporter.section("results by part")
    order = [label for label, _, _ in PARTS] + ["other"]
    for label in sorted(counts, key=order.index):
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts[label].items()))
        terminalreporter.write_line(f"{label}: {summary}")
