"""Flask-Limiter → quart-rate-limiter, for the simplest set-up only (unsafe, run-wide).

Flask-Limiter's before-request hook and its ``limit`` wrapper read Flask's ``request``,
so on Quart every request fails. The one shape rewritten here is::

    def init_limiter(app):
        return Limiter(get_remote_address, app=app)

    limiter = init_limiter(app)
    app.view_functions["auth.register"] = limiter.limit("10 per 60 seconds")(view)

which becomes ``RateLimiter(app, key_function=remote_address)`` (a new ``async def
remote_address()`` returning ``request.remote_addr``, as ``get_remote_address`` does;
quart-rate-limiter's own default key reads ``X-Forwarded-For`` first, which a client
sets) and ``rate_limit(10, timedelta(seconds=60))(view)``. Every use of the limiter in
the run must be such a ``limit`` call with one limit (``N per [M] unit`` or ``N/unit``,
an f-string's fields allowed); anything else (``deduct_when=``, ``cost=``, ``exempt``,
``init_app``, several limits, another key function) leaves all of it to a decision.

What changes: quart-rate-limiter counts with GCRA, not a moving window (a burst of N,
then one per M/N s); it counts in the process's memory (``RATELIMIT_STORAGE_URI`` is no
longer read: pass ``store=RedisStore(url)`` for a count shared by processes); its 429 is
its own ``RateLimitExceeded`` (a werkzeug ``TooManyRequests`` with ``Retry-After``), so
``error_message=`` is dropped (and the import of a name only it used), and a handler of
Flask-Limiter's exception would never run again: it goes where the module's handler of
``HTTPException`` renders the new 429 (:func:`handler_edits`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from migrate.checker.edits import UNSAFE
from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.fixers.base import FUNCS
from migrate.checker.fixers.base import Key
from migrate.checker.fixers.base import Source
from migrate.checker.symbols import dotted

LIMITER = "flask_limiter.Limiter"
REMOTE_ADDRESS = "flask_limiter.util.get_remote_address"
KEY_FUNCTION = "remote_address"
UNITS = {"second": "seconds", "minute": "minutes", "hour": "hours", "day": "days"}
# ``10 per 60 seconds``, ``10 per minute``, ``10/hour``; a field of an f-string is ``\x00N``.
_NUMBER = r"(\d+|\x00\d+)"
_SPEC = re.compile(
    rf"^\s*{_NUMBER}\s*(?:per|/)\s*(?:{_NUMBER}\s+)?(second|minute|hour|day)s?\s*$", re.I
)
MESSAGE = "Count with quart-rate-limiter"


def limit_args(src: Source, spec: ast.expr) -> str | None:
    """Return ``rate_limit``'s arguments for a Flask-Limiter limit string, or ``None``.

    ``"10 per 60 seconds"`` → ``10, timedelta(seconds=60)``; the fields of an f-string keep
    their source text. Several limits (``;``), moving-window names or format specs: ``None``.
    """
    fields: list[str] = []
    if isinstance(spec, ast.Constant) and isinstance(spec.value, str):
        template = spec.value
    elif isinstance(spec, ast.JoinedStr):
        parts = []
        for value in spec.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            elif (
                isinstance(value, ast.FormattedValue)
                and value.conversion == -1
                and value.format_spec is None
                and (text := ast.get_source_segment(src.text, value.value)) is not None
            ):
                parts.append(f"\x00{len(fields)}")
                fields.append(text)
            else:
                return None
        template = "".join(parts)
    else:
        return None
    match = _SPEC.match(template)
    if match is None:
        return None

    def part(text: str | None) -> str:
        if text is None:
            return "1"
        return fields[int(text[1:])] if text.startswith("\x00") else text

    count, every, unit = match.groups()
    return f"{part(count)}, timedelta({UNITS[unit.lower()]}={part(every)})"


@dataclass
class _Setup:
    """The ``Limiter(...)`` call and the function that returns its object."""

    src: Source
    call: ast.Call
    app: ast.expr
    holder: str  # qualname of the function that returns it


def _top_statement(src: Source, node: ast.AST) -> ast.stmt | None:
    for parent in [node, *src.ancestors(node)]:
        if src.parent(parent) is src.tree:
            return parent if isinstance(parent, ast.stmt) else None
    return None


def _setup(src: Source, call: ast.Call) -> _Setup | None:
    if src.symbols.resolve(call.func) != LIMITER:
        return None
    args = list(call.args)
    keywords = {k.arg: k.value for k in call.keywords}
    if None in keywords or set(keywords) - {"key_func", "app"} or len(args) > 2:
        return None
    key = keywords.get("key_func", args[0] if args else None)
    app = keywords.get("app", args[1] if len(args) > 1 else None)
    if (len(args) > 1 and "app" in keywords) or (args and "key_func" in keywords):
        return None
    if key is None or app is None or src.symbols.resolve(key) != REMOTE_ADDRESS:
        return None
    parent = src.parent(call)
    module = src.symbols.module
    if isinstance(parent, ast.Return):
        func = src.function_of(call)
        if isinstance(func, FUNCS) and src.parent(func) is src.tree:
            return _Setup(src, call, app, f"{module}.{func.name}")
    return None


def _names_used(src: Source, name: str) -> int:
    return sum(1 for n in ast.walk(src.tree) if isinstance(n, ast.Name) and n.id == name)


def _setup_edits(setup: _Setup) -> list[Edit]:
    src, call = setup.src, setup.call
    app = ast.get_source_segment(src.text, setup.app) or "app"
    edits = [src.replace(call, f"RateLimiter({app}, key_function={KEY_FUNCTION})")]
    func = src.function_of(call)
    if (
        isinstance(func, FUNCS)
        and isinstance(func.returns, ast.Name)
        and func.returns.id == "Limiter"
    ):
        edits.append(src.replace(func.returns, "RateLimiter"))
    top = _top_statement(src, call)
    if top is not None:
        line = top.lineno
        for dec in getattr(top, "decorator_list", ()):
            line = min(line, dec.lineno)
        bound = src.symbols.resolve(ast.Name("request"))
        request = (
            "request" if bound in (None, "flask.request", "quart.request") else "quart.request"
        )
        definition = (
            f"async def {KEY_FUNCTION}() -> str:\n"
            '    """Return the client\'s address: what the rate limits count by."""\n'
            f'    return {request}.remote_addr or "127.0.0.1"\n\n\n'
        )
        edits.append(Edit(line, 1, line, 1, definition, -1))
        statement = "import quart" if request == "quart.request" else "from quart import request"
        if bound is None or request == "quart.request":
            edit = src.add_import(statement, "quart")
            if edit is not None:
                edits.append(edit)
    for stmt in src.tree.body:
        if not isinstance(stmt, ast.ImportFrom) or len(stmt.names) != 1:
            continue
        name = f"{stmt.module}.{stmt.names[0].name}"
        local = stmt.names[0].asname or stmt.names[0].name
        end = (stmt.end_lineno or stmt.lineno) + 1
        if name == LIMITER:
            new = "from quart_rate_limiter import RateLimiter\n"
            edits.append(Edit(stmt.lineno, 1, end, 1, new))
        elif name == REMOTE_ADDRESS and _names_used(src, local) == 1:
            edits.append(Edit(stmt.lineno, 1, end, 1, ""))
    if not any(e.content.startswith("from quart_rate_limiter") for e in edits):
        edit = src.add_import("from quart_rate_limiter import RateLimiter", "quart_rate_limiter")
        if edit is not None:
            edits.append(edit)
    return edits


def _uses(src: Source, holders: set[str]) -> Iterator[tuple[ast.AST, ast.Assign | None, bool]]:
    """Yield ``(node, binding, ok)`` for each use of a limiter object in ``src``.

    ``binding`` is the ``limiter = init_limiter(app)`` that named it in a function; ``ok``
    says whether the use is a ``limiter.limit("...")`` call this module can rewrite.
    """
    for func in ast.walk(src.tree):
        if not isinstance(func, FUNCS):
            continue
        src.note_parents(func)
        bound: dict[str, ast.Assign] = {}
        for node in ast.walk(func):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and src.symbols.resolve(node.value.func) in holders
            ):
                bound[node.targets[0].id] = node
        for node in ast.walk(func):
            if not isinstance(node, ast.Name) or node.id not in bound:
                continue
            if isinstance(node.ctx, ast.Store):
                continue
            attribute = src.parent(node)
            call = src.parent(attribute) if attribute is not None else None
            ok = (
                isinstance(attribute, ast.Attribute)
                and attribute.attr == "limit"
                and isinstance(call, ast.Call)
                and call.func is attribute
                and len(call.args) == 1
                and all(k.arg == "error_message" for k in call.keywords)
                and limit_args(src, call.args[0]) is not None
            )
            yield (call if ok and call is not None else node), bound[node.id], ok


def _drop_keyword(src: Source, before: ast.AST, keyword: ast.keyword) -> Edit:
    """Return the edit that deletes ``keyword`` (with its comma) from a call."""
    line, col = src.start(keyword)
    end_line, end_col = src.end(keyword)
    text = src.line_text(line)
    rest = src.line_text(end_line)[end_col - 1 :].strip()
    if not text[: col - 1].strip() and rest in ("", ","):
        # Alone on its line(s): the whole lines go.
        return Edit(line, 1, end_line + 1, 1, "")
    start_line, start_col = src.end(before)
    return Edit(start_line, start_col, end_line, end_col, "")


def _use_edits(src: Source, uses: list[tuple[ast.AST, ast.Assign | None, bool]]) -> list[Edit]:
    edits: list[Edit] = []
    dropped: list[Key] = []
    bindings: dict[int, ast.Assign] = {}
    for node, binding, _ in uses:
        assert isinstance(node, ast.Call)
        args = limit_args(src, node.args[0])
        assert args is not None and isinstance(node.func, ast.Attribute)
        # Only the name, the limit and ``error_message=`` change: comments stay.
        edits.append(src.replace(node.func, "rate_limit"))
        edits.append(src.replace(node.args[0], args))
        for keyword in node.keywords:
            edits.append(_drop_keyword(src, node.args[0], keyword))
            dropped.append(src.span(keyword))
        if binding is not None:
            bindings[id(binding)] = binding
    edits += src.dead_imports(dropped)  # ``error_message=``'s text, when only it used it
    for binding in bindings.values():
        # ``limiter = init_limiter(app)`` → ``init_limiter(app)``: it still sets up the app.
        line, col = src.start(binding)
        value_line, value_col = src.start(binding.value)
        edits.append(Edit(line, col, value_line, value_col, ""))
    for statement, module in (
        ("from datetime import timedelta", "datetime"),
        ("from quart_rate_limiter import rate_limit", "quart_rate_limiter"),
    ):
        edit = src.add_import(statement, module)
        if edit is not None:
            edits.append(edit)
    return edits


def _lines_of(src: Source, node: ast.stmt) -> Key | None:
    """Return the lines of ``node`` (decorators included) and the blank lines after it, as a
    range to delete; ``None`` when code shares them or a comment above would be orphaned."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    last = node.end_lineno or node.lineno
    end_line, end_col = src.end(node)
    after = src.line_text(end_line)[end_col - 1 :].strip()
    if src.line_text(first - 1).strip().startswith("#") or (after and after[0] != "#"):
        return None
    if src.line_text(first)[: node.col_offset].strip():
        return None  # ``x = 1; app.register_error_handler(...)``
    while last < len(src.lines) and not src.line_text(last + 1).strip():
        last += 1
    if first == 1:
        return (first, 1, last + 1, 1)
    # From the end of the line before to the end of the last line: an insertion at the
    # start of a deleted line (``async `` before its ``def``) falls inside, so it waits.
    return (first - 1, len(src.line_text(first - 1)) + 1, last, len(src.line_text(last)) + 1)


def handler_edits(src: Source) -> list[Edit]:
    """Return the removal of a handler of Flask-Limiter's ``RateLimitExceeded``, or ``[]``.

    After the swap nothing raises that class: quart-rate-limiter raises its own
    ``RateLimitExceeded``, a werkzeug ``TooManyRequests`` whose headers carry
    ``Retry-After``, which the module's handler of ``HTTPException`` renders. So the
    handler goes when the module registers one for ``HTTPException`` (the app's own error
    body stays), every use of the class is ``app.register_error_handler(RateLimitExceeded,
    handler)`` or ``@app.errorhandler(RateLimitExceeded)``, and nothing else names the
    handler. Its registration, its ``def`` and the imports only it used go with it.
    """
    if "RateLimitExceeded" not in src.text:
        return []
    imported = [
        stmt
        for stmt in src.tree.body
        if isinstance(stmt, ast.ImportFrom)
        and stmt.module in ("flask_limiter", "flask_limiter.errors")
        and [a.name for a in stmt.names] == ["RateLimitExceeded"]
    ]
    name = src.lone_import(imported[0]) if len(imported) == 1 else None
    if name is None:
        return []
    src.note_parents(src.tree)
    renders_http = False
    gone: list[ast.stmt] = []
    handlers: list[str] = []
    for node in ast.walk(src.tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in ("register_error_handler", "errorhandler") or not node.args:
            continue
        first = node.args[0]
        if src.symbols.resolve(first) == "werkzeug.exceptions.HTTPException":
            renders_http = True
        if not (isinstance(first, ast.Name) and first.id == name):
            continue
        parent = src.parent(node)
        if node.func.attr == "register_error_handler":
            handler = node.args[1] if len(node.args) == 2 else None
            if not isinstance(parent, ast.Expr) or not isinstance(handler, ast.Name):
                return []
            gone.append(parent)
            handlers.append(handler.id)
        elif isinstance(parent, FUNCS) and node in parent.decorator_list:
            gone.append(parent)
        else:
            return []
    for stmt in src.tree.body:
        if isinstance(stmt, FUNCS) and stmt.name in handlers:
            gone.append(stmt)
    if not renders_http or not gone:
        return []
    ranges = [_lines_of(src, stmt) for stmt in gone]
    if None in ranges:
        return []
    removed = [r for r in ranges if r is not None]
    # Each handler named by a registration must be a top-level ``def`` used nowhere else.
    defined = {s.name for s in gone if isinstance(s, FUNCS)}
    for handler_name in handlers:
        if handler_name not in defined:
            return []
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Name) and node.id in defined:
            at = src.start(node)
            if not any((a, b) <= at < (c, d) for a, b, c, d in removed):
                return []
    dead = src.dead_imports([*removed, src.span(imported[0])])
    if not any(edit.line == imported[0].lineno for edit in dead):
        return []  # the class is named elsewhere: the import stays, so does the handler
    return [*(Edit(a, b, c, d, "") for a, b, c, d in removed), *dead]


def fixes(sources: list[Source]) -> dict[tuple[str, Key], Fix]:
    """Return the run's Flask-Limiter swap: one fix per file, keyed by a span in it.

    The set-up file's fix is keyed by the ``Limiter(...)`` call (its QM505 finding); a
    file that uses the limiter by its first ``limit`` call. Empty unless every use
    converts.
    """
    setups: list[_Setup] = []
    for src in sources:
        if "Limiter" not in src.text:
            continue
        for node in ast.walk(src.tree):
            if isinstance(node, ast.Call) and dotted(node.func) in (
                "Limiter",
                "flask_limiter.Limiter",
            ):
                src.note_parents(src.tree)
                setup = _setup(src, node)
                if setup is None:
                    return {}
                setups.append(setup)
    if len(setups) != 1:
        return {}
    setup = setups[0]
    holders = {setup.holder}
    found: dict[str, list[tuple[ast.AST, ast.Assign | None, bool]]] = {}
    for src in sources:
        if setup.holder.rpartition(".")[2] not in src.text:
            continue
        uses = list(_uses(src, holders))
        if any(not ok for _, _, ok in uses):
            return {}
        if uses:
            found[src.path] = uses
    if not found:
        return {}
    out: dict[tuple[str, Key], Fix] = {}
    out[(setup.src.path, setup.src.span(setup.call))] = Fix(
        tuple(_setup_edits(setup)), UNSAFE, MESSAGE
    )
    by_path = {src.path: src for src in sources}
    for path, uses in found.items():
        src = by_path[path]
        edits = _use_edits(src, uses)
        key = src.span(uses[0][0])
        if (path, key) in out:
            return {}
        if path == setup.src.path:
            return {}  # one fix per file: a set-up and its uses in one file are left alone
        out[(path, key)] = Fix(tuple(edits), UNSAFE, MESSAGE)
    for src in sources:
        edits = handler_edits(src)
        if not edits:
            continue
        taken = next((k for k in out if k[0] == src.path), None)
        if taken is not None:
            out[taken] = Fix((*out[taken].edits, *edits), UNSAFE, MESSAGE)
        else:
            out[(src.path, src.span(src.tree.body[0]))] = Fix(tuple(edits), UNSAFE, MESSAGE)
    return out
