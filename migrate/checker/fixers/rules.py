"""Fixers of the findings that one file's tree is enough for, keyed by rule code.

Each fixer takes the file (:class:`~migrate.checker.fixers.base.Source`), the
finding and the run's facts, and returns a :class:`~migrate.checker.edits.Fix`
or ``None`` when the finding's shape is one it does not rewrite (the finding
then stays, to be decided by hand).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from migrate.checker.awaitables import SEND_FILE_RENAMES
from migrate.checker.edits import SAFE
from migrate.checker.edits import UNSAFE
from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.fixers import clients
from migrate.checker.fixers import commands
from migrate.checker.fixers import error_page
from migrate.checker.fixers import session
from migrate.checker.fixers import sqlite
from migrate.checker.fixers.base import FUNCS
from migrate.checker.fixers.base import RunInfo
from migrate.checker.fixers.base import Source
from migrate.checker.imports import REMOVED
from migrate.checker.imports import RENAMED
from migrate.checker.model import Finding
from migrate.checker.symbols import dotted

Fixer = Callable[[Source, Finding, RunInfo], Fix | None]
KEY = tuple[int, int, int, int]

# Module functions whose blocking call moves to the worker pool with ``run_sync``.
# Connections and clients are not here: a sqlite3 connection is bound to its thread.
RUN_SYNC_CODES = frozenset({"QM404", "QM405", "QM407", "QM414", "QM415"})
# Method calls on a SQLAlchemy ``Session`` or an ``httpx.Client`` written in an async
# function: the object is used from one pool thread at a time, which both allow (a
# SQLAlchemy ``Session`` is not shared between threads *at once*; SQLAlchemy 2 opens file
# SQLite with ``check_same_thread=False``). Their helpers stay sync (see ``plan``).
METHOD_RUN_SYNC_CODES = frozenset({"QM403", "QM416"})
# Calls that end a session's transaction stay where they are (display-only): the session
# may hold a lock (SQLite's one write lock, row locks), and a call queued for a free pool
# thread while every pool thread waits for that lock never runs (a deadlock until the
# busy timeout). On the loop they run at once, and they are short: the lock is held.
TRANSACTION_ENDS = frozenset({"commit", "rollback", "close"})
RUN_SYNC_IMPORT = "from quart.utils import run_sync"


def _key(finding: Finding) -> KEY:
    return (finding.line, finding.col, finding.end_line, finding.end_col)


def _fix(edits: list[Edit | None], applicability: str, message: str) -> Fix | None:
    kept = tuple(e for e in edits if e is not None)
    return Fix(kept, applicability, message) if kept else None


# -- QM1xx imports --------------------------------------------------------------


def fix_import(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM101: ``flask`` → ``quart`` in the import's module name."""
    node = src.find(_key(finding), ast.ImportFrom, ast.alias)
    if node is None:
        return None
    if isinstance(node, ast.ImportFrom):
        if any(f"{node.module}.{alias.name}" in REMOVED for alias in node.names):
            return _split_removed(src, node)
        at = src.find_word(node, "flask")
    elif isinstance(node, ast.alias):
        at = src.start(node) if node.name.partition(".")[0] == "flask" else None
    else:
        return None
    if at is None:
        return None
    return _fix([src.name_edit(*at, "flask", "quart")], SAFE, "Import from `quart`")


def _split_removed(src: Source, node: ast.ImportFrom) -> Fix | None:
    """QM101 on an import naming what Quart lacks (QM105): the other names move to
    ``quart``, those stay on a ``from flask import`` line of their own after it, where QM105
    keeps asking for the decision (from ``quart`` they would fail to import, unreported).

    The edits leave the other names' own text alone, so their renames (QM102, QM104) apply
    in the same round. A parenthesized import over several lines is split when each name it
    moves is alone on its line and no comment sits between the parentheses; one of nothing
    but such names is left as it is, and so is any other shape (display-only).
    """
    assert node.module is not None
    names = node.names
    removed = [i for i, a in enumerate(names) if f"{node.module}.{a.name}" in REMOVED]
    kept = [i for i in range(len(names)) if i not in removed]
    line, col, end_line, _ = src.span(node)
    at = src.find_word(node, "flask")
    if not kept or at is None:
        return None
    if line != end_line:
        return _split_removed_lines(src, node, removed, at)
    text = src.line_text(line)
    edits: list[Edit | None] = [src.name_edit(*at, "flask", "quart")]
    first_kept = kept[0]
    if first_kept > 0:
        # ``a, b, kept`` → ``kept``: from the first name to the first kept one.
        edits.append(Edit(line, src.start(names[0])[1], line, src.start(names[first_kept])[1], ""))
    for i in removed:
        if i > first_kept:
            # ``..., name`` → ``...``: from the end of the name before it.
            edits.append(Edit(line, src.end(names[i - 1])[1], line, src.end(names[i])[1], ""))
    spelled = ", ".join(
        text[src.start(names[i])[1] - 1 : src.end(names[i])[1] - 1] for i in removed
    )
    indent = " " * (col - 1)
    after = len(text) + 1
    edits.append(Edit(line, after, line, after, f"\n{indent}from {node.module} import {spelled}"))
    return _fix(edits, SAFE, "Import from `quart`, but for what Quart lacks")


def _split_removed_lines(
    src: Source, node: ast.ImportFrom, removed: list[int], at: tuple[int, int]
) -> Fix | None:
    """:func:`_split_removed` for ``from flask import (`` over several lines."""
    line, col, end_line, end_col = src.span(node)
    inside = [src.line_text(line)[col - 1 :]]
    inside += [src.line_text(n) for n in range(line + 1, end_line)]
    inside.append(src.line_text(end_line)[: end_col - 1])
    if any("#" in text for text in inside):
        return None  # a comment between the names: it may speak of the one that moves
    edits: list[Edit | None] = [src.name_edit(*at, "flask", "quart")]
    spelled = []
    for i in removed:
        alias = node.names[i]
        alias_line = src.start(alias)[0]
        text = ast.get_source_segment(src.text, alias) or alias.name
        if src.line_text(alias_line).strip() not in (text, text + ","):
            return None  # not alone on its line
        edits.append(Edit(alias_line, 1, alias_line + 1, 1, ""))
        spelled.append(text)
    indent = " " * (col - 1)
    after = len(src.line_text(end_line)) + 1
    moved = f"\n{indent}from {node.module} import {', '.join(spelled)}"
    edits.append(Edit(end_line, after, end_line, after, moved))
    return _fix(edits, SAFE, "Import from `quart`, but for what Quart lacks")


def _rename_last(src: Source, node: ast.AST, old: str, new: str) -> Edit | None:
    if isinstance(node, ast.alias):
        return src.name_edit(*src.start(node), old, new) if node.name.endswith(old) else None
    if isinstance(node, ast.Name):
        return src.replace(node, new) if node.id == old else None
    if isinstance(node, ast.Attribute) and node.attr == old:
        line, col = src.end(node)
        return Edit(line, col - len(old), line, col, new)
    return None


def fix_flask_class(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM102: ``Flask`` → ``Quart`` (the import's name, each use, ``flask.Flask``)."""
    node = src.find(_key(finding), ast.alias, ast.Attribute, ast.Name)
    if node is None:
        return None
    edits = [_rename_last(src, node, "Flask", "Quart")]
    if isinstance(node, ast.alias) and node.name != "Flask":
        edits = []
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "flask"
    ):
        edits.append(src.replace(node.value, "quart"))
    return _fix(edits, SAFE, "Use `Quart`")


def fix_module_attribute(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM103: ``flask.X`` → ``quart.X`` after ``import flask``."""
    node = src.find(_key(finding), ast.Attribute)
    if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
        return None
    return _fix([src.replace(node.value, "quart")], SAFE, "Use the `quart` module")


def fix_renamed(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM104: ``FlaskClient`` → ``QuartClient`` and the other renamed classes."""
    node = src.find(_key(finding), ast.alias, ast.Attribute, ast.Name)
    if node is None:
        return None
    for old, new in RENAMED.items():
        edit = _rename_last(src, node, old.rpartition(".")[2], new.rpartition(".")[2])
        if edit is not None:
            return _fix([edit], SAFE, f"Use `{new.rpartition('.')[2]}`")
    return None


# -- awaits -------------------------------------------------------------------------


def _await(src: Source, finding: Finding, run: RunInfo, *kinds: type[ast.AST]) -> Fix | None:
    node = src.find(_key(finding), *kinds)
    if node is None or not src.can_await(node, run):
        return None
    return Fix(tuple(src.await_edits(node)), SAFE, "Add `await`")


def fix_await_call(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM203, QM204, QM207, QM208, QM210, QM212, QM601: ``await`` the call."""
    return _await(src, finding, run, ast.Call)


def fix_await_any(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM201: ``await`` the body property or call (``(await request.form)["x"]``)."""
    return _await(src, finding, run, ast.Attribute, ast.Call)


def _keyword_renames(src: Source, call: ast.Call, table: dict[str, str]) -> list[Edit | None]:
    edits: list[Edit | None] = []
    for keyword in call.keywords:
        if keyword.arg in table:
            line, col = src.start(keyword)
            edits.append(src.name_edit(line, col, keyword.arg, table[keyword.arg]))
    return edits


def fix_send_file(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM205, QM206: ``await`` and Quart's keyword names."""
    node = src.find(_key(finding), ast.Call)
    if not isinstance(node, ast.Call) or not src.can_await(node, run):
        return None
    table = SEND_FILE_RENAMES if finding.code == "QM205" else {"path": "file_name"}
    edits = [*src.await_edits(node), *_keyword_renames(src, node, table)]
    named = {k.arg for k in node.keywords}
    if finding.code == "QM205" and "conditional" not in named and None not in named:
        # Flask answers Range and If-None-Match requests by default (conditional=True);
        # Quart's default is False.
        last = max([*node.args, *node.keywords], key=src.end, default=None)
        if last is not None:
            edits.append(src.insert_after(last, ", conditional=True"))
    return _fix(edits, SAFE, "Add `await` and use Quart's keywords")


def _with_of(src: Source, node: ast.AST) -> ast.With | None:
    item = src.parent(node)
    stmt = src.parent(item) if isinstance(item, ast.withitem) else None
    if isinstance(stmt, ast.With) and len(stmt.items) == 1 and item is stmt.items[0]:
        return stmt
    return None


def fix_open_resource(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM209: ``async with await app.open_resource(...)``; ``await f.read()``."""
    node = src.find(_key(finding), ast.Call)
    if node is None or not src.can_await(node, run):
        return None
    edits = src.await_edits(node)
    stmt = _with_of(src, node)
    if stmt is not None:
        edits.append(src.async_with(stmt))
    elif isinstance(src.parent(node), ast.withitem):
        return None
    return Fix(tuple(edits), SAFE, "Open the resource with `async with await`")


def fix_async_with(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM211, QM602: ``with`` → ``async with``; ``with client:`` see :mod:`.clients`.

    An app context opened as the last statement of a function that stays sync (a
    special method such as a Celery task's ``__call__``, a function kept sync, an
    entry point) runs in ``asyncio.run`` instead: see :func:`_context_in_new_loop`.
    """
    node = src.find(_key(finding))
    stmt = _with_of(src, node) if node is not None else None
    if stmt is None or node is None:
        return None
    if not src.can_await(stmt, run):
        if finding.code == "QM211":
            return _context_in_new_loop(src, stmt, run)
        return None
    if finding.code == "QM602" and not isinstance(node, ast.Call):
        return clients.fix_client_block(src, stmt, node, run)  # type: ignore[arg-type]
    app = _unstarted_app(src, node, run)
    if app is not None:
        return _started(src, stmt, app)
    return Fix((src.async_with(stmt),), SAFE, "Use `async with`")


def fix_env_prefix(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM710: ``config.from_prefixed_env()`` → ``from_prefixed_env(prefix="FLASK")``.

    Flask's default prefix, kept: the app reads the ``FLASK_*`` variables it read.
    """
    node = src.find(_key(finding), ast.Call)
    if not isinstance(node, ast.Call) or node.args or node.keywords:
        return None
    line, col = src.end(node)
    if src.line_text(line)[col - 2 : col - 1] != ")":
        return None
    edit = Edit(line, col - 1, line, col - 1, 'prefix="FLASK"')
    return Fix((edit,), SAFE, "Keep Flask's `FLASK_` prefix")


IN_CONTEXT = "in_app_context"


def _context_in_new_loop(src: Source, stmt: ast.With, run: RunInfo) -> Fix | None:
    """Return ``with app.app_context(): body`` rewritten to run on a loop of its own.

    ::

        def __call__(self, *args, **kwargs):
            async def in_app_context():
                async with app.app_context():
                    return self.run(*args, **kwargs)

            return asyncio.run(in_app_context())

    Only where the function never becomes async (a special method, a function kept
    sync or an entry point, see :mod:`.plan`), the ``with`` is its last statement
    (nothing after it reads what the block assigns), it starts its line, and the block
    neither yields nor awaits. The block stays in place, one level deeper (string
    literals' inner lines as they were); the calls in it that must be awaited are, in the
    next round, inside an ``async def``. ``asyncio.run`` fails in a thread whose event
    loop is running: unsafe.
    """
    func = src.function_of(stmt)
    if not isinstance(func, ast.FunctionDef) or func.body[-1] is not stmt:
        return None
    stays_sync = _is_dunder(func.name) or (src.path, func.lineno) in run.kept_defs
    if not stays_sync and (src.path, func.lineno) not in run.entry_defs:
        return None
    if any(
        isinstance(n, ast.Yield | ast.YieldFrom | ast.Await) for b in stmt.body for n in ast.walk(b)
    ):
        return None
    line, col = stmt.lineno, src.col(stmt.lineno, stmt.col_offset)
    indent = src.line_text(line)[: col - 1]
    if indent.strip():
        return None  # ``x = 1; with ...``
    end = stmt.end_lineno or line
    tail = len(src.line_text(end)) + 1
    edits = [
        Edit(line, col, line, col, f"async def {IN_CONTEXT}():\n{indent}    async "),
        *src.indent_edits(stmt),
        Edit(end, tail, end, tail, f"\n\n{indent}return asyncio.run({IN_CONTEXT}())"),
        src.add_import("import asyncio", "asyncio"),
    ]
    return _fix(edits, UNSAFE, "Run the app context's block with `asyncio.run`")


def _unstarted_app(src: Source, node: ast.AST, run: RunInfo) -> str | None:
    """Return ``app`` for ``app.app_context()`` when ``app = factory(...)`` in this function
    and the factory has start-up work (see :func:`migrate.checker.fixing.startup_calls`)."""
    if not run.startup_calls or not isinstance(node, ast.Call):
        return None
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr != "app_context":
        return None
    if not isinstance(func.value, ast.Name):
        return None
    scope = src.function_of(node)
    if not isinstance(scope, FUNCS):
        return None
    name = func.value.id
    for assign in ast.walk(scope):
        if (
            isinstance(assign, ast.Assign)
            and [getattr(t, "id", None) for t in assign.targets] == [name]
            and isinstance(assign.value, ast.Call)
            and (src.path, *src.start(assign.value)) in run.startup_calls
        ):
            return name
    return None


def _started(src: Source, stmt: ast.With, app: str) -> Fix:
    """``with app.app_context():`` → the app's start-up, the ``async with``, its shut-down.

    Flask ran the factory's start-up work when the factory was called; on Quart it is a
    ``before_serving`` function (QM214), which ``app.startup()`` runs (and
    ``app.shutdown()`` its ``after_serving`` counterparts), not ``app.app_context()``.
    """
    line, col = stmt.lineno, src.col(stmt.lineno, stmt.col_offset)
    indent = src.line_text(line)[: col - 1]
    head = Edit(line, col, line, col, f"await {app}.startup()\n{indent}try:\n{indent}    async ")
    end = stmt.end_lineno or line
    tail_col = len(src.line_text(end)) + 1
    tail = f"\n{indent}finally:\n{indent}    await {app}.shutdown()"
    edits = (head, *src.indent_edits(stmt), Edit(end, tail_col, end, tail_col, tail))
    return Fix(edits, SAFE, "Use `async with`, and start the app first (its start-up work)")


def fix_template_render(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM213: ``template.render(...)`` → ``await template.render_async(...)``."""
    node = src.find(_key(finding), ast.Call)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    if not src.can_await(node, run):
        return None
    line, col = src.end(node.func)
    rename = Edit(line, col - len("render"), line, col, "render_async")
    return Fix((*src.await_edits(node), rename), SAFE, "Use `await ....render_async(...)`")


def fix_startup(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM214: ``with app.app_context():`` in the factory → an ``@app.before_serving`` function.

    The block's statements keep their indentation: only the header changes.
    """
    node = src.find(_key(finding), ast.Call)
    stmt = _with_of(src, node) if node is not None else None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    if stmt is None or stmt.items[0].optional_vars is not None:
        return None
    app = dotted(node.func.value)
    line, end = src.end(node)
    colon = src.line_text(line).find(":", end - 1)
    if app is None or colon < 0 or stmt.body[0].lineno == line:
        return None
    start_line, start_col = src.start(stmt)
    indent = " " * stmt.col_offset
    header = f"@{app}.before_serving\n{indent}async def start_up():"
    edit = Edit(start_line, start_col, line, colon + 2, header)
    return Fix((edit,), UNSAFE, "Run the start-up work in an `@app.before_serving` function")


# -- QM6xx tests ---------------------------------------------------------------------


def fix_data_dict(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM603: ``data={...}`` → ``form={...}``."""
    node = src.find(_key(finding), ast.keyword)
    if not isinstance(node, ast.keyword):
        return None
    return _fix([src.name_edit(*src.start(node), "data", "form")], SAFE, "Send it as `form=`")


def fix_keyword(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM604: ``content_type=x`` → ``headers={"Content-Type": x}`` (when no ``headers=``)."""
    node = src.find(_key(finding), ast.keyword)
    call = src.parent(node) if node is not None else None
    if not isinstance(node, ast.keyword) or not isinstance(call, ast.Call):
        return None
    if node.arg != "content_type" or any(k.arg == "headers" for k in call.keywords):
        return None
    value = ast.get_source_segment(src.text, node.value)
    if value is None:
        return None
    edit = src.replace(node, f'headers={{"Content-Type": {value}}}')
    return Fix((edit,), SAFE, "Pass the content type as a header")


def fix_cookie(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM606: ``set_cookie(key, value)`` → ``set_cookie("localhost", key, value)``."""
    node = src.find(_key(finding), ast.Call)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    if node.func.attr != "set_cookie" or not node.args:
        return None
    edit = src.insert_before(node.args[0], '"localhost", ')
    return Fix((edit,), SAFE, "Name the server first")


def fix_response_body(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM607: ``await response.data``; ``response.text`` → ``await response.get_data(as_text=True)``."""
    node = src.find(_key(finding), ast.Attribute, ast.Call)
    if node is None or not src.can_await(node, run):
        return None
    parent = src.parent(node)
    if isinstance(parent, ast.Call) and parent.func is node:
        return None  # ``response.json()``: not a Flask test response's API
    edits = src.await_edits(node)
    if isinstance(node, ast.Attribute) and node.attr == "text":
        line, col = src.end(node)
        edits.append(Edit(line, col - 4, line, col, "get_data(as_text=True)"))
    return Fix(tuple(edits), SAFE, "Add `await`")


# -- QM3xx async functions ---------------------------------------------------------


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _is_generator(src: Source, func: ast.FunctionDef) -> bool:
    end = func.end_lineno or func.lineno
    if not any("yield" in line for line in src.lines[func.lineno - 1 : end]):
        return False
    pending: list[ast.AST] = list(func.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Yield | ast.YieldFrom):
            return True
        if not isinstance(node, (*FUNCS, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))
    return False


def fix_async_def(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM301–QM306, QM309: ``def`` → ``async def``; a click command runs its body with asyncio.

    Not for a function the run keeps sync or an entry point (:mod:`.plan`).
    """
    func = src.defs.get(finding.line)
    if not isinstance(func, ast.FunctionDef) or _is_dunder(func.name):
        return None
    if (src.path, finding.line) in run.kept_defs | run.entry_defs:
        return None
    if any(dotted(d) in ("property", "functools.cached_property") for d in func.decorator_list):
        return None
    if commands.is_command(func):
        return commands.fix_command(src, func, run)
    if _is_generator(src, func) and not any(
        (dotted(d.func if isinstance(d, ast.Call) else d) or "").endswith("fixture")
        for d in func.decorator_list
    ):
        # An async generator is iterated with ``async for``: its callers change too.
        return None
    applicability = UNSAFE if finding.code == "QM309" else SAFE
    return Fix((src.async_def(func),), applicability, "Make it `async def`")


# -- QM4xx blocking calls ------------------------------------------------------------


def _enclosing_def(src: Source, node: ast.AST) -> ast.AST | None:
    # The function whose body runs ``node``, through lambdas (``lambda a: f(a)``).
    for parent in src.ancestors(node):
        if isinstance(parent, (*FUNCS, ast.ClassDef)):
            return parent
    return None


def _resolve_local(src: Source, node: ast.Call) -> str | None:
    # ``from pkg import store`` inside the function: what ``store.f`` names there.
    name = dotted(node.func)
    if name is None:
        return None
    first, _, rest = name.partition(".")
    for parent in src.ancestors(node):
        if not isinstance(parent, FUNCS):
            continue
        for stmt in parent.body:
            if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                for alias in stmt.names:
                    if (alias.asname or alias.name) == first:
                        target = f"{stmt.module}.{alias.name}"
                        return f"{target}.{rest}" if rest else target
    return None


def fix_unawaited(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM307: ``await f(...)``; ``await run_sync(f)(...)`` for a function kept sync;
    ``asyncio.run(f(...))`` in an entry point (see :mod:`.plan`)."""
    node = src.find(_key(finding), ast.Call)
    if not isinstance(node, ast.Call):
        return None
    callee = src.symbols.resolve(node.func) or _resolve_local(src, node)
    if callee in run.entries:
        return None
    if callee in run.kept:
        return _run_sync(src, node, run)
    caller = _enclosing_def(src, node)
    if isinstance(caller, ast.FunctionDef) and (src.path, caller.lineno) in run.entry_defs:
        edits = [
            src.insert_before(node, "asyncio.run("),
            src.insert_after(node, ")"),
            src.add_import("import asyncio", "asyncio"),
        ]
        return _fix(edits, UNSAFE, "Run it with `asyncio.run(...)`: an entry point stays sync")
    fix = _await(src, finding, run, ast.Call)
    if fix is not None and callee in run.unsafe_async:
        # The callee becomes async by the unsafe fix of its blocking call (QM309): with
        # safe fixes alone it stays sync, and an ``await`` of its result would raise.
        return Fix(fix.edits, UNSAFE, "Add `await` (the function becomes async by an unsafe fix)")
    return fix


def _run_sync(src: Source, node: ast.Call, run: RunInfo) -> Fix | None:
    if not src.can_await(node, run):
        return None
    edits: list[Edit | None] = [
        *src.await_edits(node),
        src.insert_before(node.func, "run_sync("),
        src.insert_after(node.func, ")"),
        src.add_import(RUN_SYNC_IMPORT, "quart.utils"),
    ]
    return _fix(edits, UNSAFE, "Run it in the worker pool with `await run_sync(...)`")


def fix_run_sync(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM404/405/407/414/415: ``f(x)`` → ``await run_sync(f)(x)`` for module functions.

    QM403/QM416: ``session.get(x)`` → ``await run_sync(session.get)(x)`` where the
    call is written in a function that is or becomes async for another reason.
    """
    node = src.find(_key(finding), ast.Call)
    if not isinstance(node, ast.Call) or not src.can_await(node, run):
        return None
    if dotted(node.func) is None and not (
        finding.code in METHOD_RUN_SYNC_CODES and isinstance(node.func, ast.Attribute)
    ):
        return None
    if (
        finding.code == "QM416"
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in TRANSACTION_ENDS
    ):
        return None
    edits: list[Edit | None] = [
        *src.await_edits(node),
        src.insert_before(node.func, "run_sync("),
        src.insert_after(node.func, ")"),
        src.add_import(RUN_SYNC_IMPORT, "quart.utils"),
    ]
    return _fix(edits, UNSAFE, "Run it in the worker pool with `await run_sync(...)`")


def fix_sleep(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM401: ``time.sleep(s)`` → ``await asyncio.sleep(s)``."""
    node = src.find(_key(finding), ast.Call)
    if not isinstance(node, ast.Call) or dotted(node.func) != "time.sleep":
        return None
    if not src.can_await(node, run):
        return None
    edits = [
        *src.await_edits(node),
        src.replace(node.func, "asyncio.sleep"),
        src.add_import("import asyncio", "asyncio"),
    ]
    return _fix(edits, UNSAFE, "Sleep with `await asyncio.sleep(...)`")


FIXERS: dict[str, Fixer] = {
    "QM101": fix_import,
    "QM102": fix_flask_class,
    "QM103": fix_module_attribute,
    "QM104": fix_renamed,
    "QM201": fix_await_any,
    "QM203": fix_await_call,
    "QM204": fix_await_call,
    "QM205": fix_send_file,
    "QM206": fix_send_file,
    "QM207": fix_await_call,
    "QM208": fix_await_call,
    "QM209": fix_open_resource,
    "QM210": fix_await_call,
    "QM211": fix_async_with,
    "QM212": fix_await_call,
    "QM213": fix_template_render,
    "QM214": fix_startup,
    **dict.fromkeys(("QM301", "QM302", "QM303", "QM304", "QM305", "QM306", "QM309"), fix_async_def),
    "QM307": fix_unawaited,
    "QM401": fix_sleep,
    **dict.fromkeys(RUN_SYNC_CODES | METHOD_RUN_SYNC_CODES, fix_run_sync),
    "QM601": fix_await_call,
    "QM602": fix_async_with,
    "QM603": fix_data_dict,
    "QM604": fix_keyword,
    "QM606": fix_cookie,
    "QM607": fix_response_body,
    "QM710": fix_env_prefix,
    "QM609": error_page.fix_status_check,
    "QM681": sqlite.fix_closed_message,
    "QM721": session.fix_vary_cookie,
}
