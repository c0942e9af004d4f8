"""Both apps as deployed: two server processes behind HAProxy, on PostgreSQL and Redis.

Each deployment is :func:`tests.contract.live.start_balanced`: two backends of one app on one
PostgreSQL database, counting their rate limits in Redis under a key prefix of their own, with
``BOOKSTORE_PROXY_HOPS=1`` so that they count by the client address HAProxy forwards. Every
request goes to the balancer's URL; its ``X-Backend-Server`` header names the backend that
answered (``app1``, ``app2``: round robin).

- The login and registration limits hold across the backends: the 11th failure gets 429
  whichever backend it reaches, as against one process.
- A session made on one backend is honoured by the other; logout and a password change end
  it on both.
- ``quart_app``: a WebSocket client on one backend hears of a write made through the other
  (``quart_app.events.PostgresRelay``: ``LISTEN``/``NOTIFY``).
- One backend killed (SIGKILL, or SIGTERM to its main process) under a bounded write load:
  every write answered 2xx is in the database as sent, the balancer takes the backend out,
  and the requests after that succeed.

Collected only when ``BOOKSTORE_TEST_POSTGRES_URL`` and ``BOOKSTORE_TEST_REDIS_URL`` are set
(``conftest.py``); ``haproxy`` must be installed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

from compare.balancer import SERVER_HEADER
from compare.balancer import backend_name
from legacy_flask.db import sqlalchemy_url
from tests.contract.conftest import USER
from tests.contract.conftest import login
from tests.contract.conftest import no_server_errors
from tests.contract.helpers import book_fields
from tests.contract.live import BALANCED_APPS
from tests.contract.live import REDIS_ENV
from tests.contract.live import BalancedDeployment
from tests.contract.live import LiveDatabases
from tests.contract.live import balanced_config
from tests.contract.live import next_client_address
from tests.contract.live import start_balanced
from tests.live.conftest import BASE_CONFIG
from tests.quart.wsclient import WebSocketClient

pytestmark = pytest.mark.live

#: The contract's limits: failed logins, and registrations, per client address per minute.
LOGIN_LIMIT = 10
REGISTER_LIMIT = 10
#: Seconds the event feed may take to carry a change (milliseconds when it works).
EVENT_WITHIN_S = 5.0
#: The failover runs: writes in all, writers at once, and after how many answers the backend
#: is stopped.
WRITES = 240
WRITERS = 4
STOP_AFTER = 60
#: Seconds the balancer may take to take a dead backend out (checks every 200 ms, 2 failures).
DOWN_WITHIN_S = 10.0


def start(app: str, databases: LiveDatabases, log_dir: Any) -> BalancedDeployment:
    database_url = databases.url(f"{app}-{uuid.uuid4().hex[:8]}", "postgresql")
    config = balanced_config(BASE_CONFIG, os.environ[REDIS_ENV])
    return start_balanced(BALANCED_APPS[app], database_url, config, log_dir)


@pytest.fixture(scope="module", params=list(BALANCED_APPS))
def deployment(
    request: pytest.FixtureRequest, databases: LiveDatabases, log_dir: Any
) -> Iterator[BalancedDeployment]:
    """Two backends of one app behind HAProxy, for this module's tests that stop nothing."""
    deployed = start(request.param, databases, log_dir)
    try:
        yield deployed
    finally:
        deployed.stop()


def client_of(deployment: BalancedDeployment, *, checked: bool = True) -> httpx.Client:
    """A client of the balancer from a loopback address of its own (a new client to the
    limits); with ``checked``, a 500, an HTML page or a traceback fails the test."""
    return httpx.Client(
        base_url=deployment.base_url,
        transport=httpx.HTTPTransport(local_address=next_client_address()),
        event_hooks={"response": [no_server_errors]} if checked else {},
        timeout=30,
        trust_env=False,
    )


def wrong_login(client: httpx.Client) -> httpx.Response:
    return client.post("/auth/login", json={"username": "nobody", "password": "not-the-password"})


def test_failed_logins_get_429_at_the_same_attempt_as_against_one_backend(
    deployment: BalancedDeployment,
) -> None:
    # Against one backend directly: the 11th failure is refused.
    with httpx.Client(
        base_url=deployment.backends[0].base_url,
        transport=httpx.HTTPTransport(local_address=next_client_address()),
        trust_env=False,
    ) as direct:
        single = [wrong_login(direct).status_code for _ in range(LOGIN_LIMIT + 1)]
    assert single == [401] * LOGIN_LIMIT + [429]

    with client_of(deployment) as client:
        answers = [wrong_login(client) for _ in range(LOGIN_LIMIT + 1)]
        right_password = client.post(
            "/auth/login",
            json={
                "username": BASE_CONFIG["admin_username"],
                "password": BASE_CONFIG["admin_password"],
            },
        )
    assert [answer.status_code for answer in answers] == [401] * LOGIN_LIMIT + [429]
    # The failures were spread over both backends, and each counted in the shared store.
    served = {answer.headers[SERVER_HEADER] for answer in answers[:LOGIN_LIMIT]}
    assert served == {backend_name(0), backend_name(1)}
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert right_password.status_code == 429


def test_registrations_are_limited_across_backends(deployment: BalancedDeployment) -> None:
    with client_of(deployment) as client:
        answers = [
            client.post(
                "/auth/register",
                json={"username": f"r{uuid.uuid4().hex[:12]}", "password": "a-long-password"},
            )
            for _ in range(REGISTER_LIMIT + 1)
        ]
    assert [answer.status_code for answer in answers] == [201] * REGISTER_LIMIT + [429]
    assert {answer.headers[SERVER_HEADER] for answer in answers} == {"app1", "app2"}


def reaches_both(client: httpx.Client, path: str, status: int) -> None:
    """Assert ``GET path`` answers ``status`` from both backends (round robin: 4 requests)."""
    answers = [client.get(path) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [status] * 4
    assert {answer.headers[SERVER_HEADER] for answer in answers} == {"app1", "app2"}


def test_a_session_from_one_backend_works_on_the_other_and_ends_on_both(
    deployment: BalancedDeployment,
) -> None:
    username = f"u{uuid.uuid4().hex[:12]}"
    credentials = {"username": username, "password": USER[1]}
    with client_of(deployment) as first, client_of(deployment) as second:
        assert first.post("/auth/register", json=credentials).status_code == 201
        login(first, username, USER[1])
        reaches_both(first, "/auth/me", 200)
        # A copy of the cookie, as another device holding the same session.
        second.cookies.update(first.cookies)
        reaches_both(second, "/auth/me", 200)

        assert first.post("/auth/logout").status_code == 204
        reaches_both(second, "/auth/me", 401)

        # A password change ends every other session, on both backends.
        login(first, username, USER[1])
        second.cookies.clear()
        second.cookies.update(first.cookies)
        changed = first.post(
            "/auth/password",
            json={"current_password": USER[1], "new_password": "another-long-password"},
        )
        assert changed.status_code == 204
        reaches_both(second, "/auth/me", 401)
        reaches_both(first, "/auth/me", 200)


@pytest.mark.parametrize(
    "deployment",
    [name for name, app in BALANCED_APPS.items() if app.package == "quart_app"],
    indirect=True,
)
async def test_a_websocket_client_hears_of_a_write_made_through_the_other_backend(
    deployment: BalancedDeployment,
) -> None:
    host, port = deployment.base_url.removeprefix("http://").split(":")
    feed = await WebSocketClient.connect(host, int(port), "/ws/events")
    try:
        listening_on = feed.headers[SERVER_HEADER.lower()]
        with client_of(deployment) as user:
            username = f"u{uuid.uuid4().hex[:12]}"
            credentials = {"username": username, "password": USER[1]}
            assert user.post("/auth/register", json=credentials).status_code == 201
            login(user, username, USER[1])
            # Round robin: one of two consecutive writes goes to the other backend.
            created = []
            for _ in range(2):
                isbn = f"978{uuid.uuid4().int % 10**10:010d}"
                response = user.post("/books", json=book_fields(isbn=None, title=isbn))
                assert response.status_code == 201, response.text
                created.append((response.headers[SERVER_HEADER], response.json()))
        elsewhere = [book for server, book in created if server != listening_on]
        assert elsewhere, f"both writes went to {listening_on}"
        expected = {"event": "book.created", "id": elsewhere[0]["id"], "data": elsewhere[0]}
        heard: list[Any] = []
        async with asyncio.timeout(EVENT_WITHIN_S):
            while expected not in heard:
                heard.append(await feed.receive_json())
    finally:
        await feed.aclose()


def stop_backend(deployment: BalancedDeployment, how: str) -> None:
    """Stop backend ``app1`` the way a crash (SIGKILL to every process of the server) or an
    orchestrator (SIGTERM to its main process: ``docker stop``) does; it is reaped later."""
    pid = deployment.backends[0].process.pid
    if how == "SIGKILL":
        os.killpg(pid, signal.SIGKILL)
    else:
        os.kill(pid, signal.SIGTERM)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("app", list(BALANCED_APPS))
def test_losing_a_backend_under_writes_loses_no_acknowledged_write(
    databases: LiveDatabases, log_dir: Any, app: str, how: str
) -> None:
    deployed = start(app, databases, log_dir)
    run = uuid.uuid4().hex[:8]
    try:
        with client_of(deployed) as setup:
            username = f"u{run}"
            assert (
                setup.post(
                    "/auth/register", json={"username": username, "password": USER[1]}
                ).status_code
                == 201
            )
            login(setup, username, USER[1])
            cookies = dict(setup.cookies)

        local = threading.local()
        answers: list[tuple[dict[str, Any], httpx.Response | None]] = []
        lock = threading.Lock()
        stop_now = threading.Event()

        def write(index: int) -> None:
            if not hasattr(local, "client"):
                local.client = client_of(deployed, checked=False)
                local.client.cookies.update(cookies)
            body = book_fields(isbn=None, title=f"failover-{run}-{index}")
            try:
                response: httpx.Response | None = local.client.post("/books", json=body)
            except httpx.TransportError:
                response = None
            with lock:
                answers.append((body, response))
                if len(answers) == STOP_AFTER:
                    stop_now.set()

        # A bounded write load; app1 is stopped once STOP_AFTER writes have been answered.
        with ThreadPoolExecutor(WRITERS) as writers:
            pending = [writers.submit(write, index) for index in range(WRITES)]
            assert stop_now.wait(60), "the writes did not get going"
            stop_backend(deployed, how)
            for future in pending:
                future.result()
        deployed.balancer.wait_for_state(backend_name(0), "DOWN", DOWN_WITHIN_S)

        # After the failover: every request succeeds, and app2 answers all of them.
        with client_of(deployed) as after:
            after.cookies.update(cookies)
            later = [
                after.post("/books", json=book_fields(isbn=None, title=f"after-{run}-{index}"))
                for index in range(20)
            ]
            reads = [after.get("/books", params={"limit": 5}) for _ in range(20)]
        for response in later + reads:
            assert response.status_code in (200, 201), response.text
            assert response.headers[SERVER_HEADER] == backend_name(1)

        engine = create_engine(sqlalchemy_url(deployed.database_url))
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT id, title, author, year, isbn, price_cents FROM books"
                        " WHERE title LIKE :run"
                    ),
                    {"run": f"failover-{run}-%"},
                ).all()
        finally:
            engine.dispose()
    finally:
        deployed.stop()

    stored = {row.title: row for row in rows}
    # No write was applied twice (the balancer retries only connections that were refused).
    assert len(stored) == len(rows)
    acknowledged = [
        (body, response)
        for body, response in answers
        if response is not None and response.status_code == 201
    ]
    failed = [
        response for _, response in answers if response is None or response.status_code != 201
    ]
    # Every write answered 201 is there, whole, under the id it was answered with.
    for body, response in acknowledged:
        row = stored[body["title"]]
        assert row.id == response.json()["id"]
        assert (row.author, row.year, row.isbn, row.price_cents) == (
            body["author"],
            body["year"],
            body["isbn"],
            body["price_cents"],
        )
    # Every row there is a write that was sent, whole (one that was cut short after its
    # commit may be there without its answer).
    sent = {body["title"]: body for body, _ in answers}
    for title, row in stored.items():
        assert (row.author, row.year, row.price_cents) == (
            sent[title]["author"],
            sent[title]["year"],
            sent[title]["price_cents"],
        )
    # Shown with -s: the numbers docs/reliability.md quotes.
    statuses = sorted(str(response.status_code if response else "cut") for response in failed)
    print(f"\n{app}, {how}: {len(acknowledged)} of {WRITES} writes got 201; the rest: {statuses}")
    # Writes that got no 201 were cut off at the moment of the stop: each writer's request in
    # flight on app1, and one per connection HAProxy kept open to app1, which app1 closed.
    # Without the balancer's retries, every connection app1 refused until it was marked DOWN
    # would fail too: dozens.
    assert len(failed) <= 2 * WRITERS, [r and (r.status_code, r.text) for r in failed]


@pytest.mark.parametrize("app", list(BALANCED_APPS))
def test_a_drained_backend_stops_under_writes_without_losing_one(
    databases: LiveDatabases, log_dir: Any, app: str
) -> None:
    deployed = start(app, databases, log_dir)
    run = uuid.uuid4().hex[:8]
    try:
        with client_of(deployed) as setup:
            credentials = {"username": f"u{run}", "password": USER[1]}
            assert setup.post("/auth/register", json=credentials).status_code == 201
            login(setup, f"u{run}", USER[1])
            cookies = dict(setup.cookies)
        local = threading.local()
        statuses: list[int | None] = []
        lock = threading.Lock()
        drain_now = threading.Event()

        def write(index: int) -> None:
            if not hasattr(local, "client"):
                local.client = client_of(deployed, checked=False)
                local.client.cookies.update(cookies)
            body = book_fields(isbn=None, title=f"drain-{run}-{index}")
            try:
                status: int | None = local.client.post("/books", json=body).status_code
            except httpx.TransportError:
                status = None
            with lock:
                statuses.append(status)
                if len(statuses) == STOP_AFTER:
                    drain_now.set()

        with ThreadPoolExecutor(WRITERS) as writers:
            pending = [writers.submit(write, index) for index in range(WRITES)]
            assert drain_now.wait(60), "the writes did not get going"
            # What docs/deployment.md says to do: drain, wait for its requests, then SIGTERM.
            deployed.balancer.runtime(f"set server apps/{backend_name(0)} state drain")
            deployed.balancer.wait_until_idle(backend_name(0))
            stop_backend(deployed, "SIGTERM")
            for future in pending:
                future.result()
        deployed.balancer.wait_for_state(backend_name(0), "DOWN", DOWN_WITHIN_S)
    finally:
        deployed.stop()
    assert statuses == [201] * WRITES
