"""A bookshop app factory in the shape of most Flask apps: resources, hooks, start-up work."""

from __future__ import annotations

from typing import Any

from flask import Flask  # error: QM101, QM102
from flask import request  # error: QM101

from shop import books
from shop.auth import ensure_admin
from shop.db import create_tables
from shop.extensions import engine
from shop.extensions import init_database

MAX_JSON_BYTES = 1024 * 1024
MAX_COVER_BYTES = 5 * 1024 * 1024


def _limit_body_size() -> None:  # error: QM303
    # A per-route body limit, set before the view reads the body.
    if request.endpoint == "books.put_cover":
        request.max_content_length = MAX_COVER_BYTES  # error: QM713
    else:
        request.max_content_length = MAX_JSON_BYTES  # error: QM713


def body_limit() -> int | None:
    return request.max_content_length  # ok: QM713


def create_app(config: dict[str, Any] | None = None) -> Flask:  # error: QM102  # ok: QM306
    app = Flask(__name__)  # error: QM102, QM709
    app.config.update(config or {})
    init_database(app, app.config.get("DATABASE_URL", "sqlite://"))
    app.before_request(_limit_body_size)
    app.register_blueprint(books.bp)
    with app.app_context():  # error: QM214
        create_tables(engine())  # error: QM307
        ensure_admin("admin")  # error: QM307
    return app


def reset_database() -> None:  # error: QM306
    app = create_app()  # ok: QM307
    with app.app_context():  # error: QM211
        create_tables(engine())  # error: QM307
