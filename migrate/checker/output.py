"""Render a report: text (with summary), JSON, GitHub annotations, statistics, rule list.

JSON uses ruff's field names (``code``, ``message``, ``filename``,
``location{row,column}``, ``end_location``, ``fix``, ``noqa_row``, ``url``) so
existing tooling can read it. SARIF is in :mod:`migrate.checker.sarif`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from migrate.checker import rules
from migrate.checker.edits import DISPLAY_ONLY
from migrate.checker.edits import SAFE
from migrate.checker.edits import UNSAFE
from migrate.checker.engine import Report
from migrate.checker.model import Finding

DEFAULT_DOCS = "docs/rules/"
EFFORT_NOTE = (
    "rough estimate: the sum of a per-rule minutes-per-finding weight, see docs/rules/README.md"
)


def rule_url(code: str, base: str | None) -> str:
    """Return the docs page of ``code`` under ``base`` (default ``docs/rules/``)."""
    base = base or DEFAULT_DOCS
    return f"{base.rstrip('/')}/{code}.md"


def effort_minutes(findings: Sequence[Finding]) -> float:
    """Return the summed per-rule effort weights of ``findings``, in minutes."""
    return sum(rules.get(f.code).effort_minutes for f in findings)


def _duration(minutes: float) -> str:
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def _mark(finding: Finding) -> str:
    fix = finding.fix
    if fix is None or fix.applicability == DISPLAY_ONLY:
        return ""
    return " [*]" if fix.applicability == SAFE else " [-]"


def fixed(counts: Counter[str]) -> str:
    """Return ``Fixed N findings:`` and one line per rule (as ``ruff --show-fixes``)."""
    total = sum(counts.values())
    lines = [f"Fixed {total} findings" + (":" if total else ".")]
    for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {count:5d}  {code}  {rules.get(code).name}")
    return "\n".join(lines) + "\n"


def _fix_summary(report: Report, done: Counter[str] | None, unsafe: bool) -> list[str]:
    safe = sum(1 for f in report.findings if f.fix and f.fix.applicability == SAFE)
    risky = sum(1 for f in report.findings if f.fix and f.fix.applicability == UNSAFE)
    lines = []
    if done is not None:
        left = len(report.findings)
        lines.append(f"Fixed {sum(done.values())} findings; {left} remain{'s' * (left == 1)}.")
    if safe and done is None:
        lines.append(f"{safe} fixable with `--fix` [*].")
    if risky and not (done is not None and unsafe):
        lines.append(f"{risky} more fixable with `--fix --unsafe-fixes` [-].")
    undecided = sorted(
        {f.code for f in report.findings if f.fix is None or f.fix.applicability == DISPLAY_ONLY}
    )
    if undecided:
        lines.append("Rules needing a decision: " + ", ".join(undecided) + ".")
    return lines


def text(
    report: Report,
    summary: bool = True,
    fixed: Counter[str] | None = None,
    unsafe: bool = False,
    fixes: bool = False,
) -> str:
    """Return ``path:line:col: CODE message`` lines, then a summary by rule and by file.

    A finding with a fix is marked ``[*]`` (safe) or ``[-]`` (unsafe). ``fixed``
    (from ``--fix``) counts the findings fixed per code; the summary then says
    how many remain, and the effort estimate counts only those. ``fixes`` says the
    findings' fixes were worked out (``--show-fixes``): the summary counts them.
    """
    marks = fixes or fixed is not None
    lines = [
        f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}{_mark(f) if marks else ''}"
        for f in report.findings
    ]
    if not summary:
        return "\n".join(lines) + ("\n" if lines else "")
    if not report.findings:
        if fixed is not None:
            lines.append(f"Fixed {sum(fixed.values())} findings; none remain.")
        lines.append(f"No findings in {report.files} files ({report.lines} lines).")
        return "\n".join(lines) + "\n"
    by_rule = Counter(f.code for f in report.findings)
    by_file = Counter(f.path for f in report.findings)
    lines += [
        "",
        f"Found {len(report.findings)} findings in {len(by_file)} of "
        f"{report.files} files ({report.lines} lines).",
        "",
        "By rule:",
    ]
    for code, count in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = rules.get(code)
        lines.append(f"  {count:5d}  {code}  {rule.name} ({rule.category})")
    lines += ["", "By file:"]
    for path, count in sorted(by_file.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {count:5d}  {path}")
    if fixes or fixed is not None:
        lines += ["", *_fix_summary(report, fixed, unsafe)]
    minutes = effort_minutes(report.findings)
    lines += ["", f"Estimated effort: {_duration(minutes)} ({EFFORT_NOTE})."]
    return "\n".join(lines) + "\n"


def statistics(report: Report) -> str:
    """Return one line per code: count, code, name, sorted by count (as ``ruff --statistics``)."""
    counts = Counter(f.code for f in report.findings)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "".join(f"{n:5d}\t{code}\t{rules.get(code).name}\n" for code, n in rows)


def as_json(report: Report, docs_url: str | None = None) -> str:
    """Return the findings as a JSON array with ruff's field names (1-based columns)."""
    items = [
        {
            "code": f.code,
            "message": f.message,
            "filename": str(Path(f.path).resolve()),
            "location": {"row": f.line, "column": f.col},
            "end_location": {"row": f.end_line, "column": f.end_col},
            "fix": f.fix.as_json() if f.fix is not None else None,
            "noqa_row": f.line,
            "url": rule_url(f.code, docs_url),
            "name": rules.get(f.code).name,
            "category": rules.get(f.code).category,
        }
        for f in report.findings
    ]
    return json.dumps(items, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    """Return GitHub Actions workflow commands (``::error ...::message``), one per finding."""
    out = []
    for f in report.findings:
        props = ",".join(
            [
                f"title={_escape_property(f'migrate ({f.code})')}",
                f"file={_escape_property(f.path)}",
                f"line={f.line}",
                f"col={f.col}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_col}",
            ]
        )
        out.append(f"::error {props}::{_escape_data(f'{f.code} {f.message}')}\n")
    return "".join(out)


def list_rules() -> str:
    """Return a table of every rule: code, name, category, minutes per finding, summary."""
    out = []
    for code, rule in rules.registry().items():
        out.append(
            f"{code}\t{rule.name}\t{rule.category}\t{rule.effort_minutes:g} min\t{rule.summary}\n"
        )
    return "".join(out)
