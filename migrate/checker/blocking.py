"""QM4xx blocking calls that end up on the event loop once views are async.

A blocking call is reported when the function that makes it runs on the event
loop (decided by :mod:`migrate.checker.callgraph`): see
:data:`migrate.checker.catalog.blocking.NOTE`. The tables in
:mod:`migrate.checker.blocking_calls` extend flake8-async's ASYNC210–251 with the
calls neither flake8-async nor ruff report.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from migrate.checker.blocking_calls import ANNOTATIONS
from migrate.checker.blocking_calls import CONSTRUCTORS
from migrate.checker.blocking_calls import FUNCTIONS
from migrate.checker.blocking_calls import METHODS
from migrate.checker.blocking_calls import NOT_IO
from migrate.checker.model import Finding
from migrate.checker.model import PendingBlocking
from migrate.checker.symbols import dotted

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


def call_text(finding: Finding) -> str:
    """Return the call a blocking finding names (its message starts with it in backticks)."""
    return finding.message.split("`", 2)[1]


def fields(code: str, call: str) -> dict[str, str]:
    """Return the message fields of a blocking finding for the call text ``call``."""
    return {"call": call}


def reported(code: str, method: str) -> bool:
    """Return true when calling ``method`` on a value tagged ``code`` is blocking I/O."""
    allowed = METHODS.get(code)
    return method in allowed if allowed is not None else method not in NOT_IO


def _name(ctx: FileContext, func: ast.expr) -> str | None:
    name = ctx.symbols.resolve(func)
    # ``open`` with no import and no local definition is the builtin.
    is_open = name is None and isinstance(func, ast.Name) and func.id == "open"
    if is_open and not any("open" in scope.nested for scope in ctx.scopes):
        return "builtins.open"
    return name


def tag_of(ctx: FileContext, expr: ast.expr | None) -> str | None:
    """Return what ``expr`` holds: a QM4xx code, a pending ``call:``/``var:`` key, or None."""
    if expr is None:
        return None
    if isinstance(expr, ast.Name | ast.Attribute):
        tag = ctx.tag_of(expr)
        if tag is None and isinstance(expr, ast.Name) and expr.id in ctx.symbols.aliases:
            target = ctx.symbols.aliases[expr.id]
            if target.partition(".")[0] in ctx.local_roots:
                return f"var:{target}"
        return tag
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        return "QM408" if tag_of(ctx, expr.left) == "QM408" else None
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    name = _name(ctx, func)
    if name in CONSTRUCTORS:
        return CONSTRUCTORS[name][0]
    if isinstance(func, ast.Attribute):
        inner = tag_of(ctx, func.value)
        if inner is not None and _mine(inner):
            return inner
    if isinstance(func, ast.Name) and (tag := ctx.tag_of(func)) and tag.startswith("QM4"):
        return tag  # ``Session = sessionmaker(engine)`` then ``Session()``
    callee = ctx.callee_qualname(func)
    return f"call:{callee}" if callee is not None else None


def _mine(tag: str) -> bool:
    # Other families tag names too (``aw:request``, ``t:client``); only these are ours.
    return tag.startswith(("QM4", "call:", "var:"))


def on_call(ctx: FileContext, node: ast.AST) -> None:
    """Keep blocking calls for the whole-run pass (reported only on the loop)."""
    assert isinstance(node, ast.Call)
    if ctx.is_awaited(node) or not ctx.scopes or ctx.off_loop:
        return
    func = node.func
    name = _name(ctx, func)
    if name is not None:
        code = FUNCTIONS.get(name)
        if code is None and name in CONSTRUCTORS and CONSTRUCTORS[name][1]:
            code = CONSTRUCTORS[name][0]
        if code is not None:
            ctx.reported.add(id(node))
            ctx.report_blocking(node, code, call=name.removeprefix("builtins."))
            return
    if not isinstance(func, ast.Attribute) or _blocking_call(ctx, func.value):
        return
    receiver, method = func.value, func.attr
    tag = tag_of(ctx, receiver)
    text = f"{dotted(receiver) or _call_text(receiver)}.{method}"
    if tag is None and isinstance(receiver, ast.Attribute) and receiver.attr == "session":
        tag = tag_of(ctx, receiver.value)  # Flask-SQLAlchemy ``db.session.execute``
        if tag is not None and tag != "QM416" and not tag.startswith("var:"):
            return
    if tag is None or not _mine(tag):
        return
    if tag.startswith(("call:", "var:")):
        if ctx.func is not None and method not in NOT_IO and not ctx.is_test_file:
            ctx.func.pending.append(PendingBlocking(tag, ctx.span(node), text))
        ctx.reported.add(id(node))
        return
    if reported(tag, method):
        ctx.reported.add(id(node))
        ctx.report_blocking(node, tag, call=text)


def _blocking_call(ctx: FileContext, expr: ast.expr) -> bool:
    # In a chain (``db.execute(sql).fetchone()``) only the innermost blocking call
    # is reported; the traversal sees the outer call first.
    if not isinstance(expr, ast.Call):
        return False
    name = _name(ctx, expr.func)
    if name in FUNCTIONS or (name in CONSTRUCTORS and CONSTRUCTORS[name][1]):
        return True
    if isinstance(expr.func, ast.Attribute):
        tag = tag_of(ctx, expr.func.value)
        return (tag is not None and _mine(tag)) or _blocking_call(ctx, expr.func.value)
    return False


def _call_text(expr: ast.expr) -> str:
    if isinstance(expr, ast.Call):
        return f"{dotted(expr.func) or '...'}()"
    return "..."


def on_assign(ctx: FileContext, node: ast.AST) -> None:
    """Tag names assigned a blocking client (or a value from a checked function)."""
    assert isinstance(node, ast.Assign)
    tag = tag_of(ctx, node.value)
    if tag is not None and _mine(tag):
        for target in node.targets:
            ctx.bind_tag(target, tag)


def on_with(ctx: FileContext, node: ast.AST) -> None:
    """Tag ``with open(p) as f`` / ``with Session(engine) as session`` targets."""
    assert isinstance(node, ast.With)
    for item in node.items:
        if item.optional_vars is not None:
            tag = tag_of(ctx, item.context_expr)
            if tag is not None and _mine(tag):
                ctx.bind_tag(item.optional_vars, tag)


def on_function(ctx: FileContext, node: ast.AST) -> None:
    """Tag parameters annotated with a blocking client class (``session: Session``)."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    args = node.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        annotation = arg.annotation
        if isinstance(annotation, ast.BinOp):  # ``Session | None``
            annotation = annotation.left
        name = ctx.symbols.resolve(annotation) if annotation is not None else None
        if name in ANNOTATIONS:
            ctx.scopes[-1].tags[arg.arg] = ANNOTATIONS[name]


def on_return(ctx: FileContext, node: ast.AST) -> None:
    """Remember that a function returns a blocking client (``return g.db``)."""
    assert isinstance(node, ast.Return)
    func = ctx.func
    if func is not None and func.returns_tag is None:
        tag = tag_of(ctx, node.value)
        if tag is not None and _mine(tag):
            func.returns_tag = tag


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.Call, on_call),
    (ast.Assign, on_assign),
    (ast.With, on_with),
    (ast.Return, on_return),
    (ast.FunctionDef, on_function),
    (ast.AsyncFunctionDef, on_function),
]
