"""QM721's fix: ``Vary: Cookie`` on every answer that used the session, as Flask adds it.

Flask marks the session accessed whenever a request uses it, and then adds
``Vary: Cookie`` to the answer; Quart 0.22 with Flask 3.1.3 or later marks it only
when it is written. The fix writes what Flask does, at function granularity: each
function of the module that names the session proxy first sets
``g.session_read = True``, and a hook of the module's blueprint (``after_app_request``,
so it sees every answer of the app) or app (``after_request``) adds the header when
that flag is set. An answer whose request called none of those functions is left
as it was, so cacheable public answers stay cacheable.

The fix needs a module-level ``Blueprint(...)`` or ``Quart(...)``/``Flask(...)``
object to hang the hook on, and every use of the proxy inside a ``def``; any other
shape (a use at module level, in a lambda, a class body, a one-line ``def``) stays
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

HOOK_NAME = "vary_on_cookie"
FLAG = "session_read"
MESSAGE = "Add `Vary: Cookie` to the answers of requests that used the session"
APPS = {"quart.Quart": "after_request", "flask.Flask": "after_request"}
BLUEPRINTS = {"quart.Blueprint": "after_app_request", "flask.Blueprint": "after_app_request"}


def fix_vary_cookie(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """Return QM721's fix for the ``session`` import at ``finding``, or ``None``.

    Only once the import is Quart's (QM101's fix comes first, in an earlier round).
    """
    local = _session_name(src, finding)
    owner = _hook_owner(src)
    if local is None or owner is None or HOOK_NAME in src.symbols.defs:
        return None
    g_name = _g_name(src)
    functions = _users(src, local)
    if not functions:
        return None
    edits: list[Edit] = []
    for func in functions:
        edit = _mark(src, func, g_name or "g")
        if edit is None:
            return None
        edits.append(edit)
    if g_name is None:
        added = src.add_import("from quart import g", "quart")
        if added is not None:
            edits.append(added)
    name, hook = owner
    edits.append(_hook(src, name, hook, g_name or "g"))
    return Fix(tuple(edits), UNSAFE, MESSAGE)


def _session_name(src: Source, finding: Finding) -> str | None:
    for stmt in src.tree.body:
        if not isinstance(stmt, ast.ImportFrom) or stmt.module != "quart" or stmt.level:
            continue
        if stmt.lineno > finding.line or (stmt.end_lineno or stmt.lineno) < finding.line:
            continue
        for alias in stmt.names:
            if alias.name == "session":
                return alias.asname or alias.name
    return None


def _hook_owner(src: Source) -> tuple[str, str] | None:
    # The first module-level blueprint, else the first module-level app.
    found: dict[str, tuple[str, str]] = {}
    for stmt in src.tree.body:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            continue
        target, value = stmt.targets[0], stmt.value
        if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
            continue
        made = src.symbols.resolve(value.func) or ""
        if made in BLUEPRINTS:
            found.setdefault("blueprint", (target.id, BLUEPRINTS[made]))
        elif made in APPS:
            found.setdefault("app", (target.id, APPS[made]))
    return found.get("blueprint") or found.get("app")


def _g_name(src: Source) -> str | None:
    for stmt in src.tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module in ("quart", "flask"):
            for alias in stmt.names:
                if alias.name == "g":
                    return alias.asname or alias.name
    return None


def _users(src: Source, local: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef] | None:
    """Return the innermost functions that use ``local``; ``None`` if one use is elsewhere."""
    src.note_parents(src.tree)
    found: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in ast.walk(src.tree):
        if not isinstance(node, ast.Name) or node.id != local:
            continue
        func = src.function_of(node)
        if not isinstance(func, FUNCS):
            return None
        found[id(func)] = func
    return sorted(found.values(), key=lambda f: f.lineno)


def _mark(src: Source, func: ast.FunctionDef | ast.AsyncFunctionDef, g_name: str) -> Edit | None:
    """Return the edit that sets the flag first thing in ``func`` (after its docstring)."""
    body = func.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if not isinstance(first.value.value, str) or len(body) == 1:
            return None
        first = body[1]
    start = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", ()))])
    text = src.line_text(start)
    indent = text[: len(text) - len(text.lstrip())]
    if start == func.lineno or (
        start == first.lineno and src.col(start, first.col_offset) != len(indent) + 1
    ):
        return None  # ``def f(): return session.get(...)``, or ``x = 1; session.get(...)``
    return Edit(start, 1, start, 1, f"{indent}{g_name}.{FLAG} = True\n", -1)


def _hook(src: Source, owner: str, hook: str, g_name: str) -> Edit:
    code = (
        f"@{owner}.{hook}\n"
        f"async def {HOOK_NAME}(response):\n"
        "    # Flask adds Vary: Cookie when a request used the session; Quart 0.22 does not.\n"
        f'    if {g_name}.get("{FLAG}"):\n'
        '        response.vary.add("Cookie")\n'
        "    return response\n"
    )
    # Two blank lines before it, whatever the file ends with.
    if not src.text.endswith("\n"):
        last = len(src.lines)
        end = len(src.lines[-1]) + 1
        return Edit(last, end, last, end, "\n\n\n" + code, 1)
    trailing = len(src.text) - len(src.text.rstrip("\n"))
    line = len(src.lines) + 1
    return Edit(line, 1, line, 1, "\n" * max(0, 3 - trailing) + code, 1)
