"""Which comment and blank lines of a file a conversion lost, outside what it removed."""

from __future__ import annotations

import ast
import difflib


def removed_lines(before: str, after: str) -> set[int]:
    """Return the 0-based lines of top-level statements the fixes removed (a dead handler,
    an import left unused), with the blank lines that followed them."""
    kept_names = {getattr(stmt, "name", None) for stmt in ast.parse(after).body} | {
        line.strip() for line in after.splitlines()
    }
    lines = before.splitlines()
    out: set[int] = set()
    for stmt in ast.parse(before).body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        last = stmt.end_lineno or stmt.lineno
        text = "\n".join(lines[first - 1 : last]).strip()
        gone = getattr(stmt, "name", None) not in kept_names
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            quart = text.replace("flask", "quart").replace("Flask", "Quart")
            gone = text not in kept_names and quart not in kept_names
        if gone:
            out.update(range(first - 1, last))
            while last < len(lines) and not lines[last].strip():
                out.add(last)
                last += 1
    return out


def lost_lines(before: str, after: str) -> list[str]:
    """Return the comment and blank lines of ``before`` (``"12: '# why'"``, 1-based) that
    ``after`` does not keep, leaving out those of statements the fixes removed
    (:func:`removed_lines`)."""
    old, new = before.splitlines(), after.splitlines()
    exempt = removed_lines(before, after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    kept = {b.a + i for b in matcher.get_matching_blocks() for i in range(b.size)}
    return [
        f"{number + 1}: {line!r}"
        for number, line in enumerate(old)
        if number not in exempt
        and number not in kept
        and (not line.strip() or line.lstrip().startswith("#"))
    ]
