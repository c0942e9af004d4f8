"""Both bookstores as real servers on loopback, each on a fresh seeded SQLite database.

Shared by the response diff's end-to-end tests and the schemathesis suite::

    with live_apps(tmp_path) as apps:
        httpx.get(f"{apps.flask}/books")   # legacy_flask on Waitress
        httpx.get(f"{apps.quart}/books")   # quart_app on Hypercorn

Each app gets its own database file, seeded by its own ``seed`` command (the same 36 books in
the same order), the admin :data:`ADMIN` from ``BOOKSTORE_ADMIN_USERNAME`` /
``BOOKSTORE_ADMIN_PASSWORD`` at start-up, cheap password hashes, and the inventory stand-in
with no latency. Start-up waits by polling ``/health``; every process is stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from compare.procs import ServerProcess
from compare.procs import free_port

HOST: Final = "127.0.0.1"
ADMIN: Final = ("admin", "admin-password")
#: Cheap hashes keep start-up and logins fast; the stored format is production's.
TEST_HASH_METHOD: Final = "pbkdf2:sha256:1000"
#: The apps under test: name → the package whose ``python -m`` command serves it.
PACKAGES: Final = {"flask": "legacy_flask", "quart": "quart_app"}
SEED_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True)
class LiveApps:
    """Base URLs (``http://127.0.0.1:PORT``) of the running servers."""

    flask: str
    quart: str
    inventory: str

    def url(self, name: str) -> str:
        """Return the base URL of app ``name`` (``flask`` or ``quart``)."""
        return {"flask": self.flask, "quart": self.quart}[name]


def _seed_all(folder: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Seed one new database per app with that app's own ``seed`` command, in parallel."""
    urls = {name: f"sqlite:///{folder / f'{name}.db'}" for name in PACKAGES}
    children = {
        name: subprocess.Popen(
            [sys.executable, "-m", package, "seed", "--db", urls[name]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )
        for name, package in PACKAGES.items()
    }
    failures = []
    for name, child in children.items():
        try:
            output, _ = child.communicate(timeout=SEED_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            output, _ = child.communicate()
        if child.returncode != 0:
            failures.append(f"{PACKAGES[name]} seed: {output.decode(errors='replace')}")
    if failures:
        raise RuntimeError("seeding failed:\n" + "\n".join(failures))
    return urls


@contextlib.contextmanager
def live_apps(folder: Path) -> Iterator[LiveApps]:
    """Start the inventory stand-in and both apps; stop them all however the block ends.

    :param folder: where the databases and the servers' logs go (a test's ``tmp_path``).
    :raises RuntimeError: a ``seed`` command failed.
    :raises compare.procs.ServerStartError: a server did not start.
    """
    # ServerProcess adds these to the test's own environment.
    base_env = {
        "BOOKSTORE_SECRET_KEY": "live-test-secret",
        "BOOKSTORE_PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
    }
    with contextlib.ExitStack() as stack:
        databases = _seed_all(folder, base_env)
        inventory_port = free_port(HOST)
        inventory = ServerProcess(
            [
                sys.executable,
                "-m",
                "compare",
                "inventory",
                "--host",
                HOST,
                "--port",
                str(inventory_port),
                "--latency-ms",
                "0",
            ],
            port=inventory_port,
            host=HOST,
            log_path=folder / "inventory.log",
        )
        servers = {"inventory": inventory}
        for name, package in PACKAGES.items():
            port = free_port(HOST)
            env = {
                **base_env,
                "BOOKSTORE_DATABASE_URL": databases[name],
                "BOOKSTORE_INVENTORY_URL": inventory.base_url,
                "BOOKSTORE_ADMIN_USERNAME": ADMIN[0],
                "BOOKSTORE_ADMIN_PASSWORD": ADMIN[1],
            }
            argv = [sys.executable, "-m", package, "serve", "--host", HOST, "--port", str(port)]
            servers[name] = ServerProcess(
                argv, port=port, host=HOST, env=env, log_path=folder / f"{name}.log"
            )
        # Start all three at once, then poll each: the imports overlap instead of adding up.
        for server in servers.values():
            stack.callback(server.stop)
            server.start()
        for server in servers.values():
            server.wait_ready()
        yield LiveApps(
            flask=servers["flask"].base_url,
            quart=servers["quart"].base_url,
            inventory=inventory.base_url,
        )


def admin_cookie(base_url: str) -> str:
    """Log in as :data:`ADMIN` over HTTP; return the session as a ``Cookie`` header value."""
    with httpx.Client(base_url=base_url, trust_env=False, timeout=10) as client:
        response = client.post("/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        if response.status_code != 204:
            raise RuntimeError(f"admin login at {base_url} answered {response.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())
