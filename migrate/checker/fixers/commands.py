"""A click command whose body must await: run it under ``asyncio.run`` in an app context.

Quart's ``with_appcontext`` calls the command inside a running event loop, so
the command's function cannot be ``async def`` there, nor start a loop of its
own. The fix keeps the command sync and moves its body into a nested
``async def`` that ``asyncio.run`` runs inside the app's context; the app comes
from the ``ScriptInfo`` object that ``quart`` (and ``app.test_cli_runner()``)
pass to every command::

    @click.command("init-db")
    @click.pass_obj
    def init_db_command(script_info):
        async def in_app_context():
            async with script_info.load_app().app_context():
                await init_db()

        return asyncio.run(in_app_context())

When an app factory of the run has start-up work (QM214: Flask ran it when ``load_app``
called the factory; on Quart it is a ``before_serving`` function), the nested function
starts the app it loads, as a server would: ``app = script_info.load_app()``,
``await app.startup()``, then the ``async with`` in a ``try`` whose ``finally`` awaits
``app.shutdown()``.
"""

from __future__ import annotations

import ast

from migrate.checker.edits import SAFE
from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.fixers.base import RunInfo
from migrate.checker.fixers.base import Source
from migrate.checker.fixers.base import text_with_awaits
from migrate.checker.symbols import dotted

CLICK_PARTS = ("command", "option", "argument")
INNER = "in_app_context"
OBJ = "script_info"


def _decorator_name(dec: ast.expr) -> str:
    target = dec.func if isinstance(dec, ast.Call) else dec
    return dotted(target) or ""


def is_command(func: ast.FunctionDef) -> bool:
    """Return true for a function decorated with click's (or an app's) ``command``."""
    return any(_decorator_name(d).rpartition(".")[2] == "command" for d in func.decorator_list)


def _multiline_string(body: list[ast.stmt]) -> bool:
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Constant | ast.JoinedStr) and node.end_lineno != node.lineno:
                return True
    return False


def _unused_import(src: Source) -> list[Edit]:
    """Return the removal of ``from flask.cli import with_appcontext`` once nothing needs it.

    It goes when every other use of the name is ``@with_appcontext`` over a click
    command (each of their fixes removes the same import; the edit is applied once).
    The import must be a statement of its own lines, naming ``with_appcontext``
    alone, with no comment.
    """
    imports = [
        stmt
        for stmt in src.tree.body
        if isinstance(stmt, ast.ImportFrom)
        and stmt.module in ("flask.cli", "quart.cli")
        and [(a.name, a.asname) for a in stmt.names] == [("with_appcontext", None)]
    ]
    if len(imports) != 1:
        return []
    stmt = imports[0]
    end = stmt.end_lineno or stmt.lineno
    text = "\n".join(src.lines[stmt.lineno - 1 : end])
    if not text.startswith("from") or ";" in text or "#" in text:
        return []  # not alone on its lines, or a comment that would go with it
    on_commands = {
        id(dec)
        for func in ast.walk(src.tree)
        if isinstance(func, ast.FunctionDef) and is_command(func)
        for dec in func.decorator_list
        if isinstance(dec, ast.Name)
    }
    for node in ast.walk(src.tree):
        if (
            isinstance(node, ast.Name)
            and node.id == "with_appcontext"
            and id(node) not in on_commands
        ):
            return []
    return [Edit(stmt.lineno, 1, end + 1, 1, "")]


def _free_name(statements: list[ast.stmt], name: str) -> str:
    used = {n.id for stmt in statements for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    while name in used:
        name = f"loaded_{name}"
    return name


def fix_command(src: Source, func: ast.FunctionDef, run: RunInfo) -> Fix | None:
    """Return the rewrite shown in the module docstring, or ``None`` for other shapes.

    Only plain commands are rewritten: click's own decorators, a body that starts
    on its own line and holds no multi-line string (re-indenting would change it).
    The calls QM307 asks to await (``run.awaits``) are awaited in the moved body.
    """
    names = [_decorator_name(d).rpartition(".")[2] for d in func.decorator_list]
    if any(name not in (*CLICK_PARTS, "with_appcontext") for name in names):
        return None
    if any(
        isinstance(d, ast.Call) and any(k.arg == "with_appcontext" for k in d.keywords)
        for d in func.decorator_list
    ):
        return None  # ``app.cli.command(..., with_appcontext=True)``: decided by hand
    # ``@with_appcontext`` goes: the body pushes the app context itself (Quart's would
    # call the command inside a running event loop, where ``asyncio.run`` fails).
    dropped = []
    for dec, name in zip(func.decorator_list, names, strict=True):
        if name == "with_appcontext":
            if dec.end_lineno != dec.lineno or src.line_text(dec.lineno).strip() != "@" + (
                ast.get_source_segment(src.text, dec) or ""
            ):
                return None
            dropped.append(Edit(dec.lineno, 1, dec.lineno + 1, 1, ""))
    if dropped:
        dropped += _unused_import(src)
    body = func.body
    doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    statements = body[1:] if doc else body
    if not statements or statements[0].lineno == func.lineno or _multiline_string(statements):
        return None
    first = statements[0].lineno
    last = func.end_lineno or func.lineno
    indent = " " * statements[0].col_offset
    lines = text_with_awaits(src, statements, run).splitlines(keepends=True)[first - 1 : last]
    moved = "".join(("        " + line) if line.strip() else line.lstrip(" \t") for line in lines)
    if not moved.endswith("\n"):
        moved += "\n"
    if run.starts_up:
        app = _free_name(statements, "app")
        moved = "".join(
            ("    " + line) if line.strip() else line for line in moved.splitlines(True)
        )
        new_body = (
            f"{indent}async def {INNER}():\n"
            f"{indent}    {app} = {OBJ}.load_app()\n"
            f"{indent}    await {app}.startup()\n"
            f"{indent}    try:\n"
            f"{indent}        async with {app}.app_context():\n"
            f"{moved}"
            f"{indent}    finally:\n"
            f"{indent}        await {app}.shutdown()\n\n"
            f"{indent}return asyncio.run({INNER}())\n"
        )
    else:
        new_body = (
            f"{indent}async def {INNER}():\n"
            f"{indent}    async with {OBJ}.load_app().app_context():\n"
            f"{moved}\n"
            f"{indent}return asyncio.run({INNER}())\n"
        )
    end_line = last + 1
    def_line = func.lineno
    def_col = src.col(def_line, func.col_offset)
    outer = " " * func.col_offset
    open_paren = src.line_text(def_line).find("(", def_col - 1)
    if open_paren < 0:
        return None
    has_args = bool(func.args.args or func.args.posonlyargs or func.args.vararg)
    has_args = has_args or bool(func.args.kwonlyargs or func.args.kwarg)
    edits = [
        *dropped,
        Edit(def_line, 1, def_line, 1, f"{outer}@click.pass_obj\n", 1),
        Edit(def_line, open_paren + 2, def_line, open_paren + 2, OBJ + (", " if has_args else "")),
        Edit(first, 1, end_line, 1, new_body),
        src.add_import("import asyncio", "asyncio"),
    ]
    if "click" not in src.symbols.aliases:
        edits.append(src.add_import("import click", "click"))
    kept = tuple(e for e in edits if e is not None)
    return Fix(kept, SAFE, "Run the command's body with `asyncio.run` in the app's context")
