"""Views of a small bookstore blueprint that read the request the Flask way."""

from __future__ import annotations

import flask  # error: QM101
from flask import Blueprint  # error: QM101
from flask import abort  # error: QM101
from flask import current_app  # error: QM101
from flask import flash  # error: QM101
from flask import make_response  # error: QM101
from flask import redirect  # error: QM101
from flask import render_template  # error: QM101
from flask import request  # error: QM101
from flask import send_file  # error: QM101
from flask import send_from_directory  # error: QM101
from flask import url_for  # error: QM101
from flask import request as req  # error: QM101

bp = Blueprint("books", __name__)


def payload(request):  # error: QM306
    return request.get_json(silent=True) or {}  # error: QM201


def page_number() -> int:
    return int(request.args.get("page", 1))  # ok: QM201


@bp.route("/books", methods=["GET", "POST"])
def books():  # error: QM301
    if request.method == "POST":  # ok: QM201
        title = request.form["title"]  # error: QM201
        tags = request.values.getlist("tag")  # error: QM201
        data = payload(request)  # error: QM307
        flash(f"Saved {title}.")  # error: QM208
        return redirect(url_for("books.books", tags=tags, **data))
    return render_template("books.html", page=page_number())  # error: QM203


@bp.post("/books/<int:book_id>/cover")
def upload_cover(book_id: int):  # error: QM301
    cover = request.files["cover"]  # error: QM201
    cover.save(f"/srv/covers/{book_id}.png")  # error: QM210
    for extra in request.files.getlist("extra"):  # error: QM201
        extra.save(f"/srv/extra/{extra.filename}")  # error: QM210
    raw = req.get_data()  # error: QM201
    body = flask.request.json  # error: QM103, QM201
    return {"size": len(raw), "body": body}


@bp.get("/books/<int:book_id>/cover")
def cover(book_id: int):  # error: QM301
    return send_file(  # error: QM205
        f"/srv/covers/{book_id}.png", download_name="cover.png", max_age=60
    )


@bp.get("/files/<path:name>")
def files(name: str):  # error: QM301
    return send_from_directory(current_app.config["FILES"], path=name)  # error: QM206


@bp.get("/")
def index():  # error: QM301
    response = make_response(render_template("index.html"))  # error: QM203, QM204
    response.headers["X-Books"] = "1"
    return response


@bp.get("/favicon.ico")
def favicon():  # error: QM301
    return current_app.send_static_file("favicon.ico")  # error: QM207


@bp.get("/schema")
def schema():  # error: QM301
    with current_app.open_resource("schema.sql") as f:  # error: QM209
        text = f.read()  # error: QM209
    template = current_app.jinja_env.get_template("mail.txt")
    body = template.render(schema=text)  # error: QM213
    return {"schema": body, "args": request.args.to_dict()}  # ok: QM201


@bp.get("/stream")
def stream():  # error: QM301
    size = 0
    for chunk in request.stream:  # error: QM202
        size += len(chunk)
    if request.content_length is None:  # ok: QM201
        abort(411)
    return {"size": size, "json": request.is_json}  # ok: QM201


def init_db(app):  # error: QM306
    with app.app_context():  # error: QM211
        current_app.logger.info("init")


def push_context(app):  # error: QM306
    ctx = app.test_request_context("/books")
    ctx.push()  # error: QM212
    try:
        return request.path  # ok: QM201
    finally:
        ctx.pop()  # error: QM212


class Form:
    data = {"title": ""}  # ok: QM201

    def values(self):
        return self.data  # ok: QM201


def not_the_request(form: Form):
    return form.data, form.values()  # ok: QM201
