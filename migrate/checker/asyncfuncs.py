"""QM3xx async functions: what must become ``async def`` in Quart.

The per-file pass finds the roots: views (route decorators, ``add_url_rule``,
``View``/``MethodView`` methods), error handlers, request hooks (decorated or
registered by a call), and functions that use an awaitable API (QM2xx, QM6xx).
The whole-run pass (:mod:`migrate.checker.callgraph`) adds the wrappers of view
decorators and every caller of a function that becomes async, across all
modules checked in one run.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from migrate.checker.symbols import dotted

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete"})
ERROR_HOOKS = frozenset({"errorhandler", "app_errorhandler"})
REQUEST_HOOKS = frozenset(
    {
        "before_request",
        "after_request",
        "teardown_request",
        "teardown_appcontext",
        "before_app_request",
        "after_app_request",
        "teardown_app_request",
    }
)
VIEW_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "dispatch_request"}
)
VIEW_BASES = frozenset({"flask.views.View", "flask.views.MethodView"})
THREADS = frozenset({"threading.Thread"})
RUN_SYNC = frozenset({"quart.utils.run_sync", "migrate.run_sync", "flask.utils.run_sync"})
ROOTS = {"view": "QM301", "error handler": "QM302", "request hook": "QM303"}


def _framework_file(ctx: FileContext) -> bool:
    # Sync views are legal Quart: a file that imports only Quart is migrated.
    return not (ctx.imports_quart and not ctx.imports_flask)


def _decorator_kind(ctx: FileContext, dec: ast.expr) -> str | None:
    call = dec if isinstance(dec, ast.Call) else None
    target = call.func if call else dec
    if not isinstance(target, ast.Attribute):
        return None
    attr = target.attr
    if attr in ERROR_HOOKS:
        return "error handler"
    if attr in REQUEST_HOOKS:
        return "request hook"
    if call is None or not (ctx.imports_flask or ctx.imports_quart or _local(ctx, target.value)):
        return None
    if attr == "route":
        return "view"
    first = call.args[0] if call.args else _keyword(call, "rule")
    if attr in ROUTE_METHODS and _is_rule(first):
        return "view"
    return None


def _is_rule(expr: ast.expr | None) -> bool:
    # ``"/books"``; ``""`` and ``"<int:id>"`` are rules too under a blueprint's url_prefix
    # (Flask joins them onto the prefix), as in ``@bp.get("")`` for the prefix itself.
    if not isinstance(expr, ast.Constant) or not isinstance(expr.value, str):
        return False
    return expr.value == "" or expr.value.startswith(("/", "<"))


def _local(ctx: FileContext, expr: ast.expr) -> bool:
    name = ctx.symbols.resolve(expr)
    return name is not None and name.partition(".")[0] in ctx.local_roots


def _decorator_name(ctx: FileContext, dec: ast.expr) -> str | None:
    target = dec.func if isinstance(dec, ast.Call) else dec
    return ctx.callee_qualname(target)


def on_function(ctx: FileContext, node: ast.AST) -> None:
    """Classify the function being entered: view, handler, hook, ``@run_sync``."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    summary = ctx.scopes[-1].summary
    kind = None
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if ctx.symbols.resolve(target) in RUN_SYNC:
            summary.off_loop = True
        kind = kind or _decorator_kind(ctx, dec)
    class_qual = ctx.scopes[-1].class_qual
    if kind is None and node.name in VIEW_METHODS and class_qual in ctx.view_classes:
        kind = "view"
    if node.name == "run" and class_qual in ctx.thread_classes:
        ctx.result.thread_entries.append(summary.qualname)
    if kind == "view":
        for dec in node.decorator_list:
            name = _decorator_name(ctx, dec)
            if name is not None:
                ctx.result.view_decorators.append(name)
    if kind is not None and _framework_file(ctx):
        summary.root = kind
        summary.root_code = ROOTS[kind]


def on_class(ctx: FileContext, node: ast.AST) -> None:
    """Remember classes that subclass Flask's ``View``/``MethodView`` or ``threading.Thread``."""
    assert isinstance(node, ast.ClassDef)
    outer = ctx.scopes[-1].summary.qualname if ctx.scopes else ctx.module
    for base in node.bases:
        name = ctx.resolve(base)
        if name in VIEW_BASES:
            ctx.view_classes.add(f"{outer}.{node.name}")
        elif name in THREADS:
            ctx.thread_classes.add(f"{outer}.{node.name}")


def on_call(ctx: FileContext, node: ast.AST) -> None:
    """Record functions registered as views, handlers or hooks by a call."""
    assert isinstance(node, ast.Call)
    func = node.func
    if not isinstance(func, ast.Attribute) or not _framework_file(ctx):
        return
    attr = func.attr
    target: ast.expr | None = None
    if attr == "add_url_rule":
        target = node.args[2] if len(node.args) > 2 else _keyword(node, "view_func")
        kind = "view"
    elif attr == "register_error_handler" and len(node.args) > 1:
        target, kind = node.args[1], "error handler"
    elif attr in REQUEST_HOOKS and len(node.args) == 1:
        target, kind = node.args[0], "request hook"
    elif attr == "stream_with_context" or ctx.resolve(func) == "flask.stream_with_context":
        _check_stream(ctx, node)
        return
    else:
        _check_thread(ctx, node)
        return
    if target is None:
        return
    name = ctx.callee_qualname(target)
    if name is not None:
        ctx.result.registered.append((name, kind, ROOTS[kind]))


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def on_name_call(ctx: FileContext, node: ast.AST) -> None:
    """Check ``stream_with_context(gen())`` and ``Thread(target=f)`` imported as plain names."""
    assert isinstance(node, ast.Call)
    if isinstance(node.func, ast.Name) and ctx.resolve(node.func) == "flask.stream_with_context":
        _check_stream(ctx, node)
    elif isinstance(node.func, ast.Name):
        _check_thread(ctx, node)


def _check_thread(ctx: FileContext, node: ast.Call) -> None:
    # ``Thread(target=f)`` / ``Timer(s, f)``: ``f`` runs in its own thread, not on the loop.
    name = ctx.resolve(node.func)
    if name not in THREADS and name != "threading.Timer":
        return
    keyword = "target" if name in THREADS else "function"
    target = node.args[1] if len(node.args) > 1 else _keyword(node, keyword)
    if target is not None and (qualname := ctx.callee_qualname(target)) is not None:
        ctx.result.thread_entries.append(qualname)


def _check_stream(ctx: FileContext, node: ast.Call) -> None:
    arg = node.args[0] if node.args else None
    if isinstance(arg, ast.Call):
        arg = arg.func
    if arg is None:
        return
    name = ctx.callee_qualname(arg)
    for summary in ctx.result.functions:
        if summary.qualname == name and summary.is_generator and not summary.is_async:
            ctx.report(node, "QM308", name=dotted(arg) or summary.name)


def on_decorated_stream(ctx: FileContext, node: ast.AST) -> None:
    """Report ``@stream_with_context`` on a sync generator function."""
    assert isinstance(node, ast.FunctionDef)
    for dec in node.decorator_list:
        if ctx.resolve(dec) == "flask.stream_with_context":
            ctx.report(ctx.def_span(node), "QM308", name=node.name)


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.FunctionDef, on_function),
    (ast.AsyncFunctionDef, on_function),
    (ast.FunctionDef, on_decorated_stream),
    (ast.ClassDef, on_class),
    (ast.Call, on_call),
    (ast.Call, on_name_call),
]
