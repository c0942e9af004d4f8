"""QM602's fix for ``with client:``: send the requests, then inspect in a request context.

``async with client:`` is not Flask's ``with client:``: Quart keeps the last
request's context open until the block ends (its teardown, such as closing a
database connection, waits until then), and ``g`` is not readable in the block.
The fix drops the block, sends its requests as plain statements, and runs the
statements that read ``session``, ``g`` or ``request`` in a request context
built from the client's cookies, after the app's ``before_request`` functions::

    await client.get("/")
    async with client.app.test_request_context("/", headers={"Cookie": ...}):
        await client.app.preprocess_request()
        assert g.user["username"] == "test"
"""

from __future__ import annotations

import ast

from migrate.checker.edits import SAFE
from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.fixers.base import RunInfo
from migrate.checker.fixers.base import Source
from migrate.checker.fixers.base import text_with_awaits
from migrate.checker.symbols import canonical

GLOBALS = frozenset({"flask.session", "flask.g", "flask.request"})


def _reads_globals(src: Source, stmt: ast.stmt) -> bool:
    return any(
        isinstance(node, ast.Name) and canonical(src.symbols.resolve(node)) in GLOBALS
        for node in ast.walk(stmt)
    )


def _multiline_string(stmts: list[ast.stmt]) -> bool:
    return any(
        isinstance(node, ast.Constant | ast.JoinedStr) and node.end_lineno != node.lineno
        for stmt in stmts
        for node in ast.walk(stmt)
    )


def fix_client_block(src: Source, stmt: ast.With, client: ast.expr, run: RunInfo) -> Fix | None:
    """Return the rewrite in the module docstring for ``with <client>:``, or ``None``.

    The calls QM307 and QM601 ask to await (``run.awaits``) are awaited in the
    moved statements.
    """
    name = ast.get_source_segment(src.text, client)
    body = stmt.body
    if name is None or stmt.items[0].optional_vars is not None or body[0].lineno == stmt.lineno:
        return None
    split = next((i for i, s in enumerate(body) if _reads_globals(src, s)), len(body))
    before, after = body[:split], body[split:]
    if _multiline_string(before):
        return None
    lines = text_with_awaits(src, before, run).splitlines(keepends=True)
    outer = " " * stmt.col_offset
    inner = " " * body[0].col_offset
    dedent = len(inner) - len(outer)
    header_end = body[0].lineno  # the body starts on the line after the header
    edits = [Edit(stmt.lineno, 1, header_end, 1, "")]
    if before:
        last = before[-1].end_lineno or before[-1].lineno
        moved = "".join(
            line[dedent:] if line[:dedent].strip() == "" else line
            for line in lines[body[0].lineno - 1 : last]
        )
        edits.append(Edit(body[0].lineno, 1, last + 1, 1, moved))
    if after:
        cookies = f'"; ".join(f"{{c.name}}={{c.value}}" for c in {name}.cookie_jar)'
        header = (
            f'{outer}async with {name}.app.test_request_context("/", '
            f'headers={{"Cookie": {cookies}}}):\n'
            f"{inner}await {name}.app.preprocess_request()\n"
        )
        edits.append(Edit(after[0].lineno, 1, after[0].lineno, 1, header, -1))
    message = "Send the requests, then read the session and `g` in a request context"
    return Fix(tuple(edits), SAFE, message)
