"""Advice is code: each rule's "do X", done to a program, gives a program that works.

For every case of :data:`advice_cases.CASES`: the checker reports the rule on the program
with a message that contains the advice; the edits (the advice, done) remove the finding;
the edited program runs to its end in a fresh interpreter; and, where the case says so,
the unedited program fails, so the case does exercise the bug.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.checker.engine import run
from migrate.checker.rules import enabled_codes
from migrate.checker.rules import registry

from .advice_cases import CASES
from .advice_cases import Case

ROOT = Path(__file__).resolve().parents[2]


def _findings(path: Path, code: str) -> list[str]:
    report = run([path], enabled_codes([code]), jobs=1)
    assert report.errors == []
    return [f.message for f in report.findings]


def _run(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=path.parent,
        env=env,
    )


def _apply(case: Case) -> str:
    text = case.program
    for old, new in case.edits:
        assert text.count(old) == 1, f"edit {old!r} must match once"
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.code}-{CASES.index(c)}")
def test_following_the_advice_gives_a_working_program(case: Case, tmp_path: Path) -> None:
    before = tmp_path / "before" / "app.py"
    after = tmp_path / "after" / "app.py"
    for path, text in ((before, case.program), (after, _apply(case))):
        path.parent.mkdir()
        path.write_text(text)

    messages = _findings(before, case.code)
    assert messages, f"{case.code} is not reported on the program"
    assert any(case.advice in m for m in messages), messages
    assert _findings(after, case.code) == [], "the advice, done, must clear the finding"

    done = _run(after)
    assert done.returncode == 0, done.stderr[-2000:]
    if case.fails_before:
        assert _run(before).returncode != 0, "the unedited program must show the bug"


def test_cases_cover_many_rules() -> None:
    covered = {case.code for case in CASES}
    assert covered <= set(registry())
    assert len(covered) >= 59
