"""What a fixer sees of one file: its text, its syntax tree, and edit builders.

A :class:`Source` parses the file once more with :mod:`ast` and indexes every
node by the same 1-based character span the checker reports, so a fixer finds
the node of a finding exactly; it also knows each node's parent (to tell
``get_db().execute`` from ``get_db()``) and builds the usual edits: put
``await`` before an expression (in parentheses when a trailer follows), turn a
``def`` or ``with`` into its ``async`` form, rename a span, add an import.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import io
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from migrate.checker.edits import SAFE
from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.edits import apply
from migrate.checker.symbols import Symbols

FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
Key = tuple[int, int, int, int]


@dataclass(slots=True)
class RunInfo:
    """Run-wide facts fixers need: which ``def``\\s become async in this round.

    ``becoming`` holds ``(path, line)`` of every ``def`` an applied fix makes
    ``async``; an ``await`` may only go into such a function or an ``async def``.
    ``awaits`` holds the spans of the calls QM307 asks to await.
    """

    becoming: set[tuple[str, int]] = field(default_factory=set)
    awaits: set[tuple[str, int, int, int, int]] = field(default_factory=set)
    unsafe: bool = False
    #: Qualnames and ``(path, def line)`` of the functions kept sync, and of the entry
    #: points (see :mod:`migrate.checker.fixers.plan`).
    kept: frozenset[str] = frozenset()
    kept_defs: frozenset[tuple[str, int]] = frozenset()
    entries: frozenset[str] = frozenset()
    entry_defs: frozenset[tuple[str, int]] = frozenset()
    #: Qualnames of the functions only an unsafe fix makes async (QM309): awaiting their
    #: calls is unsafe too, or a run of safe fixes would await a function that stays sync.
    unsafe_async: frozenset[str] = frozenset()
    #: Every connection the run opens is aiosqlite's (``aiosqlite.connect``, none of
    #: ``sqlite3.connect``): QM409's fix is done, and a test's message check can follow.
    aiosqlite_only: bool = False
    #: ``(path, line, col)`` of the calls to an app factory with start-up work (see
    #: :func:`migrate.checker.fixing.startup_calls`): the app they return has not started.
    startup_calls: frozenset[tuple[str, int, int]] = frozenset()
    #: Some app factory of the run has start-up work: a click command's generated app
    #: context starts the app it loads (see :mod:`migrate.checker.fixers.commands`).
    starts_up: bool = False


class Source:
    """One file's text and tree, indexed by finding spans; see the module docstring."""

    def __init__(self, path: str, text: str, module: str = "", is_package: bool = False) -> None:
        self.path = path
        self.text = text
        self.tree = ast.parse(text)
        self.lines = text.splitlines()
        # Filled along the way down to each node :meth:`find` returns (and by callers
        # that walk a subtree themselves, see :meth:`note_parents`).
        self.parents: dict[int, ast.AST] = {}
        self.defs: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.symbols = Symbols(module, is_package)
        self._string_lines: set[int] | None = None
        self._collect_defs(self.tree, self.tree.body)
        self._starts = [stmt.lineno for stmt in self.tree.body]
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self.symbols.add_import(stmt)
            elif isinstance(stmt, (*FUNCS, ast.ClassDef)):
                self.symbols.defs.setdefault(stmt.name, f"{module}.{stmt.name}")

    def _collect_defs(self, parent: ast.AST, body: list[ast.stmt]) -> None:
        # Statements only: a ``def`` is never inside an expression.
        for stmt in body:
            self.parents[id(stmt)] = parent
            if isinstance(stmt, FUNCS):
                self.defs.setdefault(stmt.lineno, stmt)
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, name, None)
                if isinstance(inner, list):
                    self._collect_defs(stmt, inner)
            for handler in getattr(stmt, "handlers", None) or ():
                self.parents[id(handler)] = stmt
                self._collect_defs(handler, handler.body)
            for case in getattr(stmt, "cases", None) or ():
                self.parents[id(case)] = stmt
                self._collect_defs(case, case.body)

    def note_parents(self, node: ast.AST) -> None:
        """Record the parents of every node under ``node``."""
        stack = [node]
        while stack:
            current = stack.pop()
            for child in ast.iter_child_nodes(current):
                self.parents[id(child)] = current
                stack.append(child)

    # -- positions -------------------------------------------------------------

    def line_text(self, line: int) -> str:
        """Return line ``line`` (1-based) without its newline."""
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def col(self, line: int, byte_col: int) -> int:
        """Return the 1-based character column of a UTF-8 byte offset on ``line``."""
        text = self.line_text(line)
        if text.isascii():
            return byte_col + 1
        return len(text.encode()[:byte_col].decode(errors="replace")) + 1

    def span(self, node: ast.AST) -> Key:
        """Return ``(line, col, end_line, end_col)`` of ``node`` as the checker reports it."""
        line = node.lineno  # type: ignore[attr-defined]
        end = node.end_lineno or line  # type: ignore[attr-defined]
        return (
            line,
            self.col(line, node.col_offset),  # type: ignore[attr-defined]
            end,
            self.col(end, node.end_col_offset or 0),  # type: ignore[attr-defined]
        )

    def start(self, node: ast.AST) -> tuple[int, int]:
        """Return the 1-based ``(line, col)`` where ``node`` starts."""
        line, col, _, _ = self.span(node)
        return line, col

    def end(self, node: ast.AST) -> tuple[int, int]:
        """Return the 1-based ``(line, col)`` just after ``node``."""
        _, _, line, col = self.span(node)
        return line, col

    def size(self, node: ast.AST) -> int:
        """Return a length that orders nested nodes (outer nodes are longer)."""
        line, col, end_line, end_col = self.span(node)
        return (end_line - line) * 10_000 + end_col - col

    def byte_col(self, line: int, col: int) -> int:
        """Return the UTF-8 byte offset of 1-based character column ``col`` on ``line``."""
        text = self.line_text(line)
        if text.isascii():
            return col - 1
        return len(text[: col - 1].encode())

    def find(self, key: Key, *kinds: type[ast.AST]) -> ast.AST | None:
        """Return the node at span ``key``, the first of ``kinds`` if given.

        Walks down from the module through the nodes that contain the span,
        recording each one's parent on the way.
        """
        line, col, end_line, end_col = key
        start = (line, self.byte_col(line, col))
        end = (end_line, self.byte_col(end_line, end_col))
        # The module's statements are in source order and do not overlap: only the last
        # to begin on or before the span's first line (and any on that same line) can
        # contain it, so the walk starts there instead of at every statement.
        at = bisect.bisect_right(self._starts, line)
        first_of = bisect.bisect_left(self._starts, self._starts[at - 1]) if at else 0
        pending: list[ast.AST] = [self.tree]
        children: list[ast.AST] | None = list(self.tree.body[first_of:at])
        while pending:
            node = pending.pop()
            if children is None:
                children = list(ast.iter_child_nodes(node))
            scan, children = children, None
            for child in scan:
                lineno = getattr(child, "lineno", None)
                if lineno is None:
                    # ``arguments``, ``withitem``, ``comprehension``: look inside.
                    self.parents[id(child)] = node
                    pending.append(child)
                    continue
                first = (lineno, child.col_offset)  # type: ignore[attr-defined]
                last = (child.end_lineno, child.end_col_offset)  # type: ignore[attr-defined]
                if first > start or last < end:
                    continue
                self.parents[id(child)] = node
                if first == start and last == end and (not kinds or isinstance(child, kinds)):
                    return child
                pending.append(child)
        return None

    def parent(self, node: ast.AST) -> ast.AST | None:
        """Return the node that contains ``node`` (``None`` for the module)."""
        return self.parents.get(id(node))

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        """Yield the parents of ``node``, innermost first."""
        current = self.parents.get(id(node))
        while current is not None:
            yield current
            current = self.parents.get(id(current))

    def function_of(self, node: ast.AST) -> ast.AST | None:
        """Return the innermost function, lambda or class whose body runs ``node``.

        Decorators, defaults and annotations run in the enclosing scope.
        """
        child = node
        for parent in self.ancestors(node):
            if isinstance(parent, (*FUNCS, ast.ClassDef)) and not any(
                child is stmt for stmt in parent.body
            ):
                child = parent
                continue
            if isinstance(parent, ast.Lambda) and child is not parent.body:
                child = parent
                continue
            if isinstance(parent, (*FUNCS, ast.Lambda, ast.ClassDef)):
                return parent
            child = parent
        return None

    def can_await(self, node: ast.AST, run: RunInfo) -> bool:
        """Return true when ``node`` is in an ``async def`` or one that becomes async.

        Not inside a generator expression: ``await`` there makes it an async
        generator, which ``list(...)``, ``sum(...)`` and ``for`` cannot iterate.
        """
        for parent in self.ancestors(node):
            if isinstance(parent, ast.GeneratorExp):
                return False
            if isinstance(parent, (*FUNCS, ast.Lambda, ast.ClassDef)):
                break
        func = self.function_of(node)
        if isinstance(func, ast.AsyncFunctionDef):
            return True
        return isinstance(func, ast.FunctionDef) and (self.path, func.lineno) in run.becoming

    def is_trailer_base(self, node: ast.AST) -> bool:
        """Return true when ``node`` is followed by ``.attr``, ``[...]`` or ``(...)``."""
        parent = self.parent(node)
        if isinstance(parent, ast.Attribute | ast.Subscript):
            return parent.value is node
        return isinstance(parent, ast.Call) and parent.func is node

    # -- edits -----------------------------------------------------------------

    def insert_before(self, node: ast.AST, content: str) -> Edit:
        """Insert ``content`` where ``node`` starts (outer nodes' insertions first)."""
        line, col = self.start(node)
        return Edit(line, col, line, col, content, -self.size(node))

    def insert_after(self, node: ast.AST, content: str) -> Edit:
        """Insert ``content`` just after ``node`` (inner nodes' insertions first)."""
        line, col = self.end(node)
        return Edit(line, col, line, col, content, self.size(node))

    def replace(self, node: ast.AST, content: str) -> Edit:
        """Replace the whole text of ``node`` with ``content``."""
        line, col, end_line, end_col = self.span(node)
        return Edit(line, col, end_line, end_col, content)

    def await_edits(self, node: ast.AST) -> list[Edit]:
        """Return the edits that put ``await`` before ``node`` (parenthesized when needed)."""
        if self.is_trailer_base(node):
            return [self.insert_before(node, "(await "), self.insert_after(node, ")")]
        return [self.insert_before(node, "await ")]

    def async_def(self, func: ast.FunctionDef) -> Edit:
        """Return the edit that turns ``def`` into ``async def``."""
        line, col = func.lineno, self.col(func.lineno, func.col_offset)
        return Edit(line, col, line, col, "async ")

    def async_with(self, stmt: ast.With) -> Edit:
        """Return the edit that turns ``with`` into ``async with``."""
        line, col = stmt.lineno, self.col(stmt.lineno, stmt.col_offset)
        return Edit(line, col, line, col, "async ")

    def string_lines(self) -> set[int]:
        """Return the lines that continue a string literal begun on an earlier line."""
        if self._string_lines is None:
            self._string_lines = set()
            kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
            tokens = tokenize.generate_tokens(io.StringIO(self.text).readline)
            with contextlib.suppress(tokenize.TokenError, SyntaxError):
                for token in tokens:
                    if token.type in kinds and token.end[0] > token.start[0]:
                        self._string_lines.update(range(token.start[0] + 1, token.end[0] + 1))
        return self._string_lines

    def indent_edits(self, stmt: ast.stmt, by: str = "    ") -> list[Edit]:
        """Return the edits that indent the lines after the first of ``stmt`` by ``by``.

        Blank lines and the lines inside a string literal stay as they are.
        """
        skip = self.string_lines()
        return [
            Edit(line, 1, line, 1, by)
            for line in range(stmt.lineno + 1, (stmt.end_lineno or stmt.lineno) + 1)
            if self.line_text(line).strip() and line not in skip
        ]

    def lone_import(self, stmt: ast.stmt) -> str | None:
        """Return the one name a top-level import binds, when the statement is alone on its
        lines with no comment (``import math``, ``from x import y as z``); else ``None``."""
        if not isinstance(stmt, ast.Import | ast.ImportFrom) or len(stmt.names) != 1:
            return None
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            return None
        alias = stmt.names[0]
        if alias.asname is None and "." in alias.name:
            return None  # ``import a.b`` binds ``a``, which other imports may bind too
        end = stmt.end_lineno or stmt.lineno
        text = "\n".join(self.lines[stmt.lineno - 1 : end])
        if stmt.col_offset != 0 or ";" in text or "#" in text:
            return None
        return alias.asname or alias.name

    def dead_imports(self, removed: list[Key]) -> list[Edit]:
        """Return the deletions of the top-level imports that only ``removed`` spans used.

        ``removed`` holds ``(line, col, end_line, end_col)`` ranges an edit deletes. An import
        goes when it binds one name (:meth:`lone_import`), some of its uses lie in those
        ranges and none outside, and ``__all__`` does not name it.
        """
        exported = set()
        for stmt in self.tree.body:
            targets = getattr(stmt, "targets", None) or [getattr(stmt, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                exported |= {n.value for n in ast.walk(stmt) if isinstance(n, ast.Constant)}
        uses: dict[str, list[tuple[int, int]]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name):
                uses.setdefault(node.id, []).append(self.start(node))

        def inside(at: tuple[int, int]) -> bool:
            return any((a, b) <= at < (c, d) for a, b, c, d in removed)

        lines: set[int] = set()
        for stmt in self.tree.body:
            name = self.lone_import(stmt)
            found = uses.get(name or "", [])
            if name is None or name in exported or not found or not all(map(inside, found)):
                continue
            lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
        edits = []
        for line in sorted(lines):
            if line - 1 in lines:
                continue
            last = line
            while last + 1 in lines:
                last += 1
            # A group of imports that goes whole takes one of the blank lines around it.
            blank_around = line == 1 or not self.line_text(line - 1).strip()
            if blank_around and last < len(self.lines) and not self.line_text(last + 1).strip():
                last += 1
            edits.append(Edit(line, 1, last + 1, 1, ""))
        return edits

    def name_edit(self, line: int, col: int, old: str, new: str) -> Edit | None:
        """Replace the identifier ``old`` at ``line:col`` with ``new``, if it is there."""
        text = self.line_text(line)
        if text[col - 1 : col - 1 + len(old)] != old:
            return None
        return Edit(line, col, line, col + len(old), new)

    def find_word(self, node: ast.AST, word: str) -> tuple[int, int] | None:
        """Return the position of the first identifier ``word`` in ``node``'s first line."""
        line, col = self.start(node)
        text = self.line_text(line)
        at = col - 1
        while True:
            at = text.find(word, at)
            if at < 0:
                return None
            before = text[at - 1] if at else " "
            after = text[at + len(word) : at + len(word) + 1]
            if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
                return line, at + 1
            at += len(word)

    def add_import(self, statement: str, module: str) -> Edit | None:
        """Return an edit adding ``statement`` (``import x`` / ``from x import y``) once.

        The line goes before the first top-level import that sorts after
        ``module`` (or is relative), else after the last top-level import, else after the
        docstring and ``__future__`` imports. ``None`` when the file has it.
        """
        imports = [s for s in self.tree.body if isinstance(s, ast.Import | ast.ImportFrom)]
        for stmt in imports:
            if self.line_text(stmt.lineno).strip() == statement:
                return None
        stdlib = module.partition(".")[0] in sys.stdlib_module_names
        for stmt in imports:
            name = stmt.names[0].name if isinstance(stmt, ast.Import) else (stmt.module or "")
            relative = isinstance(stmt, ast.ImportFrom) and stmt.level > 0
            if (
                name.partition(".")[0] in sys.stdlib_module_names
            ) != stdlib and name != "__future__":
                continue  # a standard library import goes among its own, a third-party one too
            if stmt.col_offset == 0 and name != "__future__" and (name > module or relative):
                return Edit(stmt.lineno, 1, stmt.lineno, 1, statement + "\n", -1)

        def is_stdlib(stmt: ast.Import | ast.ImportFrom) -> bool:
            name = stmt.names[0].name if isinstance(stmt, ast.Import) else (stmt.module or "")
            return name.partition(".")[0] in sys.stdlib_module_names

        # After the last import of its group (third-party or standard library), if any.
        group = [i for i in imports if is_stdlib(i) == stdlib and i.col_offset == 0]
        group = [
            i for i in group if not (isinstance(i, ast.ImportFrom) and i.module == "__future__")
        ]
        others = [
            i
            for i in imports
            if i.col_offset == 0
            and not (isinstance(i, ast.ImportFrom) and i.module == "__future__")
        ]
        if stdlib and not group and others:
            # The standard library's group comes first, a blank line before the others.
            return Edit(others[0].lineno, 1, others[0].lineno, 1, statement + "\n\n", -1)
        kept = group or imports
        anchor: ast.stmt | None = kept[-1] if kept else None
        if anchor is None:
            body = self.tree.body
            first = body[0] if body else None
            is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            anchor = first if is_doc else None
        if anchor is None:
            return Edit(1, 1, 1, 1, statement + "\n", -1)
        line = (anchor.end_lineno or anchor.lineno) + 1
        if line > len(self.lines):
            prefix = "" if self.text.endswith("\n") else "\n"
            return Edit(line, 1, line, 1, prefix + statement + "\n", 1)
        return Edit(line, 1, line, 1, statement + "\n", 1)


def text_with_awaits(src: Source, statements: list[ast.stmt], run: RunInfo) -> str:
    """Return the file's text with ``await`` put before the calls of ``statements`` that QM307
    asks to await (``run.awaits``): for fixers that move those statements elsewhere, where the
    calls' own QM307 fixes could no longer apply. The rest of the text is unchanged."""
    for stmt in statements:
        src.note_parents(stmt)
    awaited = [
        Fix(tuple(src.await_edits(node)), SAFE, "")
        for stmt in statements
        for node in ast.walk(stmt)
        if isinstance(node, ast.Call) and (src.path, *src.span(node)) in run.awaits
    ]
    return apply(src.text, awaited)[0]
