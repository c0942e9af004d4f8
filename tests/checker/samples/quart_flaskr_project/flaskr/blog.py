from quart import Blueprint  # ok: QM101
from quart import flash  # ok: QM101
from quart import g  # ok: QM101
from quart import redirect  # ok: QM101
from quart import render_template  # ok: QM101
from quart import request  # ok: QM101
from quart import url_for  # ok: QM101
from werkzeug.exceptions import abort  # ok: QM101

from .auth import login_required
from .db import get_db

bp = Blueprint("blog", __name__)


@bp.route("/")
async def index():  # ok: QM301
    """Show all the posts, most recent first."""
    db = await get_db()  # ok: QM307
    cursor = await db.execute(  # ok: QM409
        "SELECT p.id, title, body, created, author_id, username"
        " FROM post p JOIN user u ON p.author_id = u.id"
        " ORDER BY created DESC"
    )
    posts = await cursor.fetchall()  # ok: QM409
    return await render_template("blog/index.html", posts=posts)  # ok: QM203


async def get_post(id, check_author=True):  # ok: QM305, QM309
    """Get a post and its author by id."""
    db = await get_db()  # ok: QM307
    cursor = await db.execute(  # ok: QM409
        "SELECT p.id, title, body, created, author_id, username"
        " FROM post p JOIN user u ON p.author_id = u.id"
        " WHERE p.id = ?",
        (id,),
    )
    post = await cursor.fetchone()  # ok: QM409

    if post is None:
        abort(404, f"Post id {id} doesn't exist.")

    if check_author and post["author_id"] != g.user["id"]:
        abort(403)

    return post


@bp.route("/create", methods=("GET", "POST"))
@login_required
async def create():  # ok: QM301
    """Create a new post for the current user."""
    if request.method == "POST":  # ok: QM201
        form = await request.form  # ok: QM201
        title = form["title"]
        body = form["body"]
        error = None

        if not title:
            error = "Title is required."

        if error is not None:
            await flash(error)  # ok: QM208
        else:
            db = await get_db()  # ok: QM307
            await db.execute(  # ok: QM409
                "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
                (title, body, g.user["id"]),
            )
            await db.commit()  # ok: QM409
            return redirect(url_for("blog.index"))

    return await render_template("blog/create.html")  # ok: QM203


@bp.route("/<int:id>/update", methods=("GET", "POST"))
@login_required
async def update(id):  # ok: QM301
    """Update a post if the current user is the author."""
    post = await get_post(id)  # ok: QM307

    if request.method == "POST":  # ok: QM201
        form = await request.form  # ok: QM201
        title = form["title"]
        body = form["body"]
        error = None

        if not title:
            error = "Title is required."

        if error is not None:
            await flash(error)  # ok: QM208
        else:
            db = await get_db()  # ok: QM307
            await db.execute(  # ok: QM409
                "UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, id)
            )
            await db.commit()  # ok: QM409
            return redirect(url_for("blog.index"))

    return await render_template("blog/update.html", post=post)  # ok: QM203


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
async def delete(id):  # ok: QM301
    """Delete a post."""
    await get_post(id)  # ok: QM307
    db = await get_db()  # ok: QM307
    await db.execute("DELETE FROM post WHERE id = ?", (id,))  # ok: QM409
    await db.commit()  # ok: QM409
    return redirect(url_for("blog.index"))
