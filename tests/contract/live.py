"""The apps as real server processes on loopback: the live targets of the contract suite.

``legacy_flask`` runs on Waitress and ``quart_app`` on Hypercorn, each started with its own
``python -m … serve`` command (the converted ``legacy_flask`` with
:mod:`tests.contract.serve_converted`) (:mod:`compare.procs` starts it in a process group of its own,
polls ``/health`` until it answers, and stops the group). Starting a server takes 0.5–1.5 s,
so one server serves every test that asks for the same app, database and settings
(:class:`LiveServers`), and each test gets an empty database from :class:`LiveDatabases`
instead of a new server.

Two things a test would otherwise share with the tests before it:

- **the database**: :meth:`LiveDatabases.reset` deletes every row (children first), restarts
  PostgreSQL's id sequences and inserts the start-up admin again, which is the state a server
  that has just started on a new database is in;
- **the login limiter**, which counts failed logins per client address in the server's memory:
  every test's clients connect from a loopback address of their own
  (:func:`next_client_address`; Linux routes all of ``127.0.0.0/8`` to ``lo``), so each test is
  a new client to the limiter, as it is to a freshly started server.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from compare.balancer import Balancer
from compare.balancer import balancing
from compare.procs import ServerExitedError
from compare.procs import ServerProcess
from compare.procs import free_port
from legacy_flask import store
from legacy_flask.db import make_engine
from legacy_flask.db import sqlalchemy_url
from legacy_flask.models import Base
from tests.contract.serve_converted import STALL_MARK

#: Servers started by the tests listen here only.
HOST: Final = "127.0.0.1"
#: Seconds a server may take to answer ``/health`` after it is started.
READY_TIMEOUT_S: Final = 30.0
#: Seconds a server may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT_S: Final = 10.0
#: Servers kept running at once; the least recently used one is stopped to make room. A test
#: function runs once per live target and database in turn, so the suite's set (every live app
#: on each database, and each balanced deployment) must fit: one server more than this, and the
#: least recently used is the one the next test needs, every time.
MAX_RUNNING: Final = 12

#: Settings (:class:`legacy_flask.settings.Settings` fields) a live target passes to its server,
#: and the environment variable each travels in. ``database_url`` goes in ``--db``.
SETTING_VARIABLES: Final = {
    "secret_key": "BOOKSTORE_SECRET_KEY",
    "inventory_url": "BOOKSTORE_INVENTORY_URL",
    "inventory_timeout": "BOOKSTORE_INVENTORY_TIMEOUT",
    "secure_cookies": "BOOKSTORE_SECURE_COOKIES",
    "admin_username": "BOOKSTORE_ADMIN_USERNAME",
    "admin_password": "BOOKSTORE_ADMIN_PASSWORD",
    "password_hash_method": "BOOKSTORE_PASSWORD_HASH_METHOD",
    "session_lifetime": "BOOKSTORE_SESSION_LIFETIME",
    "data_layer": "BOOKSTORE_DATA_LAYER",
    "worker_threads": "BOOKSTORE_WORKER_THREADS",
    "ratelimit_storage_url": "BOOKSTORE_RATELIMIT_STORAGE_URL",
    "ratelimit_key_prefix": "BOOKSTORE_RATELIMIT_KEY_PREFIX",
    "proxy_hops": "BOOKSTORE_PROXY_HOPS",
}

#: The Redis server the balanced deployments share their rate limits in (``redis://…/N``).
REDIS_ENV: Final = "BOOKSTORE_TEST_REDIS_URL"


#: Python code that runs before a server on Linux: it asks the kernel for SIGTERM when its
#: parent, the test process, ends (``prctl(PR_SET_PDEATHSIG)``, which survives ``exec``), then
#: becomes the server (``python ARGS…``). Servers run in sessions of their own, so a signal to
#: the test run's process group does not reach them; without this a test run killed outright
#: (SIGKILL, a CI job's time limit) would leave them serving. Normal ends, failures and
#: Ctrl-C stop them by process group (:meth:`RunningServer.stop`). The kernel sends the signal
#: when the *thread* that started the server ends: start servers from the main thread.
ORPHAN_GUARD: Final = """
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 is PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit("the test process ended before the server started")
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def python_command(*args: str) -> list[str]:
    """Return the command ``python ARGS…``, behind :data:`ORPHAN_GUARD` on Linux."""
    if sys.platform == "linux":
        return [sys.executable, "-c", ORPHAN_GUARD, str(os.getpid()), *args]
    return [sys.executable, *args]


#: :data:`ORPHAN_GUARD` for a program that is not Python: it becomes ``PROGRAM ARGS…``.
PROGRAM_GUARD: Final = ORPHAN_GUARD.replace(
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])",
    "os.execv(sys.argv[2], sys.argv[2:])",
)


def guard_prefix() -> list[str]:
    """Return what goes before a program's command to run it behind the orphan guard (Linux)."""
    if sys.platform == "linux":
        return [sys.executable, "-c", PROGRAM_GUARD, str(os.getpid())]
    return []


@dataclass(frozen=True)
class LiveApp:
    """One way of serving an app: its package, and ``quart_app``'s data layer.

    Attributes:
        name: the target's name in the suite (``flask-live``).
        package: ``legacy_flask`` (Waitress) or ``quart_app`` (Hypercorn).
        data_layer: ``quart_app`` only: ``tortoise`` or ``threaded``.
        backends: server processes; more than one are served behind HAProxy
            (:func:`start_balanced`), their rate limits in Redis (:data:`REDIS_ENV`).
        converted: ``legacy_flask`` as ``migrate check --fix --unsafe-fixes`` converts it
            (:func:`converted_copy`), served on Hypercorn by :data:`CONVERTED_SERVER`.
    """

    name: str
    package: str
    data_layer: str | None = None
    backends: int = 1
    converted: bool = False

    @property
    def server(self) -> str:
        """The HTTP server it runs on: ``waitress`` or ``hypercorn``."""
        return "waitress" if self.package == "legacy_flask" and not self.converted else "hypercorn"

    def argv(self, port: int, database_url: str) -> list[str]:
        """Return the command that serves this app on ``HOST:port`` with the servers' defaults.

        Waitress gets its default 4 threads; Hypercorn 1 worker process (plus its supervisor)
        of the asyncio class, as ``python -m quart_app serve`` has by default; the converted
        app one Hypercorn server in the script's own process. On Linux the command first
        asks to be sent SIGTERM when the test process ends (:data:`ORPHAN_GUARD`).
        """
        if self.converted:
            serve = [str(CONVERTED_SERVER), "--host", HOST, "--port", str(port)]
        else:
            serve = ["-m", self.package, "serve", "--host", HOST, "--port", str(port)]
        return python_command(*serve, "--db", database_url)

    def environment(self, config: Mapping[str, Any]) -> dict[str, str]:
        """Return the ``BOOKSTORE_*`` variables that carry ``config`` (the rest is inherited).

        ``None`` travels as an empty value, which the settings read as "not set".

        :raises ValueError: ``config`` has a key that no variable carries (``login_limit``, a
            framework key): a live server could not honour it, so the test must not pass.
        """
        settings = {key: value for key, value in config.items() if key != "database_url"}
        if self.data_layer is not None:
            settings["data_layer"] = self.data_layer
        unknown = sorted(set(settings) - set(SETTING_VARIABLES))
        if unknown:
            raise ValueError(f"a live server cannot be given {', '.join(unknown)}")
        return {
            SETTING_VARIABLES[key]: "" if value is None else str(value)
            for key, value in settings.items()
        }


#: The live targets, by name.
LIVE_APPS: Final = {
    app.name: app
    for app in (
        LiveApp("flask-live", "legacy_flask"),
        LiveApp("quart-live", "quart_app", "tortoise"),
        LiveApp("quart-threaded-live", "quart_app", "threaded"),
        LiveApp("flask-converted-live", "legacy_flask", converted=True),
    )
}

#: Serves the converted copy of ``legacy_flask`` (see :class:`LiveApp`).
CONVERTED_SERVER: Final = Path(__file__).with_name("serve_converted.py")

#: The repository's ``legacy_flask``, which :func:`converted_copy` copies.
LEGACY_FLASK: Final = Path(__file__).resolve().parents[2] / "legacy_flask"

#: Seconds ``migrate check --fix --unsafe-fixes`` may take on the copy.
CONVERT_TIMEOUT_S: Final = 120.0


@functools.cache
def converted_copy(folder: Path) -> Path:
    """Copy ``legacy_flask`` into ``folder`` and convert it with ``--fix --unsafe-fixes``.

    Nothing is edited by hand: what the fixer cannot convert stays as it was. The first call
    for a folder converts (about 2 s); later calls return the same folder.

    :returns: ``folder``, which holds the converted ``legacy_flask`` package.
    :raises subprocess.CalledProcessError: the run exited 2 (a file it could not fix or write);
        exit 1 (findings remain, each needing a decision) is the expected result.
    """
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        LEGACY_FLASK, folder / "legacy_flask", ignore=shutil.ignore_patterns("__pycache__")
    )
    command = [sys.executable, "-m", "migrate", "check", "--fix", "--unsafe-fixes", "."]
    done = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, check=False
    )
    if done.returncode not in (0, 1):
        raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
    return folder


#: The same apps as deployed: two server processes behind HAProxy, on PostgreSQL and Redis.
BALANCED_APPS: Final = {
    app.name: app
    for app in (
        LiveApp("flask-balanced", "legacy_flask", backends=2),
        LiveApp("quart-balanced", "quart_app", "tortoise", backends=2),
    )
}

_addresses = itertools.count(1)
_addresses_lock = threading.Lock()


def next_client_address() -> str:
    """Return a loopback address no earlier call returned (``127.0.1.1``, ``127.0.1.2``, …).

    Clients that bind to it (``httpx.HTTPTransport(local_address=…)``) are a new client
    address to the servers' login limiters. 64,516 addresses go by before one comes again.
    """
    with _addresses_lock:
        n = next(_addresses) % (254 * 254)
    return f"127.0.{1 + n // 254}.{1 + n % 254}"


class RunningServer:
    """A server process and the part of its log written since :meth:`mark`."""

    def __init__(self, process: ServerProcess, log_path: Path, database_url: str) -> None:
        self.process = process
        self.log_path = log_path
        self.database_url = database_url
        self._mark = 0

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self.process.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.process.base_url

    def exited(self) -> bool:
        """Tell whether the process has ended (without reaping it: :meth:`stop` does that)."""
        if self.process.returncode is not None:
            return True
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        return os.waitid(os.P_PID, self.process.pid, flags) is not None

    def mark(self) -> None:
        """Remember where the log ends now; :meth:`log_since_mark` reads from there."""
        self._mark = self.log_path.stat().st_size

    def log_since_mark(self) -> str:
        """Return what the server has written to its log since the last :meth:`mark`."""
        with self.log_path.open("rb") as log:
            log.seek(self._mark)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines of the server's log."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int | None:
        """Stop the process group (SIGTERM, then SIGKILL); return the exit status."""
        return self.process.stop(STOP_TIMEOUT_S)


def start_server(
    app: LiveApp,
    database_url: str,
    config: Mapping[str, Any],
    log_dir: Path,
) -> RunningServer:
    """Start ``app`` on a free loopback port and return once ``/health`` answers 2xx.

    Call it from the main thread (see :data:`ORPHAN_GUARD`).

    :raises compare.procs.ServerStartError: it exited or did not become ready; the message
        quotes the end of its log, which is kept in ``log_dir``.
    """
    port = free_port(HOST)
    log_path = log_dir / f"{app.name}-{port}-{uuid.uuid4().hex[:6]}.log"
    env = app.environment(config)
    if app.converted:
        # First on sys.path: ``import legacy_flask`` finds the copy (see CONVERTED_SERVER).
        env["PYTHONPATH"] = str(converted_copy(log_dir.parent / "converted"))
    process = ServerProcess(
        app.argv(port, database_url),
        port=port,
        host=HOST,
        env=env,
        log_path=log_path,
    )
    try:
        process.start()
        process.wait_ready("/health", READY_TIMEOUT_S)
    except BaseException:
        process.stop(STOP_TIMEOUT_S)
        raise
    return RunningServer(process, log_path, database_url)


def balanced_config(config: Mapping[str, Any], redis_url: str) -> dict[str, Any]:
    """Return ``config`` for backends behind one proxy that count their limits in Redis.

    Every deployment gets a key prefix of its own, so that deployments (and test runs) that
    share the Redis server never count each other's attempts.
    """
    return {
        **config,
        "ratelimit_storage_url": redis_url,
        "ratelimit_key_prefix": f"bookstore-test-{uuid.uuid4().hex[:12]}",
        "proxy_hops": 1,
    }


class BalancedDeployment:
    """Backends of one app behind HAProxy, answering like one :class:`RunningServer`.

    ``base_url`` is the balancer's; :attr:`backends` are the server processes
    (``backends[i]`` is ``compare.balancer.backend_name(i)`` to the balancer).
    Marks and logs cover every backend.
    """

    def __init__(
        self, backends: list[RunningServer], balancer: Balancer, stack: contextlib.ExitStack
    ) -> None:
        self.backends = backends
        self.balancer = balancer
        self.database_url = backends[0].database_url
        self._stack = stack

    @property
    def base_url(self) -> str:
        """The balanced endpoint, ``http://127.0.0.1:PORT``."""
        return self.balancer.base_url

    def exited(self) -> bool:
        """Tell whether the balancer or any backend has ended."""
        return self.balancer.process.returncode is not None or any(
            backend.exited() for backend in self.backends
        )

    def mark(self) -> None:
        """Remember where every backend's log ends now."""
        for backend in self.backends:
            backend.mark()

    def log_since_mark(self) -> str:
        """Return what the backends have written since the last :meth:`mark`."""
        return "\n".join(backend.log_since_mark() for backend in self.backends)

    def log_tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines of each backend's log."""
        return "\n".join(backend.log_tail(lines) for backend in self.backends)

    def stop(self) -> int | None:
        """Stop the balancer, then the backends; return the first backend's exit status."""
        self._stack.close()
        return self.backends[0].process.returncode


def start_balanced(
    app: LiveApp, database_url: str, config: Mapping[str, Any], log_dir: Path
) -> BalancedDeployment:
    """Start ``app.backends`` servers of ``app`` on ``database_url``, then HAProxy before them.

    ``config`` should come from :func:`balanced_config`. Call it from the main thread.

    :raises compare.procs.ServerStartError: a backend or the balancer did not start.
    :raises compare.balancer.BalancerUnavailableError: ``haproxy`` is not installed.
    """
    stack = contextlib.ExitStack()
    try:
        backends: list[RunningServer] = []
        for _ in range(app.backends):
            backend = start_server(app, database_url, config, log_dir)
            stack.callback(backend.stop)
            backends.append(backend)
        balancer = stack.enter_context(
            balancing(
                [(HOST, backend.port) for backend in backends],
                host=HOST,
                log_path=log_dir / f"{app.name}-haproxy-{uuid.uuid4().hex[:6]}.log",
                command_prefix=guard_prefix(),
            )
        )
    except BaseException:
        stack.close()
        raise
    return BalancedDeployment(backends, balancer, stack)


class LiveServers:
    """The servers the contract suite's live targets use, one per app, database and settings.

    A server is started on first use and kept for later tests with the same key, at most
    :data:`MAX_RUNNING` at a time (least recently used stops first). :meth:`close` stops them
    all; the fixture that owns this calls it however the session ends (a failure, Ctrl-C).
    """

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._running: OrderedDict[tuple[Any, ...], RunningServer | BalancedDeployment] = (
            OrderedDict()
        )

    def get(
        self, app: LiveApp, database_url: str, config: Mapping[str, Any]
    ) -> RunningServer | BalancedDeployment:
        """Return the running server of ``app`` on ``database_url`` with ``config``.

        :raises compare.procs.ServerExitedError: the server this key had has died since the
            last test (a crash: its log is quoted); the next call starts a new one.
        """
        key = (app.name, database_url, tuple(sorted(app.environment(config).items())))
        server = self._running.get(key)
        if server is not None:
            self._running.move_to_end(key)
            if server.exited():
                del self._running[key]
                status = server.stop()
                raise ServerExitedError(
                    f"{app.name} on {database_url} ended (status {status}) between tests; "
                    f"its last output:\n{server.log_tail()}"
                )
            return server
        while len(self._running) >= MAX_RUNNING:
            _, oldest = self._running.popitem(last=False)
            oldest.stop()
        server: RunningServer | BalancedDeployment
        if app.backends > 1:
            redis_url = os.environ.get(REDIS_ENV)
            assert redis_url, f"{app.name} needs {REDIS_ENV}"
            config = balanced_config(config, redis_url)
            server = start_balanced(app, database_url, config, self.log_dir)
        else:
            server = start_server(app, database_url, config, self.log_dir)
        self._running[key] = server
        return server

    def close(self) -> None:
        """Stop every server, newest first."""
        while self._running:
            _, server = self._running.popitem()
            server.stop()


class PostgresDatabases:
    """Databases of this test session's own on one PostgreSQL server, dropped by :meth:`close`.

    :param server_url: a database URL on the server (``postgresql://user@host:port/db``);
        new databases are created beside ``db``.
    """

    def __init__(self, server_url: str) -> None:
        self.base = server_url.rsplit("/", 1)[0]
        self.admin = create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self, label: str = "") -> str:
        """Create an empty database and return its URL."""
        suffix = f"_{label.replace('-', '_')}" if label else ""
        name = f"bookstore_test_{uuid.uuid4().hex[:12]}{suffix}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return f"{self.base}/{name}"

    def close(self) -> None:
        """Drop every database :meth:`create` made, closing connections still open to it."""
        try:
            with self.admin.connect() as connection:
                for name in self.names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            self.names.clear()
            self.admin.dispose()


class LiveDatabases:
    """One database per live app and database kind, emptied for every test that uses it.

    :param folder: where the SQLite files go (a folder per app).
    :param postgres: makes the PostgreSQL databases; ``None`` when the session has no server
        (asking for one then fails).
    """

    def __init__(self, folder: Path, postgres: PostgresDatabases | None) -> None:
        self.folder = folder
        self.postgres = postgres
        self._urls: dict[tuple[str, str], str] = {}
        self._engines: dict[str, Engine] = {}

    def url(self, app_name: str, kind: str) -> str:
        """Return the URL of ``app_name``'s ``kind`` database (``sqlite`` or ``postgresql``)."""
        key = (app_name, kind)
        if key not in self._urls:
            if kind == "sqlite":
                folder = self.folder / app_name
                folder.mkdir(parents=True)
                self._urls[key] = f"sqlite:///{folder / 'bookstore.db'}"
            elif self.postgres is not None:
                self._urls[key] = self.postgres.create(app_name)
            else:
                raise LookupError("no PostgreSQL server is configured for this session")
        return self._urls[key]

    def reset(self, database_url: str, config: Mapping[str, Any]) -> None:
        """Empty the database the way a new server would find it, then add its start-up admin.

        Rows go children first (``DELETE``, which waits for nothing the idle servers hold,
        where ``TRUNCATE`` would wait for every open transaction); PostgreSQL's id sequences
        restart at 1, as SQLite's ``rowid`` ids do once a table is empty. The admin from
        ``config`` (``admin_username``, ``admin_password``, hashed with
        ``password_hash_method``) is inserted as the servers' start-up code does.
        """
        engine = self._engine(database_url)
        with Session(engine) as session, session.begin():
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
            if engine.dialect.name == "postgresql":
                for table in Base.metadata.sorted_tables:
                    if "id" in table.c:
                        session.execute(
                            text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"),
                            {"t": table.name},
                        )
            username, password = config.get("admin_username"), config.get("admin_password")
            if username and password:
                method = config.get("password_hash_method", "scrypt")
                password_hash = generate_password_hash(password, method=method)
                store.create_user(session, username.lower(), password_hash, is_admin=True)

    def _engine(self, database_url: str) -> Engine:
        if database_url not in self._engines:
            self._engines[database_url] = make_engine(database_url)
        return self._engines[database_url]

    def close(self) -> None:
        """Close the connections this object opened (the databases go with their owner)."""
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


def iter_log_stalls(log: str) -> Iterator[str]:
    """Yield the first line of each event-loop stall a server reported in its log text.

    The converted app's server writes them (:data:`tests.contract.serve_converted.STALL_MARK`).
    """
    for line in log.splitlines():
        if STALL_MARK in line:
            yield line.partition(STALL_MARK)[2].strip()


def iter_log_tracebacks(log: str) -> Iterator[str]:
    """Yield each traceback in a server's log text, with the line that introduced it."""
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            start = max(0, index - 1)
            end = index + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end]):
                end += 1
            yield "\n".join(lines[start : end + 1])
