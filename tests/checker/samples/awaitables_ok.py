"""The same views after migration: every awaitable is awaited."""

from __future__ import annotations

from quart import Blueprint
from quart import current_app
from quart import flash
from quart import make_response
from quart import render_template
from quart import request
from quart import send_file

bp = Blueprint("books", __name__)


@bp.post("/books")
async def create():
    form = await request.form  # ok: QM201
    data = await request.get_json(silent=True)  # ok: QM201
    await flash("Saved.")  # ok: QM208
    return await render_template("books.html", form=form, data=data)  # ok: QM203


@bp.get("/cover")
async def cover():
    files = await request.files  # ok: QM201
    upload = files["cover"]
    await upload.save("/tmp/x")  # ok: QM210
    return await send_file("/tmp/x", attachment_filename="x.png")  # ok: QM205


@bp.get("/")
async def index():
    response = await make_response(await render_template("i.html"))  # ok: QM204
    async with current_app.app_context():  # ok: QM211
        pass
    async for chunk in request.body:  # ok: QM202
        response.headers["X-Last"] = str(len(chunk))
    return response


def sync_view_is_fine():
    return {"args": request.args, "headers": dict(request.headers)}  # ok: QM201
