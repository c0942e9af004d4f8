"""Each sample unit reports exactly the lines marked ``# error: CODE`` (flake8-async style).

Unmarked lines must stay silent; ``# ok: CODE`` marks a near miss that must not
be reported for that code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.checker.discovery import discover
from migrate.checker.engine import run
from migrate.checker.rules import enabled_codes

from .markers import SAMPLES
from .markers import markers
from .markers import units


def _actual(unit: Path) -> set[tuple[str, int, str]]:
    files = discover([unit], respect_gitignore=False)
    report = run(files, enabled_codes(), jobs=1)
    assert report.errors == []
    return {
        (Path(f.path).resolve().relative_to(SAMPLES.resolve()).as_posix(), f.line, f.code)
        for f in report.findings
    }


@pytest.mark.parametrize("unit", units(), ids=lambda p: p.name)
def test_sample(unit: Path) -> None:
    expected = markers(unit, "error")
    actual = _actual(unit)
    missing = sorted(expected - actual)
    unexpected = sorted(actual - expected)
    assert (missing, unexpected) == ([], [])


@pytest.mark.parametrize("unit", units(), ids=lambda p: p.name)
def test_ok_markers_are_silent(unit: Path) -> None:
    reported = _actual(unit)
    assert sorted(markers(unit, "ok") & reported) == []
