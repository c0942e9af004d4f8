"""Rule records of the wsgi family; detection is in :mod:`migrate.checker.wsgi`.

QM7xx WSGI and configuration: servers, middleware, and settings Quart reads differently.
"""

from __future__ import annotations

from migrate.checker.rules import Rule

CAT = "wsgi-config"


HYPERCORN = "serve the app with Hypercorn (`hypercorn module:app`)"


RULES = (
    Rule(
        "QM701",
        "wsgi-middleware",
        CAT,
        "WSGI middleware wrapped around `app.wsgi_app`.",
        "WSGI middleware `{name}` cannot wrap Quart: {replacement}",
        "app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)",
        "app.asgi_app = ProxyFixMiddleware(app.asgi_app, mode='legacy', trusted_hops=1)",
        "Wrapped around `asgi_app`, WSGI middleware fails at the first request with "
        "TypeError. Hypercorn's ProxyFixMiddleware in legacy mode also trusts "
        "`X-Forwarded-Host`.",
        "Hypercorn src/hypercorn/middleware/proxy_fix.py, docs/how_to_guides/proxy_fix.rst",
        30.0,
    ),
    Rule(
        "QM702",
        "wsgi-middleware-import",
        CAT,
        "An import of Werkzeug's WSGI middleware.",
        "`{name}` is WSGI middleware: {replacement}",
        "from werkzeug.middleware.proxy_fix import ProxyFix",
        "from hypercorn.middleware import ProxyFixMiddleware",
        "`werkzeug.middleware.*` works on WSGI `environ`; the ASGI equivalents are in "
        "`hypercorn.middleware`.",
        "Hypercorn src/hypercorn/middleware/__init__.py",
        5.0,
    ),
    Rule(
        "QM703",
        "wsgi-server",
        CAT,
        "A WSGI server started from code or configured for sync workers.",
        "`{name}` serves WSGI only: " + HYPERCORN + " or `await app.run_task(...)`",
        "from waitress import serve\n\nserve(create_app(), listen='*:8080', threads=8)",
        "import asyncio\nfrom hypercorn.asyncio import serve\nfrom hypercorn.config import "
        "Config\n\nconfig = Config()\nconfig.bind = ['0.0.0.0:8080']\n"
        "asyncio.run(serve(create_app(), config))",
        "Waitress, `werkzeug.serving.run_simple`, `wsgiref`, gevent's `WSGIServer`, "
        "Tornado's `WSGIContainer` and gunicorn's sync/gthread/gevent workers call the app "
        "as WSGI; a gunicorn config file without an ASGI `worker_class` is reported at its "
        "first line.",
        "Hypercorn docs/how_to_guides/configuring.rst; Quart docs/tutorials/deployment.rst",
        15.0,
    ),
    Rule(
        "QM704",
        "wsgi-server-dependency",
        CAT,
        "A WSGI server in a dependency list.",
        "`{name}` is a WSGI server: {replacement}",
        "waitress>=3.0",
        "hypercorn>=0.17",
        "Read from the same dependency files as QM502.",
        "Quart docs/tutorials/deployment.rst",
        2.0,
    ),
    Rule(
        "QM705",
        "request-environ",
        CAT,
        "`request.environ`.",
        "`{what}` does not exist in Quart: read the ASGI scope, `request.scope`",
        "addr = request.environ.get('HTTP_X_REAL_IP')",
        "addr = request.headers.get('X-Real-IP')",
        "Quart builds the request from the ASGI scope; `environ` and `shallow` are absent.",
        "Quart src/quart/wrappers/request.py",
        5.0,
    ),
    Rule(
        "QM706",
        "werkzeug-test-client",
        CAT,
        "Werkzeug's WSGI test client.",
        "`{name}` drives WSGI apps: use `app.test_client()` (Quart's, async)",
        "from werkzeug.test import Client\n\nclient = Client(app)",
        "client = app.test_client()",
        "`werkzeug.test.Client`, `EnvironBuilder`, `create_environ` and `run_wsgi_app` "
        "cannot call an ASGI app.",
        "Hypercorn src/hypercorn/middleware/__init__.py",
        10.0,
    ),
    Rule(
        "QM707",
        "app-run-options",
        CAT,
        "`app.run` options Quart ignores.",
        "Quart's `app.run` ignores {names} (and starts the reloader unless "
        "`use_reloader=False`): drop them, or configure Hypercorn",
        "app.run(port=5000, threaded=True, ssl_context='adhoc')",
        "app.run(port=5000, use_reloader=False, certfile='cert.pem', keyfile='key.pem')",
        'Unknown keywords only log "Additional arguments ... are not supported".',
        "Quart src/quart/app.py (run)",
        2.0,
    ),
    Rule(
        "QM708",
        "ignored-config-key",
        CAT,
        "A configuration key Quart ignores.",
        "Quart ignores `{key}`: {fix}",
        "app.config['TRUSTED_HOSTS'] = ['books.example']",
        "app.asgi_app = TrustedHostMiddleware(app.asgi_app, ['books.example'])  # any ASGI host check",
        "`TRUSTED_HOSTS` is not checked (any Host is accepted), `PREFERRED_URL_SCHEME` is "
        "replaced by `PREFER_SECURE_URLS`, `USE_X_SENDFILE` is unsupported.",
        "Quart src/quart/app.py (default_config)",
        10.0,
    ),
    Rule(
        "QM709",
        "max-content-length-default",
        CAT,
        "An app created where no checked file sets `MAX_CONTENT_LENGTH`.",
        "Quart rejects bodies over 16 MiB by default (Flask: no limit): set "
        "`MAX_CONTENT_LENGTH` explicitly",
        "app = Flask(__name__)",
        "app = Quart(__name__)\napp.config['MAX_CONTENT_LENGTH'] = 64 * 1024 * 1024",
        "Reported at each application construction, `Flask(...)` or `Quart(...)` (a renamed "
        "class keeps Quart's default), when no file of the app's top-level package, nor a "
        "module outside any package (a `config.py` beside it), mentions `MAX_CONTENT_LENGTH`.",
        "Quart src/quart/app.py (default_config); Flask docs/config.rst",
        5.0,
    ),
    Rule(
        "QM710",
        "env-prefix",
        CAT,
        "`config.from_prefixed_env()` with the default prefix.",
        "Quart's default prefix is `QUART`: pass `prefix='FLASK'` or rename the variables",
        "app.config.from_prefixed_env()",
        "app.config.from_prefixed_env(prefix='FLASK')",
        "Environment variables `FLASK_*` are not read by Quart's default.",
        "Quart src/quart/config.py, src/quart/cli.py",
        2.0,
    ),
    Rule(
        "QM711",
        "cli-app-context",
        CAT,
        "A CLI command that relies on Flask's app context.",
        "Quart runs `{name}` without an app context: {fix}",
        "@app.cli.command('init-db')\ndef init_db_command():\n    init_db()",
        "@app.cli.command('init-db', with_appcontext=True)\ndef init_db_command():\n    init_db()",
        "Flask pushes an app context for every command of the `flask` CLI; Quart's "
        "`AppGroup.command` defaults to `with_appcontext=False`, and `current_app` then "
        "raises.",
        "Quart src/quart/cli.py (AppGroup.command); Flask src/flask/cli.py (FlaskGroup)",
        5.0,
    ),
    Rule(
        "QM712",
        "sync-appcontext-signal",
        CAT,
        "A sync receiver on `appcontext_pushed` / `appcontext_popped`.",
        "a sync receiver on `{signal}` makes every request fail on Quart 0.23: make "
        "`{name}` `async def`",
        "@appcontext_pushed.connect_via(app)\ndef set_user(sender, **extra):\n    g.user = None",
        "@appcontext_pushed.connect_via(app)\nasync def set_user(sender, **extra):\n    g.user = None",
        "Quart 0.23.1 sends these two signals with `_async_wrapper=`: a sync receiver raises "
        '"Cannot send to a non-coroutine function".',
        "Quart src/quart/ctx.py (AppContext.push, AppContext.pop)",
        5.0,
    ),
    Rule(
        "QM713",
        "request-max-content-length",
        CAT,
        "`request.max_content_length` set on a request.",
        "`{what} = ...` does not limit `get_data()`/`get_json()` in Quart: the body's limit is "
        "the app's `MAX_CONTENT_LENGTH`, fixed when the request is built; set that, and check "
        "`request.content_length` and the bytes read where a route takes less",
        "@app.before_request\ndef limit_body():\n    request.max_content_length = 1024 * 1024",
        "app.config['MAX_CONTENT_LENGTH'] = 6 * 1024 * 1024  # the largest body a route takes\n\n"
        "async def json_payload():\n"
        "    if (request.content_length or 0) > 1024 * 1024:\n"
        "        raise RequestEntityTooLarge()\n"
        "    data = await request.get_data()\n"
        "    if len(data) > 1024 * 1024:  # a chunked body has no Content-Length\n"
        "        raise RequestEntityTooLarge()\n"
        "    return json.loads(data)",
        "Flask 3.1 reads `request.max_content_length` while it reads the body, so a "
        "before-request hook can give each route its own limit (413 above it). Quart creates "
        "the request's body with the app's `MAX_CONTENT_LENGTH` before any hook runs: setting "
        "the property afterwards leaves `await request.get_data()`, `get_json()`, `json` and "
        "URL-encoded forms unlimited by it (only multipart parsing reads it). Nothing fails; "
        "the limit is silently gone.",
        "Quart src/quart/wrappers/request.py (Request.__init__, Body), src/quart/asgi.py; "
        "Flask src/flask/wrappers.py (Request.max_content_length)",
        15.0,
    ),
    Rule(
        "QM714",
        "streaming-response-timeout",
        CAT,
        "A streamed response that Quart's `RESPONSE_TIMEOUT` cuts off.",
        "Quart stops sending a response after `RESPONSE_TIMEOUT` (60 s by default): set "
        "`response.timeout = None` (or a limit in s) on this streamed response, or "
        "`RESPONSE_TIMEOUT` in the config",
        "@bp.get('/books/export.csv')\ndef export_csv():\n"
        "    return Response(csv_rows(), mimetype='text/csv')",
        "@bp.get('/books/export.csv')\nasync def export_csv():\n"
        "    response = Response(csv_rows(), mimetype='text/csv')\n"
        "    response.timeout = None  # a large export to a slow client takes longer than 60 s\n"
        "    return response",
        "Quart sends each response under `asyncio.wait_for(..., RESPONSE_TIMEOUT)`; a stream "
        "still running at the timeout ends without its final chunk, and the client sees a "
        "truncated body (Flask has no such limit). Reported at `Response(...)` and "
        "`response_class(...)` built from a generator function of the same file, a generator "
        "expression, `stream_with_context(...)` or `stream_template(...)`, unless the function "
        "sets `.timeout` on a response or a file of its package (or a module outside any "
        "package) mentions `RESPONSE_TIMEOUT`. "
        "Generators defined in another module are not followed. File responses "
        "(`send_file`, `send_from_directory`) are sent under the same limit, so a large "
        "download to a slow client is cut too; they are not reported.",
        "Quart src/quart/asgi.py (ASGIHTTPConnection.handle_request), "
        "src/quart/wrappers/response.py (Response.timeout), src/quart/app.py (default_config)",
        5.0,
    ),
    Rule(
        "QM715",
        "green-threads",
        CAT,
        "gevent or eventlet: monkey-patching, workers, dependencies.",
        "`{name}` runs the app on green threads, which Quart does not use: drop it and serve "
        "with Hypercorn; run blocking work with `await run_sync(func)(...)`",
        "from gevent import monkey\n\nmonkey.patch_all()",
        "# no patching: Quart's concurrency is asyncio\n"
        "# hypercorn --worker-class asyncio bookstore:app",
        "gevent and eventlet make blocking calls cooperative by patching the standard "
        "library; they are not WSGI servers but concurrency models. Patched `socket`, "
        "`threading` and `time` break asyncio (the loop's selector and the thread pool that "
        "`run_sync` uses), and gunicorn's `gevent`/`eventlet` workers call the app as WSGI. "
        "Reported at `monkey.patch_all()` / `eventlet.monkey_patch()`, in dependency files, and "
        "at `-k gevent` / `--worker-class eventlet` in deployment files.",
        "gevent docs: monkey patching; Hypercorn docs/how_to_guides/configuring.rst",
        15.0,
    ),
    Rule(
        "QM716",
        "werkzeug-logger",
        CAT,
        "The `werkzeug` logger configured.",
        "Quart does not log through the `werkzeug` logger: configure `hypercorn.access` and "
        "`hypercorn.error` (served by Hypercorn) or `quart.app` instead",
        "logging.getLogger('werkzeug').setLevel(logging.ERROR)",
        "logging.getLogger('hypercorn.access').setLevel(logging.ERROR)",
        "Werkzeug's development server writes its access log to the `werkzeug` logger; under "
        "Hypercorn nothing does, so filters and levels set on it have no effect.",
        "Hypercorn src/hypercorn/logging.py; Werkzeug src/werkzeug/serving.py (_log)",
        2.0,
    ),
    Rule(
        "QM717",
        "response-call-on-close",
        CAT,
        "`response.call_on_close(...)`.",
        "Quart responses have no `call_on_close`: `{what}` raises AttributeError; run the "
        "clean-up in an `after_request` hook, or after the response with "
        "`current_app.add_background_task(func)`",
        "response = send_file(path)\nresponse.call_on_close(lambda: os.remove(path))",
        "response = await send_file(path)\ncurrent_app.add_background_task(os.remove, path)",
        "Werkzeug calls the functions when the WSGI server closes the response iterable; "
        "Quart's `Response` has no such hook. A background task runs after the view returns, "
        "on the loop, and the app waits for it at shutdown.",
        "Quart src/quart/wrappers/response.py, src/quart/app.py (add_background_task)",
        5.0,
    ),
    Rule(
        "QM718",
        "flask-env-var",
        CAT,
        "A Flask CLI environment variable in a deployment file.",
        "Quart's CLI does not read `{name}`: set `{quart}` (Quart reads `.env` and "
        "`.quartenv`, never `.flaskenv`)",
        "FLASK_APP=bookstore:create_app\nFLASK_DEBUG=1",
        "QUART_APP=bookstore:create_app\nQUART_DEBUG=1",
        "Flask's CLI reads `FLASK_APP`, `FLASK_DEBUG` and the `FLASK_RUN_*` options, and loads "
        "`.flaskenv`; Quart's reads the `QUART_` names (`auto_envvar_prefix='QUART'`) and "
        "loads `.env` and `.quartenv`. Reported in `.env`, `.flaskenv`, compose files, "
        "Dockerfiles, supervisor programs, Procfiles and shell scripts.",
        "Quart src/quart/cli.py (load_dotenv, QuartGroup)",
        2.0,
    ),
    Rule(
        "QM719",
        "flask-run-command",
        CAT,
        "`flask run` in a start command.",
        "`flask run` starts Werkzeug's development server for a WSGI app: use `quart run` "
        "in development, `hypercorn module:app` to serve",
        "web: flask run --host 0.0.0.0",
        "web: hypercorn --bind 0.0.0.0:$PORT bookstore:app",
        "The `flask` command loads the app through Flask's CLI and serves it with Werkzeug; it "
        "cannot serve a Quart app. Reported in Procfiles, supervisor programs, compose files, "
        "Dockerfiles and shell scripts.",
        "Quart src/quart/cli.py (run_command); Quart docs/tutorials/deployment.rst",
        2.0,
    ),
    Rule(
        "QM720",
        "app-run-reloader",
        CAT,
        "`app.run(...)` without `use_reloader=`.",
        "Quart's `{what}` starts the reloader unless `use_reloader=False` (Flask's only with "
        "`debug=True`) and is meant for development: pass `use_reloader=False`, or serve "
        "with Hypercorn (`hypercorn module:app`)",
        "if __name__ == '__main__':\n    app.run(host='0.0.0.0', port=8000)",
        "if __name__ == '__main__':\n    app.run(host='0.0.0.0', port=8000, use_reloader=False)",
        "Quart's `app.run` defaults to `use_reloader=True` whatever `debug` is: a `python "
        "app.py` start in production watches the source files and restarts the process on "
        "a change. Calls that QM707 reports (options Quart ignores) are left to it.",
        "Quart src/quart/app.py (run)",
        2.0,
    ),
    Rule(
        "QM721",
        "session-vary-cookie",
        CAT,
        "An import of the request's `session` proxy.",
        "on Quart 0.22 with Flask 3.1.3 or later, reading `{name}` does not mark the session "
        "accessed, so an answer that only read it gets no `Vary: Cookie` and a shared cache "
        "may serve it to another user: add the header yourself (set `g.session_read = True` "
        'where the session is read, and `response.vary.add("Cookie")` in an '
        "`after_request` function of this module when it is set)",
        "from flask import session\n\n@app.get('/me')\ndef me():\n    return {'user': session.get('user')}",
        "from quart import g, session\n\n@app.get('/me')\nasync def me():\n"
        "    g.session_read = True\n    return {'user': session.get('user')}\n\n"
        "@app.after_request\nasync def vary_on_cookie(response):\n"
        "    if g.get('session_read'):\n        response.vary.add('Cookie')\n    return response",
        "Flask 3.1.3 moved the tracking of session reads from the session object to Flask's "
        "request context (`RequestContext.session` sets `accessed`), which Quart 0.22 does "
        "not use: Quart's proxy reads the session without marking it, so `save_session` "
        "adds `Vary: Cookie` only when it writes the cookie. Quart 0.23 marks the session "
        "accessed whenever it is opened, so every answer varies on the cookie there. "
        "Reported at each import of `session` from `flask` or `quart` in a module that does "
        'not call `response.vary.add("Cookie")`. The fix writes the advice at function '
        "granularity (a function that uses the session flags the whole request), which "
        "matches Flask when a function reads the session whatever its branch.",
        "Flask src/flask/ctx.py (RequestContext.session, 3.1.3), src/flask/sessions.py; "
        "Quart src/quart/globals.py, src/quart/sessions.py (save_session)",
        5.0,
    ),
)
