"""Fixes as ruff models them: edits (source ranges and their replacement) plus an applicability.

An :class:`Edit` replaces the characters between two 1-based ``(line, column)``
positions (end exclusive) with ``content``; an insertion has equal start and
end. A :class:`Fix` is the edits of one finding, applied together or not at all,
and says how far it can be trusted (:data:`SAFE`, :data:`UNSAFE`,
:data:`DISPLAY_ONLY`). :func:`apply` applies a set of fixes to one file's text,
skipping those whose edits overlap edits already taken (they are retried in the
next round, see :mod:`migrate.checker.fixing`).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass

SAFE = "safe"
UNSAFE = "unsafe"
DISPLAY_ONLY = "display-only"
APPLICABILITIES = (SAFE, UNSAFE, DISPLAY_ONLY)


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``line:col``–``end_line:end_col`` (1-based characters) with ``content``.

    ``order`` sorts insertions made at the same position: lower first. The fixers
    give an insertion before a node ``-len(node)`` (outer nodes open first) and one
    after a node ``+len(node)`` (inner nodes close first).
    """

    line: int
    col: int
    end_line: int
    end_col: int
    content: str
    order: int = 0

    def as_json(self) -> dict[str, object]:
        """Return the edit in ruff's JSON shape (``content``, ``location``, ``end_location``)."""
        return {
            "content": self.content,
            "location": {"row": self.line, "column": self.col},
            "end_location": {"row": self.end_line, "column": self.end_col},
        }


@dataclass(frozen=True, slots=True)
class Fix:
    """The edits of one finding and their applicability; ``message`` says what they do."""

    edits: tuple[Edit, ...]
    applicability: str
    message: str

    def as_json(self) -> dict[str, object]:
        """Return the fix in ruff's JSON shape (``applicability``, ``message``, ``edits``)."""
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [e.as_json() for e in self.edits],
        }


def applicable(fix: Fix | None, unsafe: bool) -> bool:
    """Return true when ``fix`` is applied by ``--fix`` (with ``--unsafe-fixes`` if ``unsafe``)."""
    if fix is None or not fix.edits:
        return False
    return fix.applicability == SAFE or (unsafe and fix.applicability == UNSAFE)


class LineIndex:
    """Convert 1-based ``(line, column)`` character positions of ``text`` to offsets."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        at = text.find("\n")
        while at >= 0:
            self.starts.append(at + 1)
            at = text.find("\n", at + 1)
        self.size = len(text)

    def offset(self, line: int, col: int) -> int:
        """Return the offset of ``line:col``; positions past the end clamp to it."""
        if line - 1 >= len(self.starts):
            return self.size
        return min(self.starts[line - 1] + col - 1, self.size)


def _conflicts(taken: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    # ``taken`` is sorted and its ranges do not overlap, so only the ranges that
    # start before ``end`` and are not wholly before ``start`` can conflict.
    index = bisect.bisect_right(taken, (end, end))
    while index > 0:
        index -= 1
        a, b = taken[index]
        if b < start:
            break
        if start < b and a < end:  # proper overlap of two ranges
            return True
        if start == end and a < start < b:  # insertion inside a replaced range
            return True
        if a == b and start < a < end:  # replaced range around an insertion
            return True
    return False


def apply(text: str, fixes: Iterable[Fix]) -> tuple[str, list[int]]:
    """Apply ``fixes`` to ``text``; return the new text and the indices of the applied fixes.

    Fixes are taken in source order of their first edit. A fix whose edits overlap
    an edit already taken is skipped whole; an edit identical to one already taken
    (the same import added by two fixes) is applied once.
    """
    index = LineIndex(text)
    resolved: list[tuple[list[tuple[int, int, str, int]], int]] = []
    for number, fix in enumerate(fixes):
        edits = [
            (index.offset(e.line, e.col), index.offset(e.end_line, e.end_col), e.content, e.order)
            for e in fix.edits
        ]
        if edits:
            resolved.append((edits, number))
    resolved.sort(key=lambda item: min((s, e) for s, e, _, _ in item[0]))
    taken: list[tuple[int, int]] = []
    chosen: dict[tuple[int, int, str, int], None] = {}
    applied: list[int] = []
    for edits, number in resolved:
        fresh = [e for e in edits if e not in chosen]
        if any(_conflicts(taken, s, e) for s, e, _, _ in fresh):
            continue
        if any(s != e for s, e, _, _ in fresh) and _self_overlap(fresh):
            continue
        for edit in fresh:
            chosen[edit] = None
            bisect.insort(taken, (edit[0], edit[1]))
        applied.append(number)
    out: list[str] = []
    cursor = 0
    for start, end, content, _ in sorted(chosen, key=lambda e: (e[0], e[1], e[3])):
        out.append(text[cursor:start])
        out.append(content)
        cursor = max(cursor, end)
    out.append(text[cursor:])
    return "".join(out), applied


def _self_overlap(edits: Sequence[tuple[int, int, str, int]]) -> bool:
    spans = sorted((s, e) for s, e, _, _ in edits)
    return any(b[0] < a[1] for a, b in itertools.pairwise(spans))
