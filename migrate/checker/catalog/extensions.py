"""Rule records of the extensions family; detection is in :mod:`migrate.checker.extensions`.

QM5xx extensions: Flask extensions and their Quart replacements.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrate.checker.rules import Rule

CAT = "extensions"


S = "Quart docs/how_to_guides/flask_extensions.rst; each extension's documentation"


SCHEMA = "quart-schema (`validate_request`, `validate_response`, OpenAPI docs)"

#: Status of an extension's replacement → what it means (the legend of docs/extensions.md).
STATUSES = {
    "works": "a Quart extension replaces it, and it was run against Quart 0.23.1",
    "imports": "a Quart extension replaces it; it imports on Quart 0.23.1 but was not run "
    "against a backend",
    "library": "no working Quart extension: a framework-free (async) library does the job",
    "none": "nothing replaces it inside the app: do it elsewhere or drop it",
}


@dataclass(frozen=True, slots=True)
class Extension:
    """A Flask extension and what replaces it on Quart.

    ``advice`` fills the ``{replacement}`` field of QM501 and QM502; ``status`` is a key of
    :data:`STATUSES`; ``checked`` says what was verified and with which versions.
    """

    module: str
    distribution: str
    advice: str
    status: str
    checked: str


#: The Flask extensions the checker knows, by import name. Versions and checks: Quart 0.23.1,
#: the newest release of each package on PyPI at the time of checking.
EXTENSIONS = (
    Extension(
        "flask_sqlalchemy",
        "Flask-SQLAlchemy",
        "use SQLAlchemy's `sqlalchemy.ext.asyncio` (`AsyncSession`) with an async driver, "
        "quart-db, or Tortoise ORM (quart-sqlalchemy does not install with Quart 0.20+)",
        "library",
        "quart-sqlalchemy 3.0.4 requires `quart<0.20`; quart-db 0.12.0 imports",
    ),
    Extension(
        "flask_login",
        "Flask-Login",
        "use quart-auth (`QuartAuth`, `login_user`, `login_required`, `current_user`)",
        "works",
        "quart-auth 0.12.0: 401, log in, 200; its cookie is `Secure` by default",
    ),
    Extension(
        "flask_wtf",
        "Flask-WTF",
        "use quart-wtforms (import `quart_wtf`: `QuartForm`, `await Form.create_form()`, "
        "`await form.validate_on_submit()`)",
        "works",
        "quart-wtforms 1.0.3 (the PyPI name `quart-wtf` holds only 0.0.1)",
    ),
    Extension(
        "flask_cors",
        "Flask-CORS",
        "use quart-cors (`app = cors(app, allow_origin=...)`, `@route_cors`)",
        "works",
        "quart-cors 0.8.0",
    ),
    Extension(
        "flask_limiter",
        "Flask-Limiter",
        "remove it before the app serves: its before-request hook reads Flask's `request`, so "
        "on Quart every request fails (working outside of request context). Replace it with "
        "quart-rate-limiter (`RateLimiter(app)`; `@rate_limit(limit, timedelta(seconds=...))` "
        "under the route decorator; its `RateLimitExceeded` for the 429 handler). "
        "`--fix --unsafe-fixes` does it only for `Limiter(get_remote_address, app=app)` used "
        'through `limiter.limit("N per M seconds")` alone (QM505): quart-rate-limiter counts '
        "every request before the view runs, so "
        "`deduct_when=`/`cost=` (count only failures), `error_message=` and "
        "`current_app.extensions['limiter']` have no counterpart; for those count in the view "
        "with the `limits` library's async strategies (`limits.aio`), as `quart_app`'s "
        "`LoginLimiter` does",
        "works",
        "quart-rate-limiter 0.12.1: the second call within the limit answers 429; "
        "in-memory counts are per worker process",
    ),
    Extension(
        "flask_migrate",
        "Flask-Migrate",
        "no Quart port exists: use Alembic directly (`alembic init -t async`)",
        "library",
        "no quart-migrate package; Alembic 1.20.1 ships `async` templates",
    ),
    Extension(
        "flask_mail",
        "Flask-Mail",
        "no Quart port exists: send with aiosmtplib",
        "library",
        "no quart-mail package; aiosmtplib 5.1.3",
    ),
    Extension(
        "flask_caching",
        "Flask-Caching",
        "no Quart port exists: use aiocache or cashews",
        "library",
        "no quart-caching package",
    ),
    Extension("flask_restful", "Flask-RESTful", "use " + SCHEMA, "works", "quart-schema 0.25.0"),
    Extension("flask_restx", "flask-restx", "use " + SCHEMA, "works", "quart-schema 0.25.0"),
    Extension("flask_smorest", "flask-smorest", "use " + SCHEMA, "works", "quart-schema 0.25.0"),
    Extension(
        "flask_pydantic",
        "Flask-Pydantic",
        "use " + SCHEMA,
        "works",
        "quart-schema 0.25.0 with pydantic installed",
    ),
    Extension(
        "flask_marshmallow",
        "flask-marshmallow",
        "use marshmallow directly, or " + SCHEMA,
        "library",
        "marshmallow itself is framework-free",
    ),
    Extension(
        "flask_jwt_extended",
        "Flask-JWT-Extended",
        "quart-jwt-extended follows the old 3.x API and is unmaintained: use PyJWT directly "
        "or quart-auth tokens",
        "library",
        "quart-jwt-extended 0.1.0 creates and verifies tokens, with `@jwt_required` of the 3.x API",
    ),
    Extension(
        "flask_babel",
        "Flask-Babel",
        "use quart-babel",
        "works",
        "quart-babel 1.0.7: `Babel(app)`, `gettext`",
    ),
    Extension(
        "flask_session",
        "Flask-Session",
        "use quart-session",
        "imports",
        "quart-session 3.0.0 imports; not run against Redis or another backend",
    ),
    Extension(
        "flask_socketio",
        "Flask-SocketIO",
        "no working Quart port (quart-socketio breaks on 0.23): use python-socketio's "
        "`AsyncServer(async_mode='asgi')` with `socketio.ASGIApp`, or Quart websockets",
        "library",
        "quart-socketio 0.0.1.post3 reads context names removed in Quart 0.23",
    ),
    Extension(
        "flask_admin",
        "Flask-Admin",
        "no Quart port exists (PyPI's quart-admin is an unrelated scaffolder)",
        "none",
        "PyPI's quart-admin 3.0.0 is a project scaffolder",
    ),
    Extension(
        "flask_bcrypt",
        "Flask-Bcrypt",
        "use quart-bcrypt or `bcrypt` directly (hash in `run_sync`)",
        "works",
        "quart-bcrypt 0.0.9; hashing is CPU-bound, so run it in a worker thread",
    ),
    Extension(
        "flask_compress",
        "Flask-Compress",
        "no maintained Quart port (quart-compress buffers the body and breaks streaming): "
        "compress at the proxy",
        "none",
        "quart-compress 0.2.1 (2020) reads the whole body before sending; not run",
    ),
    Extension(
        "flask_talisman",
        "Flask-Talisman",
        "no Quart port exists: use `secure` or an `after_request` hook that sets the headers",
        "library",
        "no quart-talisman package; `secure` 2.0.1",
    ),
)


RULES = (
    Rule(
        "QM501",
        "flask-extension-import",
        CAT,
        "An import of a Flask extension.",
        "`{module}` is a Flask extension: {replacement}",
        "from flask_cors import CORS\n\nCORS(app)",
        "from quart_cors import cors\n\napp = cors(app, allow_origin='*')",
        "Most Flask extensions call Flask's synchronous APIs and do not work on Quart; "
        "Quart-Flask-Patch, the old bridge, fails to import on Quart 0.23.",
        S,
        120.0,
    ),
    Rule(
        "QM502",
        "flask-extension-dependency",
        CAT,
        "A Flask extension in a dependency list.",
        "`{name}` is a Flask extension: {replacement}",
        "Flask-Login>=0.6\nFlask-Limiter>=3.8",
        "quart-auth>=0.10\nquart-rate-limiter>=0.10",
        "Read from `requirements*.txt`, `requirements/*.txt`, `*.in` and `pyproject.toml` "
        "(`[project]` dependencies, optional dependencies, dependency groups, Poetry).",
        S,
        5.0,
    ),
    Rule(
        "QM503",
        "flask-patch",
        CAT,
        "Quart-Flask-Patch (or `quart.flask_patch`).",
        "`{name}` fails on Quart 0.23 (it imports removed context names): port each "
        "extension to its Quart replacement instead",
        "import quart_flask_patch\nfrom flask_login import LoginManager",
        "from quart_auth import QuartAuth",
        "`quart.flask_patch` was removed in Quart 0.19; its successor Quart-Flask-Patch 0.3.0 "
        "raises ImportError on 0.23 (`RequestContext`, `request_ctx`).",
        "Quart CHANGES.md (0.19.0: Flask-Patch removed); quart-flask-patch 0.3.0",
        60.0,
    ),
    Rule(
        "QM504",
        "flask-dependency",
        CAT,
        "Flask itself in a dependency list.",
        "`{name}` is Flask: depend on `quart` (0.22 supports Python 3.11; 0.23 needs 3.13)",
        "flask>=3.1",
        "quart>=0.22",
        "Quart depends on Flask's sans-IO core itself, so Flask stays installed, but the "
        "application depends on Quart.",
        "Quart pyproject.toml (requires-python)",
        1.0,
    ),
    Rule(
        "QM505",
        "extension-setup",
        CAT,
        "A Flask extension set up on the app: its constructor, `init_app`, a registered callback.",
        "`{what}` sets up a Flask extension: {replacement}",
        "login_manager = LoginManager()\nlogin_manager.init_app(app)\n\n"
        "@login_manager.user_loader\ndef load_user(user_id):\n    return db.get_user(user_id)",
        "auth_manager = QuartAuth(app)\n\n"
        "async def load_user():\n    return await db.get_user(current_user.auth_id)",
        "QM501 points at the import; the lines that wire the extension into the app (`CORS(app)`, "
        "`LoginManager()`, `Session(app)`, `Talisman(app, ...)`, `x.init_app(app)`, "
        "`@login_manager.user_loader`) are where the replacement goes, and each is reported.",
        S,
        10.0,
    ),
)
