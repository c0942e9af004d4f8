"""Rule records of the awaitables family; detection is in :mod:`migrate.checker.awaitables`.

QM2xx awaitables: Flask calls and properties that Quart turns into coroutines.
"""

from __future__ import annotations

from migrate.checker.rules import Rule

CAT = "awaitables"


def _rule(
    code: str,
    name: str,
    summary: str,
    message: str,
    before: str,
    after: str,
    rationale: str,
    source: str,
    minutes: float = 1.0,
) -> Rule:
    return Rule(
        code,
        name,
        CAT,
        summary,
        message,
        before,
        after,
        rationale,
        source,
        minutes,
        needs_async=True,
    )


RULES = (
    _rule(
        "QM201",
        "request-body-await",
        "Request body access without `await`.",
        "`{what}` reads the request body, a coroutine in Quart: write `await {what}`",
        "@bp.post('/books')\ndef create():\n"
        "    data = request.get_json()\n    title = request.form['title']",
        "@bp.post('/books')\nasync def create():\n"
        "    data = await request.get_json()\n    title = (await request.form)['title']",
        "`form`, `files`, `values`, `data` and `json` are async properties and `get_json()`, "
        "`get_data()` coroutines in Quart. Without `await`, `request.form['x']` fails with "
        "TypeError and `request.get_json()` returns a coroutine. `request.args`, `headers`, "
        "`cookies` and `method` stay synchronous and are not reported.",
        "Quart src/quart/wrappers/request.py",
    ),
    _rule(
        "QM202",
        "request-stream",
        "`request.stream` / `request.input_stream`.",
        "`{what}` does not exist in Quart: iterate `async for chunk in request.body`",
        "for chunk in request.stream:\n    sink.write(chunk)",
        "async for chunk in request.body:\n    sink.write(chunk)",
        "Quart's `request.stream` raises NotImplementedError and `input_stream` is absent; "
        "the body is `request.body` (async iterable, or `await` it for all bytes).",
        "Quart src/quart/wrappers/request.py",
        5.0,
    ),
    _rule(
        "QM203",
        "render-template-await",
        "Template rendering without `await`.",
        "`{what}` is a coroutine in Quart: write `await {what}(...)`",
        "return render_template('index.html', books=books)",
        "return await render_template('index.html', books=books)",
        "Quart builds its Jinja environment with `enable_async=True`; `render_template`, "
        "`render_template_string`, `stream_template` and `stream_template_string` are coroutines.",
        "Quart src/quart/templating.py",
    ),
    _rule(
        "QM204",
        "make-response-await",
        "`make_response` without `await`.",
        "`{what}` is a coroutine in Quart: write `await {what}(...)`",
        "response = make_response(body, 201)",
        "response = await make_response(body, 201)",
        'A view returning the un-awaited coroutine fails with 500 "The response value type '
        '(coroutine) is not valid".',
        "Quart src/quart/helpers.py",
    ),
    _rule(
        "QM205",
        "send-file-await",
        "`send_file` without `await`, or with Flask's keywords.",
        "`send_file` is a coroutine in Quart: write `await send_file(...)`{renames}",
        "return send_file(path, download_name='report.csv', max_age=60)",
        "return await send_file(path, attachment_filename='report.csv', cache_timeout=60)",
        "Quart's `send_file(filename_or_io, ...)` renames `download_name` → `attachment_filename`, "
        "`max_age` → `cache_timeout`, `etag` → `add_etags`, takes a path or `io.BytesIO` only, "
        "and defaults `conditional` to False.",
        "Quart src/quart/helpers.py; Flask src/flask/helpers.py",
        3.0,
    ),
    _rule(
        "QM206",
        "send-from-directory-await",
        "`send_from_directory` without `await`.",
        "`send_from_directory` is a coroutine in Quart: write `await send_from_directory(...)`"
        "{renames}",
        "return send_from_directory(app.config['UPLOADS'], path=name)",
        "return await send_from_directory(app.config['UPLOADS'], file_name=name)",
        "Quart's second parameter is `file_name` (Flask's is `path`).",
        "Quart src/quart/helpers.py",
    ),
    _rule(
        "QM207",
        "send-static-file-await",
        "`send_static_file` without `await`.",
        "`{what}` is a coroutine in Quart: write `await {what}(...)`",
        "return app.send_static_file('index.html')",
        "return await app.send_static_file('index.html')",
        "`send_static_file` on the app and on blueprints is async in Quart.",
        "Quart src/quart/app.py, src/quart/blueprints.py",
    ),
    _rule(
        "QM208",
        "flash-await",
        "`flash` without `await`.",
        "`flash` is a coroutine in Quart: write `await flash(...)` (un-awaited, the "
        "message is never stored)",
        "flash('Saved.')\nreturn redirect(url_for('index'))",
        "await flash('Saved.')\nreturn redirect(url_for('index'))",
        "An un-awaited `flash` silently drops the message (only a RuntimeWarning is emitted). "
        "`get_flashed_messages()` stays synchronous.",
        "Quart src/quart/helpers.py",
    ),
    _rule(
        "QM209",
        "open-resource-await",
        "`open_resource` and reads from the file it returns.",
        "`{what}` is a coroutine in Quart: `async with await app.open_resource(path) as f:` "
        "then `await f.read()` (no `encoding`; modes `r`, `rb`, `rt` only)",
        "with app.open_resource('schema.sql') as f:\n    script = f.read().decode('utf8')",
        "async with await app.open_resource('schema.sql') as f:\n    script = (await f.read()).decode('utf8')",
        "Quart returns an aiofiles file from an awaited `open_resource`/`open_instance_resource`.",
        "Quart src/quart/app.py, src/quart/blueprints.py",
        2.0,
    ),
    _rule(
        "QM210",
        "file-save-await",
        "`FileStorage.save` on an uploaded file without `await`.",
        "`{what}` is a coroutine in Quart: write `await {what}(path)` (a path, not a file object)",
        "upload = request.files['cover']\nupload.save(target)",
        "upload = (await request.files)['cover']\nawait upload.save(target)",
        "`quart.datastructures.FileStorage.save` is async and opens its destination with aiofiles.",
        "Quart src/quart/datastructures.py",
    ),
    _rule(
        "QM211",
        "sync-context-manager",
        "`with app.app_context()` / `test_request_context()`.",
        "`{what}` is an async context manager in Quart: write `async with {what}(...)`",
        "with app.app_context():\n    init_db()",
        "async with app.app_context():\n    await init_db()",
        "Quart's `AppContext` has only `__aenter__`/`__aexit__`; a plain `with` raises TypeError.",
        "Quart src/quart/ctx.py",
    ),
    _rule(
        "QM212",
        "context-push-pop",
        "`ctx.push()` / `ctx.pop()` on an app or request context.",
        "`{what}` is a coroutine in Quart: write `await {what}()`",
        "ctx = app.app_context()\nctx.push()",
        "ctx = app.app_context()\nawait ctx.push()",
        "Quart's context push and pop are coroutines (the push is counted).",
        "Quart src/quart/ctx.py",
    ),
    _rule(
        "QM213",
        "template-render-sync",
        "`Template.render()` on Quart's async Jinja environment.",
        "`{what}` fails on Quart's async Jinja environment: write `await template.render_async(...)`",
        "html = app.jinja_env.get_template('mail.txt').render(user=user)",
        "html = await app.jinja_env.get_template('mail.txt').render_async(user=user)",
        "Sync `render()` on an async environment calls `asyncio.run` and fails inside a view.",
        "Quart src/quart/templating.py",
        2.0,
    ),
    Rule(
        "QM214",
        "startup-app-context",
        CAT,
        "`with app.app_context()` for start-up work where the app is built.",
        "start-up work under `with {what}()` where the app is built: move it into an "
        "`@app.before_serving` async function (the factory stays sync); tests then start the "
        "app with `async with app.test_app()`",
        "def create_app():\n    app = Flask(__name__)\n    init_database(app)\n"
        "    with app.app_context():\n        create_tables()\n        ensure_admin()\n"
        "    return app",
        "def create_app():\n    app = Quart(__name__)\n    init_database(app)\n\n"
        "    @app.before_serving\n    async def start_up():\n"
        "        await run_sync(create_tables)()\n        await ensure_admin()\n\n"
        "    return app",
        "Flask apps often create tables or an admin inside `with app.app_context()` right "
        "where the app is built. Quart's app context is async only, so that block needs an "
        "`async def`, but the factory must stay sync (`hypercorn 'module:create_app()'` calls "
        "it without awaiting). Quart runs `before_serving` functions once, inside an app "
        "context, when the server starts (the ASGI lifespan), before the first request. "
        "Reported instead of QM211 when the `with` names an app built by `Flask(...)` in the "
        "same function (or at module level). In a factory function the calls inside the "
        "block are checked as calls of an async function: QM307 asks for their `await` and "
        "their blocking calls are reported, but the factory does not become async because "
        "of them (calls at module level are not followed). The test client alone does not "
        "run `before_serving` functions.",
        "Quart docs/how_to_guides/startup_shutdown.rst, src/quart/app.py (startup), "
        "src/quart/ctx.py (AppContext)",
        5.0,
    ),
)
