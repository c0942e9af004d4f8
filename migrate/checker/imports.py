"""QM1xx imports: Flask's module, its ``Flask`` class, and names that moved or vanished.

Quart mirrors Flask's public names module for module (``flask.views`` →
``quart.views``); only ``Flask`` → ``Quart`` is renamed at the top level, and a
few internals were renamed or removed.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


RENAMED = {
    "flask.testing.FlaskClient": "quart.testing.QuartClient",
    "flask.testing.FlaskCliRunner": "quart.testing.QuartCliRunner",
    "flask.cli.FlaskGroup": "quart.cli.QuartGroup",
}
#: The advice for Flask's request-context internals, right on every Quart version: Quart 0.22
#: still has ``quart.globals.request_ctx``, 0.23 folded it into ``app_ctx``.
_REQUEST = (
    "read `quart.request` (and `quart.has_request_context()`), which works on every Quart "
    "version; `quart.globals.request_ctx` is gone in Quart 0.23"
)

REMOVED = {
    "flask.ctx.RequestContext": "push one with `app.test_request_context(...)` and read "
    "`quart.request`; Quart 0.23 removed `RequestContext` (its `AppContext` holds the request)",
    "flask.globals.request_ctx": _REQUEST,
    "flask.globals._cv_request": _REQUEST,
    "flask._request_ctx_stack": _REQUEST,
    "flask._app_ctx_stack": "use `quart.globals.app_ctx`",
    "flask.globals._request_ctx_stack": _REQUEST,
    "flask.globals._app_ctx_stack": "use `quart.globals.app_ctx`",
    "flask.testing.EnvironBuilder": "build test requests with the Quart test client",
    "flask.get_template_attribute": "render a macro with `await render_template_string(...)`",
    "flask.helpers.get_template_attribute": "render a macro with "
    "`await render_template_string(...)`",
    "flask.cli.CertParamType": "pass `--certfile`/`--keyfile` to `quart run`",
    "flask.cli.SeparatedPathType": "use a click path type",
    "flask.cli.show_server_banner": "drop the call",
}


def _quart_name(name: str) -> str:
    return "quart" + name[5:]


def _is_flask(name: str) -> bool:
    return name == "flask" or name.startswith("flask.")


def _check_name(ctx: FileContext, node: ast.AST, name: str) -> None:
    if name == "flask.Flask":
        ctx.report(node, "QM102")
    elif name in RENAMED:
        ctx.report(node, "QM104", name=name.rpartition(".")[2], replacement=RENAMED[name])
    elif name in REMOVED:
        ctx.report(node, "QM105", name=name, replacement=REMOVED[name])


def on_import(ctx: FileContext, node: ast.AST) -> None:
    """Report imports of Flask's package and of renamed or removed names."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if _is_flask(alias.name):
                ctx.report(alias, "QM101", module=alias.name, replacement=_quart_name(alias.name))
                _check_name(ctx, alias, alias.name)
        return
    assert isinstance(node, ast.ImportFrom)
    if node.level or not node.module or not _is_flask(node.module):
        return
    ctx.report(node, "QM101", module=node.module, replacement=_quart_name(node.module))
    for alias in node.names:
        _check_name(ctx, alias, f"{node.module}.{alias.name}")


def on_name(ctx: FileContext, node: ast.AST) -> None:
    """Report uses of ``Flask`` and of renamed or removed names."""
    assert isinstance(node, ast.Name)
    target = ctx.symbols.aliases.get(node.id)
    if target and isinstance(node.ctx, ast.Load) and target != "flask":
        _check_name(ctx, node, target)


def on_attribute(ctx: FileContext, node: ast.AST) -> None:
    """Report ``flask.X`` chains, ``app.wsgi_app`` and renamed attributes."""
    assert isinstance(node, ast.Attribute)
    if node.attr == "wsgi_app":
        if id(node) not in ctx.handled:
            ctx.report(node, "QM106", name=f"{_text(node.value)}.wsgi_app")
        return
    if node.attr == "ensure_sync":
        ctx.report(node, "QM104", name="ensure_sync", replacement="ensure_async")
        return
    value = node.value
    while isinstance(value, ast.Attribute):
        value = value.value
    if not isinstance(value, ast.Name) or value.id not in ctx.symbols.aliases:
        return
    name = ctx.symbols.resolve(node)
    if name is None or not _is_flask(name):
        return
    _check_name(ctx, node, name)
    direct = isinstance(node.value, ast.Name) and node.value.id == "flask"
    if direct and ctx.symbols.aliases["flask"] == "flask" and name != "flask.Flask":
        ctx.report(node, "QM103", name=name, replacement=_quart_name(name))


def _text(expr: ast.expr) -> str:
    return expr.id if isinstance(expr, ast.Name) else "app"


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.Import, on_import),
    (ast.ImportFrom, on_import),
    (ast.Name, on_name),
    (ast.Attribute, on_attribute),
]
