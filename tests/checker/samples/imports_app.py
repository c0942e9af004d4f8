"""A Flask app module written the classic way: every import names flask."""

from __future__ import annotations

import os
import flask  # error: QM101
import flask as f  # error: QM101
from flask import Flask  # error: QM101, QM102
from flask import jsonify  # error: QM101
from flask import request as req  # error: QM101
from flask.globals import request_ctx  # error: QM101, QM105
from flask.testing import FlaskClient  # error: QM101, QM104
from flask.views import MethodView  # error: QM101
from flask.json.provider import DefaultJSONProvider  # error: QM101
from werkzeug.security import generate_password_hash  # ok: QM101
from werkzeug.exceptions import NotFound  # ok: QM101
from myflaskapp import helpers  # ok: QM101
from flaskish.views import render  # ok: QM101
from .flask import settings  # ok: QM101

app = Flask(__name__)  # error: QM102, QM709
other = flask.Flask("other")  # error: QM102, QM709
api = f.Blueprint("api", __name__)  # ok: QM103


class JSONProvider(DefaultJSONProvider):  # ok: QM104
    sort_keys = False


class BookClient(FlaskClient):  # error: QM104
    pass


def make(config: dict[str, object]) -> Flask:  # error: QM102
    application = Flask(__name__, instance_relative_config=True)  # error: QM102, QM709
    application.config.from_mapping(config)
    return application


def status():
    return flask.jsonify(ok=True)  # error: QM103


def who():
    return jsonify(user=req.headers.get("X-User"))  # ok: QM201


def current_path():
    return request_ctx.request.path  # error: QM105


def wrapped(view):
    return app.ensure_sync(view)  # error: QM104


def wsgi_entry(environ, start_response):
    return app.wsgi_app(environ, start_response)  # error: QM106


def settings_path():
    return os.path.join(helpers.root, settings.NAME, render.__name__, str(NotFound))


class Books(MethodView):
    def options(self):  # error: QM301
        return "", 204


hashed = generate_password_hash("x")  # ok: QM415
