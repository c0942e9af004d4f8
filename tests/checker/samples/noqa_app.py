"""Suppressions: per line by code or prefix, and blanket."""

from __future__ import annotations

from flask import request  # noqa: QM101
from flask import jsonify  # noqa
from flask import Blueprint  # noqa: QM1
from flask import abort  # noqa: E501  # error: QM101
from flask import url_for  # noqa:QM201  # error: QM101

bp = Blueprint("x", __name__)


@bp.get("/")
def index():  # noqa: QM301
    data = request.get_json()  # noqa: QM201
    form = request.form  # noqa: QM2
    if not data:
        abort(400)
    return jsonify(data=data, form=form, url=url_for("x.index"))


@bp.get("/two")
def two():  # error: QM301
    return request.data  # noqa: QM202  # error: QM201
