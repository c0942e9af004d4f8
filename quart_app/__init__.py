"""The bookstore API migrated to Quart: quart-schema, quart-auth, Tortoise ORM, Hypercorn.

Build it with :func:`create_app`; serve it with ``python -m quart_app serve``. It serves the
same HTTP contract as ``legacy_flask`` (``docs/bookstore-api.md``), plus the OpenAPI document
(``/openapi.json``, ``/docs``) and the ``/ws/events`` WebSocket.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Mapping
from typing import Any

from hypercorn.middleware import ProxyFixMiddleware
from quart import Quart
from quart_auth import QuartAuth
from quart_schema import Info
from quart_schema import QuartSchema
from sqlalchemy import Engine
from tortoise.context import TortoiseContext

from legacy_flask.db import create_tables
from legacy_flask.db import make_engine
from legacy_flask.routing import IdConverter
from legacy_flask.settings import MAX_COVER_BYTES
from legacy_flask.settings import MULTIPART_OVERHEAD_BYTES
from legacy_flask.settings import REGISTER_LIMIT_MESSAGE
from legacy_flask.settings import Settings
from legacy_flask.settings import load_settings
from legacy_flask.settings import ratelimit_storage
from migrate import WorkerPool
from migrate import run_sync
from quart_app import auth
from quart_app import books
from quart_app import covers
from quart_app import errors
from quart_app import events
from quart_app import export
from quart_app import health
from quart_app import inventory
from quart_app import reviews
from quart_app.db import TortoiseContextMiddleware
from quart_app.db import connection_name
from quart_app.db import tortoise_config
from quart_app.extensions import HASHES_AT_ONCE
from quart_app.extensions import HASHING
from quart_app.extensions import LOGIN_LIMITER
from quart_app.extensions import POOL
from quart_app.extensions import REGISTER_LIMITER
from quart_app.extensions import STORE
from quart_app.extensions import TORTOISE
from quart_app.extensions import LoginLimiter
from quart_app.extensions import RequestLimiter
from quart_app.openapi import BookstoreOpenAPIProvider
from quart_app.openapi import docs_content_security_policy
from quart_app.store import TortoiseStore
from quart_app.threaded import ThreadedStore
from quart_app.validation import BookstoreRequest

__all__ = ["create_app"]


def _init_data_layer(app: Quart, settings: Settings, pool: WorkerPool) -> None:
    """Create the tables, then open the configured data layer when the app starts serving."""
    # One DDL for both apps: the SQLAlchemy metadata creates the tables Tortoise maps.
    engine: Engine = make_engine(settings.database_url)
    if settings.data_layer == "tortoise":
        context = TortoiseContext()
        app.extensions[TORTOISE] = context
        app.asgi_app = TortoiseContextMiddleware(app.asgi_app, context)  # type: ignore[method-assign]

    @app.before_serving
    async def open_data_layer() -> None:
        await run_sync(create_tables, pool=pool)(engine)
        if settings.data_layer == "tortoise":
            await run_sync(engine.dispose, pool=pool)()
            await context.init(tortoise_config(settings.database_url))
            app.extensions[STORE] = TortoiseStore(connection_name(settings.database_url))
        else:
            app.extensions[STORE] = ThreadedStore(engine, pool)
        if settings.admin_username and settings.admin_password:
            await auth.ensure_admin(settings.admin_username, settings.admin_password)

    @app.after_serving
    async def close_data_layer() -> None:
        store = app.extensions.pop(STORE, None)
        if store is not None:
            await store.close()
        if settings.data_layer == "tortoise":
            await context.close_connections()


def _init_events(app: Quart, settings: Settings) -> None:
    broker = events.init_events(
        app,
        app.config.get("EVENTS_QUEUE_SIZE", events.DEFAULT_QUEUE_SIZE),
        events.DEFAULT_SEND_TIMEOUT_S,
        app.config.get("EVENTS_MAX_SUBSCRIBERS", events.DEFAULT_MAX_SUBSCRIBERS),
    )
    if not settings.database_url.startswith(("postgresql://", "postgres://")):
        return
    relay = events.PostgresRelay(settings.database_url, broker)
    app.before_serving(relay.start)
    app.after_serving(relay.stop)


#: Allocations (less deallocations) that start a collection of the youngest generation: 700 is
#: CPython's default. With thousands of connections open, every object the requests in flight
#: hold when a collection starts is promoted, and each full collection then walks every
#: connection's objects again (about 100 per connection, 0.3–1 s for 10,000 on the two-core
#: machine of ``docs/results``): fewer young collections promote far fewer.
GC_YOUNG_THRESHOLD = 50_000


def _init_gc(app: Quart) -> None:
    """While the app serves, keep the cyclic garbage collector's full passes short and rare.

    Once started, the objects the app made to start (modules, the ORM, the validators) stay as
    long as it does: :func:`gc.freeze` moves them out of the collector's sight, so a full
    collection walks only what came after; and the youngest generation is collected after
    :data:`GC_YOUNG_THRESHOLD` allocations. With 4,000 WebSocket subscribers receiving writes,
    the server's CPU time fell from 6.5 s to 3.3 s, as much as with the collector off
    (``compare c10k``'s fan-out, profiled with py-spy). Both are undone when it stops serving,
    so that a process that builds many apps (a test run) collects them.
    """
    thresholds = gc.get_threshold()

    @app.before_serving
    async def tune_gc() -> None:
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])

    @app.after_serving
    async def restore_gc() -> None:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def create_app(config: Mapping[str, Any] | None = None) -> Quart:
    """Create the bookstore app.

    :param config: overrides of :class:`legacy_flask.settings.Settings` fields in lower case
        (``{"database_url": "sqlite:///x.db", "data_layer": "threaded"}``) and Quart config
        keys in upper case (``{"EVENTS_QUEUE_SIZE": 8}``); everything else comes from
        ``BOOKSTORE_*`` variables.
    :returns: the app. The database is opened when it starts serving (ASGI lifespan):
        serve it with Hypercorn, or test it inside ``async with app.test_app()``.
    :raises legacy_flask.settings.SettingsError: a setting has a value that cannot be used.
    """
    config = dict(config or {})
    settings = load_settings(config)
    app = Quart(__name__)
    app.request_class = BookstoreRequest
    app.session_interface = auth.NullSessionInterface()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        QUART_AUTH_COOKIE_SECURE=settings.secure_cookies,
        QUART_AUTH_COOKIE_SAMESITE="Lax",
        QUART_AUTH_COOKIE_HTTP_ONLY=True,
        QUART_AUTH_COOKIE_NAME="bookstore_session",
        # quart-auth refuses a token signed longer ago than this (its default is a year).
        QUART_AUTH_DURATION=settings.session_lifetime,
        # Quart's default is 16 MiB; the largest body the contract takes is a cover upload.
        MAX_CONTENT_LENGTH=MAX_COVER_BYTES + MULTIPART_OVERHEAD_BYTES,
        QUART_SCHEMA_CONVERSION_PREFERENCE="pydantic",
        BOOKSTORE=settings,
    )
    app.config.update({key: value for key, value in config.items() if key.isupper()})
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["id"] = IdConverter
    app.url_map.strict_slashes = False
    # werkzeug would redirect //books//1 to an absolute URL built from the Host header
    # (an open redirect): a path with doubled slashes is just not found.
    app.url_map.merge_slashes = False

    pool = WorkerPool(settings.worker_threads, name="bookstore-worker")
    pool.init_app(app)
    app.extensions[POOL] = pool
    # Every limit counts in one storage: each process's memory, or Redis shared by all.
    storage_url, storage_options = ratelimit_storage(settings, asynchronous=True)
    app.extensions[LOGIN_LIMITER] = LoginLimiter(
        settings.login_limit, settings.login_window, storage_url, storage_options
    )
    app.extensions[HASHING] = asyncio.Semaphore(HASHES_AT_ONCE)
    app.extensions[REGISTER_LIMITER] = RequestLimiter(
        settings.register_limit,
        settings.register_window,
        REGISTER_LIMIT_MESSAGE,
        storage_url,
        storage_options,
    )
    QuartAuth(app)
    QuartSchema(
        app,
        info=Info(title="Bookstore API", version="1"),
        openapi_provider_class=BookstoreOpenAPIProvider,
        openapi_path="/openapi.json",
        swagger_ui_path="/docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
    )
    _init_data_layer(app, settings, pool)
    _init_events(app, settings)
    _init_gc(app)
    inventory.init_inventory(app, settings.inventory_url, settings.inventory_timeout)
    errors.register_error_handlers(app)
    app.after_request(docs_content_security_policy)
    app.asgi_app = errors.RejectAmbiguousFraming(app.asgi_app)  # type: ignore[method-assign]
    if settings.proxy_hops:
        # The client address (what the limits count by) is the one the proxies saw.
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app, mode="legacy", trusted_hops=settings.proxy_hops
        )
    for blueprint in (
        health.bp,
        auth.bp,
        export.bp,
        books.bp,
        reviews.bp,
        covers.bp,
        inventory.bp,
        events.bp,
    ):
        app.register_blueprint(blueprint)
    return app
