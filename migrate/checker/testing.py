"""QM6xx tests: the Flask test client used the Flask way.

Quart's test client methods are coroutines and several arguments differ. A test
client is a value from ``app.test_client()``, or a parameter named ``client``
in a test file (``test_*.py``, ``*_test.py``, ``conftest.py``) or a ``test_*``
function; a response is a value returned by one of its request methods.
A pytest fixture that returns an instance of a class of the checked code
(``return AuthActions(client)``) gives that class to the parameters named after
it, so ``auth.login()`` in a test is a call of ``AuthActions.login``.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from migrate.checker.model import CallSite
from migrate.checker.symbols import dotted

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


REQUESTS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace", "open"})
KEYWORDS = {
    "content_type": "set `headers={'Content-Type': ...}`",
    "buffered": "drop it",
    "environ_base": "pass `headers=` / `scope_base=`",
    "environ_overrides": "pass `scope_base=`",
    "base_url": "put the host in `headers={'Host': ...}`",
}
BODY_ATTRS = frozenset({"data", "json", "text"})
BODY_CALLS = frozenset({"get_json", "get_data"})
RESPONSE_NAMES = frozenset({"response", "resp", "rv"})
FIXTURE_DECORATORS = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})


def _is_test_function(ctx: FileContext) -> bool:
    return ctx.is_test_file or any(s.summary.name.startswith("test_") for s in ctx.scopes)


def is_client(ctx: FileContext, expr: ast.expr) -> bool:
    """Return true when ``expr`` holds a Flask (or Quart) test client."""
    if isinstance(expr, ast.Call):
        return isinstance(expr.func, ast.Attribute) and expr.func.attr == "test_client"
    return ctx.tag_of(expr) == "t:client"


def _client_request(ctx: FileContext, expr: ast.expr) -> bool:
    if isinstance(expr, ast.Await):
        expr = expr.value
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in REQUESTS
        and is_client(ctx, expr.func.value)
    )


def _is_response(ctx: FileContext, expr: ast.expr) -> bool:
    return ctx.tag_of(expr) == "t:response" or _client_request(ctx, expr)


def on_function(ctx: FileContext, node: ast.AST) -> None:
    """Treat a ``client`` parameter of a test or fixture as the test client."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    if not _is_test_function(ctx):
        return
    if ctx.is_test_file and any(_is_fixture(ctx, dec) for dec in node.decorator_list):
        made = _fixture_class(ctx, node)
        if made is not None:
            ctx.result.fixtures[node.name] = made
    for arg in (*node.args.args, *node.args.kwonlyargs):
        if arg.arg in ("client", "test_client"):
            ctx.scopes[-1].tags[arg.arg] = "t:client"


def _is_fixture(ctx: FileContext, dec: ast.expr) -> bool:
    target = dec.func if isinstance(dec, ast.Call) else dec
    return ctx.symbols.resolve(target) in FIXTURE_DECORATORS


def _fixture_class(ctx: FileContext, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    # ``return AuthActions(client)`` / ``yield AuthActions(client)`` in the fixture's own body.
    pending: list[ast.AST] = list(node.body)
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        value = stmt.value if isinstance(stmt, ast.Return | ast.Yield) else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            return ctx.callee_qualname(value.func)
        pending.extend(ast.iter_child_nodes(stmt))
    return None


def _text(expr: ast.expr) -> str:
    return dotted(expr) or "client"


def on_call(ctx: FileContext, node: ast.AST) -> None:
    """Check test-client requests, their arguments, cookies and response reads."""
    assert isinstance(node, ast.Call)
    func = node.func
    if not isinstance(func, ast.Attribute):
        return
    receiver, attr = func.value, func.attr
    if attr == "setattr" and dotted(receiver) == "monkeypatch":
        _check_replacement(ctx, node)
        return
    if attr in REQUESTS and is_client(ctx, receiver):
        if not ctx.is_awaited(node):
            ctx.report(node, "QM601", what=f"{_text(receiver)}.{attr}")
        _check_arguments(ctx, node)
    elif attr in ("set_cookie", "get_cookie") and is_client(ctx, receiver):
        _check_cookie(ctx, node, attr)
    elif attr in BODY_CALLS and not ctx.is_awaited(node) and _is_response(ctx, receiver):
        what = f"{dotted(receiver) or 'response'}.{attr}()"
        ctx.report(node, "QM607", what=what, fix=f"write `await {what}`")


def _check_arguments(ctx: FileContext, node: ast.Call) -> None:
    for keyword in node.keywords:
        value = keyword.value
        if keyword.arg == "data" and (
            isinstance(value, ast.Dict | ast.DictComp)
            or (isinstance(value, ast.Call) and dotted(value.func) == "dict")
        ):
            ctx.report(keyword, "QM603")
        elif keyword.arg in KEYWORDS:
            ctx.report(keyword, "QM604", keyword=keyword.arg, fix=KEYWORDS[keyword.arg])
        elif keyword.arg == "query_string" and (
            isinstance(value, ast.JoinedStr)
            or (isinstance(value, ast.Constant) and isinstance(value.value, str | bytes))
        ):
            ctx.report(keyword, "QM605")


def _check_cookie(ctx: FileContext, node: ast.Call, attr: str) -> None:
    if attr == "get_cookie":
        ctx.report(
            node, "QM606", fix="Quart's test client has no `get_cookie`: read `client.cookie_jar`"
        )
        return
    named = {k.arg for k in node.keywords}
    if len(node.args) < 3 and "server_name" not in named:
        ctx.report(
            node,
            "QM606",
            fix="Quart's `set_cookie` takes the server name first: "
            "`set_cookie('localhost', key, value)`",
        )


def on_attribute(ctx: FileContext, node: ast.AST) -> None:
    """Report ``response.data`` / ``.json`` / ``.text`` read without ``await``."""
    assert isinstance(node, ast.Attribute)
    if node.attr not in BODY_ATTRS or not isinstance(node.ctx, ast.Load):
        return
    if ctx.is_awaited(node) or not _is_response(ctx, node.value):
        return
    base = dotted(node.value) or "response"
    if node.attr == "text":
        fix = f"write `await {base}.get_data(as_text=True)` (Quart responses have no `text`)"
    else:
        fix = f"write `await {base}.{node.attr}`"
    ctx.report(node, "QM607", what=f"{base}.{node.attr}", fix=fix)


def on_assign(ctx: FileContext, node: ast.AST) -> None:
    """Tag names holding a test client or a test response."""
    assert isinstance(node, ast.Assign)
    value = node.value
    if is_client(ctx, value) and not isinstance(value, ast.Await):
        tag = "t:client"
    elif _client_request(ctx, value) or _helper_response(ctx, node):
        tag = "t:response"
    else:
        return
    for target in node.targets:
        ctx.bind_tag(target, tag)


def _helper_response(ctx: FileContext, node: ast.Assign) -> bool:
    # ``response = auth.login()``: a test helper on a fixture parameter that sends a
    # request; only names that say they hold a response are taken for one.
    value = node.value.value if isinstance(node.value, ast.Await) else node.value
    if not ctx.is_test_file or not ctx.scopes or not isinstance(value, ast.Call):
        return False
    func = value.func
    on_fixture = (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ctx.scopes[-1].params
        and not _annotated(ctx.scopes[-1].node, func.value.id)
    )
    names = [t.id for t in node.targets if isinstance(t, ast.Name)]
    return on_fixture and bool(names) and all(n in RESPONSE_NAMES for n in names)


def _annotated(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    # ``api: httpx.Client``: a typed fixture says what it is, and it is not a test helper.
    args = (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
    return any(a.arg == name and a.annotation is not None for a in args)


def _check_replacement(ctx: FileContext, node: ast.Call) -> None:
    # ``monkeypatch.setattr("pkg.db.init_db", fake_init_db)``: the replacement is called
    # where the original is, so it becomes async with it (an edge of the call graph).
    if len(node.args) < 2 or not ctx.scopes:
        return
    target, replacement = node.args[0], node.args[1]
    if not isinstance(target, ast.Constant) or not isinstance(target.value, str):
        return
    if target.value.partition(".")[0] not in ctx.local_roots:
        return
    if not isinstance(replacement, ast.Name):
        return
    qualname = ctx.callee_qualname(replacement)
    for summary in ctx.result.functions:
        if summary.qualname == qualname:
            text = target.value.rpartition(".")[2]
            summary.calls.append(CallSite(target.value, ctx.span(node), True, text))


def on_with(ctx: FileContext, node: ast.AST) -> None:
    """Report ``with client:`` and ``with client.session_transaction()``.

    Also keep (for QM681, decided run-wide) a ``pytest.raises`` of
    ``sqlite3.ProgrammingError`` whose message the test reads.
    """
    assert isinstance(node, ast.With)
    for item in node.items:
        expr = item.context_expr
        if ctx.is_test_file and _closed_error_check(ctx, node, item):
            what = (ast.get_source_segment(ctx.source, expr) or "pytest.raises(...)").split("\n")[0]
            ctx.result.sqlite_error_checks.append((ctx.span(expr), what))
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "session_transaction"
            and is_client(ctx, expr.func.value)
        ):
            ctx.report(expr, "QM602", what=f"{_text(expr.func.value)}.session_transaction()")
        elif is_client(ctx, expr):
            ctx.report(expr, "QM602", what=dotted(expr) or "client")
            if item.optional_vars is not None:
                ctx.bind_tag(item.optional_vars, "t:client")


def _closed_error_check(ctx: FileContext, node: ast.With, item: ast.withitem) -> bool:
    expr = item.context_expr
    if not isinstance(expr, ast.Call) or ctx.symbols.resolve(expr.func) != "pytest.raises":
        return False
    if not expr.args or not any(
        ctx.symbols.resolve(sub) == "sqlite3.ProgrammingError"
        for sub in ast.walk(expr.args[0])
        if isinstance(sub, ast.Attribute | ast.Name)
    ):
        return False
    if any(k.arg == "match" for k in expr.keywords):
        return True
    if not isinstance(item.optional_vars, ast.Name):
        return False
    name = item.optional_vars.id
    # The message is read after the block: ``str(e.value)``, ``e.value.args``, ``e.match(...)``.
    scope = _enclosing_body(ctx.tree, node)
    return any(
        isinstance(sub, ast.Attribute)
        and sub.attr in ("value", "match")
        and isinstance(sub.value, ast.Name)
        and sub.value.id == name
        for stmt in scope
        for sub in ast.walk(stmt)
    )


def _enclosing_body(tree: ast.Module, node: ast.With) -> list[ast.stmt]:
    body: list[ast.stmt] = tree.body
    for candidate in ast.walk(tree):
        if isinstance(candidate, ast.FunctionDef | ast.AsyncFunctionDef):
            end = candidate.end_lineno or candidate.lineno
            if candidate.lineno <= node.lineno <= end and any(
                sub is node for sub in ast.walk(candidate)
            ):
                body = candidate.body
    return body


def on_connect(ctx: FileContext, node: ast.AST) -> None:
    """Note a ``sqlite3.connect`` / ``aiosqlite.connect`` call (QM681 needs one in the run)."""
    assert isinstance(node, ast.Call)
    target = ctx.symbols.resolve(node.func)
    if target in ("sqlite3.connect", "aiosqlite.connect"):
        ctx.result.connects_sqlite = True
        ctx.result.connects_sqlite3 |= target == "sqlite3.connect"


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.Call, on_connect),
    (ast.FunctionDef, on_function),
    (ast.AsyncFunctionDef, on_function),
    (ast.Call, on_call),
    (ast.Attribute, on_attribute),
    (ast.Assign, on_assign),
    (ast.With, on_with),
]
