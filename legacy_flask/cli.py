"""``python -m legacy_flask``: serve on Waitress, create tables, create an admin, seed books."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from legacy_flask.commands import command_parser
from legacy_flask.commands import manage_config
from legacy_flask.commands import read_password
from legacy_flask.commands import run_command

#: Waitress' own default thread count.
DEFAULT_THREADS = 4


def _parser() -> argparse.ArgumentParser:
    parser, serve = command_parser("python -m legacy_flask", "Waitress", 8000)
    serve.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="worker threads")
    return parser


def serve(args: argparse.Namespace) -> int:
    """Serve the app with Waitress until Ctrl-C."""
    from legacy_flask import create_app
    from legacy_flask.server import serve_waitress

    app = create_app({"database_url": args.db} if args.db else {})
    print(f"legacy_flask on Waitress: http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    serve_waitress(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        proxy_hops=app.config["BOOKSTORE"].proxy_hops,
    )
    return 0


def manage(args: argparse.Namespace) -> int:
    """Run ``init-db``, ``create-admin`` or ``seed``."""
    from legacy_flask import create_app
    from legacy_flask import store
    from legacy_flask.auth import ensure_admin
    from legacy_flask.extensions import db_session
    from legacy_flask.schemas import BookIn
    from legacy_flask.schemas import Credentials
    from legacy_flask.seed import sample_books

    credentials = None
    if args.command == "create-admin":
        credentials = Credentials.model_validate(
            {"username": args.name, "password": read_password()}
        )
    app = create_app(manage_config(args))  # creates the tables
    with app.app_context():
        if credentials is not None:
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
    return run_command(
        _parser(), lambda args: serve(args) if args.command == "serve" else manage(args), argv
    )
