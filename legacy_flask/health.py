"""``GET /health``: the app is up and its database answers."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from sqlalchemy.exc import SQLAlchemyError

from legacy_flask.db import ping
from legacy_flask.extensions import engine
from legacy_flask.problems import DatabaseUnavailable

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    try:
        ping(engine())
    except SQLAlchemyError:
        raise DatabaseUnavailable("the database cannot be reached") from None
    return jsonify({"status": "ok", "database": "ok"})
