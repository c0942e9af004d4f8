"""Serve a ``legacy_flask`` that ``migrate check --fix --unsafe-fixes`` converted, on Hypercorn.

Run as a script (``python serve_converted.py --host H --port P --db URL``) with the converted
copy's folder first on ``PYTHONPATH``: a script's own folder, not the working directory, goes
first on ``sys.path``, so ``import legacy_flask`` finds the copy and not the repository's app.
Settings come from the ``BOOKSTORE_*`` variables, as for ``python -m legacy_flask serve``.

The converted app keeps ``legacy_flask.server`` (Waitress, QM703: a finding the fixer leaves
to a decision), so this script is its entry point: the ASGI app goes to Hypercorn in this
process, one event loop, with a :class:`migrate.StallDetector` that writes every block of
that loop to the log (stderr) and never stops the server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from migrate import Stall

#: Blocks of the event loop reported, in ms (as for the in-process Quart targets).
STALL_THRESHOLD_MS = 100

#: The first line of each report in the log; :func:`tests.contract.live.iter_log_stalls` finds it.
STALL_MARK = "event loop stall:"


def stall_line(stall: Stall) -> str:
    """Return what the server logs for ``stall``: :data:`STALL_MARK`, then its report."""
    return f"{STALL_MARK} {stall.format()}"


async def _serve(host: str, port: int, database_url: str) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from legacy_flask import create_app
    from migrate import StallDetector

    app = create_app({"database_url": database_url})
    log = logging.getLogger("migrate.stalls")

    def report(stall: Stall) -> None:
        log.warning("%s", stall_line(stall))

    StallDetector(threshold_ms=STALL_THRESHOLD_MS, on_stall=report).init_app(app)
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"converted legacy_flask on Hypercorn: http://{host}:{port}", file=sys.stderr, flush=True)
    await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


def main() -> int:
    """Serve until SIGINT or SIGTERM; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="database URL")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(_serve(args.host, args.port, args.db))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
