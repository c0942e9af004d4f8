"""QM2xx awaitables: Flask calls and properties that Quart turns into coroutines.

Forgetting ``await`` gives a coroutine object instead of the value, and usually
no error at the call. A finding inside a function also makes that
function ``async def`` (QM306). The request may be ``flask.request`` under any
alias, or a parameter named ``request`` (or annotated ``Request``) of a helper.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from migrate.checker.symbols import canonical
from migrate.checker.symbols import dotted

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


BODY_PROPS = frozenset({"form", "files", "values", "data", "json"})
BODY_CALLS = frozenset({"get_json", "get_data"})
RENDER = frozenset(
    {"render_template", "render_template_string", "stream_template", "stream_template_string"}
)
SEND_FILE_RENAMES = {
    "download_name": "attachment_filename",
    "max_age": "cache_timeout",
    "etag": "add_etags",
    "path_or_file": "filename_or_io",
}
REQUEST_NAMES = frozenset({"flask.request", "flask.globals.request"})
APP_CLASSES = frozenset({"flask.Flask", "flask.Quart"})
REQUEST_TYPES = frozenset({"flask.Request", "flask.wrappers.Request"})
CONTEXT_METHODS = frozenset({"app_context", "test_request_context"})
TEMPLATE_GETTERS = frozenset(
    {"get_template", "from_string", "select_template", "get_or_select_template"}
)


def is_request(ctx: FileContext, expr: ast.expr) -> bool:
    """Return true when ``expr`` is Flask's (or Quart's) ``request``."""
    if isinstance(expr, ast.Name):
        target = ctx.symbols.aliases.get(expr.id)
        if target is not None:
            return canonical(target) in REQUEST_NAMES
        return ctx.tag_of(expr) == "aw:request"
    return isinstance(expr, ast.Attribute) and ctx.resolve(expr) in REQUEST_NAMES


def _text(expr: ast.expr, default: str) -> str:
    return dotted(expr) or default


def _short(name: str) -> str:
    return name.rpartition(".")[2]


def on_function(ctx: FileContext, node: ast.AST) -> None:
    """Treat parameters named ``request`` or annotated ``Request`` as the request."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    flaskish = ctx.imports_flask or ctx.imports_quart
    for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
        annotated = arg.annotation is not None and ctx.resolve(arg.annotation) in REQUEST_TYPES
        if annotated or (arg.arg == "request" and flaskish):
            ctx.scopes[-1].tags[arg.arg] = "aw:request"


def on_attribute(ctx: FileContext, node: ast.AST) -> None:
    """Report request body properties and streams read without ``await``."""
    assert isinstance(node, ast.Attribute)
    attr = node.attr
    if attr == "before_serving" and ctx.scopes and _built_here(ctx, node.value):
        ctx.scopes[-1].summary.starts_up = True
        return
    if attr not in BODY_PROPS and attr not in ("stream", "input_stream"):
        return
    if not isinstance(node.ctx, ast.Load) or not is_request(ctx, node.value):
        return
    if ctx.is_awaited(node):
        return
    what = f"{_text(node.value, 'request')}.{attr}"
    ctx.report(node, "QM201" if attr in BODY_PROPS else "QM202", what=what)


def _renames(node: ast.Call, table: dict[str, str]) -> str:
    found = [f"`{k.arg}=` → `{table[k.arg]}=`" for k in node.keywords if k.arg in table]
    return "; rename " + ", ".join(found) if found else ""


def on_call(ctx: FileContext, node: ast.AST) -> None:
    """Report helper calls that Quart makes coroutines, when not awaited."""
    assert isinstance(node, ast.Call)
    if ctx.is_awaited(node):
        return
    func = node.func
    name = ctx.resolve(func)
    if name is not None and name.startswith("flask."):
        short = _short(name)
        if short in RENDER:
            ctx.report(node, "QM203", what=short)
        elif short == "make_response" and name != "flask.current_app.make_response":
            ctx.report(node, "QM204", what=short)
        elif short == "send_file":
            ctx.report(node, "QM205", what=short, renames=_renames(node, SEND_FILE_RENAMES))
        elif short == "send_from_directory":
            renames = _renames(node, {"path": "file_name"})
            ctx.report(node, "QM206", what=short, renames=renames)
        elif short == "flash":
            ctx.report(node, "QM208", what="flash")
        if short in RENDER or short in ("send_file", "send_from_directory", "flash"):
            return
    if not isinstance(func, ast.Attribute):
        return
    attr, receiver = func.attr, func.value
    what = f"{_text(receiver, '...')}.{attr}"
    if attr in BODY_CALLS and is_request(ctx, receiver):
        ctx.report(node, "QM201", what=f"{_text(receiver, 'request')}.{attr}()")
    elif attr == "make_response" and _is_app(ctx, receiver):
        ctx.report(node, "QM204", what=what)
    elif attr == "send_static_file":
        ctx.report(node, "QM207", what=what)
    elif attr in ("open_resource", "open_instance_resource") or (
        attr in ("read", "readline", "readlines") and ctx.tag_of(receiver) == "aw:aiofile"
    ):
        ctx.report(node, "QM209", what=what)
    elif attr == "save" and _is_upload(ctx, receiver):
        ctx.report(node, "QM210", what=what)
    elif attr in ("push", "pop") and _is_context(ctx, receiver):
        ctx.report(node, "QM212", what=what)
    elif attr == "render" and _is_template(ctx, receiver):
        ctx.report(node, "QM213", what=what)


def _is_app(ctx: FileContext, expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name) and expr.id in ("app", "application"):
        return True
    return ctx.tag_of(expr) == "aw:app" or ctx.resolve(expr) == "flask.current_app"


def _files_access(ctx: FileContext, expr: ast.expr) -> bool:
    # ``request.files['f']``, ``request.files.get('f')`` (also on an awaited form).
    base: ast.expr | None
    if isinstance(expr, ast.Subscript):
        base = expr.value
    elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        base = expr.func.value if expr.func.attr in ("get", "getlist") else None
    else:
        return False
    if isinstance(base, ast.Await):
        base = base.value
    return isinstance(base, ast.Attribute) and base.attr == "files" and is_request(ctx, base.value)


def _is_upload(ctx: FileContext, expr: ast.expr) -> bool:
    return ctx.tag_of(expr) == "aw:file" or _files_access(ctx, expr)


def _context_call(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Await):
        expr = expr.value
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in CONTEXT_METHODS
    )


def _is_context(ctx: FileContext, expr: ast.expr) -> bool:
    return ctx.tag_of(expr) == "aw:ctx" or _context_call(expr)


def _template_call(expr: ast.expr) -> bool:
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in TEMPLATE_GETTERS
        and (dotted(expr.func.value) or "").endswith("jinja_env")
    )


def _is_template(ctx: FileContext, expr: ast.expr) -> bool:
    return ctx.tag_of(expr) == "aw:template" or _template_call(expr)


def on_assign(ctx: FileContext, node: ast.AST) -> None:
    """Remember names that hold the request, an upload, a context or a template."""
    assert isinstance(node, ast.Assign)
    value = node.value
    if is_request(ctx, value):
        tag = "aw:request"
    elif _files_access(ctx, value):
        tag = "aw:file"
    elif _context_call(value):
        tag = "aw:ctx"
    elif _template_call(value):
        tag = "aw:template"
    elif isinstance(value, ast.Call) and ctx.resolve(value.func) in APP_CLASSES:
        # ``Quart(...)`` too: a factory half way through ``--fix`` has renamed the class.
        tag = "aw:app"
    else:
        return
    for target in node.targets:
        ctx.bind_tag(target, tag)


def on_for(ctx: FileContext, node: ast.AST) -> None:
    """Tag the loop variable over ``request.files.getlist(...)`` / ``.values()``."""
    assert isinstance(node, ast.For)
    it = node.iter
    if (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Attribute)
        and it.func.attr in ("getlist", "values")
        and isinstance(it.func.value, ast.Attribute)
        and it.func.value.attr == "files"
        and is_request(ctx, it.func.value.value)
    ):
        ctx.bind_tag(node.target, "aw:file")


def on_with(ctx: FileContext, node: ast.AST) -> None:
    """Report ``with app.app_context()``-style blocks; tag resource files."""
    assert isinstance(node, ast.With)
    for item in node.items:
        expr = item.context_expr
        if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Attribute):
            continue
        attr = expr.func.attr
        what = f"{_text(expr.func.value, 'app')}.{attr}"
        if attr == "app_context" and _built_here(ctx, expr.func.value):
            ctx.report(expr, "QM214", what=what)
            ctx.startup_blocks.add(id(node))
            if ctx.scopes:
                ctx.scopes[-1].summary.starts_up = True
        elif attr in CONTEXT_METHODS:
            ctx.report(expr, "QM211", what=what)
        elif attr in ("open_resource", "open_instance_resource") and item.optional_vars:
            ctx.bind_tag(item.optional_vars, "aw:aiofile")


def _built_here(ctx: FileContext, expr: ast.expr) -> bool:
    # The app was built by ``Flask(...)`` in this function (or at module level, outside
    # any function): this is the app factory, not a test or a script that got the app.
    if ctx.is_test_file or not isinstance(expr, ast.Name):
        return False
    tags = ctx.scopes[-1].tags if ctx.scopes else ctx.module_tags
    return tags.get(expr.id) == "aw:app"


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.FunctionDef, on_function),
    (ast.AsyncFunctionDef, on_function),
    (ast.Attribute, on_attribute),
    (ast.Call, on_call),
    (ast.Assign, on_assign),
    (ast.For, on_for),
    (ast.With, on_with),
]
