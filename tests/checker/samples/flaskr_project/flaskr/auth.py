import functools

from flask import Blueprint  # error: QM101
from flask import flash  # error: QM101
from flask import g  # error: QM101
from flask import redirect  # error: QM101
from flask import render_template  # error: QM101
from flask import request  # error: QM101
from flask import session  # error: QM101, QM721
from flask import url_for  # error: QM101
from werkzeug.security import check_password_hash  # ok: QM101
from werkzeug.security import generate_password_hash  # ok: QM101

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")


def login_required(view):
    """View decorator that redirects anonymous users to the login page."""

    @functools.wraps(view)
    def wrapped_view(**kwargs):  # error: QM304
        if g.user is None:
            return redirect(url_for("auth.login"))

        return view(**kwargs)  # error: QM307

    return wrapped_view


@bp.before_app_request
def load_logged_in_user():  # error: QM303
    """If a user id is stored in the session, load the user object from the database."""
    user_id = session.get("user_id")

    if user_id is None:
        g.user = None
    else:
        g.user = (
            get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()  # error: QM307, QM409
        )


@bp.route("/register", methods=("GET", "POST"))
def register():  # error: QM301
    """Register a new user."""
    if request.method == "POST":
        username = request.form["username"]  # error: QM201
        password = request.form["password"]  # error: QM201
        db = get_db()  # error: QM307
        error = None

        if not username:
            error = "Username is required."
        elif not password:
            error = "Password is required."

        if error is None:
            try:
                db.execute(  # error: QM409
                    "INSERT INTO user (username, password) VALUES (?, ?)",
                    (username, generate_password_hash(password)),  # error: QM415
                )
                db.commit()  # error: QM409
            except db.IntegrityError:
                error = f"User {username} is already registered."
            else:
                return redirect(url_for("auth.login"))

        flash(error)  # error: QM208

    return render_template("auth/register.html")  # error: QM203


@bp.route("/login", methods=("GET", "POST"))
def login():  # error: QM301
    """Log in a registered user by adding the user id to the session."""
    if request.method == "POST":
        username = request.form["username"]  # error: QM201
        password = request.form["password"]  # error: QM201
        db = get_db()  # error: QM307
        error = None
        user = db.execute(  # error: QM409
            "SELECT * FROM user WHERE username = ?", (username,)
        ).fetchone()

        if user is None:
            error = "Incorrect username."
        elif not check_password_hash(user["password"], password):  # error: QM415
            error = "Incorrect password."

        if error is None:
            session.clear()
            session["user_id"] = user["id"]
            return redirect(url_for("index"))

        flash(error)  # error: QM208

    return render_template("auth/login.html")  # error: QM203


@bp.route("/logout")
def logout():  # error: QM301
    """Clear the current session, including the stored user id."""
    session.clear()
    return redirect(url_for("index"))
