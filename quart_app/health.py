"""``GET /health``: the app is up and its database answers."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_response

from legacy_flask.problems import DatabaseUnavailable
from legacy_flask.schemas import HealthOut
from quart_app.errors import DATABASE_DOWN
from quart_app.extensions import data_layer
from quart_app.openapi import problems

bp = Blueprint("health", __name__)


@bp.get("/health")
@problems(503)
@validate_response(HealthOut)
async def health() -> dict[str, Any]:
    try:
        await data_layer().ping()
    except DATABASE_DOWN:
        raise DatabaseUnavailable("the database cannot be reached") from None
    return {"status": "ok", "database": "ok"}
