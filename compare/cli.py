"""The ``python -m compare`` command line.

Each subcommand is one ``_add_<name>`` function that declares its flags and sets ``run``, a
function from the parsed flags to an exit status. Adding a subcommand means writing one such
function and listing it in ``_COMMANDS``.

Exit status: 0 success, 1 the command failed, 2 a usage error (one line on stderr).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Final
from typing import NoReturn
from typing import TypeAlias

from compare import demo
from compare import diff
from compare import inventory
from compare import procs
from compare.balancer import BalancerUnavailableError

_PROG: Final = "python -m compare"


class _UsageError(Exception):
    """A bad command line; ``str()`` is the one-line message to print."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage block and exits on its own; raising instead lets ``main``
    # print one line and return 2, also when called from tests.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message} (see --help)")


_Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 65535, got {text!r}")
    return int(text)


def _backends(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 16:
        raise argparse.ArgumentTypeError(f"must be an integer from 1 to 16, got {text!r}")
    return int(text)


def _latency_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= inventory.MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(
            f"must be between 0 and {inventory.MAX_LATENCY_MS:g} ms, got {text!r}"
        )
    return value


def _add_inventory(commands: _Commands) -> None:
    parser = commands.add_parser(
        "inventory",
        help="serve the inventory stand-in until Ctrl-C or SIGTERM",
        description="Serve GET /stock/{isbn} after a fixed latency, with switchable failures.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8081,
        help="TCP port, 0 for any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--latency-ms",
        type=_latency_ms,
        default=50.0,
        metavar="MS",
        help="delay before each /stock answer, in milliseconds (default: %(default)g)",
    )
    parser.add_argument(
        "--fail",
        choices=inventory.FAIL_MODES,
        default="none",
        help="how /stock misbehaves (default: %(default)s)",
    )

    def run(args: argparse.Namespace) -> int:
        return inventory.serve(
            host=args.host, port=args.port, latency_ms=args.latency_ms, fail=args.fail
        )

    parser.set_defaults(run=run)


def _add_demo(commands: _Commands) -> None:
    parser = commands.add_parser(
        "demo",
        help="serve both bookstores side by side on one seeded database until Ctrl-C",
        description="Start the inventory stand-in, legacy_flask on Waitress and quart_app on "
        "Hypercorn, on one seeded SQLite database.",
    )
    defaults = demo.DemoPorts()
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--flask-port", type=_port, default=defaults.flask, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--quart-port", type=_port, default=defaults.quart, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--inventory-port", type=_port, default=defaults.inventory, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--latency-ms",
        type=_latency_ms,
        default=50.0,
        metavar="MS",
        help="the inventory stand-in's latency (default: %(default)g)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the database in this folder (default: a temporary folder, removed at exit)",
    )
    parser.add_argument(
        "--backends",
        type=_backends,
        default=1,
        metavar="N",
        help="server processes per app; above 1, behind HAProxy on the app's port, as "
        "deployed (docs/deployment.md) (default: %(default)s)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="the database both apps share, e.g. postgresql://postgres@127.0.0.1:5432/demo "
        "(default: a SQLite file in the data folder)",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        metavar="URL",
        help="count the rate limits of every process here, e.g. redis://127.0.0.1:6379/0 "
        "(default: in each process's memory)",
    )

    def run(args: argparse.Namespace) -> int:
        ports = demo.DemoPorts(args.flask_port, args.quart_port, args.inventory_port)
        try:
            return demo.run_demo(
                host=args.host,
                ports=ports,
                data_dir=args.data_dir,
                latency_ms=args.latency_ms,
                backends=args.backends,
                database_url=args.database_url,
                redis_url=args.redis_url,
            )
        except subprocess.CalledProcessError as exc:
            print(
                f"{_PROG} demo: error: setting up the database failed: {exc.stderr.decode().strip()}",
                file=sys.stderr,
            )
        except demo.PortUnavailableError as exc:
            make_variable = exc.flag.removeprefix("--").replace("-", "_").upper()
            print(
                f"{_PROG} demo: error: {exc}; choose free ports with --flask-port, "
                f"--quart-port and --inventory-port (with make: make demo {make_variable}=N)",
                file=sys.stderr,
            )
        except (procs.ServerStartError, BalancerUnavailableError) as exc:
            # The whole message: the server's last output holds the cause.
            print(f"{_PROG} demo: error: {exc}", file=sys.stderr)
        return 1

    parser.set_defaults(run=run)


def _add_diff(commands: _Commands) -> None:
    parser = commands.add_parser(
        "diff",
        help="send the same requests to two deployments and show where the answers differ",
        description="Run request flows against two identically seeded deployments and print a "
        "unified diff of every pair of answers that differ after normalising timestamps. "
        "Exit status: 0 no differences, 1 differences, 2 a usage error or an unreachable "
        "deployment. See docs/response-diff.md.",
    )
    parser.add_argument(
        "--old",
        required=True,
        type=diff.base_url_arg,
        metavar="URL",
        help="base URL of one deployment",
    )
    parser.add_argument(
        "--new", required=True, type=diff.base_url_arg, metavar="URL", help="base URL of the other"
    )
    parser.add_argument(
        "--flows",
        type=Path,
        metavar="FILE",
        help="flows file (default: the flows shipped with the kit, compare/flows/default.json)",
    )
    parser.add_argument(
        "--openapi",
        metavar="URL_OR_FILE",
        help="OpenAPI document for the documented-operations flows (default: NEW/openapi.json)",
    )
    parser.add_argument(
        "--var",
        type=diff.variable_arg,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a flow variable, e.g. --var admin_password=… (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=diff.timeout_arg,
        default=10.0,
        metavar="S",
        help="seconds each request may take (default: %(default)g)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the differences as one JSON document"
    )

    def run(args: argparse.Namespace) -> int:
        return diff.run_diff(
            old_url=args.old,
            new_url=args.new,
            flows_path=args.flows,
            openapi=args.openapi,
            variables=dict(args.var),
            timeout_s=args.timeout,
            as_json=args.json,
            out=sys.stdout,
            err=sys.stderr,
        )

    parser.set_defaults(run=run)


def _int_range(low: int, high: int) -> Callable[[str], int]:
    """Return an argparse ``type`` that takes an integer from ``low`` to ``high``."""

    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(
                f"must be an integer from {low} to {high}, got {text!r}"
            )
        return int(text)

    return parse


_threads = _int_range(1, 1024)
_connections = _int_range(1, 100_000)


def _add_run(commands: _Commands) -> None:
    parser = commands.add_parser(
        "run",
        help="load both bookstores side by side and write a report",
        description="Start the inventory stand-in, legacy_flask on Waitress and quart_app on "
        "Hypercorn (several configurations, each on its own seeded database), measure them "
        "closed-loop (wrk) and open-loop, then N processes of each app behind HAProxy, and "
        "write results.json, report.html, summary.md and the plots. Needs wrk, ss and haproxy.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one connection count, 1 s a point: within 90 s (default: the full run, ~12 min)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="sqlite:///path.db (copies beside it) or postgresql://…/name (databases "
        "name_compare_* on that server, and a run with several Hypercorn workers); default: "
        "SQLite in a temporary folder",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("compare-results"),
        metavar="DIR",
        help="folder for the results (default: %(default)s)",
    )
    parser.add_argument(
        "--flask-threads",
        type=_threads,
        default=32,
        metavar="N",
        help="the tuned Waitress configuration's threads (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=_threads,
        default=0,
        metavar="N",
        help="also run quart_app on N Hypercorn workers (default: 2 with PostgreSQL, else none)",
    )
    parser.add_argument(
        "--backends",
        type=_backends,
        default=2,
        metavar="N",
        help="the scaled scenario's processes per app, behind HAProxy (default: %(default)s)",
    )

    def run(args: argparse.Namespace) -> int:
        from compare.harness import runner

        options = runner.RunOptions(
            quick=args.quick,
            out=args.out,
            db=args.db,
            tuned_threads=args.flask_threads,
            workers=args.workers,
            backends=args.backends,
        )
        try:
            return runner.run(options)
        except subprocess.CalledProcessError as exc:
            stderr = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
            print(
                f"{_PROG} run: error: setting up the database failed: {stderr[-1:] or exc}",
                file=sys.stderr,
            )
        except (procs.ServerStartError, BalancerUnavailableError) as exc:
            # The whole message: the server's last output holds the cause.
            print(f"{_PROG} run: error: {exc}", file=sys.stderr)
        except KeyboardInterrupt:
            print(f"{_PROG} run: interrupted; every process it started is stopped", file=sys.stderr)
            return 130
        return 1

    parser.set_defaults(run=run)


def _add_c10k(commands: _Commands) -> None:
    parser = commands.add_parser(
        "c10k",
        help="hold many WebSocket and keep-alive HTTP clients on one worker",
        description="Hold N WebSocket subscribers on /ws/events of one quart_app worker and "
        "measure a write's fan-out and the memory per connection; hold N keep-alive HTTP "
        "connections to quart_app and to legacy_flask with a fixed open-loop rate active on "
        "GET /books/{id}. Writes c10k.json, c10k.html and c10k.md. Needs ss on PATH.",
    )
    parser.add_argument(
        "--connections",
        type=_connections,
        default=10_000,
        metavar="N",
        help="clients held in each section (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("compare-results"),
        metavar="DIR",
        help="folder for the results (default: %(default)s)",
    )

    def run(args: argparse.Namespace) -> int:
        from compare.harness import c10k

        def log(text: str) -> None:
            print(text, file=sys.stderr)

        try:
            return c10k.run_c10k(c10k.C10kOptions(args.connections, args.out), log=log)
        except subprocess.CalledProcessError as exc:
            stderr = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
            print(
                f"{_PROG} c10k: error: setting up the database failed: {stderr[-1:] or exc}",
                file=sys.stderr,
            )
        except (procs.ServerStartError, RuntimeError) as exc:
            print(f"{_PROG} c10k: error: {exc}".splitlines()[0], file=sys.stderr)
        return 1

    parser.set_defaults(run=run)


_COMMANDS: Final[tuple[Callable[[_Commands], None], ...]] = (
    _add_inventory,
    _add_demo,
    _add_diff,
    _add_run,
    _add_c10k,
)


def _build_parser() -> _Parser:
    parser = _Parser(prog=_PROG, description="Run and compare the Flask and Quart bookstores.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in _COMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the chosen subcommand, return its status.

    A bad command line prints one line on stderr and returns 2. ``--help`` exits with
    ``SystemExit(0)``, as argparse does.
    """
    try:
        args = _build_parser().parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 1
