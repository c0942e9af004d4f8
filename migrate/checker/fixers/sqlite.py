"""QM409's fix: move a ``sqlite3`` connection to aiosqlite, and every use of it with it.

aiosqlite runs each connection in a thread of its own and gives it an async
API: ``await aiosqlite.connect(...)``, ``await db.execute(...)`` (a cursor),
``await cursor.fetchone()``, ``await db.commit()``, ``await db.close()``. Its
rows, converters and exceptions are sqlite3's. A ``sqlite3`` connection given to
``run_sync`` instead is not a fix: it was opened in another thread and refuses
to be used from a worker (``check_same_thread``).

The rewrite is whole-run: a function that returns a connection
(``get_db()``, found by the checker's return tags) hands it to views, CLI
commands and tests alike, and all of them must await it at once. Uses in test
files carry no QM409 finding (tests are not on the server's loop), so their
edits come as findings of their own, reported only by ``--fix``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from migrate.checker.edits import UNSAFE
from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.fixers.base import FUNCS
from migrate.checker.fixers.base import Key
from migrate.checker.fixers.base import RunInfo
from migrate.checker.fixers.base import Source
from migrate.checker.model import Finding
from migrate.checker.symbols import dotted

CONNECTION_METHODS = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "commit",
        "rollback",
        "close",
        "cursor",
        "create_function",
        "create_aggregate",
        "create_collation",
        "backup",
    }
)
CURSOR_FROM = frozenset({"execute", "executemany", "executescript", "cursor"})
CURSOR_METHODS = frozenset(
    {"fetchone", "fetchall", "fetchmany", "execute", "executemany", "executescript", "close"}
)
MESSAGE = "Use aiosqlite: `await` the connection's calls"


@dataclass(slots=True)
class Conversion:
    """Run-wide: functions that return a connection, and ``g`` attributes holding one."""

    functions: set[str] = field(default_factory=set)
    g_attrs: set[str] = field(default_factory=set)


def collect_g_attrs(src: Source) -> set[str]:
    """Return the ``g.X`` names assigned a ``sqlite3.connect(...)`` in ``src``."""
    found: set[str] = set()
    if "connect(" not in src.text:
        return found
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Assign) and _is_connect(src, node.value):
            for target in node.targets:
                text = dotted(target) or ""
                if text.startswith("g.") and text.count(".") == 1:
                    found.add(text[2:])
    return found


def _is_connect(src: Source, expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and src.symbols.resolve(expr.func) == "sqlite3.connect"


def _strip(expr: ast.expr) -> ast.expr:
    return expr.value if isinstance(expr, ast.Await) else expr


class _Scope:
    def __init__(self, src: Source, conv: Conversion, body: list[ast.AST]) -> None:
        self.src = src
        self.conv = conv
        self.nodes = list(_walk(body))
        self.connections: set[str] = set()
        self.cursors: set[str] = set()
        for _ in range(2):
            for node in self.nodes:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        if self.is_connection(node.value):
                            self.connections.add(target.id)
                        elif self.is_cursor(node.value):
                            self.cursors.add(target.id)

    def is_connection(self, expr: ast.expr) -> bool:
        expr = _strip(expr)
        if isinstance(expr, ast.Name):
            return expr.id in self.connections
        text = dotted(expr)
        if text is not None and text.startswith("g.") and text[2:] in self.conv.g_attrs:
            return True
        if not isinstance(expr, ast.Call):
            return False
        if _is_connect(self.src, expr):
            return True
        func = expr.func
        if isinstance(func, ast.Attribute) and dotted(func.value) == "g" and expr.args:
            key = expr.args[0]
            if func.attr in ("pop", "get") and isinstance(key, ast.Constant):
                return key.value in self.conv.g_attrs
        target = self.src.symbols.resolve(func)
        return target is not None and target in self.conv.functions

    def is_cursor(self, expr: ast.expr) -> bool:
        expr = _strip(expr)
        if isinstance(expr, ast.Name):
            return expr.id in self.cursors
        return (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in CURSOR_FROM
            and self.is_connection(expr.func.value)
        )


def _walk(body: list[ast.AST]) -> Iterator[ast.AST]:
    # The scope's own nodes: nested functions and classes are scopes of their own.
    pending = list(reversed(body))
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (*FUNCS, ast.ClassDef, ast.Lambda)):
            continue
        pending.extend(reversed(list(ast.iter_child_nodes(node))))


def _scopes(src: Source, words: tuple[str, ...]) -> Iterator[list[ast.AST]]:
    # Module level and each function whose text names a connection's source.
    src.note_parents(src.tree)
    yield list(src.tree.body)
    for func in src.defs.values():
        end = func.end_lineno or func.lineno
        text = "\n".join(src.lines[func.lineno - 1 : end])
        if any(word in text for word in words):
            yield [*func.body]


def fixes(src: Source, conv: Conversion, run: RunInfo) -> dict[Key, Fix]:
    """Return the aiosqlite edits of ``src``, keyed by the span of the call they fix."""
    out: dict[Key, Fix] = {}
    words = ("sqlite3", "g.", *(name.rpartition(".")[2] for name in conv.functions))
    for body in _scopes(src, words):
        scope = _Scope(src, conv, body)
        for node in scope.nodes:
            if isinstance(node, ast.Call):
                fix = _call_fix(src, scope, node, run)
                if fix is not None:
                    out[src.span(node)] = fix
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                fix = _attribute_fix(src, scope, node)
                if fix is not None:
                    out[src.span(node)] = fix
    return out


def _call_fix(src: Source, scope: _Scope, node: ast.Call, run: RunInfo) -> Fix | None:
    if not src.can_await(node, run):
        return None
    if _is_connect(src, node):
        edits: list[Edit | None] = [
            *src.await_edits(node),
            src.replace(node.func, "aiosqlite.connect"),
            src.add_import("import aiosqlite", "aiosqlite"),
        ]
        return Fix(tuple(e for e in edits if e is not None), UNSAFE, MESSAGE)
    func = node.func
    if not isinstance(func, ast.Attribute) or isinstance(src.parent(node), ast.Await):
        return None
    on_connection = func.attr in CONNECTION_METHODS and scope.is_connection(func.value)
    on_cursor = func.attr in CURSOR_METHODS and scope.is_cursor(func.value)
    if not on_connection and not on_cursor:
        return None
    return Fix(tuple(src.await_edits(node)), UNSAFE, MESSAGE)


def _attribute_fix(src: Source, scope: _Scope, node: ast.Attribute) -> Fix | None:
    # ``except db.IntegrityError``: aiosqlite's connection has no exception attributes.
    if node.attr.endswith(("Error", "Warning")) and scope.is_connection(node.value):
        edits = [
            src.replace(node, f"sqlite3.{node.attr}"),
            src.add_import("import sqlite3", "sqlite3"),
        ]
        return Fix(tuple(e for e in edits if e is not None), UNSAFE, MESSAGE)
    # aiosqlite raises ValueError("Connection closed") where sqlite3 raises ProgrammingError.
    if dotted(node) == "sqlite3.ProgrammingError":
        parent = src.parent(node)
        in_raises = isinstance(parent, ast.Call) and dotted(parent.func) == "pytest.raises"
        if in_raises or isinstance(parent, ast.ExceptHandler):
            edit = src.replace(node, "(sqlite3.ProgrammingError, ValueError)")
            return Fix((edit,), UNSAFE, "aiosqlite raises ValueError on a closed connection")
    return None


#: sqlite3's message for a call on a closed connection (CPython Modules/_sqlite/connection.c).
SQLITE3_CLOSED = "Cannot operate on a closed database."
#: aiosqlite's (src/aiosqlite/core.py): a connection's method reads ``Connection._conn``
#: first, a cursor's goes through ``Connection._execute``.
CLOSED_CONNECTION = "no active connection"
CLOSED_CURSOR = "Connection closed"
CLOSED_MESSAGE = "Check aiosqlite's error for a closed connection: `ValueError`, its own message"


def fix_closed_message(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """Return QM681's fix for the ``pytest.raises`` at ``finding``, or ``None``.

    ``with pytest.raises(sqlite3.ProgrammingError) as e`` around one call on a
    connection (or cursor) becomes ``pytest.raises(ValueError)``, and each check of
    the message (``"closed" in str(e.value)``, ``match="closed"``) whose text is part
    of sqlite3's message for a closed connection checks aiosqlite's instead. Only
    when every connection of the run is aiosqlite's (``run.aiosqlite_only``), the
    message is only read that way, and the call's receiver is known.
    """
    key = (finding.line, finding.col, finding.end_line, finding.end_col)
    raises = src.find(key, ast.Call)
    if not run.aiosqlite_only or not isinstance(raises, ast.Call) or not raises.args:
        return None
    stmt = next((a for a in src.ancestors(raises) if isinstance(a, ast.With)), None)
    func = src.function_of(raises)
    if stmt is None or len(stmt.items) != 1 or not isinstance(func, FUNCS):
        return None
    if not _is_closed_type(src, raises.args[0]):
        return None
    message = _closed_message(stmt)
    if message is None:
        return None
    literals = [k.value for k in raises.keywords if k.arg == "match"]
    target = stmt.items[0].optional_vars
    if target is not None:
        if not isinstance(target, ast.Name):
            return None
        checks = _message_checks(src, func, stmt, target.id)
        if checks is None:
            return None
        literals += checks
    if not literals or not all(_is_closed_text(lit) for lit in literals):
        return None
    edits = [src.replace(raises.args[0], "ValueError")]
    for lit in literals:
        quote = (ast.get_source_segment(src.text, lit) or '"').lstrip("rbuRBU")[0]
        edits.append(src.replace(lit, f"{quote}{message}{quote}"))
    edits += src.dead_imports([src.span(raises.args[0])])  # ``import sqlite3``, if its last use
    return Fix(tuple(edits), UNSAFE, CLOSED_MESSAGE)


def _is_closed_type(src: Source, expr: ast.expr) -> bool:
    # ``sqlite3.ProgrammingError``, or QM409's widened ``(sqlite3.ProgrammingError, ValueError)``.
    names = expr.elts if isinstance(expr, ast.Tuple) else [expr]
    resolved = {src.symbols.resolve(n) or dotted(n) for n in names}
    return "sqlite3.ProgrammingError" in resolved and resolved <= {
        "sqlite3.ProgrammingError",
        "ValueError",
    }


def _closed_message(stmt: ast.With) -> str | None:
    # One call, on a name: a cursor's (assigned from ``.execute``/``.cursor``) or else a
    # connection's.
    if len(stmt.body) != 1 or not isinstance(stmt.body[0], ast.Expr):
        return None
    call = _strip(stmt.body[0].value)
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return None
    receiver, method = call.func.value, call.func.attr
    if not isinstance(receiver, ast.Name):
        return None
    if method in CURSOR_METHODS - CONNECTION_METHODS:
        return CLOSED_CURSOR
    return CLOSED_CONNECTION if method in CONNECTION_METHODS else None


def _message_checks(
    src: Source, func: ast.AST, stmt: ast.With, name: str
) -> list[ast.Constant] | None:
    """Return the literals of ``"closed" in str(e.value)`` checks; ``None`` for other reads."""
    found: list[ast.Constant] = []
    src.note_parents(func)
    for node in ast.walk(func):
        if not isinstance(node, ast.Name) or node.id != name or node is stmt.items[0].optional_vars:
            continue
        value = src.parent(node)
        call = src.parent(value) if value is not None else None
        compare = src.parent(call) if call is not None else None
        if (
            isinstance(value, ast.Attribute)
            and value.attr == "value"
            and isinstance(call, ast.Call)
            and dotted(call.func) == "str"
            and call.args == [value]
            and isinstance(compare, ast.Compare)
            and len(compare.ops) == 1
            and isinstance(compare.ops[0], ast.In)
            and compare.comparators == [call]
            and isinstance(compare.left, ast.Constant)
        ):
            found.append(compare.left)
            continue
        return None
    return found


def _is_closed_text(literal: ast.expr) -> bool:
    return (
        isinstance(literal, ast.Constant)
        and isinstance(literal.value, str)
        and bool(literal.value)
        and literal.value in SQLITE3_CLOSED
    )
