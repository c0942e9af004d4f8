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
from migrate.checker.blocking_calls import BIND_METHODS
from migrate.checker.blocking_calls import CONSTRUCTORS
from migrate.checker.blocking_calls import FUNCTIONS
from migrate.checker.blocking_calls import G_NAMES
from migrate.checker.blocking_calls import METHODS
from migrate.checker.blocking_calls import NOT_IO
from migrate.checker.blocking_calls import ORM_METHODS
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
        if tag is None and isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            # ``ub.session`` with ``from . import ub``: the module's global ``session``.
            module = ctx.symbols.aliases.get(expr.value.id)
            if module is not None and module.partition(".")[0] in ctx.local_roots:
                return f"var:{module}.{expr.attr}"
        return tag
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        return "QM408" if tag_of(ctx, expr.left) == "QM408" else None
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    if isinstance(func, ast.Call):
        # ``session_factory()()``: calling what a factory returned (a sessionmaker).
        inner = tag_of(ctx, func)
        return inner if inner is not None and _mine(inner) else None
    name = _name(ctx, func)
    if name in CONSTRUCTORS:
        return CONSTRUCTORS[name][0]
    if (stored := _g_lookup(ctx, expr)) is not None:
        return stored
    if isinstance(func, ast.Attribute):
        inner = tag_of(ctx, func.value)
        if inner is not None and _mine(inner):
            return inner
    if isinstance(func, ast.Name) and (tag := ctx.tag_of(func)) and tag.startswith("QM4"):
        return tag  # ``Session = sessionmaker(engine)`` then ``Session()``
    callee = ctx.callee_qualname(func)
    return f"call:{callee}" if callee is not None else None


def _g_lookup(ctx: FileContext, call: ast.Call) -> str | None:
    # ``g.pop("db", None)`` / ``g.get("db")`` return what ``g.db = ...`` stored.
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in ("pop", "get"):
        return None
    if ctx.resolve(func.value) not in G_NAMES or not call.args:
        return None
    key = call.args[0]
    if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
        return None
    return ctx.tag_of(ast.Attribute(value=func.value, attr=key.value, ctx=ast.Load()))


def annotation_tag(ctx: FileContext, annotation: ast.expr | None) -> str | None:
    """Return the code of a blocking client class named by an annotation, if any.

    ``Session``, ``Session | None``, ``Optional[Session]`` and ``sessionmaker[Session]``
    all name one.
    """
    if isinstance(annotation, ast.BinOp):  # ``Session | None``
        return annotation_tag(ctx, annotation.left) or annotation_tag(ctx, annotation.right)
    if isinstance(annotation, ast.Subscript):
        outer = ctx.symbols.resolve(annotation.value)
        if outer in ANNOTATIONS:
            return ANNOTATIONS[outer]
        if outer in ("typing.Optional", "typing.Annotated"):
            inner = annotation.slice
            return annotation_tag(ctx, inner.elts[0] if isinstance(inner, ast.Tuple) else inner)
        return None
    name = ctx.symbols.resolve(annotation) if annotation is not None else None
    return ANNOTATIONS.get(name) if name is not None else None


def _mine(tag: str) -> bool:
    # Other families tag names too (``aw:request``, ``t:client``); only these are ours.
    return tag.startswith(("QM4", "call:", "var:", "orm:"))


def _pending(tag: str) -> bool:
    # Resolved in the whole-run pass (see ``PendingBlocking``).
    return tag.startswith(("call:", "var:", "orm:"))


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
    fallback: str | None = None
    orm = False
    session = isinstance(receiver, ast.Attribute) and receiver.attr == "session"
    if session and (tag is None or _pending(tag)):
        assert isinstance(receiver, ast.Attribute)
        # Flask-SQLAlchemy ``db.session.execute``; a module's ``ub.session.query``; a
        # ``session`` property that opens one (``calibre_db.session.query``).
        base = tag_of(ctx, receiver.value)
        if base is not None and base != "QM416" and not _pending(base):
            return
        if base is not None:
            tag, fallback = base, tag
        orm = method in ORM_METHODS
        tag = tag or ("orm:" if orm else None)
    if method in BIND_METHODS and (tag is None or _pending(tag)):
        tag = _bind_tag(ctx, node) or tag  # ``Base.metadata.create_all(engine)``
    if tag is None or not _mine(tag):
        return
    if _pending(tag):
        if method not in NOT_IO:
            ctx.add_pending(PendingBlocking(tag, ctx.span(node), text, fallback, orm))
        ctx.reported.add(id(node))
        return
    if reported(tag, method):
        ctx.reported.add(id(node))
        ctx.report_blocking(node, tag, call=text)


def _bind_tag(ctx: FileContext, node: ast.Call) -> str | None:
    # SQLAlchemy's schema methods run DDL on the engine or connection they are given.
    bind = node.args[0] if node.args else None
    bind = next((k.value for k in node.keywords if k.arg == "bind"), bind)
    tag = tag_of(ctx, bind)
    if tag == "QM416" or (tag is not None and tag.startswith(("call:", "var:"))):
        return tag
    return None


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
        tag = annotation_tag(ctx, arg.annotation)
        if tag is not None:
            ctx.scopes[-1].tags[arg.arg] = tag
    # ``def db_session() -> Session``: callers' ``db_session().commit()`` blocks.
    returns = annotation_tag(ctx, node.returns)
    if returns is not None:
        ctx.scopes[-1].summary.returns_tag = returns


def on_ann_assign(ctx: FileContext, node: ast.AST) -> None:
    """Tag ``session: Session = ...`` by its annotation, else by its value."""
    assert isinstance(node, ast.AnnAssign)
    tag = annotation_tag(ctx, node.annotation)
    if tag is None and node.value is not None:
        tag = tag_of(ctx, node.value)
    if tag is not None and _mine(tag):
        ctx.bind_tag(node.target, tag)
    elif node.value is not None:
        ctx.unbind(node.target)


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
    (ast.AnnAssign, on_ann_assign),
    (ast.With, on_with),
    (ast.Return, on_return),
    (ast.FunctionDef, on_function),
    (ast.AsyncFunctionDef, on_function),
]
