"""QM5xx extensions: Flask extensions and their Quart replacements.

Each ``flask_*`` import (and each Flask extension listed as a dependency, see
:mod:`migrate.checker.depfiles`) is reported with the replacement from the
extension table below, or the statement that none exists.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from migrate.checker.catalog.extensions import SCHEMA

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


EXTENSIONS: dict[str, str] = {
    "flask_sqlalchemy": "use SQLAlchemy's `sqlalchemy.ext.asyncio` (`AsyncSession`) with an "
    "async driver, quart-db, or Tortoise ORM (quart-sqlalchemy does not install with Quart "
    "0.20+)",
    "flask_login": "use quart-auth (`QuartAuth`, `login_user`, `login_required`, `current_user`)",
    "flask_wtf": "use quart-wtforms (import `quart_wtf`: `QuartForm`, "
    "`await Form.create_form()`, `await form.validate_on_submit()`)",
    "flask_cors": "use quart-cors (`app = cors(app, allow_origin=...)`, `@route_cors`)",
    "flask_limiter": "use quart-rate-limiter (`RateLimiter(app)`, `@rate_limit(limit, period)`)",
    "flask_migrate": "no Quart port exists: use Alembic directly (`alembic init -t async`)",
    "flask_mail": "no Quart port exists: send with aiosmtplib",
    "flask_caching": "no Quart port exists: use aiocache or cashews",
    "flask_restful": "use " + SCHEMA,
    "flask_restx": "use " + SCHEMA,
    "flask_smorest": "use " + SCHEMA,
    "flask_pydantic": "use " + SCHEMA,
    "flask_marshmallow": "use marshmallow directly, or " + SCHEMA,
    "flask_jwt_extended": "quart-jwt-extended follows the old 3.x API and is unmaintained: "
    "use PyJWT directly or quart-auth tokens",
    "flask_babel": "use quart-babel",
    "flask_session": "use quart-session",
    "flask_socketio": "no working Quart port (quart-socketio breaks on 0.23): use "
    "python-socketio's `AsyncServer(async_mode='asgi')` with `socketio.ASGIApp`, or Quart "
    "websockets",
    "flask_admin": "no Quart port exists (PyPI's quart-admin is an unrelated scaffolder)",
    "flask_bcrypt": "use quart-bcrypt or `bcrypt` directly (hash in `run_sync`)",
    "flask_compress": "no maintained Quart port (quart-compress buffers the body and breaks "
    "streaming): compress at the proxy",
    "flask_talisman": "no Quart port exists: use `secure` or an `after_request` hook that "
    "sets the headers",
}
UNKNOWN = "no known Quart port: check whether it works with Quart before relying on it"
PATCH_MODULES = frozenset({"quart_flask_patch", "quart.flask_patch"})


def replacement(module: str) -> str:
    """Return the replacement text for an extension module such as ``flask_login``."""
    return EXTENSIONS.get(module, UNKNOWN)


def is_extension(module: str) -> bool:
    """Return true for a Flask extension's top-level module (``flask_*``)."""
    return module.startswith("flask_") and len(module) > 6


def _check(ctx: FileContext, node: ast.AST, module: str) -> None:
    top = module.partition(".")[0]
    if module in PATCH_MODULES or top == "quart_flask_patch":
        ctx.report(node, "QM503", name=module)
    elif is_extension(top):
        ctx.report(node, "QM501", module=top, replacement=replacement(top))


def on_import(ctx: FileContext, node: ast.AST) -> None:
    """Report imports of ``flask_*`` extensions and of Quart-Flask-Patch."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            _check(ctx, alias, alias.name)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        if node.module == "quart" and any(a.name == "flask_patch" for a in node.names):
            ctx.report(node, "QM503", name="quart.flask_patch")
        else:
            _check(ctx, node, node.module)


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.Import, on_import),
    (ast.ImportFrom, on_import),
]
