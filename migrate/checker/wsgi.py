"""QM7xx WSGI and configuration: servers, middleware, and settings Quart reads differently.

Quart is an ASGI application served by Hypercorn: WSGI middleware, WSGI servers,
``request.environ`` and Werkzeug's test client have no place in it, and a few
configuration keys and CLI behaviours change meaning.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from migrate.checker.awaitables import is_request
from migrate.checker.catalog.wsgi import HYPERCORN
from migrate.checker.model import Span
from migrate.checker.symbols import canonical
from migrate.checker.symbols import dotted

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


MIDDLEWARE = {
    "ProxyFix": 'use `hypercorn.middleware.ProxyFixMiddleware(app.asgi_app, mode="legacy", '
    "trusted_hops=1)`",
    "DispatcherMiddleware": "use `hypercorn.middleware.DispatcherMiddleware` on ASGI apps",
    "SharedDataMiddleware": "serve the files from Quart's static folder or the proxy",
    "ProfilerMiddleware": "profile the ASGI app (for example with pyinstrument)",
    "LintMiddleware": "drop it",
    "ProxyMiddleware": "proxy at the web server",
}
OTHER_MIDDLEWARE = "use an ASGI middleware on `app.asgi_app`"
SERVERS = {
    "waitress": HYPERCORN,
    "gunicorn": "use Hypercorn, or gunicorn with an ASGI worker (`uvicorn.workers.UvicornWorker`)",
    "uwsgi": HYPERCORN,
    "mod-wsgi": HYPERCORN,
    "bjoern": HYPERCORN,
    "cheroot": HYPERCORN,
}
#: The request's session proxy (QM721), where an app imports it from.
SESSION_PROXIES = frozenset(
    {"flask.session", "flask.globals.session", "quart.session", "quart.globals.session"}
)
#: Green-thread libraries (QM715): concurrency models, not servers.
GREEN = frozenset({"gevent", "eventlet"})
SERVER_CALLS = frozenset(
    {
        "waitress.serve",
        "werkzeug.serving.run_simple",
        "wsgiref.simple_server.make_server",
        "gevent.pywsgi.WSGIServer",
        "bjoern.run",
        "cheroot.wsgi.Server",
        "tornado.wsgi.WSGIContainer",
    }
)
WERKZEUG_TEST = frozenset(
    {
        "werkzeug.test.Client",
        "werkzeug.test.EnvironBuilder",
        "werkzeug.test.create_environ",
        "werkzeug.test.run_wsgi_app",
    }
)
IGNORED_RUN = (
    "threaded",
    "processes",
    "ssl_context",
    "use_debugger",
    "use_evalex",
    "passthrough_errors",
    "extra_files",
    "exclude_patterns",
    "reloader_type",
    "reloader_interval",
    "static_files",
    "request_handler",
    "load_dotenv",
)
IGNORED_KEYS = {
    "TRUSTED_HOSTS": "check the Host header in an ASGI middleware or at the proxy",
    "PREFERRED_URL_SCHEME": "set `PREFER_SECURE_URLS = True` for https URLs",
    "USE_X_SENDFILE": "Quart has no X-Sendfile support; serve the files from the proxy",
}
ASYNC_WORKERS = ("uvicorn", "hypercorn")
APP_CLASSES = frozenset({"flask.Flask", "flask.Quart"})
RESPONSE_CLASSES = frozenset({"flask.Response", "flask.wrappers.Response"})
STREAM_HELPERS = frozenset(
    {"flask.stream_with_context", "flask.stream_template", "flask.stream_template_string"}
)


def _is_wsgi_app(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr == "wsgi_app"


def on_assign(ctx: FileContext, node: ast.AST) -> None:
    """Report ``app.wsgi_app = Middleware(app.wsgi_app)``, config keys, gunicorn workers."""
    assert isinstance(node, ast.Assign)
    value = node.value
    if any(_is_wsgi_app(t) for t in node.targets) and isinstance(value, ast.Call):
        for sub in ast.walk(node):
            if _is_wsgi_app(sub):  # type: ignore[arg-type]
                ctx.handled.add(id(sub))
        name = (dotted(value.func) or "middleware").rpartition(".")[2]
        ctx.report(node, "QM701", name=name, replacement=MIDDLEWARE.get(name, OTHER_MIDDLEWARE))
        return
    for target in node.targets:
        if isinstance(target, ast.Attribute) and target.attr == "timeout":
            ctx.response_timeouts.add(ctx.func.qualname if ctx.func else None)
        elif (
            isinstance(target, ast.Attribute)
            and target.attr == "max_content_length"
            and is_request(ctx, target.value)
        ):
            ctx.report(target, "QM713", what=f"{dotted(target.value) or 'request'}.{target.attr}")
        if isinstance(target, ast.Name) and target.id in IGNORED_KEYS and not ctx.func:
            ctx.report(target, "QM708", key=target.id, fix=IGNORED_KEYS[target.id])
        elif isinstance(target, ast.Name) and target.id == "worker_class" and ctx.gunicorn_config:
            ctx.gunicorn_async |= isinstance(value, ast.Constant) and any(
                w in str(value.value) for w in ASYNC_WORKERS
            )


def on_subscript(ctx: FileContext, node: ast.AST) -> None:
    """Report ``config['TRUSTED_HOSTS']``-style keys."""
    assert isinstance(node, ast.Subscript)
    key = node.slice
    if isinstance(key, ast.Constant) and key.value in IGNORED_KEYS:
        base = dotted(node.value) or ""
        if base.endswith("config"):
            ctx.report(key, "QM708", key=key.value, fix=IGNORED_KEYS[key.value])


def on_dict(ctx: FileContext, node: ast.AST) -> None:
    """Report ignored keys in a configuration mapping literal."""
    assert isinstance(node, ast.Dict)
    for key in node.keys:
        if isinstance(key, ast.Constant) and key.value in IGNORED_KEYS:
            ctx.report(key, "QM708", key=key.value, fix=IGNORED_KEYS[key.value])


def on_import(ctx: FileContext, node: ast.AST) -> None:
    """Report imports of Werkzeug middleware, WSGI servers, Werkzeug's test client and the
    session proxy."""
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        names = [(f"{node.module}.{a.name}", a) for a in node.names]
        module = node.module
    elif isinstance(node, ast.Import):
        names = [(a.name, a) for a in node.names]
        module = ""
    else:
        return
    if module.startswith(("werkzeug.middleware", "werkzeug.contrib.fixers")):
        last = node.names[0].name
        ctx.report(node, "QM702", name=module, replacement=MIDDLEWARE.get(last, OTHER_MIDDLEWARE))
        return
    for full, alias in names:
        if full in SESSION_PROXIES:
            # A test reads the session to check it; only an app's answers vary on it.
            if not ctx.is_test_file and not _varies_on_cookie(ctx.tree):
                ctx.report(alias, "QM721", name=full)
        elif full in WERKZEUG_TEST:
            ctx.report(alias, "QM706", name=full)
        elif full in SERVER_CALLS or full in ("waitress", "werkzeug.serving"):
            ctx.report(alias, "QM703", name=full)


def _varies_on_cookie(tree: ast.Module) -> bool:
    # QM721's advice done in this module: ``response.vary.add("Cookie")`` somewhere in it.
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "vary"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and str(node.args[0].value).lower() == "cookie"
        for node in ast.walk(tree)
    )


def on_call(ctx: FileContext, node: ast.AST) -> None:
    """Report server starts, ``app.run`` options, env prefixes, CLI commands, signals."""
    assert isinstance(node, ast.Call)
    func = node.func
    name = ctx.symbols.resolve(func)
    if name in SERVER_CALLS:
        ctx.report(node, "QM703", name=name)
        return
    if name in WERKZEUG_TEST:
        ctx.report(node, "QM706", name=name)
        return
    if canonical(name) in APP_CLASSES:
        # Renaming the class keeps Quart's 16 MiB default: still reported.
        ctx.result.app_sites.append(ctx.span(node))
    if canonical(name) in RESPONSE_CLASSES or (
        isinstance(func, ast.Attribute) and func.attr == "response_class"
    ):
        _check_streamed(ctx, node)
    if not isinstance(func, ast.Attribute):
        return
    attr = func.attr
    if attr == "run" and dotted(func.value) in ("app", "application"):
        ignored = [k.arg for k in node.keywords if k.arg in IGNORED_RUN]
        if ignored:
            ctx.report(node, "QM707", names=", ".join(f"`{n}`" for n in ignored))
    elif attr in ("update", "from_mapping"):
        for keyword in node.keywords:
            if keyword.arg in IGNORED_KEYS:
                ctx.report(keyword, "QM708", key=keyword.arg, fix=IGNORED_KEYS[keyword.arg])
    elif attr == "from_prefixed_env" and not node.args and not node.keywords:
        ctx.report(node, "QM710")
    elif attr == "add_command" and (dotted(func.value) or "").endswith(".cli"):
        cmd = (dotted(node.args[0]) if node.args else None) or "command"
        fix = "decorate it with `quart.cli.with_appcontext` or push `async with app.app_context()`"
        span = ctx.span(node)

        def check() -> None:
            # Defined further down or elsewhere: only a local ``@with_appcontext`` is known.
            if cmd not in ctx.app_context_commands:
                ctx.report(span, "QM711", name=cmd, fix=fix)

        ctx.deferred.append(check)
    elif attr in ("connect", "connect_via") and _signal(ctx, func.value):
        _check_receiver(ctx, node)


def _check_streamed(ctx: FileContext, node: ast.Call) -> None:
    # QM714: a response whose body is a generator; see the rule's rationale.
    if ctx.is_test_file:
        return
    body = (
        node.args[0]
        if node.args
        else next((k.value for k in node.keywords if k.arg == "response"), None)
    )
    streamed = isinstance(body, ast.GeneratorExp)
    generator: str | None = None
    if isinstance(body, ast.Call):
        streamed = ctx.resolve(body.func) in STREAM_HELPERS
        generator = None if streamed else ctx.callee_qualname(body.func)
    if not streamed and generator is None:
        return
    span = ctx.span(node)
    owner = ctx.func.qualname if ctx.func else None

    def check() -> None:
        # Known only at the end of the file: whether the callee is a generator, and
        # whether the function sets ``response.timeout`` below the construction.
        if generator is not None and not any(
            f.qualname == generator and f.is_generator for f in ctx.result.functions
        ):
            return
        if owner not in ctx.response_timeouts:
            ctx.result.stream_sites.append(span)

    ctx.deferred.append(check)


def _signal(ctx: FileContext, expr: ast.expr) -> str | None:
    name = ctx.resolve(expr)
    if name in (
        "flask.appcontext_pushed",
        "flask.appcontext_popped",
        "flask.signals.appcontext_pushed",
        "flask.signals.appcontext_popped",
    ):
        return name.rpartition(".")[2]
    return None


def _check_receiver(ctx: FileContext, node: ast.Call) -> None:
    assert isinstance(node.func, ast.Attribute)
    signal = _signal(ctx, node.func.value) or "appcontext_pushed"
    if node.func.attr == "connect" and node.args and isinstance(node.args[0], ast.Name):
        name = node.args[0].id
        qual = ctx.callee_qualname(node.args[0]) or f"{ctx.module}.{name}"
        span = ctx.span(node)

        def check() -> None:
            # The receiver may be defined further down the file: check at the end.
            known = [f for f in ctx.result.functions if f.qualname == qual]
            if not known or not known[0].is_async:
                ctx.report(span, "QM712", signal=signal, name=name)

        ctx.deferred.append(check)


def on_any_function(ctx: FileContext, node: ast.AST) -> None:
    """Remember commands decorated with ``with_appcontext`` or pushing an app context."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if (dotted(target) or "").endswith("with_appcontext"):
            ctx.app_context_commands.add(node.name)
    # ``async with script_info.load_app().app_context():`` in the command's own body.
    if "app_context" not in ctx.source:
        return
    for sub in ast.walk(node):
        if isinstance(sub, ast.AsyncWith) and any(
            isinstance(item.context_expr, ast.Call)
            and isinstance(item.context_expr.func, ast.Attribute)
            and item.context_expr.func.attr == "app_context"
            for item in sub.items
        ):
            ctx.app_context_commands.add(node.name)
            break


def on_function(ctx: FileContext, node: ast.AST) -> None:
    """Report sync signal receivers and ``cli.command`` without an app context."""
    assert isinstance(node, ast.FunctionDef)
    for dec in node.decorator_list:
        if not isinstance(dec, ast.Call) or not isinstance(dec.func, ast.Attribute):
            continue
        signal = _signal(ctx, dec.func.value)
        if signal and dec.func.attr in ("connect", "connect_via"):
            ctx.report(ctx.def_span(node), "QM712", signal=signal, name=node.name)
        is_cli = dec.func.attr == "command" and (dotted(dec.func.value) or "").endswith(".cli")
        if is_cli and not any(k.arg == "with_appcontext" for k in dec.keywords):
            fix = "pass `with_appcontext=True`"
            ctx.report(dec, "QM711", name=node.name, fix=fix)


def on_attribute(ctx: FileContext, node: ast.AST) -> None:
    """Report ``request.environ`` / ``request.shallow``."""
    assert isinstance(node, ast.Attribute)
    if node.attr in ("environ", "shallow") and is_request(ctx, node.value):
        ctx.report(node, "QM705", what=f"{dotted(node.value) or 'request'}.{node.attr}")


def on_module_end(ctx: FileContext) -> None:
    """Run the deferred checks; report a gunicorn config that keeps WSGI workers."""
    for check in ctx.deferred:
        check()
    if ctx.gunicorn_config and not ctx.gunicorn_async:
        ctx.report(Span(1, 1, 1, 1), "QM703", name="gunicorn")


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.Assign, on_assign),
    (ast.Subscript, on_subscript),
    (ast.Dict, on_dict),
    (ast.Import, on_import),
    (ast.ImportFrom, on_import),
    (ast.Call, on_call),
    (ast.FunctionDef, on_function),
    (ast.FunctionDef, on_any_function),
    (ast.AsyncFunctionDef, on_any_function),
    (ast.Attribute, on_attribute),
]
