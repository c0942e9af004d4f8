"""The bookstore API as a typical synchronous Flask app: Flask 3.1, SQLAlchemy 2, Waitress.

Build it with :func:`create_app`; serve it with ``python -m legacy_flask serve``. The HTTP
contract it serves is ``docs/bookstore-api.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from legacy_flask import auth
from legacy_flask import books
from legacy_flask import covers
from legacy_flask import errors
from legacy_flask import export
from legacy_flask import health
from legacy_flask import inventory
from legacy_flask import reviews
from legacy_flask.db import create_tables
from legacy_flask.extensions import ENGINE
from legacy_flask.extensions import LOGIN_LIMITER
from legacy_flask.extensions import LoginLimiter
from legacy_flask.extensions import engine
from legacy_flask.extensions import init_database
from legacy_flask.extensions import init_limiter
from legacy_flask.routing import IdConverter
from legacy_flask.settings import MAX_COVER_BYTES
from legacy_flask.settings import MAX_JSON_BYTES
from legacy_flask.settings import MULTIPART_OVERHEAD_BYTES
from legacy_flask.settings import REGISTER_LIMIT_MESSAGE
from legacy_flask.settings import load_settings
from legacy_flask.settings import ratelimit_storage

__all__ = ["close_app", "create_app"]


def _limit_body_size() -> None:
    # Werkzeug enforces request.max_content_length while reading the body, chunked bodies
    # included (413): covers may be 5 MiB plus their multipart framing, JSON bodies 1 MiB.
    if request.endpoint == "covers.put_cover":
        request.max_content_length = MAX_COVER_BYTES + MULTIPART_OVERHEAD_BYTES
    else:
        request.max_content_length = MAX_JSON_BYTES


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the bookstore app.

    :param config: overrides of :class:`legacy_flask.settings.Settings` fields in lower case
        (``{"database_url": "sqlite:///x.db"}``) and Flask config keys in upper case
        (``{"TESTING": True}``); everything else comes from ``BOOKSTORE_*`` variables.

    :returns: the app, with its tables created and the start-up admin
        (``BOOKSTORE_ADMIN_USERNAME`` and ``BOOKSTORE_ADMIN_PASSWORD``) in place.

    :raises legacy_flask.settings.SettingsError: a setting has a value that cannot be used.
    :raises sqlalchemy.exc.OperationalError: the database cannot be reached at start-up.
    """
    config = dict(config or {})
    settings = load_settings(config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # Flask refuses a session cookie signed longer ago than this, permanent or not.
        PERMANENT_SESSION_LIFETIME=settings.session_lifetime,
        MAX_FORM_MEMORY_SIZE=MAX_JSON_BYTES,
        BOOKSTORE=settings,
    )
    app.config.update({key: value for key, value in config.items() if key.isupper()})
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["id"] = IdConverter
    app.url_map.strict_slashes = False
    # werkzeug would redirect //books//1 to an absolute URL built from the Host header
    # (an open redirect): a path with doubled slashes is just not found.
    app.url_map.merge_slashes = False

    init_database(app, settings.database_url)
    inventory.init_inventory(app, settings.inventory_url, settings.inventory_timeout)
    # Every limit counts in one storage: each process's memory, or Redis shared by all.
    storage_url, storage_options = ratelimit_storage(settings, asynchronous=False)
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_url)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", storage_options)
    limiter = init_limiter(app)
    errors.register_error_handlers(app)
    app.before_request(_limit_body_size)
    for blueprint in (health.bp, auth.bp, export.bp, books.bp, reviews.bp, covers.bp, inventory.bp):
        app.register_blueprint(blueprint)
    # The limiter belongs to this app (not to the module), so it wraps the registered view;
    # every registration is counted before the view runs, and each costs a password hash.
    register_view: Any = app.view_functions["auth.register"]
    app.view_functions["auth.register"] = limiter.limit(
        f"{settings.register_limit} per {settings.register_window} seconds",
        error_message=REGISTER_LIMIT_MESSAGE,
    )(register_view)
    app.extensions[LOGIN_LIMITER] = LoginLimiter(
        settings.login_limit,
        settings.login_window,
        app.config["RATELIMIT_STORAGE_URI"],
        app.config["RATELIMIT_STORAGE_OPTIONS"],
    )
    if settings.proxy_hops:
        # The client address (what the limits count by) is the one the proxies saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)  # type: ignore[method-assign]

    with app.app_context():
        create_tables(engine())
        if settings.admin_username and settings.admin_password:
            auth.ensure_admin(settings.admin_username, settings.admin_password)
    return app


def close_app(app: Flask) -> None:
    """Release what :func:`create_app` opened: database connections and the inventory client."""
    engine_: Any = app.extensions.get(ENGINE)
    if engine_ is not None:
        engine_.dispose()
    client: Any = app.extensions.get(inventory.CLIENT)
    if client is not None:
        client.close()
