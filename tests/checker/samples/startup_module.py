"""A one-module app that prepares its database where the app is built, at import time."""

from __future__ import annotations

import sqlite3

from flask import Flask  # error: QM101, QM102

app = Flask(__name__)  # error: QM102
app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024  # ok: QM709
app.config["RESPONSE_TIMEOUT"] = 300  # ok: QM708


def create_table() -> None:
    with sqlite3.connect("books.db") as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS book (title TEXT)")


def titles():
    yield from ("a", "b")


@app.get("/titles.txt")
def export_titles():  # error: QM301
    # RESPONSE_TIMEOUT is set for the whole app above.
    return app.response_class(titles(), mimetype="text/plain")  # ok: QM714


with app.app_context():  # error: QM214  # ok: QM211
    create_table()
