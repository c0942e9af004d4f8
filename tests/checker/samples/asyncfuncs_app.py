"""Registration styles Flask allows for views, handlers and hooks."""

from __future__ import annotations

import functools

from flask import Blueprint  # error: QM101
from flask import Response  # error: QM101
from flask import g  # error: QM101
from flask import render_template  # error: QM101
from flask import request  # error: QM101
from flask import stream_with_context  # error: QM101
from flask.views import MethodView  # error: QM101
from flask.views import View  # error: QM101

bp = Blueprint("shop", __name__)


class BookAPI(MethodView):
    init_every_request = False

    def get(self, book_id):  # error: QM301
        return {"id": book_id}

    def post(self):  # error: QM301
        return self.save(request.get_json()), 201  # error: QM201, QM307

    def save(self, data):  # error: QM306
        return {"saved": data, "form": request.form}  # error: QM201

    def helper(self):  # ok: QM301
        return "not a view"


class Health(View):
    def dispatch_request(self):  # error: QM301
        return "ok"


class Plain:
    def get(self):  # ok: QM301
        return 1


bp.add_url_rule("/books/<int:book_id>", view_func=BookAPI.as_view("book"))


def ping():  # error: QM301
    return "pong"


bp.add_url_rule("/ping", "ping", ping)


def not_found(error):  # error: QM302
    return render_template("404.html"), 404  # error: QM203


bp.register_error_handler(404, not_found)


@bp.app_errorhandler(500)
def server_error(error):  # error: QM302
    return {"error": str(error)}, 500


@bp.errorhandler(ValueError)
async def bad_value(error):  # ok: QM302
    return {"error": str(error)}, 400


def stamp(response):  # error: QM303
    response.headers["X-Shop"] = "1"
    return response


bp.after_app_request(stamp)


@bp.teardown_request
def cleanup(exc):  # error: QM303
    g.pop("cart", None)


def timed(view):
    @functools.wraps(view)
    def inner(*args, **kwargs):  # error: QM304
        return view(*args, **kwargs)  # error: QM307

    return inner


def cached(func):
    def inner(*args):  # ok: QM304
        return func(*args)  # ok: QM307

    return inner


@cached
def price(amount: int) -> int:
    return amount * 2


@bp.get("/cart")
@timed
def cart():  # error: QM301
    return {"total": price(3)}


def user_name():  # error: QM305
    return current_user()["name"]  # error: QM307


def current_user():  # error: QM306
    return request.get_json()["user"]  # error: QM201


@bp.get("/me")
def me():  # error: QM301
    return {"name": user_name()}  # error: QM307


@bp.get("/stream")
def stream():  # error: QM301
    def generate():
        yield "a"
        yield "b"

    return Response(stream_with_context(generate()))  # error: QM308, QM714


@stream_with_context
def rows():  # error: QM308
    yield "row"


@bp.get("/async")
async def already_async():  # ok: QM301
    return {"user": await current_user()}


def helper_not_reached():  # ok: QM305
    return price(1)
