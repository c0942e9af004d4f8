"""What both apps' command lines share: the subcommands, the password prompt, error messages.

Framework-free: ``python -m legacy_flask`` and ``python -m quart_app`` build their parsers
with :func:`command_parser` and run their commands through :func:`run_command`, so both take
the same flags and answer bad input the same way: one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from legacy_flask.settings import SettingsError


def command_parser(
    prog: str, server: str, port: int
) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """Return the parser and its ``serve`` subparser, for the app to add its server's flags.

    Subcommands: ``serve [--host --port --db]``, ``init-db``, ``create-admin NAME`` and
    ``seed``, each with ``--db URL`` (default: ``BOOKSTORE_DATABASE_URL``).

    :param prog: the program name in messages (``python -m legacy_flask``).
    :param server: the server's name in ``serve``'s help (``Waitress``).
    :param port: ``serve``'s default port.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="URL", help="database URL (default: BOOKSTORE_DATABASE_URL)"
    )
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", parents=[common], help=f"serve the app with {server}")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=port)
    commands.add_parser("init-db", parents=[common], help="create the tables that are missing")
    admin = commands.add_parser(
        "create-admin", parents=[common], help="create an admin (password from a prompt or stdin)"
    )
    admin.add_argument("name")
    commands.add_parser("seed", parents=[common], help="add the sample books that are missing")
    return parser, serve


def read_password() -> str:
    """Read a password: twice from a terminal prompt, else one line of standard input.

    :raises ValueError: the two entries at the prompt differ.
    """
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise ValueError("the passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def run_command(
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse ``argv`` and call ``run``; turn expected failures into one line and status 2.

    :returns: ``run``'s status; 2 for invalid input, a bad setting or an unreachable database;
        130 on Ctrl-C.
    """
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: {problems}", file=sys.stderr)
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"error: database: {getattr(exc, 'orig', None) or exc}", file=sys.stderr)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


def manage_config(args: argparse.Namespace) -> dict[str, object]:
    """Return the app config of a management command (``--db``, and a key that signs nothing)."""
    config: dict[str, object] = {"secret_key": "not-used-by-" + args.command}
    if args.db:
        config["database_url"] = args.db
    return config
