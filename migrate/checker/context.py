"""The per-file pass: one traversal of the syntax tree that every family hooks into.

:class:`FileContext` walks a module once, in source order, keeping the scope
(the function and class being read), the set of expressions that are already
the operand of ``await``, and the call graph edges that leave each function.
Family modules register handlers per node type in ``HANDLERS``; a handler
receives the context and the node before the node's children are visited.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from migrate.checker import rules
from migrate.checker.model import CallSite
from migrate.checker.model import FileResult
from migrate.checker.model import Finding
from migrate.checker.model import FuncSummary
from migrate.checker.model import PendingBlocking
from migrate.checker.model import Span
from migrate.checker.symbols import Symbols
from migrate.checker.symbols import canonical

Handler = Callable[["FileContext", ast.AST], None]

# Calls whose function argument runs in a worker thread, not on the event loop:
# Quart's ``run_sync`` (src/quart/utils.py), this kit's ``migrate.run_sync`` and
# ``asyncio.to_thread`` copy the context; ``run_in_executor`` does not, but it is
# still off the loop.
OFF_LOOP_RUNNERS = frozenset(
    {
        "quart.utils.run_sync",
        "migrate.run_sync",
        "asyncio.to_thread",
        "anyio.to_thread.run_sync",
        "starlette.concurrency.run_in_threadpool",
    }
)
OFF_LOOP_METHODS = frozenset({"run_in_executor"})
# Findings that push or pop an app or request context of the function's own.
CONTEXT_CODES = frozenset({"QM211", "QM212"})

_FUNCS = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(slots=True)
class Scope:
    """One function being read: its summary and what its body binds."""

    summary: FuncSummary
    node: ast.FunctionDef | ast.AsyncFunctionDef
    nested: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    params: set[str] = field(default_factory=set)
    class_qual: str | None = None
    globals: set[str] = field(default_factory=set)
    #: Names the function's own body assigns (worked out on first need, see
    #: :meth:`binds`).
    assigned: set[str] | None = None

    def binds(self, name: str) -> bool:
        """Whether ``name`` is a local of this function: a parameter, or assigned in its body
        and not declared ``global`` (a local ``hello = ...`` is not the module's ``hello``)."""
        if name in self.params:
            return True
        if self.assigned is None:
            self.assigned = _assigned_names(self.node)
        return name in self.assigned and name not in self.globals

    def tags_for(self, name: str, module_tags: dict[str, str]) -> dict[str, str]:
        """Return the table a name is bound in: the module's for a ``global`` name."""
        return module_tags if name in self.globals else self.tags


class FileContext:
    """State of the per-file pass over one module; see the module docstring."""

    def __init__(
        self,
        path: str,
        source: str,
        tree: ast.Module,
        symbols: Symbols,
        local_roots: frozenset[str],
        is_test_file: bool,
    ) -> None:
        self.path = path
        self.source = source
        self.tree = tree
        self.symbols = symbols
        self.module = symbols.module
        self.local_roots = local_roots
        self.is_test_file = is_test_file
        self.result = FileResult(path=path, module=symbols.module)
        self.scopes: list[Scope] = []
        self.classes: list[tuple[str, int]] = []
        self.awaited: set[int] = set()
        self.off_loop_lambdas: set[int] = set()
        self.startup_blocks: set[int] = set()
        self.startup = 0
        self.handled: set[int] = set()
        self.reported: set[int] = set()
        self.view_classes: set[str] = set()
        self.thread_classes: set[str] = set()
        self.deferred: list[Callable[[], None]] = []
        self.app_context_commands: set[str] = set()
        self.response_timeouts: set[str | None] = set()
        self.gunicorn_config = False
        self.gunicorn_async = False
        self.off_loop = 0
        self.module_tags: dict[str, str] = {}
        self.imports_flask = False
        self.imports_quart = False
        self._lines: list[str] | None = None
        self.has_global = "global" in source
        self._prescan()

    # -- setup ---------------------------------------------------------------

    def _prescan(self) -> None:
        # Module-level imports and definitions are bound before any use is read,
        # so a view defined above a helper still resolves the helper's name.
        for stmt in _module_statements(self.tree.body):
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self._note_import(stmt)
            elif isinstance(stmt, _FUNCS | ast.ClassDef):
                self.symbols.defs.setdefault(stmt.name, f"{self.module}.{stmt.name}")
        self.result.exports = {
            name: target
            for name, target in self.symbols.aliases.items()
            if target.partition(".")[0] in self.local_roots
        }

    def _note_import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.symbols.add_import(node)
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""] * (node.level == 0)
        )
        for name in names:
            top = name.partition(".")[0]
            self.imports_flask |= top == "flask"
            self.imports_quart |= top == "quart"
            self.result.uses_sqlalchemy |= top in ("sqlalchemy", "flask_sqlalchemy")

    # -- positions and reporting ----------------------------------------------

    def line_text(self, line: int) -> str:
        """Return source line ``line`` (1-based) without its newline."""
        if self._lines is None:
            self._lines = self.source.splitlines()
        return self._lines[line - 1] if 0 < line <= len(self._lines) else ""

    def _char_col(self, line: int, byte_col: int) -> int:
        # ``ast`` columns are UTF-8 byte offsets; reports use characters.
        text = self.line_text(line)
        if text.isascii():
            return byte_col + 1
        return len(text.encode()[:byte_col].decode(errors="replace")) + 1

    def span(self, node: ast.AST) -> Span:
        """Return the 1-based character span of ``node``."""
        line = node.lineno  # type: ignore[attr-defined]
        end_line = node.end_lineno or line  # type: ignore[attr-defined]
        return Span(
            line,
            self._char_col(line, node.col_offset),  # type: ignore[attr-defined]
            end_line,
            self._char_col(end_line, node.end_col_offset or 0),  # type: ignore[attr-defined]
        )

    def def_span(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Span:
        """Return the span of ``def name`` (or ``class name``) without the body."""
        line, col = node.lineno, node.col_offset
        keyword = 6 if isinstance(node, ast.ClassDef) else 4
        keyword += 6 if isinstance(node, ast.AsyncFunctionDef) else 0
        start = self._char_col(line, col)
        return Span(line, start, line, start + keyword + len(node.name))

    def finding(self, span: Span, code: str, **fields: str) -> Finding:
        """Build a finding for ``code`` at ``span``, its message filled from ``fields``."""
        message = rules.get(code).format(**fields)
        return Finding(self.path, span.line, span.col, code, message, span.end_line, span.end_col)

    def report(self, node: ast.AST | Span, code: str, **fields: str) -> None:
        """Report ``code`` at ``node``; awaitable findings also mark the function."""
        span = node if isinstance(node, Span) else self.span(node)
        self.result.findings.append(self.finding(span, code, **fields))
        # Start-up work (QM214) moves into its own async function: the factory stays sync.
        if rules.get(code).needs_async and self.scopes and not self.off_loop and not self.startup:
            summary = self.scopes[-1].summary
            summary.awaits.append((fields.get("what", code), span.line))
            summary.context_awaits += code in CONTEXT_CODES

    def report_blocking(self, node: ast.AST, code: str, **fields: str) -> None:
        """Keep a blocking-call finding for the function being read.

        It is reported only if that function runs on the event loop, which the
        whole-run pass decides; at module level and off the loop it is dropped.
        """
        # Test code does not serve requests: its blocking calls are not reported.
        if self.scopes and not self.off_loop and not self.is_test_file:
            summary = self.scopes[-1].summary
            found = summary.startup_blocking if self.startup else summary.blocking
            found.append(self.finding(self.span(node), code, **fields))

    def add_pending(self, pending: PendingBlocking) -> None:
        """Keep a method call on a value from a checked function (see :func:`report_blocking`)."""
        if self.scopes and not self.off_loop and not self.is_test_file:
            summary = self.scopes[-1].summary
            (summary.startup_pending if self.startup else summary.pending).append(pending)

    # -- scope queries ---------------------------------------------------------

    @property
    def func(self) -> FuncSummary | None:
        """The summary of the innermost function being read, if any."""
        return self.scopes[-1].summary if self.scopes else None

    def is_awaited(self, node: ast.AST) -> bool:
        """Return true when ``node`` is the direct operand of ``await``."""
        return id(node) in self.awaited

    def resolve(self, expr: ast.expr) -> str | None:
        """Resolve ``expr`` to a dotted name, Quart's names mapped onto Flask's."""
        return canonical(self.symbols.resolve(expr))

    def tag_of(self, expr: ast.expr) -> str | None:
        """Return the tag bound to a name or ``g.attr`` chain in scope, if any."""
        key = expr.id if isinstance(expr, ast.Name) else _attr_key(expr)
        if key is None:
            return None
        for scope in reversed(self.scopes):
            if key in scope.tags:
                return scope.tags[key]
        return self.module_tags.get(key)

    def _table(self, name: str) -> dict[str, str]:
        if not self.scopes:
            return self.module_tags
        return self.scopes[-1].tags_for(name, self.module_tags)

    def bind_tag(self, target: ast.expr, tag: str) -> None:
        """Bind ``tag`` to a name (in the current scope) or an attribute chain (file-wide).

        A name the function declares ``global`` is bound for the whole module.
        """
        if isinstance(target, ast.Name):
            self._table(target.id)[target.id] = tag
        elif (key := _attr_key(target)) is not None:
            self.module_tags[key] = tag

    def unbind(self, target: ast.expr) -> None:
        """Forget the tag of a name or attribute chain that is being rebound."""
        if isinstance(target, ast.Name):
            self._table(target.id).pop(target.id, None)
        elif (key := _attr_key(target)) is not None:
            self.module_tags.pop(key, None)

    def callee_qualname(self, func: ast.expr) -> str | None:
        """Resolve a called expression to a function that may be defined in the run."""
        if isinstance(func, ast.Name):
            for scope in reversed(self.scopes):
                if func.id in scope.nested:
                    return scope.nested[func.id]
            target = self.symbols.defs.get(func.id) or self.symbols.aliases.get(func.id)
            if target and any(scope.binds(func.id) for scope in self.scopes):
                return None
        elif isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
                for scope in reversed(self.scopes):
                    if scope.class_qual:
                        return f"{scope.class_qual}.{func.attr}"
                return None
            if self._is_param(func):
                # ``app.test_request_context()`` on a parameter ``app`` is not a call of
                # the module's own ``app`` (a pytest fixture of that name, say).
                return None
            target = self.symbols.resolve(func)
        else:
            return None
        if target and target.partition(".")[0] in self.local_roots:
            return target
        return None

    def _is_param(self, expr: ast.expr) -> bool:
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return False
        for scope in reversed(self.scopes):
            if expr.id in scope.params:
                return True
            if expr.id in scope.tags or expr.id in scope.nested:
                return False
        return False

    # -- traversal -------------------------------------------------------------

    def run(self, dispatch: dict[type[ast.AST], list[Handler]]) -> FileResult:
        """Walk the module once with ``dispatch`` and return the file's result."""
        self._dispatch = dispatch
        for stmt in self.tree.body:
            self.visit(stmt)
        self.result.module_tags = {
            name: tag for name, tag in self.module_tags.items() if "." not in name
        }
        return self.result

    def visit(self, node: ast.AST) -> None:
        """Run the handlers for ``node``, then visit its children in order."""
        kind = type(node)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            self._visit_function(node)  # type: ignore[arg-type]
            return
        if kind is ast.Assign:
            # A rebinding drops what the name was known to hold.
            for target in node.targets:  # type: ignore[attr-defined]
                self.unbind(target)
        for handler in self._dispatch.get(kind, ()):
            handler(self, node)
        if kind is ast.ClassDef:
            self._visit_class(node)  # type: ignore[arg-type]
            return
        if kind is ast.Await:
            self.awaited.add(id(node.value))  # type: ignore[attr-defined]
        elif kind is ast.Call:
            self._note_call(node)  # type: ignore[arg-type]
        elif kind is ast.Import or kind is ast.ImportFrom:
            if self.scopes:
                self._note_import(node)  # type: ignore[arg-type]
        elif (kind is ast.Yield or kind is ast.YieldFrom) and self.scopes:
            self.scopes[-1].summary.is_generator = True
        elif kind is ast.Lambda and id(node) in self.off_loop_lambdas:
            self.off_loop += 1
            for child in _children(node):
                self.visit(child)
            self.off_loop -= 1
            return
        elif kind is ast.With and id(node) in self.startup_blocks:
            self.startup += 1
            for child in _children(node):
                self.visit(child)
            self.startup -= 1
            return
        for child in _children(node):
            self.visit(child)

    def _visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def _visit_class(self, node: ast.ClassDef) -> None:
        self._visit_all([*node.decorator_list, *node.bases, *node.keywords])
        outer = self.scopes[-1].summary.qualname if self.scopes else self.module
        self.classes.append((f"{outer}.{node.name}", len(self.scopes)))
        if self.scopes:
            self.scopes[-1].nested[node.name] = f"{outer}.{node.name}"
        self._visit_all(node.body)
        self.classes.pop()

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # Decorators and defaults run in the enclosing scope.
        args = node.args
        every = (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
        annotations = [a.annotation for a in every if a is not None]
        self._visit_all(
            [*node.decorator_list, *args.defaults, *args.kw_defaults, *annotations, node.returns]
        )
        class_qual = None
        if self.classes and self.classes[-1][1] == len(self.scopes):
            class_qual = self.classes[-1][0]
            qualname = f"{class_qual}.{node.name}"
        elif self.scopes:
            qualname = f"{self.scopes[-1].summary.qualname}.{node.name}"
            self.scopes[-1].nested[node.name] = qualname
        else:
            qualname = f"{self.module}.{node.name}"
        summary = FuncSummary(
            qualname=qualname,
            name=node.name,
            path=self.path,
            span=self.def_span(node),
            is_async=isinstance(node, ast.AsyncFunctionDef),
            in_test=self.is_test_file,
        )
        self.result.functions.append(summary)
        params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        scope = Scope(summary, node, params=params, class_qual=class_qual)
        # Most files have no ``global`` statement: skip the walk of each function's body.
        scope.globals = _global_names(node) if self.has_global else set()
        for stmt in node.body:
            if isinstance(stmt, _FUNCS | ast.ClassDef):
                scope.nested[stmt.name] = f"{qualname}.{stmt.name}"
        self.scopes.append(scope)
        for handler in self._dispatch.get(type(node), ()):
            handler(self, node)
        self._visit_all(node.body)
        self.scopes.pop()

    def _note_call(self, node: ast.Call) -> None:
        func = node.func
        raw = self.symbols.resolve(func)
        if raw in OFF_LOOP_RUNNERS or (
            isinstance(func, ast.Attribute) and func.attr in OFF_LOOP_METHODS
        ):
            for arg in node.args:
                if isinstance(arg, ast.Lambda):
                    self.off_loop_lambdas.add(id(arg))
        if not self.scopes or self.off_loop:
            return
        callee = self.callee_qualname(func)
        if callee is not None:
            text = (raw or callee).rpartition(".")[2]
            site = CallSite(callee, self.span(node), self.is_awaited(node), text, self.startup > 0)
            self.scopes[-1].summary.calls.append(site)
        elif (
            self.is_test_file
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.scopes[-1].params
        ):
            # ``auth.login()`` on a fixture parameter: resolved in the whole-run pass
            # to a method of the class the fixture returns (see ``FileResult.fixtures``).
            text = f"{func.value.id}.{func.attr}"
            site = CallSite(f"fixture:{text}", self.span(node), self.is_awaited(node), text)
            self.scopes[-1].summary.calls.append(site)
        elif (
            isinstance(func, ast.Name)
            and len(self.scopes) > 1
            and func.id in self.scopes[-2].params
        ):
            # A nested function calling its enclosing function's parameter: the
            # shape of a decorator's wrapper (``return view(**kwargs)``).
            site = CallSite(func.id, self.span(node), self.is_awaited(node), func.id)
            self.scopes[-1].summary.param_calls.append(site)


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    # Module-level statements, also those inside ``try``/``if``/``with`` blocks
    # (``try: from gevent.pywsgi import WSGIServer``), but not inside functions or classes.
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.Try | ast.TryStar):
            yield from _module_statements(stmt.body)
            for handler in stmt.handlers:
                yield from _module_statements(handler.body)
            yield from _module_statements(stmt.orelse)
            yield from _module_statements(stmt.finalbody)
        elif isinstance(stmt, ast.If | ast.For | ast.While):
            yield from _module_statements(stmt.body)
            yield from _module_statements(stmt.orelse)
        elif isinstance(stmt, ast.With):
            yield from _module_statements(stmt.body)


# Leaves no handler looks at: ``Load``/``Store`` contexts and operators, among the
# nodes :func:`ast.iter_child_nodes` yields.
_NO_VISIT = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """Yield the child nodes of ``node`` in order, as :func:`ast.iter_child_nodes`, less leaves."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST) and not isinstance(item, _NO_VISIT):
                    yield item
        elif isinstance(value, ast.AST) and not isinstance(value, _NO_VISIT):
            yield value


def _assigned_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    # Names stored to in the function's own body (not in nested functions or classes). An
    # import inside the function binds the imported function itself, so it is not counted.
    names: set[str] = set()
    pending: list[ast.AST] = list(node.body)
    while pending:
        item = pending.pop()
        if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store):
            names.add(item.id)
        elif not isinstance(item, _FUNCS | ast.ClassDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(item))
    return names


def _global_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    # ``global session`` anywhere in the function's own body (not in nested functions).
    names: set[str] = set()
    pending: list[ast.AST] = list(node.body)
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, ast.Global):
            names.update(stmt.names)
        elif not isinstance(stmt, _FUNCS | ast.ClassDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(stmt))
    return names


def _attr_key(expr: ast.expr) -> str | None:
    # ``g.db`` and ``self.conn`` style keys; deeper chains are not tracked.
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return f"{expr.value.id}.{expr.attr}"
    return None
