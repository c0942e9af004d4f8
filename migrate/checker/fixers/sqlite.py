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
