"""QM609's fix: a test checks that its response is not Quart's crash page first.

Flask's test client re-raises a view's exception in TESTING mode, so a test of a
crashing view errors. Quart answers it with a 500 page that quotes the failing
lines of source, so ``assert b"Title is required." in await response.data`` can
pass on a crash. The fix puts ``assert response.status_code != 500`` after the
statement that assigns the response the assertion reads, which fails where Flask's
test raised. It also fails a test whose view answers 500 on purpose: unsafe.

Only for a response held in a name and assigned by a plain ``name = ...``
statement of the same function, before the assertion; any other shape stays
display-only.
"""

from __future__ import annotations

import ast

from migrate.checker.edits import UNSAFE
from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.fixers.base import FUNCS
from migrate.checker.fixers.base import RunInfo
from migrate.checker.fixers.base import Source
from migrate.checker.model import Finding

MESSAGE = "Assert that the response is not the 500 page of a crash before reading its body"
BODY_READS = ("data", "get_data")


def fix_status_check(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """Return QM609's fix for the body assertion at ``finding``, or ``None``."""
    key = (finding.line, finding.col, finding.end_line, finding.end_col)
    test = src.find(key, ast.Compare)
    if not isinstance(test, ast.Compare) or not test.comparators:
        return None
    name = _response_name(test.comparators[0])
    func = src.function_of(test)
    if name is None or not isinstance(func, FUNCS):
        return None
    assigned = [
        stmt
        for stmt in ast.walk(func)
        if isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and stmt.targets[0].id == name
        and (stmt.end_lineno or stmt.lineno) < finding.line
    ]
    if not assigned:
        return None
    stmt = max(assigned, key=lambda s: s.lineno)
    end = stmt.end_lineno or stmt.lineno
    # Nothing but a comment may follow the statement on its last line (no ``; x``).
    rest = src.line_text(end)[src.col(end, stmt.end_col_offset or 0) - 1 :].strip()
    first = src.line_text(stmt.lineno)
    indent = first[: len(first) - len(first.lstrip())]
    if (rest and not rest.startswith("#")) or len(indent) + 1 != src.col(
        stmt.lineno, stmt.col_offset
    ):
        return None
    # The assertion follows the statement, so the statement's last line is not the file's.
    check = f"{indent}assert {name}.status_code != 500\n"
    return Fix((Edit(end + 1, 1, end + 1, 1, check, -1),), UNSAFE, MESSAGE)


def _response_name(haystack: ast.expr) -> str | None:
    """Return ``response`` of ``await response.data`` / ``response.get_data()``."""
    if isinstance(haystack, ast.Await):
        haystack = haystack.value
    if isinstance(haystack, ast.Call):
        haystack = haystack.func
    if (
        isinstance(haystack, ast.Attribute)
        and haystack.attr in BODY_READS
        and isinstance(haystack.value, ast.Name)
    ):
        return haystack.value.id
    return None
