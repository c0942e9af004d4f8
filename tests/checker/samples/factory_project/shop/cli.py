"""A maintenance command: it pushes an app context of its own, outside any request."""

from __future__ import annotations

import time

import click

from shop import create_app
from shop.extensions import db_session


def wait_for_database(seconds: float) -> None:
    # Runs under the command's own event loop once async: no request waits for it.
    time.sleep(seconds)  # ok: QM401


def purge_books() -> int:  # error: QM306
    app = create_app()  # ok: QM307
    with app.app_context():  # error: QM211
        wait_for_database(0.5)  # ok: QM307
        db_session().commit()  # ok: QM416
    return 0


@click.command("purge")
def purge_command() -> None:  # error: QM305
    purge_books()  # error: QM307
