"""Fixtures of the reliability tests: real servers on loopback, each on a database of its own.

Every server here is started for the tests of one module or one test (they stop it, cut its
database or flood it), never shared with the contract suite's servers. Servers and the
inventory stand-in are stopped by process group when their fixture ends, a failure or Ctrl-C
included (:mod:`compare.procs`). PostgreSQL is used when ``BOOKSTORE_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import os
import resource
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import httpx
import pytest

from compare.procs import ServerProcess
from compare.procs import free_port
from tests.contract.conftest import ADMIN
from tests.contract.conftest import POSTGRES_ENV
from tests.contract.conftest import TEST_HASH_METHOD
from tests.contract.conftest import no_server_errors
from tests.contract.live import HOST
from tests.contract.live import LIVE_APPS
from tests.contract.live import REDIS_ENV
from tests.contract.live import LiveDatabases
from tests.contract.live import PostgresDatabases
from tests.contract.live import RunningServer
from tests.contract.live import python_command
from tests.contract.live import start_server
from tests.live.fakes import TcpProxy

#: The databases every reliability test that has a database runs on.
DATABASES = ["sqlite", *(["postgresql"] if os.environ.get(POSTGRES_ENV) else [])]

#: Settings every server here gets, as the contract suite's servers.
BASE_CONFIG: dict[str, Any] = {
    "secret_key": "reliability-tests",
    "admin_username": ADMIN[0],
    "admin_password": ADMIN[1],
    "password_hash_method": TEST_HASH_METHOD,
}

#: The PostgreSQL-only tests are collected only where a server is named: elsewhere there is
#: nothing to run them against, and nothing is skipped. The balanced deployments need Redis too.
collect_ignore = [
    *(
        []
        if os.environ.get(POSTGRES_ENV)
        else ["test_postgres_outage.py", "test_event_feed_postgres.py"]
    ),
    *([] if os.environ.get(POSTGRES_ENV) and os.environ.get(REDIS_ENV) else ["test_balanced.py"]),
]

#: File descriptors a flood of connections needs in this process (and in the servers it
#: starts, which inherit the limit): 2,000 connections, each end open here and in a server.
FILES_NEEDED = 5_000

#: Starts a server: ``serve(app_name, database_url, **settings)``.
Serve = Callable[..., RunningServer]


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    """Makes PostgreSQL databases of this session's own, dropped at the end (``None``: no server)."""
    if not os.environ.get(POSTGRES_ENV):
        yield None
        return
    databases = PostgresDatabases(os.environ[POSTGRES_ENV])
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture(scope="module")
def databases(
    tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases | None
) -> Iterator[LiveDatabases]:
    """Databases for this module's servers: ``databases.url(label, kind)``, ``reset``."""
    live = LiveDatabases(tmp_path_factory.mktemp("databases"), postgres_databases)
    try:
        yield live
    finally:
        live.close()


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this module's servers write their logs (quoted when one fails to start)."""
    return tmp_path_factory.mktemp("logs")


def _serve(log_dir: Path, stack: list[RunningServer]) -> Serve:
    def serve(app_name: str, database_url: str, **settings: Any) -> RunningServer:
        config = {**BASE_CONFIG, **settings}
        server = start_server(LIVE_APPS[app_name], database_url, config, log_dir)
        stack.append(server)
        return server

    return serve


@pytest.fixture
def serve(log_dir: Path) -> Iterator[Serve]:
    """Start servers for this test; they are stopped when it ends, however it ends."""
    started: list[RunningServer] = []
    try:
        yield _serve(log_dir, started)
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture(scope="module")
def serve_for_module(log_dir: Path) -> Iterator[Serve]:
    """Start servers for this module's tests; they are stopped after its last test."""
    started: list[RunningServer] = []
    try:
        yield _serve(log_dir, started)
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture(scope="module")
def inventory_stand_in(log_dir: Path) -> Iterator[ServerProcess]:
    """The inventory stand-in (``python -m compare inventory``) for this module's tests."""
    port = free_port(HOST)
    argv = python_command("-m", "compare", "inventory", "--host", HOST, "--port", str(port))
    process = ServerProcess(
        [*argv, "--latency-ms", "0"],
        port=port,
        host=HOST,
        log_path=log_dir / f"inventory-{port}.log",
    )
    try:
        process.start()
        process.wait_ready("/health")
        yield process
    finally:
        process.stop()


@pytest.fixture
def postgres_behind_proxy(databases: LiveDatabases) -> Iterator[tuple[TcpProxy, str]]:
    """A new PostgreSQL database reached through a :class:`TcpProxy`: the proxy, and the URL.

    The URL names the proxy's address instead of the server's; cutting the proxy cuts off
    every server that was given the URL.
    """
    database_url = databases.url(f"proxied-{uuid.uuid4().hex[:8]}", "postgresql")
    target = urlsplit(database_url)
    with TcpProxy(target.hostname or HOST, target.port or 5432) as proxy:
        userinfo, _, _ = target.netloc.rpartition("@")
        netloc = (
            f"{userinfo}@{proxy.host}:{proxy.port}" if userinfo else f"{proxy.host}:{proxy.port}"
        )
        yield proxy, urlunsplit(target._replace(netloc=netloc))


@pytest.fixture
def inventory(inventory_stand_in: ServerProcess) -> Iterator[httpx.Client]:
    """A client of the stand-in's control endpoint; the stand-in behaves again afterwards."""
    with httpx.Client(base_url=inventory_stand_in.base_url, trust_env=False) as control:
        control.put("/_control", json={"fail": "none", "latency_ms": 0}).raise_for_status()
        yield control
        control.put("/_control", json={"fail": "none", "latency_ms": 0}).raise_for_status()


def checked_client(server: RunningServer) -> httpx.Client:
    """A client of ``server`` that fails the test on a 500, an HTML page or a traceback."""
    return client_for(server, event_hooks={"response": [no_server_errors]}, timeout=30)


def client_for(server: RunningServer, **kwargs: Any) -> httpx.Client:
    """Return a client of ``server`` that ignores proxy settings."""
    return httpx.Client(base_url=server.base_url, trust_env=False, **kwargs)


def async_client_for(server: RunningServer, **kwargs: Any) -> httpx.AsyncClient:
    """Return an async client of ``server`` that ignores proxy settings."""
    return httpx.AsyncClient(base_url=server.base_url, trust_env=False, **kwargs)


@pytest.fixture
def many_files() -> Iterator[None]:
    """Raise this process' open-file limit for thousands of connections; servers it starts
    inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FILES_NEEDED if hard == resource.RLIM_INFINITY else min(FILES_NEEDED, hard)
    if wanted < FILES_NEEDED:
        pytest.fail(f"the open-file limit is {hard}; the burst needs {FILES_NEEDED}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
