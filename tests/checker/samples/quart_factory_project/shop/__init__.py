"""The bookshop app factory migrated to Quart: start-up work runs before serving."""

from __future__ import annotations

from typing import Any

from quart import Quart  # ok: QM101, QM102
from quart import request  # ok: QM101
from werkzeug.exceptions import RequestEntityTooLarge

from shop import books
from shop.auth import ensure_admin
from shop.db import create_tables
from shop.extensions import engine
from shop.extensions import init_database

MAX_JSON_BYTES = 1024 * 1024
MAX_COVER_BYTES = 5 * 1024 * 1024


async def json_payload() -> bytes:  # ok: QM306
    # MAX_CONTENT_LENGTH admits a cover; a JSON body is held to its own limit here.
    if (request.content_length or 0) > MAX_JSON_BYTES:  # ok: QM713
        raise RequestEntityTooLarge()
    data = await request.get_data()  # ok: QM201
    if len(data) > MAX_JSON_BYTES:
        raise RequestEntityTooLarge()
    return data


def body_limit() -> int | None:
    return request.max_content_length  # ok: QM713


def create_app(config: dict[str, Any] | None = None) -> Quart:  # ok: QM102, QM306
    app = Quart(__name__)  # ok: QM102, QM709
    app.config.update(MAX_CONTENT_LENGTH=MAX_COVER_BYTES, **(config or {}))
    init_database(app, app.config.get("DATABASE_URL", "sqlite+aiosqlite://"))
    app.register_blueprint(books.bp)

    @app.before_serving
    async def start_up() -> None:  # ok: QM214
        async with engine().begin() as connection:  # ok: QM416
            await connection.run_sync(create_tables)  # ok: QM307
        await ensure_admin("admin")  # ok: QM307

    return app


async def reset_database() -> None:  # ok: QM306
    app = create_app()  # ok: QM307
    async with app.app_context():  # ok: QM211, QM214
        async with engine().begin() as connection:
            await connection.run_sync(create_tables)  # ok: QM307
