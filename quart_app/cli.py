"""``python -m quart_app``: serve on Hypercorn, create tables, create an admin, seed books."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from legacy_flask.settings import SettingsError

#: The ASGI application Hypercorn's workers import: the factory, called once per worker.
APPLICATION_PATH = "quart_app:create_app()"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="URL", help="database URL (default: BOOKSTORE_DATABASE_URL)"
    )
    parser = argparse.ArgumentParser(prog="python -m quart_app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", parents=[common], help="serve the app with Hypercorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--worker-class", choices=("asyncio", "uvloop"), default="asyncio")
    serve.add_argument(
        "--access-log", action="store_true", help="log every request to stderr (off: it costs CPU)"
    )
    commands.add_parser("init-db", parents=[common], help="create the tables that are missing")
    admin = commands.add_parser(
        "create-admin", parents=[common], help="create an admin (password from a prompt or stdin)"
    )
    admin.add_argument("name")
    commands.add_parser("seed", parents=[common], help="add the sample books that are missing")
    return parser


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise ValueError("the passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


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
    config = Config()
    config.application_path = APPLICATION_PATH
    config.bind = [f"{args.host}:{args.port}"]
    config.workers = args.workers
    config.worker_class = args.worker_class
    config.accesslog = "-" if args.access_log else None
    print(f"quart_app on Hypercorn: http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    return run(config)


async def _manage(args: argparse.Namespace, config: dict[str, Any]) -> None:
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
            {"username": args.name, "password": _read_password()}
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return 0 on success, 2 on bad input (one line on stderr)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return serve(args)
        config: dict[str, Any] = {"secret_key": "not-used-by-" + args.command}
        if args.db:
            config["database_url"] = args.db
        asyncio.run(_manage(args, config))
        return 0
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: {problems}", file=sys.stderr)
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except (SQLAlchemyError, OSError) as exc:
        print(f"error: database: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2
