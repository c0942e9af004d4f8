"""Views that reach the sessions through a module attribute and an object's property."""

from __future__ import annotations

from flask import Blueprint  # error: QM101
from flask import jsonify  # error: QM101

from library import calibre_db
from library import ub
from library.api import client
from library.db import book_count

web = Blueprint("web", __name__)


@web.route("/shelves")
def shelves():  # error: QM301
    rows = ub.session.query(dict).all()  # error: QM416
    ub.session_commit()  # error: QM307
    return jsonify([str(row) for row in rows])


@web.route("/book/<int:book_id>")
def show_book(book_id: int):  # error: QM301
    book = calibre_db.get_book(book_id)  # ok: QM416
    calibre_db.session.commit()  # error: QM416
    client.session.get(f"/covers/{book_id}")  # ok: QM416
    return jsonify({"book": str(book), "of": book_count()})  # error: QM307
