"""Read the ``# error: CODE`` / ``# ok: CODE`` markers of the sample files."""

from __future__ import annotations

import re
from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"
MARKER = re.compile(r"#\s*(error|ok):\s*(QM\d{3}(?:\s*,\s*QM\d{3})*)")


def units() -> list[Path]:
    """Return the sample units: each top-level file or folder is checked as one run."""
    return sorted(p for p in SAMPLES.iterdir() if p.name != "__pycache__")


def unit_files(unit: Path) -> list[Path]:
    """Return every file of a unit."""
    if unit.is_file():
        return [unit]
    return sorted(p for p in unit.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def markers(unit: Path, kind: str) -> set[tuple[str, int, str]]:
    """Return ``(path relative to samples/, line, code)`` for every ``kind`` marker."""
    out = set()
    for path in unit_files(unit):
        relative = path.relative_to(SAMPLES).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in MARKER.finditer(line):
                if match.group(1) == kind:
                    for code in match.group(2).split(","):
                        out.add((relative, number, code.strip()))
    return out
