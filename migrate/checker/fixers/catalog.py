"""What ``--fix`` does for each rule: applicability and a sentence, for the rule pages.

Rules not listed have no fix: their findings need a decision (display-only).
The fixers themselves are in :mod:`migrate.checker.fixers.rules` and its siblings;
a test keeps this table and them in step.
"""

from __future__ import annotations

from migrate.checker.edits import SAFE
from migrate.checker.edits import UNSAFE

_ASYNC_DEF = (
    SAFE,
    "`def` becomes `async def`. Not for special methods (`__init__`), properties, or a "
    "click command: its body moves into a nested `async def` run by `asyncio.run` inside "
    "`script_info.load_app().app_context()` (`@click.pass_obj`). Not for a function kept "
    "sync (see QM309) or an entry point (a function called at module level, as "
    "`raise SystemExit(main())` in `__main__.py`): it stays sync and runs the async "
    "functions it calls with `asyncio.run(...)` (QM307).",
)
_RUN_SYNC_METHOD = (
    UNSAFE,
    "written in a function that is or becomes async for another reason, the call moves "
    "to the worker pool: `await run_sync(db_session().commit)()`. The object then is used "
    "from pool threads one call at a time, which a SQLAlchemy `Session` and an "
    "`httpx.Client` allow; in a sync helper the call stays, and the helper is kept sync "
    "(QM309). A session's `commit()`, `rollback()` and `close()` are left as they are "
    "(display-only): they end a transaction that may hold a lock, and queued for a pool "
    "thread while every pool thread waits for that lock (SQLite has one write lock) they "
    "would never run; on the loop they run at once. Decide: one unit of work per request "
    "(`migrate.UnitOfWork`) or `AsyncSession`.",
)
_AWAIT = (
    SAFE,
    "`await` goes before the call, in parentheses when an attribute, index or call follows.",
)

FIXES: dict[str, tuple[str, str]] = {
    "QM101": (
        SAFE,
        "the import's package `flask` becomes `quart`. Names Quart lacks (QM105) stay on a "
        "`from flask import` line of their own after it, for QM105's decision; in a "
        "parenthesized import over several lines only when each of them is alone on its line "
        "and no comment sits between the parentheses (otherwise display-only).",
    ),
    "QM102": (SAFE, "`Flask` becomes `Quart` in the import and at each use."),
    "QM103": (SAFE, "`flask.X` becomes `quart.X`."),
    "QM104": (
        SAFE,
        "the renamed class's new name (`QuartClient`, `QuartCliRunner`, `QuartGroup`).",
    ),
    "QM201": (SAFE, '`await` goes before the body property or call: `(await request.form)["x"]`.'),
    "QM203": _AWAIT,
    "QM204": _AWAIT,
    "QM205": (
        SAFE,
        "`await`, Flask's keywords renamed to Quart's, and `conditional=True` (Flask's "
        "default, which answers `Range` and `If-None-Match`; Quart's is `False`).",
    ),
    "QM206": (SAFE, "`await`, and `path=` renamed to `file_name=`."),
    "QM207": _AWAIT,
    "QM208": _AWAIT,
    "QM209": (SAFE, "`async with await app.open_resource(...)`, and `await` on the file's reads."),
    "QM210": _AWAIT,
    "QM211": (
        SAFE,
        "`with` becomes `async with` (one context manager per statement only). When the "
        "function built the app by calling a factory with start-up work (QM214), the app "
        "starts first, as a server would start it: `await app.startup()`, then the `async "
        "with` in a `try` whose `finally` awaits `app.shutdown()` (an app context alone runs "
        "no `before_serving` function). A click command's body moved by the `async def` fix "
        "starts the app it loads the same way. In a function that stays sync (a special "
        "method such as a Celery task's `__call__`, a function kept sync by QM309, an entry "
        "point), an app context that is the function's last statement runs in a nested "
        "`async def` under `return asyncio.run(...)` instead: unsafe, since `asyncio.run` "
        "fails in a thread whose event loop is running.",
    ),
    "QM212": _AWAIT,
    "QM213": (SAFE, "`.render(...)` becomes `await ....render_async(...)`."),
    "QM214": (
        UNSAFE,
        "`with app.app_context():` becomes `@app.before_serving` over `async def start_up():` "
        "(the block keeps its indentation). The work then runs when the server starts, not "
        "when the factory is called: tests must start the app with `async with "
        "app.test_app()`; scripts and commands that build the app and open its context "
        "start it (see QM211).",
    ),
    "QM301": _ASYNC_DEF,
    "QM302": _ASYNC_DEF,
    "QM303": _ASYNC_DEF,
    "QM304": _ASYNC_DEF,
    "QM305": _ASYNC_DEF,
    "QM306": _ASYNC_DEF,
    "QM307": (
        SAFE,
        "`await` goes before the call, where the calling function is or becomes `async def` "
        "(unsafe where only an unsafe fix makes the called function async, QM309). "
        "A function kept sync (QM309) is called in the worker pool instead, "
        "`await run_sync(store.get_book)(session, book_id)` (unsafe); an entry point that "
        "stays sync runs the call with `asyncio.run(manage(args))` (unsafe).",
    ),
    "QM309": (
        UNSAFE,
        "`def` becomes `async def` where the fix of its blocking call makes the body "
        "async (`time.sleep`, sqlite3 → aiosqlite, a module function moved to `run_sync`). "
        "Otherwise (a SQLAlchemy session, an HTTP client, or any decorator such as "
        "`functools.cache`, which would cache a coroutine) the function stays sync, and so "
        "do the functions it calls and the callers that become async only because of it; "
        "their calls from async code become `await run_sync(f)(...)` (QM307).",
    ),
    "QM401": (UNSAFE, "`time.sleep(s)` becomes `await asyncio.sleep(s)`."),
    "QM403": _RUN_SYNC_METHOD,
    "QM404": (UNSAFE, "the call moves to the worker pool: `await run_sync(f)(...)`."),
    "QM405": (UNSAFE, "the call moves to the worker pool: `await run_sync(f)(...)`."),
    "QM407": (UNSAFE, "the call moves to the worker pool: `await run_sync(f)(...)`."),
    "QM409": (
        UNSAFE,
        "the connection moves to aiosqlite (`await aiosqlite.connect(...)`) and every use of "
        "it in the run is awaited, tests included; `conn.IntegrityError` becomes "
        "`sqlite3.IntegrityError`; `pytest.raises(sqlite3.ProgrammingError)` also accepts "
        "aiosqlite's `ValueError`.",
    ),
    "QM414": (UNSAFE, "the call moves to the worker pool: `await run_sync(f)(...)`."),
    "QM415": (UNSAFE, "the hashing moves to the worker pool: `await run_sync(f)(...)`."),
    "QM416": _RUN_SYNC_METHOD,
    "QM504": (
        UNSAFE,
        "the requirement's name `flask` becomes `quart` (its version bound stays: check it); "
        "`aiosqlite` is added after it when the run moves a sqlite3 connection to aiosqlite.",
    ),
    "QM505": (
        UNSAFE,
        "Flask-Limiter set up as `return Limiter(get_remote_address, app=app)` in a "
        'function, and used only as `limiter.limit("N per M seconds")(view)` (one limit, '
        "an f-string's fields allowed, `error_message=` dropped), becomes quart-rate-limiter: "
        "`RateLimiter(app, key_function=remote_address)` with a new `async def "
        "remote_address()` returning `request.remote_addr` (quart-rate-limiter's default "
        "key trusts `X-Forwarded-For`), and `rate_limit(N, timedelta(seconds=M))(view)`. "
        "Counts are GCRA in the process's memory (no `RATELIMIT_STORAGE_URI`); its 429 is a "
        "werkzeug `TooManyRequests` with `Retry-After`. An import only `error_message=` "
        "used goes with it. A handler of Flask-Limiter's `RateLimitExceeded`, which nothing "
        "raises any more, goes (its registration, its `def`, the imports only it used) when "
        "the module also registers a handler of `HTTPException`, which then renders the new "
        "429, and nothing else names the handler or the class. Any other use of the limiter, "
        "and every other extension, is display-only.",
    ),
    "QM601": _AWAIT,
    "QM602": (
        SAFE,
        "`async with` for `session_transaction()`. A `with client:` block is dropped: its "
        "requests are sent as plain statements and the statements that read `session`, `g` "
        "or `request` run in `client.app.test_request_context(...)` with the client's "
        "cookies, after `preprocess_request()`.",
    ),
    "QM603": (SAFE, "`data=` becomes `form=`."),
    "QM604": (
        SAFE,
        '`content_type=x` becomes `headers={"Content-Type": x}` (other keywords: none).',
    ),
    "QM606": (
        SAFE,
        '`set_cookie(key, value)` gets the server name first: `set_cookie("localhost", key, value)`.',
    ),
    "QM607": (SAFE, "`await` before the body; `.text` becomes `await ....get_data(as_text=True)`."),
    "QM609": (
        UNSAFE,
        "`assert response.status_code != 500` goes after the statement that assigns the "
        "response the assertion reads (in the same function): the test fails on a crash, as "
        "Flask's re-raised the view's exception. A view that answers 500 on purpose then "
        "fails too. A response that is not held in a name stays display-only.",
    ),
    "QM680": (
        SAFE,
        '`asyncio_mode = "auto"` and the fixture loop scope go into `[tool.pytest.ini_options]`; '
        "`pytest-asyncio` joins a `test`/`dev` extra that lists pytest on one line.",
    ),
    "QM681": (
        UNSAFE,
        "once every connection of the run is aiosqlite's (QM409's fix), "
        "`pytest.raises(sqlite3.ProgrammingError)` around one call on a connection becomes "
        "`pytest.raises(ValueError)`, and a message check whose text is part of sqlite3's "
        '("closed" in `str(e.value)`, `match="closed"`) checks aiosqlite\'s: "no active '
        'connection" for a connection\'s method, "Connection closed" for a cursor\'s. '
        "`import sqlite3` goes when that was its last use. Any other read of the error "
        "stays display-only.",
    ),
    "QM710": (
        SAFE,
        '`from_prefixed_env()` becomes `from_prefixed_env(prefix="FLASK")`: the app keeps '
        "reading the `FLASK_*` variables. Rename them and drop the argument to use Quart's.",
    ),
    "QM709": (
        UNSAFE,
        '`app.config["MAX_CONTENT_LENGTH"] = None` after `app = Flask(...)`: Flask\'s '
        "unlimited body size, kept. Choose a limit instead where the app takes uploads.",
    ),
    "QM721": (
        UNSAFE,
        "each function of the module that uses `session` first sets `g.session_read = True`, "
        "and a hook on the module's blueprint (`@bp.after_app_request`) or app "
        "(`@app.after_request`) adds `Vary: Cookie` when it is set, as Flask does when a "
        "request uses the session. Only where every use is inside a `def` and the module "
        "creates the blueprint or app; otherwise display-only.",
    ),
}


def describe(code: str) -> str:
    """Return the rule page's line about ``code``'s fix."""
    if code not in FIXES:
        return "Fix: none (display-only): the finding needs a decision."
    applicability, what = FIXES[code]
    flag = "`--fix`" if applicability == SAFE else "`--fix --unsafe-fixes`"
    return f"Fix: {applicability}, applied by {flag}: {what}"
