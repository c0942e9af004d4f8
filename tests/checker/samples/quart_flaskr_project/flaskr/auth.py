import functools

from quart import Blueprint  # ok: QM101
from quart import flash  # ok: QM101
from quart import g  # ok: QM101
from quart import redirect  # ok: QM101
from quart import render_template  # ok: QM101
from quart import request  # ok: QM101
from quart import session  # ok: QM101  # error: QM721
from quart import url_for  # ok: QM101
from quart.utils import run_sync  # ok: QM101
from werkzeug.security import check_password_hash  # ok: QM101, QM415
from werkzeug.security import generate_password_hash  # ok: QM101, QM415

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")


def login_required(view):
    """View decorator that redirects anonymous users to the login page."""

    @functools.wraps(view)
    async def wrapped_view(**kwargs):  # ok: QM304
        if g.user is None:
            return redirect(url_for("auth.login"))

        return await view(**kwargs)  # ok: QM307

    return wrapped_view


@bp.before_app_request
async def load_logged_in_user():  # ok: QM303
    """If a user id is stored in the session, load the user from the database."""
    user_id = session.get("user_id")

    if user_id is None:
        g.user = None
    else:
        db = await get_db()  # ok: QM307
        cursor = await db.execute("SELECT * FROM user WHERE id = ?", (user_id,))  # ok: QM409
        g.user = await cursor.fetchone()  # ok: QM409


@bp.route("/register", methods=("GET", "POST"))
async def register():  # ok: QM301
    """Register a new user."""
    if request.method == "POST":  # ok: QM201
        form = await request.form  # ok: QM201
        username = form["username"]  # ok: QM201
        password = form["password"]  # ok: QM201
        db = await get_db()  # ok: QM307
        error = None

        if not username:
            error = "Username is required."
        elif not password:
            error = "Password is required."

        if error is None:
            hashed = await run_sync(generate_password_hash)(password)  # ok: QM415
            try:
                await db.execute(  # ok: QM409
                    "INSERT INTO user (username, password) VALUES (?, ?)",
                    (username, hashed),
                )
                await db.commit()  # ok: QM409
            except Exception:
                error = f"User {username} is already registered."
            else:
                return redirect(url_for("auth.login"))

        await flash(error)  # ok: QM208

    return await render_template("auth/register.html")  # ok: QM203


@bp.route("/login", methods=("GET", "POST"))
async def login():  # ok: QM301
    """Log in a registered user by adding the user id to the session."""
    if request.method == "POST":  # ok: QM201
        form = await request.form  # ok: QM201
        username = form["username"]  # ok: QM201
        password = form["password"]  # ok: QM201
        db = await get_db()  # ok: QM307
        error = None
        cursor = await db.execute(  # ok: QM409
            "SELECT * FROM user WHERE username = ?", (username,)
        )
        user = await cursor.fetchone()  # ok: QM409

        if user is None:
            error = "Incorrect username."
        elif not await run_sync(check_password_hash)(user["password"], password):  # ok: QM415
            error = "Incorrect password."

        if error is None:
            session.clear()
            session["user_id"] = user["id"]
            return redirect(url_for("index"))

        await flash(error)  # ok: QM208

    return await render_template("auth/login.html")  # ok: QM203


@bp.route("/logout")
async def logout():  # ok: QM301
    """Clear the current session, including the stored user id."""
    session.clear()
    return redirect(url_for("index"))
