from flask import Blueprint  # error: QM101
from flask import flash  # error: QM101
from flask import g  # error: QM101
from flask import redirect  # error: QM101
from flask import render_template  # error: QM101
from flask import request  # error: QM101
from flask import url_for  # error: QM101
from werkzeug.exceptions import abort  # ok: QM101

from .auth import login_required
from .db import get_db

bp = Blueprint("blog", __name__)


@bp.route("/")
def index():  # error: QM301
    """Show all the posts, most recent first."""
    db = get_db()  # error: QM307
    posts = db.execute(  # error: QM409
        "SELECT p.id, title, body, created, author_id, username"
        " FROM post p JOIN user u ON p.author_id = u.id"
        " ORDER BY created DESC"
    ).fetchall()
    return render_template("blog/index.html", posts=posts)  # error: QM203


def get_post(id, check_author=True):  # error: QM309
    """Get a post and its author by id."""
    post = (
        get_db()  # error: QM307, QM409
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " WHERE p.id = ?",
            (id,),
        )
        .fetchone()
    )

    if post is None:
        abort(404, f"Post id {id} doesn't exist.")

    if check_author and post["author_id"] != g.user["id"]:
        abort(403)

    return post


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create():  # error: QM301
    """Create a new post for the current user."""
    if request.method == "POST":
        title = request.form["title"]  # error: QM201
        body = request.form["body"]  # error: QM201
        error = None

        if not title:
            error = "Title is required."

        if error is not None:
            flash(error)  # error: QM208
        else:
            db = get_db()  # error: QM307
            db.execute(  # error: QM409
                "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
                (title, body, g.user["id"]),
            )
            db.commit()  # error: QM409
            return redirect(url_for("blog.index"))

    return render_template("blog/create.html")  # error: QM203


@bp.route("/<int:id>/update", methods=("GET", "POST"))
@login_required
def update(id):  # error: QM301
    """Update a post if the current user is the author."""
    post = get_post(id)  # error: QM307

    if request.method == "POST":
        title = request.form["title"]  # error: QM201
        body = request.form["body"]  # error: QM201
        error = None

        if not title:
            error = "Title is required."

        if error is not None:
            flash(error)  # error: QM208
        else:
            db = get_db()  # error: QM307
            db.execute(  # error: QM409
                "UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, id)
            )
            db.commit()  # error: QM409
            return redirect(url_for("blog.index"))

    return render_template("blog/update.html", post=post)  # error: QM203


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
def delete(id):  # error: QM301
    """Delete a post."""
    get_post(id)  # error: QM307
    db = get_db()  # error: QM307
    db.execute("DELETE FROM post WHERE id = ?", (id,))  # error: QM409
    db.commit()  # error: QM409
    return redirect(url_for("blog.index"))
