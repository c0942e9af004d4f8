"""An app factory that wires up the usual Flask extensions."""

from __future__ import annotations

import flask_login  # error: QM501
import quart_flask_patch  # error: QM503
from flask_cors import CORS  # error: QM501
from flask_limiter import Limiter  # error: QM501
from flask_limiter.util import get_remote_address  # error: QM501
from flask_sqlalchemy import SQLAlchemy  # error: QM501
from flask_mail import Mail  # error: QM501
from flask_whatever import Thing  # error: QM501
from quart import Quart
from quart_auth import QuartAuth  # ok: QM501
from quart_cors import cors  # ok: QM501
from quart_rate_limiter import RateLimiter  # ok: QM501
from myapp.flask_helpers import setup  # ok: QM501
from flaskext import legacy  # ok: QM501

db = SQLAlchemy()  # error: QM505
login = flask_login.LoginManager()  # error: QM505


def create_app():
    app = Quart(__name__)  # error: QM709
    CORS(app)  # error: QM505
    Limiter(get_remote_address, app=app)  # error: QM505
    Mail(app)  # error: QM505
    Thing(app)  # error: QM505
    QuartAuth(app)  # ok: QM505
    RateLimiter(app)  # ok: QM505
    setup(app, legacy, quart_flask_patch)  # ok: QM505
    return cors(app, allow_origin="*")


def patched():
    from quart import flask_patch  # error: QM503

    return flask_patch
