import time

import bcrypt
from flask import Response  # error: QM101
from flask import request  # error: QM101
from flask import stream_with_context  # error: QM101
from passlib.context import CryptContext
from passlib.hash import pbkdf2_sha256
from werkzeug.routing import BaseConverter

from shop import User
from shop import app
from shop.decorators import login_required
from shop.decorators import role_required

pwd = CryptContext(schemes=["bcrypt"])


def events():
    while True:
        time.sleep(1)
        yield "data: tick\n\n"


async def async_events():
    yield "data: tick\n\n"


def csv_rows():
    yield "a,b\n"


@app.get("/users/<int:uid>")
def user(uid):  # error: QM301
    found = User.query.filter_by(id=uid).first()  # error: QM416
    users = User.query.order_by(User.id)  # ok: QM416 (a query, not run)
    found.save()  # error: QM307
    digest = pbkdf2_sha256.hash("secret")  # error: QM415
    ok = pwd.verify("secret", digest)  # error: QM415
    salted = bcrypt.gensalt()  # ok: QM415
    env = request.headers.environ  # error: QM705
    host = request.headers.get("Host")  # ok: QM705
    return {"ok": ok, "host": host, "env": len(env), "n": len(users)}


@app.get("/events")
def stream():  # error: QM301
    response = Response(events(), mimetype="text/event-stream")  # error: QM417, QM714
    response.call_on_close(lambda: None)  # error: QM717
    return response


@app.get("/events-async")
def stream_async():  # error: QM301
    response = Response(async_events(), mimetype="text/event-stream")  # ok: QM417
    response.timeout = None
    return response


@app.get("/wrapped")
def wrapped():  # error: QM301
    body = stream_with_context(events())  # error: QM308  # ok: QM417
    response = Response(body, mimetype="text/event-stream")  # ok: QM714 (timeout set)
    response.timeout = 5
    return response


@app.get("/export.csv")
def export():  # error: QM301
    response = Response(csv_rows(), mimetype="text/csv")  # ok: QM417
    response.timeout = None
    return response


def close_files(files):
    files.close_on_exit()  # ok: QM717


@app.get("/admin")
@role_required("admin")
@login_required
def admin():  # error: QM301
    return user(1)  # error: QM307 (a view calling another view)


class UserConverter(BaseConverter):
    def to_python(self, value):  # error: QM418
        return User.query.get_or_404(int(value))

    def to_url(self, value):  # ok: QM418
        return str(value.id)


class ListConverter(BaseConverter):
    def to_python(self, value):  # ok: QM418
        return value.split(",")
