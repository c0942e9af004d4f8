from datetime import datetime

import aiosqlite
import click
from quart import current_app  # ok: QM101
from quart import g  # ok: QM101
from quart.cli import with_appcontext  # ok: QM711


async def get_db():  # ok: QM309
    """Connect to the application's configured database."""
    if "db" not in g:
        g.db = await aiosqlite.connect(  # ok: QM409
            current_app.config["DATABASE"], detect_types=1
        )
        g.db.row_factory = aiosqlite.Row  # ok: QM409

    return g.db


async def close_db(e=None):  # ok: QM303
    """If this request connected to the database, close the connection."""
    db = g.pop("db", None)

    if db is not None:
        await db.close()  # ok: QM409


async def init_db():  # ok: QM306
    """Clear existing data and create new tables."""
    db = await get_db()  # ok: QM307

    async with await current_app.open_resource("schema.sql") as f:  # ok: QM209, QM211
        await db.executescript((await f.read()).decode("utf8"))  # ok: QM209, QM409


@click.command("init-db")
@with_appcontext
async def init_db_command():  # ok: QM305
    """Clear existing data and create new tables."""
    await init_db()  # ok: QM307
    click.echo("Initialized the database.")


def parse_timestamp(value: bytes) -> datetime:
    return datetime.fromisoformat(value.decode())  # ok: QM406


def init_app(app):  # ok: QM305
    """Register database functions with the Quart app."""
    app.teardown_appcontext(close_db)  # ok: QM303
    app.cli.add_command(init_db_command)  # ok: QM711
