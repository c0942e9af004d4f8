"""Patterns of grown Flask apps that the family modules do not see.

* green-thread patching and gunicorn's gevent/eventlet ``worker_class`` (QM715), the
  ``werkzeug`` logger (QM716), ``response.call_on_close`` (QM717), ``app.run`` with
  Quart's reloader (QM720), ``request.headers.environ`` (QM705), WebTest (QM706);
* extension set-up lines: a constructor given the app or bound without arguments,
  ``x.init_app(app)``, ``@x.user_loader``-style callbacks (QM505);
* blocking work: Flask-SQLAlchemy ``Model.query`` chains and the methods of the model
  instances they return (QM416), URL converters and form validators that do I/O (QM418,
  QM419), sync generators streamed as server-sent events (QM417);
* tests: ``unittest.TestCase`` suites that drive the test client (QM608), body assertions
  a TESTING-mode error page can satisfy (QM609);
* functions handed to a worker thread (``run_sync(f)``, ``pool.run(f, ...)``), which the
  whole-run pass keeps off the loop (``FileResult.thread_refs``).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from migrate.checker import extensions
from migrate.checker.awaitables import is_request
from migrate.checker.context import OFF_LOOP_RUNNERS
from migrate.checker.model import CallSite
from migrate.checker.model import PendingBlocking
from migrate.checker.symbols import dotted
from migrate.checker.wsgi import IGNORED_RUN

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


GREEN_PATCHES = frozenset(
    {
        "gevent.monkey.patch_all",
        "gevent.monkey.patch_socket",
        "gevent.monkey.patch_thread",
        "gevent.monkey.patch_time",
        "eventlet.monkey_patch",
    }
)
LOGGERS = frozenset({"logging.getLogger"})
WSGI_TEST_APPS = frozenset({"webtest.TestApp", "webtest.app.TestApp"})
#: ``Model.query`` methods that run the query (Flask-SQLAlchemy's ``Query`` API).
QUERY_RUNS = frozenset(
    {
        "all",
        "first",
        "one",
        "one_or_none",
        "get",
        "get_or_404",
        "first_or_404",
        "one_or_404",
        "count",
        "paginate",
        "scalar",
        "delete",
        "update",
    }
)
#: The ``QUERY_RUNS`` that return one model instance.
QUERY_ONE = frozenset(
    {"first", "one", "one_or_none", "get", "get_or_404", "first_or_404", "one_or_404"}
)
TESTCASE_BASES = frozenset({"unittest.TestCase", "unittest.case.TestCase"})
#: Decorators of an extension object that register a callback (``@login_manager.user_loader``).
EXTENSION_CALLBACKS = frozenset(
    {
        "user_loader",
        "request_loader",
        "header_loader",
        "unauthorized_handler",
        "needs_refresh_handler",
        "token_loader",
        "verify_password",
        "get_password",
        "error_handler",
        "exempt",
    }
)
CONVERTER_BASES = frozenset(
    {"werkzeug.routing.BaseConverter", "werkzeug.routing.converters.BaseConverter"}
)
FORM_BASES = frozenset(
    {
        "flask_wtf.FlaskForm",
        "flask_wtf.Form",
        "flask_wtf.form.FlaskForm",
        "wtforms.Form",
        "wtforms.form.Form",
        "quart_wtf.QuartForm",
    }
)
CONVERTER_METHODS = frozenset({"to_python", "to_url"})
EVENT_STREAM = "text/event-stream"
#: The kit's objects whose ``run(func, ...)`` calls ``func`` in a worker thread.
RUNNER_CLASSES = frozenset(
    {
        "migrate.WorkerPool",
        "migrate.UnitOfWork",
        "migrate.pool.WorkerPool",
        "migrate.unit_of_work.UnitOfWork",
    }
)
RUNNER_LAST = frozenset(name.rpartition(".")[2] for name in OFF_LOOP_RUNNERS)
#: The last part of the names :func:`_named_call` looks for, besides capitalised ones.
RESOLVED_LAST = frozenset(
    {n.rpartition(".")[2] for n in (*GREEN_PATCHES, *LOGGERS)} | {"TestApp", "Response"}
)
#: ``app.run`` options QM707 reports; QM720 is for the calls it leaves.
IGNORED_RUN_SET = frozenset(IGNORED_RUN)
RESPONSE_CLASSES = frozenset({"flask.Response", "flask.wrappers.Response"})


def _extension_module(ctx: FileContext, func: ast.expr) -> str | None:
    # ``CORS`` imported from ``flask_cors``: a class (capitalised) of a Flask extension.
    name = ctx.resolve(func)
    if name is None or "." not in name:
        return None
    top = name.partition(".")[0]
    last = name.rpartition(".")[2]
    if extensions.is_extension(top) and last[:1].isupper():
        return top
    return None


def on_call(ctx: FileContext, node: ast.AST) -> None:
    """Report green-thread patching, the werkzeug logger, set-up lines and WSGI test drivers."""
    assert isinstance(node, ast.Call)
    func = node.func
    attr = func.attr if isinstance(func, ast.Attribute) else None
    if node.args and (attr in ("run", "run_in_executor") or last_part(func) in RUNNER_LAST):
        _thread_ref(ctx, node, ctx.symbols.resolve(func))
    # Resolving a name costs; only the names these checks look for are resolved.
    last = attr if attr is not None else (func.id if isinstance(func, ast.Name) else "")
    if last in RESOLVED_LAST or last[:1].isupper():
        _named_call(ctx, node, ctx.resolve(func))
        return
    if attr is None:
        return
    assert isinstance(func, ast.Attribute)
    if attr == "run" and _is_app(ctx, func.value):
        named = {k.arg for k in node.keywords}
        if "use_reloader" not in named and not named & IGNORED_RUN_SET:
            ctx.report(node, "QM720", what=f"{dotted(func.value) or 'app'}.run")
        return
    if attr == "call_on_close":
        ctx.report(node, "QM717", what=f"{dotted(func.value) or 'response'}.call_on_close")
    elif attr == "response_class":
        _event_stream(ctx, node)
    elif attr == "init_app" and (tag := ctx.tag_of(func.value)) and tag.startswith("ext:"):
        what = f"{dotted(func) or attr}(...)"
        ctx.report(node, "QM505", what=what, replacement=extensions.replacement(tag[4:]))
    elif attr in QUERY_RUNS and id(node) not in ctx.handled:
        _model_query(ctx, node)
    if (
        ctx.scopes
        and isinstance(func.value, ast.Name)
        and (tag := ctx.tag_of(func.value))
        and tag.startswith("inst:")
    ):
        # ``user.save()`` on a model instance: a call of ``User.save``.
        text = f"{func.value.id}.{attr}"
        site = CallSite(f"{tag[5:]}.{attr}", ctx.span(node), ctx.is_awaited(node), text)
        ctx.scopes[-1].summary.calls.append(site)


def _thread_ref(ctx: FileContext, node: ast.Call, name: str | None) -> None:
    # ``run_sync(f)``, ``asyncio.to_thread(f, ...)``, ``loop.run_in_executor(None, f)``,
    # ``pool.run(f, ...)`` / ``uow.run(f, ...)`` on the kit's WorkerPool or UnitOfWork.
    func = node.func
    args = node.args
    if name in OFF_LOOP_RUNNERS:
        target = args[0] if args else None
    elif isinstance(func, ast.Attribute) and func.attr == "run_in_executor":
        target = args[1] if len(args) > 1 else None
    elif (
        isinstance(func, ast.Attribute)
        and func.attr == "run"
        and isinstance(func.value, ast.Name | ast.Attribute)
        and ctx.tag_of(func.value) == "x:runner"
    ):
        target = args[0] if args else None
    else:
        return
    if isinstance(target, ast.Name | ast.Attribute) and (qualname := ctx.callee_qualname(target)):
        ctx.result.thread_refs.append(qualname)


def _named_call(ctx: FileContext, node: ast.Call, name: str | None) -> None:
    func = node.func
    if name in GREEN_PATCHES:
        ctx.report(node, "QM715", name=name)
    elif name in LOGGERS:
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and first.value == "werkzeug":
            ctx.report(node, "QM716")
    elif name in WSGI_TEST_APPS:
        ctx.report(node, "QM706", name=name)
    elif name in RESPONSE_CLASSES:
        _event_stream(ctx, node)
    elif _given_app(ctx, node) and (module := _extension_module(ctx, func)) is not None:
        what = (dotted(func) or module) + "(...)"
        ctx.report(node, "QM505", what=what, replacement=extensions.replacement(module))


def _given_app(ctx: FileContext, node: ast.Call) -> bool:
    # ``CORS(app)``, ``Limiter(key, app=app)``: set-up, not a field or helper of the package.
    values = [*node.args, *(k.value for k in node.keywords)]
    if any(k.arg == "app" for k in node.keywords):
        return True
    return any(isinstance(v, ast.Name) and _is_app(ctx, v) for v in values)


def last_part(func: ast.expr) -> str:
    """Return the last name of a called expression (``run_sync`` of ``quart.utils.run_sync``)."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_app(ctx: FileContext, expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name) and expr.id in ("app", "application"):
        return True
    return ctx.tag_of(expr) == "aw:app"


def _model_query(ctx: FileContext, node: ast.Call) -> None:
    # ``User.query.filter_by(name=n).first()``: the chain runs the query at its last call.
    expr: ast.expr = node.func
    while True:
        if isinstance(expr, ast.Call):
            ctx.handled.add(id(expr))
            expr = expr.func
        elif isinstance(expr, ast.Attribute):
            if (
                expr.attr == "query"
                and isinstance(expr.value, ast.Name)
                and expr.value.id[:1].isupper()
            ):
                text = f"{expr.value.id}.query"
                ctx.add_pending(PendingBlocking("orm:", ctx.span(node), text, None, True))
                return
            expr = expr.value
        else:
            return


def _event_stream(ctx: FileContext, node: ast.Call) -> None:
    # ``Response(gen(), mimetype="text/event-stream")`` with ``gen`` a sync generator here.
    if ctx.is_test_file:
        return
    kinds = [k.value for k in node.keywords if k.arg in ("mimetype", "content_type")]
    if not any(isinstance(v, ast.Constant) and v.value == EVENT_STREAM for v in kinds):
        return
    body = node.args[0] if node.args else None
    if isinstance(body, ast.Call) and ctx.resolve(body.func) == "flask.stream_with_context":
        body = body.args[0] if body.args else None
    if not isinstance(body, ast.Call):
        return
    generator = ctx.callee_qualname(body.func)
    if generator is None:
        return
    span = ctx.span(body)
    text = dotted(body.func) or "generator"

    def check() -> None:
        for func in ctx.result.functions:
            if func.qualname == generator and func.is_generator and not func.is_async:
                ctx.report(span, "QM417", name=text)

    ctx.deferred.append(check)


def _model_class(ctx: FileContext, value: ast.expr) -> str | None:
    # ``User.query.filter_by(...).first()`` → the class ``User`` of the checked code.
    if not (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in QUERY_ONE
    ):
        return None
    expr: ast.expr = value.func.value
    while isinstance(expr, ast.Call | ast.Attribute):
        if isinstance(expr, ast.Attribute) and expr.attr == "query":
            return ctx.callee_qualname(expr.value)
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    return None


def on_assign(ctx: FileContext, node: ast.AST) -> None:
    """Tag ``login_manager = LoginManager()`` and ``user = User.query...first()``."""
    assert isinstance(node, ast.Assign)
    value = node.value
    if ctx.gunicorn_config and any(
        isinstance(t, ast.Name) and t.id == "worker_class" for t in node.targets
    ):
        if isinstance(value, ast.Constant) and str(value.value).lower() in ("gevent", "eventlet"):
            ctx.report(value, "QM715", name=f"worker_class = {value.value!r}")
        return
    if isinstance(value, ast.Call) and ctx.symbols.resolve(value.func) in RUNNER_CLASSES:
        for target in node.targets:
            ctx.bind_tag(target, "x:runner")
        return
    model = _model_class(ctx, value)
    if model is not None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                ctx.bind_tag(target, f"inst:{model}")
        return
    if not isinstance(value, ast.Call):
        return
    func = value.func
    last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if last[:1].isupper() and (module := _extension_module(ctx, func)):
        for target in node.targets:
            if isinstance(target, ast.Name) and ctx.tag_of(target) is None:
                ctx.bind_tag(target, f"ext:{module}")
        in_class_body = bool(ctx.classes) and ctx.classes[-1][1] == len(ctx.scopes)
        if not value.args and not value.keywords and not in_class_body:
            # ``login_manager = LoginManager()``: the extension object, bound later.
            what = (dotted(func) or module) + "(...)"
            ctx.report(value, "QM505", what=what, replacement=extensions.replacement(module))


def on_function(ctx: FileContext, node: ast.AST) -> None:
    """Report ``@login_manager.user_loader``-style registrations on an extension object."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if not isinstance(target, ast.Attribute) or target.attr not in EXTENSION_CALLBACKS:
            continue
        tag = ctx.tag_of(target.value)
        if tag is not None and tag.startswith("ext:"):
            what = dotted(target) or target.attr
            ctx.report(dec, "QM505", what=what, replacement=extensions.replacement(tag[4:]))


def on_attribute(ctx: FileContext, node: ast.AST) -> None:
    """Report ``request.headers.environ``."""
    assert isinstance(node, ast.Attribute)
    if node.attr != "environ":
        return
    value = node.value
    if (
        node.attr == "environ"
        and isinstance(value, ast.Attribute)
        and value.attr == "headers"
        and is_request(ctx, value.value)
    ):
        ctx.report(node, "QM705", what=f"{dotted(node) or 'request.headers.environ'}")


def on_class(ctx: FileContext, node: ast.AST) -> None:
    """Report a ``unittest.TestCase`` whose tests use the test client (QM6xx inside)."""
    assert isinstance(node, ast.ClassDef)
    if any(ctx.resolve(base) in CONVERTER_BASES for base in node.bases):
        _check_converter(ctx, node)
        return
    if any(ctx.resolve(base) in FORM_BASES for base in node.bases):
        _check_form(ctx, node)
        return
    if not any(ctx.resolve(base) in TESTCASE_BASES for base in node.bases):
        return
    first, last = node.lineno, node.end_lineno or node.lineno
    span = ctx.def_span(node)

    def check() -> None:
        inside = [
            f
            for f in ctx.result.findings
            if f.code.startswith("QM6") and f.code != "QM608" and first <= f.line <= last
        ]
        if inside:
            ctx.report(span, "QM608", name=node.name)

    ctx.deferred.append(check)


def _check_converter(ctx: FileContext, node: ast.ClassDef) -> None:
    # ``to_python``/``to_url`` run while Quart matches the URL, on the loop, and stay sync.
    methods = {
        stmt.name
        for stmt in node.body
        if isinstance(stmt, ast.FunctionDef) and stmt.name in CONVERTER_METHODS
    }
    outer = ctx.scopes[-1].summary.qualname if ctx.scopes else ctx.module
    wanted = {f"{outer}.{node.name}.{name}" for name in methods}
    spans = {
        f"{outer}.{node.name}.{stmt.name}": ctx.def_span(stmt)
        for stmt in node.body
        if isinstance(stmt, ast.FunctionDef) and stmt.name in methods
    }

    def check() -> None:
        for func in ctx.result.functions:
            if func.qualname not in wanted:
                continue
            calls = [f.message.split("`", 2)[1] for f in func.blocking]
            calls += [p.text for p in func.pending if p.orm]
            if calls:
                name = f"{node.name}.{func.name}"
                ctx.report(spans[func.qualname], "QM418", name=name, call=calls[0])

    ctx.deferred.append(check)


def _check_form(ctx: FileContext, node: ast.ClassDef) -> None:
    # Inline validators run inside ``form.validate_on_submit()``, synchronously.
    outer = ctx.scopes[-1].summary.qualname if ctx.scopes else ctx.module
    spans = {
        f"{outer}.{node.name}.{stmt.name}": (stmt.name, ctx.def_span(stmt))
        for stmt in node.body
        if isinstance(stmt, ast.FunctionDef) and stmt.name.startswith("validate_")
    }

    def check() -> None:
        for func in ctx.result.functions:
            if func.qualname not in spans:
                continue
            calls = [f.message.split("`", 2)[1] for f in func.blocking]
            calls += [p.text for p in func.pending if p.orm]
            if calls:
                name, span = spans[func.qualname]
                field = name.removeprefix("validate_")
                ctx.report(span, "QM419", name=name, call=calls[0], field=field)

    ctx.deferred.append(check)


def on_assert(ctx: FileContext, node: ast.AST) -> None:
    """Report ``assert b"..." in response.data`` in a test that never checks the status."""
    assert isinstance(node, ast.Assert)
    test = node.test
    if not ctx.scopes or not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return
    if not isinstance(test.ops[0], ast.In):
        return
    haystack = test.comparators[0]
    if isinstance(haystack, ast.Await):
        haystack = haystack.value
    if isinstance(haystack, ast.Call):
        haystack = haystack.func
    if not isinstance(haystack, ast.Attribute) or haystack.attr not in ("data", "get_data"):
        return
    if ctx.tag_of(haystack.value) != "t:response":
        return
    scope = ctx.scopes[-1]
    if _checks_status(scope.node):
        return
    # Reported in the whole-run pass: a literal needle only where some Python source
    # of the run holds its text (``migrate.checker.engine._error_page_asserts``).
    needle = test.left.value if isinstance(test.left, ast.Constant) else None
    if isinstance(needle, bytes):
        needle = needle.decode("utf-8", "replace")
    what = dotted(haystack) or "response.data"
    text = needle if isinstance(needle, str) else None
    ctx.result.body_asserts.append((ctx.span(test), what, text))


def _checks_status(func: ast.AST) -> bool:
    return any(
        isinstance(sub, ast.Attribute) and sub.attr in ("status_code", "status")
        for sub in ast.walk(func)
    )


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.Call, on_call),
    (ast.Assign, on_assign),
    (ast.FunctionDef, on_function),
    (ast.AsyncFunctionDef, on_function),
    (ast.Attribute, on_attribute),
    (ast.ClassDef, on_class),
    (ast.Assert, on_assert),
]
