import sqlite3
from datetime import datetime

import click
from flask import current_app  # error: QM101
from flask import g  # error: QM101


def get_db():  # error: QM309
    """Connect to the application's configured database."""
    if "db" not in g:
        g.db = sqlite3.connect(  # error: QM409
            current_app.config["DATABASE"], detect_types=sqlite3.PARSE_DECLTYPES
        )
        g.db.row_factory = sqlite3.Row

    return g.db


def close_db(e=None):  # error: QM303
    """If this request connected to the database, close the connection."""
    db = g.pop("db", None)

    if db is not None:
        db.close()  # error: QM409


def init_db():  # error: QM306
    """Clear existing data and create new tables."""
    db = get_db()  # error: QM307

    with current_app.open_resource("schema.sql") as f:  # error: QM209
        db.executescript(f.read().decode("utf8"))  # error: QM209, QM409


@click.command("init-db")
def init_db_command():  # error: QM305
    """Clear existing data and create new tables."""
    init_db()  # error: QM307
    click.echo("Initialized the database.")


sqlite3.register_converter("timestamp", lambda v: datetime.fromisoformat(v.decode()))


def init_app(app):
    """Register database functions with the Flask app."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)  # error: QM711
