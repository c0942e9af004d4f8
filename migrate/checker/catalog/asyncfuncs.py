"""Rule records of the asyncfuncs family; detection is in :mod:`migrate.checker.asyncfuncs`.

QM3xx async functions: what must become ``async def`` in Quart.
"""

from __future__ import annotations

from migrate.checker.rules import Rule

CAT = "async-functions"


PROPAGATION = (
    "Propagation follows calls whose target resolves statically to a function "
    "defined in the checked files: plain names (also nested functions), names "
    "imported with `import`/`from ... import` (relative imports and package "
    "re-exports included), module attributes (`helpers.load()`), and methods "
    "called on `self`/`cls` in their own class. It does not follow calls on other "
    "objects (`repo.load()`), functions passed as values (callbacks, `map`), "
    "inherited methods, or code outside the paths given on the command line. "
    "A function passed to `run_sync(...)`, `asyncio.to_thread(...)` or decorated "
    "with `@run_sync` runs in a thread and is not followed."
)


_RULES = (
    Rule(
        "QM301",
        "sync-view",
        CAT,
        "A view function defined with `def`.",
        "view `{name}` must become `async def` so it can await request data, "
        "templates and responses",
        "@bp.route('/books/<int:book_id>')\ndef show(book_id):\n    ...",
        "@bp.route('/books/<int:book_id>')\nasync def show(book_id):\n    ...",
        "Views are found by `@app.route`/`@bp.route` and the method shortcuts "
        "(`@bp.get('/x')`), by `add_url_rule(..., view_func=f)`, and as the HTTP-method "
        "and `dispatch_request` methods of `View`/`MethodView` subclasses. Quart would "
        "run a sync view in a thread, but then it cannot `await` anything. Files that "
        "import only Quart are not checked by this rule.",
        "Quart src/quart/views.py, docs/how_to_guides/sync_code.rst",
        1.0,
    ),
    Rule(
        "QM302",
        "sync-error-handler",
        CAT,
        "An error handler defined with `def`.",
        "error handler `{name}` must become `async def`",
        "@app.errorhandler(404)\ndef not_found(error):\n    return render_template('404.html'), 404",
        "@app.errorhandler(404)\nasync def not_found(error):\n"
        "    return await render_template('404.html'), 404",
        "Found by `@errorhandler`, `@app_errorhandler` and `register_error_handler(code, f)`.",
        "Quart src/quart/app.py (handle_user_exception)",
        1.0,
    ),
    Rule(
        "QM303",
        "sync-request-hook",
        CAT,
        "A before/after/teardown hook defined with `def`.",
        "request hook `{name}` must become `async def`",
        "@bp.before_app_request\ndef load_logged_in_user():\n    ...",
        "@bp.before_app_request\nasync def load_logged_in_user():\n    ...",
        "Found by the hook decorators (`before_request`, `after_request`, `teardown_request`, "
        "`teardown_appcontext` and their `*_app_*` blueprint forms) and by registering a "
        "function with the same methods as a call (`app.teardown_appcontext(close_db)`).",
        "Quart src/quart/app.py (preprocess_request, process_response)",
        1.0,
    ),
    Rule(
        "QM304",
        "sync-view-decorator",
        CAT,
        "The inner wrapper of a decorator used on views.",
        "wrapper `{name}` of view decorator `{decorator}` must become `async def` and "
        "await the view",
        "def login_required(view):\n    @functools.wraps(view)\n    def wrapped(**kwargs):\n"
        "        return view(**kwargs)\n    return wrapped",
        "def login_required(view):\n    @functools.wraps(view)\n    async def wrapped(**kwargs):\n"
        "        return await view(**kwargs)\n    return wrapped",
        "A sync wrapper around an async view returns the coroutine: Quart answers 500 "
        '"The response value type (coroutine) is not valid". A decorator counts as a view '
        "decorator when it is applied to a view anywhere in the checked files.",
        "Quart src/quart/app.py (make_response); Flask docs/async-await.rst",
        3.0,
    ),
    Rule(
        "QM305",
        "sync-caller",
        CAT,
        "A function that calls a function that becomes async.",
        "`{name}` must become `async def`: it calls `{callee}`, which becomes async",
        "def current_user():\n    return load_user(session['uid'])  # load_user becomes async",
        "async def current_user():\n    return await load_user(session['uid'])",
        "Async-ness spreads to every caller. Where it reaches an entry point that must "
        "stay sync (the `main()` that `python -m` or a console script runs, the `run` "
        "method of a `threading.Thread`), keep that one sync and run the async part with "
        "`asyncio.run(...)`. " + PROPAGATION,
        "Quart docs/how_to_guides/flask_migration.rst",
        2.0,
    ),
    Rule(
        "QM306",
        "sync-awaiting-function",
        CAT,
        "A function that uses an awaitable API.",
        "`{name}` must become `async def`: it awaits {what} (line {line})",
        "def payload():\n    return request.get_json()",
        "async def payload():\n    return await request.get_json()",
        "`await` is a syntax error outside `async def`, so any function with a QM2xx or "
        "QM6xx finding becomes async (test functions and fixtures included: use "
        "pytest-asyncio).",
        "Quart docs/how_to_guides/flask_migration.rst",
        1.0,
    ),
    Rule(
        "QM307",
        "unawaited-async-call",
        CAT,
        "A call to a function that becomes async.",
        "`{callee}` becomes async: write `await {callee}(...)`",
        "user = load_user(user_id)",
        "user = await load_user(user_id)",
        "Each call to a function that becomes `async def` needs `await`, including the "
        "view call inside a view decorator's wrapper. " + PROPAGATION,
        "Quart docs/how_to_guides/flask_migration.rst",
        0.5,
    ),
    Rule(
        "QM308",
        "sync-stream-generator",
        CAT,
        "`stream_with_context` around a synchronous generator.",
        "`{name}` must be an async generator for Quart's `stream_with_context`: "
        "`@stream_with_context` on `async def {name}()`",
        "def generate():\n    yield 'a'\nreturn Response(stream_with_context(generate()))",
        "@stream_with_context\nasync def generate():\n    yield 'a'\nreturn generate(), 200",
        "Quart's `stream_with_context` iterates with `async for`; a sync generator fails at "
        "stream time with TypeError.",
        "Quart src/quart/helpers.py (stream_with_context), docs/how_to_guides/streaming_response.rst",
        5.0,
    ),
)


QM309 = Rule(
    "QM309",
    "sync-blocking-function",
    CAT,
    "A sync function on the event loop that makes a blocking call.",
    "`{name}` runs on the event loop and blocks in `{call}` (line {line}): make it `async def` "
    "around an async client, or keep it sync and call it as `await run_sync({name})(...)`",
    "def get_db():\n    if 'db' not in g:\n        g.db = sqlite3.connect(DATABASE)\n    return g.db",
    "async def get_db():\n    if 'db' not in g:\n        g.db = await aiosqlite.connect(DATABASE)\n"
    "    return g.db",
    "Both fixes for a blocking call on the loop (an async library, or `await run_sync(f)(...)`) "
    "put an `await` in the function, so it becomes async and so do its callers (QM305). Only "
    "functions that run on the event loop are reported (see the blocking rules' scope). To "
    "keep a helper sync, call it from async code as `await run_sync(helper)(...)`.",
    "flake8-async docs/rules.rst; Quart docs/how_to_guides/sync_code.rst",
    2.0,
)
RULES: tuple[Rule, ...] = (*_RULES, QM309)
