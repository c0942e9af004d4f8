"""``python -m compare demo``: both bookstores side by side on one seeded database.

Starts, each as a real server process on loopback: the inventory stand-in, ``legacy_flask`` on
Waitress and ``quart_app`` on Hypercorn, both apps on one SQLite file seeded with the sample
books and an admin. Prints the base URLs and waits; Ctrl-C (or SIGTERM) stops every process.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final

from compare.procs import running

#: The admin the demo creates in its database.
ADMIN_USERNAME: Final = "admin"
ADMIN_PASSWORD: Final = "admin-password"


@dataclass(frozen=True)
class DemoPorts:
    """TCP ports on ``host`` for the three servers."""

    flask: int = 8000
    quart: int = 8001
    inventory: int = 8081


def _manage(package: str, *args: str, database_url: str, stdin: str = "") -> None:
    # The apps' own command lines create the tables, the admin and the sample books.
    subprocess.run(
        [sys.executable, "-m", package, *args, "--db", database_url],
        input=stdin.encode(),
        check=True,
        capture_output=True,
    )


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds the ExitStack, which stops every server; a bare SIGTERM would not.
    raise SystemExit(128 + signum)


def run_demo(
    *,
    host: str,
    ports: DemoPorts,
    data_dir: Path | None,
    latency_ms: float,
    stop: threading.Event | None = None,
) -> int:
    """Start the three servers, print their URLs, and serve until interrupted.

    :param host: loopback address to bind.
    :param ports: the servers' ports.
    :param data_dir: folder for ``bookstore.db``; a temporary folder, removed afterwards, by
        default.
    :param latency_ms: the inventory stand-in's latency, in milliseconds.
    :param stop: when given, the demo returns once it is set (for tests) instead of waiting for
        Ctrl-C.
    :returns: 0.
    :raises subprocess.CalledProcessError: seeding the database failed.
    :raises compare.procs.ServerStartError: a server did not start (a port in use …).
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_on_sigterm)
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="bookstore-demo-"))
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{(data_dir / 'bookstore.db').resolve()}"
        _manage("legacy_flask", "init-db", database_url=database_url)
        _manage(
            "legacy_flask",
            "create-admin",
            ADMIN_USERNAME,
            database_url=database_url,
            stdin=ADMIN_PASSWORD + "\n",
        )
        _manage("legacy_flask", "seed", database_url=database_url)

        inventory = stack.enter_context(
            running(
                [
                    sys.executable,
                    "-m",
                    "compare",
                    "inventory",
                    "--host",
                    host,
                    "--port",
                    str(ports.inventory),
                    "--latency-ms",
                    str(latency_ms),
                ],
                host=host,
                port=ports.inventory,
            )
        )
        env = {
            "BOOKSTORE_DATABASE_URL": database_url,
            "BOOKSTORE_INVENTORY_URL": inventory.base_url,
            "BOOKSTORE_SECRET_KEY": "demo-only-secret-key",
        }
        flask = stack.enter_context(
            running(
                [
                    sys.executable,
                    "-m",
                    "legacy_flask",
                    "serve",
                    "--host",
                    host,
                    "--port",
                    str(ports.flask),
                ],
                host=host,
                port=ports.flask,
                env=env,
            )
        )
        quart = stack.enter_context(
            running(
                [
                    sys.executable,
                    "-m",
                    "quart_app",
                    "serve",
                    "--host",
                    host,
                    "--port",
                    str(ports.quart),
                ],
                host=host,
                port=ports.quart,
                env=env,
            )
        )
        print(
            f"inventory stand-in  {inventory.base_url}  ({latency_ms:g} ms per answer)\n"
            f"legacy_flask        {flask.base_url}  (Flask on Waitress)\n"
            f"quart_app           {quart.base_url}  (Quart on Hypercorn)\n"
            f"OpenAPI UI          {quart.base_url}/docs\n"
            f"database            {database_url}  (admin: {ADMIN_USERNAME} / {ADMIN_PASSWORD})\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("stopping…", file=sys.stderr)
    return 0
