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

from compare.procs import bind_error
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

    def by_flag(self) -> dict[str, int]:
        """The ports by the ``python -m compare demo`` flag that sets each one."""
        return {
            "--flask-port": self.flask,
            "--quart-port": self.quart,
            "--inventory-port": self.inventory,
        }


class PortUnavailableError(Exception):
    """A port the demo needs is taken, or given twice; ``str()`` says which and how to move it.

    :ivar flag: the command-line flag that sets the port (``--flask-port``).
    :ivar port: the port.
    """

    def __init__(self, message: str, *, flag: str, port: int) -> None:
        super().__init__(message)
        self.flag = flag
        self.port = port


def check_ports(host: str, ports: DemoPorts) -> None:
    """Make sure each of the demo's servers can listen on its port before any starts.

    :raises PortUnavailableError: a port is given twice, or another process listens on it
        (the message quotes the system's error, "Address already in use").
    """
    seen: dict[int, str] = {}
    for flag, port in ports.by_flag().items():
        if port in seen:
            raise PortUnavailableError(
                f"{flag} and {seen[port]} are both {port}; give each server a port of its own",
                flag=flag,
                port=port,
            )
        seen[port] = flag
        error = bind_error(host, port)
        if error is not None:
            raise PortUnavailableError(
                f"port {port} on {host} ({flag}) is not free: {error.strerror or error}",
                flag=flag,
                port=port,
            )


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
    :raises PortUnavailableError: a port is taken (nothing is started then).
    :raises subprocess.CalledProcessError: seeding the database failed.
    :raises compare.procs.ServerStartError: a server did not start (a port in use …).
    """
    check_ports(host, ports)
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
