"""Start the servers under test, each on its own fresh, identically seeded database.

:func:`prepare_databases` builds one seeded template (tables, the admin, the sample books, with
the apps' own command line) and gives every server configuration a copy: a file copy for
SQLite, ``CREATE DATABASE … TEMPLATE …`` for PostgreSQL. :class:`ManagedServer` starts one
configuration pinned to the servers' CPU, restarts it, stops it, and logs in as the admin.

Both kinds of server listen with a backlog of :data:`BACKLOG`: Waitress' default is 1024, and
Hypercorn is started with ``python -m hypercorn --backlog 1024`` (its default of 100 overflows
when 1,000 connections open at once; ``python -m quart_app serve`` takes no backlog flag).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import httpx

from compare import procs
from compare.demo import ADMIN_PASSWORD
from compare.demo import ADMIN_USERNAME
from compare.harness import floor
from compare.harness.placement import Placement
from compare.harness.scenarios import ServerConfig

__all__ = [
    "BACKLOG",
    "ManagedServer",
    "SeedInfo",
    "cleanup_books",
    "prepare_databases",
    "server_argv",
]

#: Listen backlog of every server under test.
BACKLOG: Final = 1024
#: Secret that signs every server's session cookies during a run.
SECRET_KEY: Final = "compare-run-secret-key-not-for-production"
#: The naive variant's app factory, for Hypercorn.
NAIVE_APP: Final = "compare.harness.naive:create_app()"
#: The bare framework apps (:mod:`compare.harness.floor`), for Waitress' ``--call`` and Hypercorn.
FLOOR_FLASK_APP: Final = "compare.harness.floor:create_flask_app"
FLOOR_QUART_APP: Final = "compare.harness.floor:create_quart_app()"


@dataclass(frozen=True)
class SeedInfo:
    """What every fresh database holds: ``books`` rows, ids up to ``max_book_id``."""

    books: int
    max_book_id: int
    book_id: int


def _manage(database_url: str, *args: str, stdin: str = "") -> None:
    subprocess.run(
        [sys.executable, "-m", "legacy_flask", *args, "--db", database_url],
        input=stdin.encode(),
        check=True,
        capture_output=True,
        timeout=120,
    )


def _seed(database_url: str) -> None:
    _manage(database_url, "init-db")
    _manage(database_url, "create-admin", ADMIN_USERNAME, stdin=ADMIN_PASSWORD + "\n")
    _manage(database_url, "seed")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def prepare_databases(
    db_url: str | None, work_dir: Path, server_ids: list[str]
) -> Iterator[dict[str, str]]:
    """Yield ``{server id: database URL}``, each a fresh copy of one seeded template.

    ``db_url`` ``None`` or ``sqlite:///…``: SQLite files in ``work_dir`` (or beside the given
    file, named after it), removed afterwards. ``postgresql://…/name``: databases
    ``name_<id>`` created on that server through the given database, dropped afterwards.

    :raises subprocess.CalledProcessError: seeding failed.
    :raises ValueError: ``db_url`` is neither SQLite nor PostgreSQL.
    """
    if db_url is None or db_url.startswith("sqlite:///"):
        base = (
            work_dir / "bookstore.db"
            if db_url is None
            else Path(db_url.removeprefix("sqlite:///")).resolve()
        )
        base.parent.mkdir(parents=True, exist_ok=True)
        template = base.with_name(f"{base.stem}-template.db")
        copies = {ident: base.with_name(f"{base.stem}-{ident}.db") for ident in server_ids}
        try:
            for path in (template, *copies.values()):
                path.unlink(missing_ok=True)
            _seed(f"sqlite:///{template}")
            for path in copies.values():
                shutil.copyfile(template, path)
            yield {ident: f"sqlite:///{path}" for ident, path in copies.items()}
        finally:
            for path in (template, *copies.values()):
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if not db_url.startswith(("postgresql://", "postgres://")):
        raise ValueError(f"--db must be a sqlite:/// or postgresql:// URL, not {db_url!r}")
    yield from _postgres_databases(db_url, server_ids)


def _postgres_databases(db_url: str, server_ids: list[str]) -> Iterator[dict[str, str]]:
    import psycopg

    base = urlsplit(db_url).path.lstrip("/") or "postgres"
    stem = re.sub(r"[^a-z0-9_]", "_", f"{base}_compare".lower())
    template = f"{stem}_template"
    names = {ident: f"{stem}_{ident.replace('-', '_')}" for ident in server_ids}
    admin_url = db_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        try:
            for name in (*names.values(), template):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{template}"')
            _seed(_with_database(admin_url, template))
            for name in names.values():
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            yield {ident: _with_database(admin_url, name) for ident, name in names.items()}
        finally:
            for name in (*names.values(), template):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_argv(config: ServerConfig, port: int, database_url: str) -> list[str]:
    """Return the command that serves ``config`` on ``127.0.0.1:port``.

    ``database_url`` is unused for the bare framework apps, which have no database.
    """
    if config.app == "bare_flask":
        return [
            sys.executable,
            "-m",
            "waitress",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--threads={config.threads or 4}",
            f"--backlog={BACKLOG}",
            "--call",
            FLOOR_FLASK_APP,
        ]
    if config.server == "waitress":
        return [
            sys.executable,
            "-m",
            "legacy_flask",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--threads",
            str(config.threads or 4),
            "--db",
            database_url,
        ]
    app = (
        FLOOR_QUART_APP
        if config.app == "bare_quart"
        else NAIVE_APP
        if config.naive
        else "quart_app:create_app()"
    )
    return [
        sys.executable,
        "-m",
        "hypercorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        str(BACKLOG),
        "--worker-class",
        config.worker_class or "asyncio",
        "--workers",
        str(config.workers),
        app,
    ]


#: The login limit of the servers under load (``BOOKSTORE_LOGIN_LIMIT``): more attempts than a
#: run can make in the limit's 60 s window.
LOGIN_LIMIT = 1_000_000


def server_env(config: ServerConfig, database_url: str, inventory_url: str) -> dict[str, str]:
    """Return the ``BOOKSTORE_*`` variables of ``config`` (none for a bare framework app)."""
    if config.floor:
        return {}
    env = {
        "BOOKSTORE_DATABASE_URL": database_url,
        "BOOKSTORE_INVENTORY_URL": inventory_url,
        "BOOKSTORE_SECRET_KEY": SECRET_KEY,
        # Every login of the load comparison comes from 127.0.0.1 with the right password,
        # many at once: each counts against the login limit while its hash is checked, so
        # at the default 10 per minute quart_app (no thread cap) would answer 429s, not logins.
        "BOOKSTORE_LOGIN_LIMIT": str(LOGIN_LIMIT),
    }
    if config.data_layer is not None:
        env["BOOKSTORE_DATA_LAYER"] = config.data_layer
    return env


class ManagedServer:
    """One configuration under test: started, restarted and stopped on demand."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        placement: Placement,
        database_url: str,
        inventory_url: str,
        log_path: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.port = procs.free_port()
        self.database_url = database_url
        argv = server_argv(config, self.port, database_url)
        # Several workers are given both CPUs: pinned to one, they would only share it.
        self.argv = placement.pin_shared(argv) if config.workers > 1 else placement.pin_server(argv)
        self.env = {**server_env(config, database_url, inventory_url), **(extra_env or {})}
        self.log_path = log_path
        self.cookie = ""
        self.restarts = 0
        self._process: procs.ServerProcess | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:port``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id (its process group)."""
        if self._process is None:
            raise RuntimeError(f"{self.config.id} is not running")
        return self._process.pid

    def start(self) -> None:
        """Start the process; :meth:`wait_ready` waits for it."""
        self._process = procs.ServerProcess(
            self.argv, port=self.port, env=self.env, log_path=self.log_path
        )
        self._process.start()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until ``/health`` answers 2xx.

        :raises compare.procs.ServerStartError: it did not.
        """
        if self._process is None:
            raise RuntimeError(f"{self.config.id} was not started")
        self._process.wait_ready(floor.READY_PATH if self.config.floor else "/health", timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the process group (SIGTERM, then SIGKILL after ``timeout_s``)."""
        if self._process is not None:
            self._process.stop(timeout_s)
            self._process = None

    def restart(self) -> None:
        """Stop and start again (same port, same database), and wait until ready."""
        self.stop(timeout_s=2.0)
        self.restarts += 1
        self.start()
        self.wait_ready()

    def login(self) -> str:
        """Log in as the admin; remember and return the ``Cookie`` header value.

        A bare framework app has no login: the cookie stays empty.
        """
        if self.config.floor:
            return self.cookie
        with httpx.Client(base_url=self.base_url, timeout=30, trust_env=False) as client:
            answer = client.post(
                "/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
            )
            answer.raise_for_status()
            self.cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return self.cookie

    def seed_info(self) -> SeedInfo:
        """Read how many books the database holds and the id of a book with an ISBN.

        A bare framework app holds no books and answers for any id: ``SeedInfo(0, 0, 1)``.
        """
        if self.config.floor:
            return SeedInfo(books=0, max_book_id=0, book_id=1)
        with httpx.Client(base_url=self.base_url, timeout=30, trust_env=False) as client:
            page = client.get("/books", params={"sort": "-id", "limit": 100}).raise_for_status()
            data = page.json()
        items = data["items"]
        with_isbn = [item["id"] for item in items if item.get("isbn")]
        return SeedInfo(
            books=int(data["total"]),
            max_book_id=max((int(item["id"]) for item in items), default=0),
            book_id=min(with_isbn) if with_isbn else 1,
        )


def cleanup_books(server: ManagedServer, seed: SeedInfo, timeout_s: float = 30.0) -> int:
    """Delete the books with ids above the seed's, as the admin; return how many.

    A write run POSTs and DELETEs; the books it created but had not deleted when it stopped
    are removed here, so the database is left as it was found.
    """
    deleted = 0
    deadline = time.monotonic() + timeout_s
    headers = {"Cookie": server.cookie}
    with httpx.Client(base_url=server.base_url, timeout=10, trust_env=False) as client:
        while time.monotonic() < deadline:
            page = client.get("/books", params={"sort": "-id", "limit": 100}).raise_for_status()
            extra = [item["id"] for item in page.json()["items"] if item["id"] > seed.max_book_id]
            if not extra:
                break
            for book_id in extra:
                answer = client.delete(f"/books/{book_id}", headers=headers)
                if answer.status_code in (204, 404):
                    deleted += 1
    return deleted
