"""``# noqa`` comments: per line (``# noqa``, ``# noqa: QM201, QM3``) and per file.

As in flake8 and ruff, ``# noqa: CODES`` suppresses the listed codes (or code
prefixes) on its line and a bare ``# noqa`` suppresses every code there. A line
that is exactly ``# migrate: noqa`` turns off every finding in the file.
"""

from __future__ import annotations

import re

_NOQA = re.compile(
    r"#\s*noqa(?::[ \t]*(?P<codes>[A-Za-z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Za-z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_FILE = re.compile(r"^\s*#\s*migrate:\s*noqa\s*$", re.MULTILINE | re.IGNORECASE)


def parse(source: str) -> dict[int, frozenset[str] | None]:
    """Map 1-based line numbers to the suppressed codes (``None`` = all codes)."""
    out: dict[int, frozenset[str] | None] = {}
    if "noqa" not in source and "NOQA" not in source:
        return out
    for match in _NOQA.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        codes = match.group("codes")
        if codes is None:
            out[line] = None
        elif line not in out or out[line] is not None:
            previous = out.get(line) or frozenset()
            out[line] = previous | {c.upper() for c in re.split(r"[ \t,]+", codes) if c}
    return out


def file_level(source: str) -> bool:
    """Return true when the file holds a ``# migrate: noqa`` line."""
    return "migrate" in source and _FILE.search(source) is not None


def suppressed(code: str, line: int, table: dict[int, frozenset[str] | None]) -> bool:
    """Return true when ``code`` on ``line`` is suppressed by ``table``."""
    if line not in table:
        return False
    codes = table[line]
    return codes is None or any(code.startswith(prefix) for prefix in codes)
