"""Rule records of the imports family; detection is in :mod:`migrate.checker.imports`.

QM1xx imports: Flask's module, its ``Flask`` class, and names that moved or vanished.
"""

from __future__ import annotations

from migrate.checker.rules import Rule

CAT = "imports"


SRC = "Quart src/quart/__init__.py"


RULES = (
    Rule(
        "QM101",
        "flask-import",
        CAT,
        "An import from Flask's package.",
        "`{module}` is Flask's: import from `{replacement}`",
        "from flask import request\nfrom flask.views import MethodView",
        "from quart import request\nfrom quart.views import MethodView",
        "Quart keeps Flask's module layout under the `quart` package, so each import "
        "changes only its package name. `from myflaskapp import x` and `flask_*` "
        "extensions are not Flask's package (extensions are QM501).",
        "Quart docs/how_to_guides/flask_migration.rst; " + SRC,
        0.5,
    ),
    Rule(
        "QM102",
        "flask-class",
        CAT,
        "The `Flask` application class.",
        "`Flask` is `Quart` in Quart: `from quart import Quart`, `Quart(__name__)`",
        "from flask import Flask\n\napp = Flask(__name__)",
        "from quart import Quart\n\napp = Quart(__name__)",
        "`Flask` is the only top-level name Quart renames. Every use of the class "
        "(construction, annotations, subclasses) is reported.",
        SRC,
        0.5,
    ),
    Rule(
        "QM103",
        "flask-module-attribute",
        CAT,
        "An attribute of the `flask` module used through `import flask`.",
        "`{name}` comes from Flask's module: use `{replacement}`",
        "import flask\n\ndef index():\n    return flask.jsonify(ok=True)",
        "import quart\n\nasync def index():\n    return quart.jsonify(ok=True)",
        "With `import flask` every `flask.X` spells the package name; with an alias "
        "(`import flask as f`) only the import changes, so alias uses are not reported.",
        SRC,
        0.2,
    ),
    Rule(
        "QM104",
        "renamed-name",
        CAT,
        "A Flask name that Quart provides under another name.",
        "`{name}` is `{replacement}` in Quart",
        "from flask.testing import FlaskClient\n\nclass Client(FlaskClient): ...",
        "from quart.testing import QuartClient\n\nclass Client(QuartClient): ...",
        "Test and CLI classes carry the framework's name: `FlaskClient` → `QuartClient`, "
        "`FlaskCliRunner` → `QuartCliRunner`, `FlaskGroup` → `QuartGroup`; "
        "`app.ensure_sync` → `app.ensure_async`.",
        "Quart src/quart/testing/__init__.py, src/quart/cli.py, src/quart/app.py",
        2.0,
    ),
    Rule(
        "QM105",
        "removed-name",
        CAT,
        "A Flask name that does not exist (or does not work) in Quart.",
        "`{name}` does not exist in Quart: {replacement}",
        "from flask.globals import request_ctx\n\nuser = request_ctx.request.remote_user",
        "from quart import request\n\nuser = request.remote_addr",
        "Quart 0.23 merged the request context into `AppContext` and removed "
        "`RequestContext`, `request_ctx` and `_cv_request`; the `_*_ctx_stack` "
        "proxies went in Quart 0.18; `EnvironBuilder` is WSGI-only; "
        "`get_template_attribute` raises because Quart's Jinja environment is async.",
        "Quart src/quart/ctx.py, src/quart/globals.py, CHANGES.md (0.18, 0.23)",
        10.0,
    ),
    Rule(
        "QM106",
        "wsgi-app",
        CAT,
        "Use of `app.wsgi_app`, which Quart replaces with `app.asgi_app`.",
        "`{name}` is WSGI: Quart's is `asgi_app`, called as "
        "`await app.asgi_app(scope, receive, send)`",
        "response = app.wsgi_app(environ, start_response)",
        "await app.asgi_app(scope, receive, send)",
        "Quart is an ASGI application; there is no WSGI callable. Middleware "
        "assignments to `wsgi_app` are QM701.",
        "Quart src/quart/app.py (asgi_app)",
        15.0,
    ),
)
