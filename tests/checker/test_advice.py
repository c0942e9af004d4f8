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

from migrate.checker import check
from migrate.checker import registry

from .advice_cases import CASES
from .advice_cases import Case

ROOT = Path(__file__).resolve().parents[2]


def _findings(path: Path, code: str) -> list[str]:
    """Return the messages of ``code`` on ``path`` (a file or a project folder)."""
    report = check([path], select=[code], jobs=1)
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


def _apply(files: dict[str, str], case: Case) -> dict[str, str]:
    """Return ``files`` with the case's edits made, each in the one file where its old text
    occurs once, and its files renamed."""
    files = dict(files)
    for old, new in case.edits:
        where = [name for name, text in files.items() if old in text]
        assert len(where) == 1 and files[where[0]].count(old) == 1, f"edit {old!r} must match once"
        files[where[0]] = files[where[0]].replace(old, new)
    for old, new in case.renames:
        files[new] = files.pop(old)
    return files


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _convert(folder: Path, held: tuple[str, ...]) -> None:
    """Apply every fix of ``migrate check --fix --unsafe-fixes`` but the ``held`` codes'."""
    fixed = subprocess.run(
        [
            sys.executable,
            "-m",
            "migrate",
            "check",
            "--fix",
            "--unsafe-fixes",
            "--no-summary",
            "--ignore",
            ",".join(held),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert fixed.returncode in (0, 1), fixed.stderr


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, id=f"{case.code}-{index}", marks=[pytest.mark.live] if case.live else [])
        for index, case in enumerate(CASES)
    ],
)
def test_following_the_advice_gives_a_working_program(case: Case, tmp_path: Path) -> None:
    if case.service is not None and not os.environ.get(case.service):
        pytest.skip(f"{case.service} is not set")
    files = {"app.py": case.program, **dict(case.files)}
    before = tmp_path / "before" / "app.py"
    after = tmp_path / "after" / "app.py"
    _write(before.parent, files)
    _write(after.parent, _apply(files, case))
    # A project's files (requirements, Procfile, .env ...) are read with the folder.
    target = (lambda path: path.parent) if case.files else (lambda path: path)

    messages = _findings(target(before), case.code)
    assert messages, f"{case.code} is not reported on the program"
    assert any(case.advice in m for m in messages), messages
    assert _findings(target(after), case.code) == [], "the advice, done, must clear the finding"

    if case.convert:
        # The rest of the port is the kit's own --fix, with the advice's edit held back;
        # the advice is done on its output, and --fix runs again for the fixes that wait
        # on it (an `await` goes only into an `async def`).
        converted = tmp_path / "converted" / "app.py"
        _write(converted.parent, files)
        _convert(converted.parent, case.convert)
        files = {name: (converted.parent / name).read_text() for name in files}
        before = converted
        after = tmp_path / "converted-after" / "app.py"
        _write(after.parent, _apply(files, case))
        _convert(after.parent, case.convert)

    done = _run(after)
    assert done.returncode == 0, done.stderr[-2000:]
    if case.fails_before:
        assert _run(before).returncode != 0, "the unedited program must show the bug"


def test_every_rule_has_its_advice_run() -> None:
    assert {case.code for case in CASES} == set(registry())
