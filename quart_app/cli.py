"""``python -m quart_app``: serve on Hypercorn, create tables, create an admin, seed books."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import sys
from collections.abc import Sequence

from legacy_flask.commands import command_parser
from legacy_flask.commands import manage_config
from legacy_flask.commands import read_password
from legacy_flask.commands import run_command

#: The ASGI application Hypercorn's workers import: the factory, called once per worker.
APPLICATION_PATH = "quart_app:create_app()"


def _parser() -> argparse.ArgumentParser:
    parser, serve = command_parser("python -m quart_app", "Hypercorn", 8001)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--worker-class", choices=("asyncio", "uvloop"), default="asyncio")
    serve.add_argument(
        "--access-log", action="store_true", help="log every request to stderr (off: it costs CPU)"
    )
    return parser


def serve(args: argparse.Namespace) -> int:
    """Run Hypercorn with ``--workers`` processes until SIGINT or SIGTERM."""
    from hypercorn.config import Config
    from hypercorn.run import run

    from legacy_flask.settings import load_settings

    if args.db:
        os.environ["BOOKSTORE_DATABASE_URL"] = args.db
    load_settings()  # fail here, in one line, rather than in every worker
    if args.workers > 1 and not os.environ.get("BOOKSTORE_SECRET_KEY"):
        # Every worker must sign cookies with the same key; this one lasts as long as the server.
        logging.getLogger(__name__).warning(
            "BOOKSTORE_SECRET_KEY is not set: using a random key shared by this server's workers"
        )
        os.environ["BOOKSTORE_SECRET_KEY"] = secrets.token_hex(32)
    if args.workers > 1 and not os.environ.get("BOOKSTORE_RATELIMIT_STORAGE_URL"):
        logging.getLogger(__name__).warning(
            "BOOKSTORE_RATELIMIT_STORAGE_URL is not set: each of the %d workers counts the "
            "rate limits on its own, so a client gets up to %d times the limit; set it to a "
            "shared store (redis://host:6379/0)",
            args.workers,
            args.workers,
        )
    config = Config()
    config.application_path = APPLICATION_PATH
    config.bind = [f"{args.host}:{args.port}"]
    config.workers = args.workers
    config.worker_class = args.worker_class
    config.accesslog = "-" if args.access_log else None
    print(f"quart_app on Hypercorn: http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    return run(config)


async def _manage(args: argparse.Namespace, config: dict[str, object]) -> None:
    from legacy_flask.schemas import BookIn
    from legacy_flask.schemas import Credentials
    from legacy_flask.seed import sample_books
    from quart_app import create_app
    from quart_app.auth import ensure_admin
    from quart_app.db import activated
    from quart_app.extensions import TORTOISE
    from quart_app.extensions import data_layer

    credentials = None
    if args.command == "create-admin":
        credentials = Credentials.model_validate(
            {"username": args.name, "password": read_password()}
        )
    app = create_app(config)
    async with app.test_app(), app.app_context():
        context = app.extensions.get(TORTOISE)
        with activated(context) if context is not None else contextlib.nullcontext():
            store = data_layer()
            if credentials is not None:
                await ensure_admin(credentials.username, credentials.password)
                print(f"admin {credentials.username} is ready", file=sys.stderr)
            elif args.command == "seed":
                added = 0
                for fields in sample_books():
                    if await store.find_book_by_isbn(str(fields["isbn"])) is None:
                        await store.create_book(BookIn.model_validate(fields))
                        added += 1
                print(f"added {added} sample books", file=sys.stderr)
            else:
                print("tables are ready", file=sys.stderr)


def manage(args: argparse.Namespace) -> int:
    """Run ``init-db``, ``create-admin`` or ``seed``."""
    asyncio.run(_manage(args, manage_config(args)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return 0 on success, 2 on bad input (one line on stderr)."""
    return run_command(
        _parser(), lambda args: serve(args) if args.command == "serve" else manage(args), argv
    )
