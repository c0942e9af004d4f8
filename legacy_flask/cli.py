"""``python -m legacy_flask``: serve on Waitress, create tables, create an admin, seed books."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from legacy_flask.settings import SettingsError

#: Waitress' own default thread count.
DEFAULT_THREADS = 4


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="URL", help="database URL (default: BOOKSTORE_DATABASE_URL)"
    )
    parser = argparse.ArgumentParser(prog="python -m legacy_flask", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", parents=[common], help="serve the app with Waitress")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="worker threads")
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


def _run(args: argparse.Namespace) -> int:
    from legacy_flask import create_app
    from legacy_flask import store
    from legacy_flask.auth import ensure_admin
    from legacy_flask.extensions import db_session
    from legacy_flask.schemas import BookIn
    from legacy_flask.schemas import Credentials
    from legacy_flask.seed import sample_books

    config: dict[str, Any] = {}
    if args.db:
        config["database_url"] = args.db
    if args.command != "serve":
        # These commands sign no cookies: spare them the random-key warning.
        config["secret_key"] = "not-used-by-" + args.command
    if args.command == "create-admin":
        credentials = Credentials.model_validate(
            {"username": args.name, "password": _read_password()}
        )
    app = create_app(config)
    if args.command == "serve":
        import waitress

        print(
            f"legacy_flask on Waitress: http://{args.host}:{args.port}", file=sys.stderr, flush=True
        )
        waitress.serve(app, host=args.host, port=args.port, threads=args.threads)
        return 0
    with app.app_context():
        if args.command == "create-admin":
            ensure_admin(credentials.username, credentials.password)
            print(f"admin {credentials.username} is ready", file=sys.stderr)
        elif args.command == "seed":
            session = db_session()
            added = 0
            for fields in sample_books():
                if store.find_book_by_isbn(session, str(fields["isbn"])) is None:
                    store.create_book(session, BookIn.model_validate(fields))
                    added += 1
            session.commit()
            print(f"added {added} sample books", file=sys.stderr)
        else:
            print("tables are ready", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return 0 on success, 2 on bad input (one line on stderr)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: {problems}", file=sys.stderr)
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(
            f"error: database: {exc.__class__.__name__}: {getattr(exc, 'orig', exc)}",
            file=sys.stderr,
        )
    except KeyboardInterrupt:
        return 130
    return 2
