"""The inventory service fails while many availability calls are in flight.

The contract maps an inventory that is down, answers 500 or answers garbage to 502, and one
that does not answer within ``BOOKSTORE_INVENTORY_TIMEOUT`` to 504. Here each failure meets
a burst of concurrent calls on a real server, and ``/health``, which needs no inventory, must
keep answering while the calls hang:

- Hypercorn waits for the inventory on its event loop: ``/health`` is answered while every
  hanging call is still waiting.
- Waitress waits on its 4 threads: ``/health`` is answered while fewer calls than threads
  hang; once all 4 threads wait, it queues behind them until one is freed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from compare.procs import ServerProcess
from tests.contract.conftest import USER
from tests.contract.conftest import login
from tests.contract.helpers import assert_problem
from tests.contract.helpers import book_fields
from tests.contract.live import LIVE_APPS
from tests.contract.live import LiveDatabases
from tests.contract.live import RunningServer
from tests.live.conftest import BASE_CONFIG
from tests.live.conftest import Serve
from tests.live.conftest import async_client_for
from tests.live.conftest import client_for
from tests.live.fakes import GatedInventory
from tests.live.fakes import TcpProxy

pytestmark = pytest.mark.live

#: Concurrent availability calls per failure.
CALLS = 20
#: Seconds the apps wait for the inventory (the default) before answering 504.
INVENTORY_TIMEOUT_S = 2.0
#: The same for the failure bursts, shorter: Waitress times out 4 calls at a time.
BURST_INVENTORY_TIMEOUT_S = 1.0
#: Waitress' worker threads (its default).
WAITRESS_THREADS = 4
#: Seconds a probe waits for an answer that cannot come (see the Waitress test).
PROBE_S = 1.0


def book_to_look_up(server: RunningServer) -> int:
    """Register a user, create a book with an ISBN through the API, return its id."""
    with client_for(server) as user:
        credentials = {"username": USER[0], "password": USER[1]}
        assert user.post("/auth/register", json=credentials).status_code == 201
        login(user, *USER)
        response = user.post("/books", json=book_fields())
        assert response.status_code == 201, response.text
        book_id: int = response.json()["id"]
        return book_id


async def call_at_once(server: RunningServer, book_id: int, count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count)
    async with async_client_for(server, limits=limits, timeout=60) as client:
        return await asyncio.gather(
            *(client.get(f"/books/{book_id}/availability") for _ in range(count))
        )


@pytest.fixture(scope="module")
def proxy(inventory_stand_in: ServerProcess) -> Iterator[TcpProxy]:
    """A proxy in front of the inventory stand-in: cutting it takes the inventory down."""
    with TcpProxy(inventory_stand_in.host, inventory_stand_in.port) as running:
        yield running


@pytest.fixture(scope="module", params=list(LIVE_APPS))
def server(
    request: pytest.FixtureRequest,
    serve_for_module: Serve,
    databases: LiveDatabases,
    proxy: TcpProxy,
) -> RunningServer:
    """One server per app for this module, calling the stand-in through :func:`proxy`."""
    app: str = request.param
    return serve_for_module(
        app,
        databases.url(app, "sqlite"),
        inventory_url=f"http://{proxy.host}:{proxy.port}",
        inventory_timeout=BURST_INVENTORY_TIMEOUT_S,
    )


@pytest.mark.parametrize(
    ("failure", "status"), [("down", 502), ("error", 502), ("garbage", 502), ("hang", 504)]
)
def test_every_call_gets_the_contracts_problem_then_recovers(
    server: RunningServer,
    databases: LiveDatabases,
    inventory: httpx.Client,
    proxy: TcpProxy,
    failure: str,
    status: int,
) -> None:
    databases.reset(server.database_url, BASE_CONFIG)
    book_id = book_to_look_up(server)
    if failure == "down":
        proxy.cut()
    else:
        inventory.put("/_control", json={"fail": failure}).raise_for_status()
    try:
        responses = asyncio.run(call_at_once(server, book_id, CALLS))
    finally:
        if failure == "down":
            proxy.restore()
        inventory.put("/_control", json={"fail": "none"}).raise_for_status()
    assert Counter(response.status_code for response in responses) == {status: CALLS}
    for response in responses:
        assert_problem(response, status)
    recovered = asyncio.run(call_at_once(server, book_id, CALLS))
    assert Counter(response.status_code for response in recovered) == {200: CALLS}


@pytest.mark.parametrize("app", list(LIVE_APPS))
async def test_health_answers_while_inventory_calls_hang(
    serve: Serve, databases: LiveDatabases, app: str
) -> None:
    # Waitress can wait on at most its thread count at once and still answer.
    hanging = WAITRESS_THREADS - 1 if LIVE_APPS[app].server == "waitress" else CALLS
    with GatedInventory() as inventory:
        server = serve(
            app,
            databases.url(f"{app}-hang", "sqlite"),
            inventory_url=inventory.base_url,
            inventory_timeout=INVENTORY_TIMEOUT_S,
        )
        book_id = await asyncio.to_thread(book_to_look_up, server)
        calls = asyncio.create_task(call_at_once(server, book_id, hanging))
        await asyncio.to_thread(inventory.wait_for_arrivals, hanging)
        # A client that gives up after the inventory timeout: an answer that only came once
        # the hanging calls time out would be too late.
        async with async_client_for(server, timeout=INVENTORY_TIMEOUT_S) as probe:
            health = await probe.get("/health")
        assert not calls.done(), "the calls stopped hanging before /health was answered"
        assert health.status_code == 200
        responses = await calls
    assert Counter(response.status_code for response in responses) == {504: hanging}


async def test_waitress_answers_health_only_once_a_thread_is_free(
    serve: Serve, databases: LiveDatabases
) -> None:
    with GatedInventory() as inventory:
        server = serve(
            "flask-live",
            databases.url("flask-live-threads", "sqlite"),
            inventory_url=inventory.base_url,
            inventory_timeout=30,
        )
        book_id = await asyncio.to_thread(book_to_look_up, server)
        calls = asyncio.create_task(call_at_once(server, book_id, WAITRESS_THREADS))
        await asyncio.to_thread(inventory.wait_for_arrivals, WAITRESS_THREADS)
        async with async_client_for(server, timeout=60) as probe:
            health = asyncio.create_task(probe.get("/health"))
            # Every thread waits at the closed gate: nothing can answer /health. Waiting in
            # vain cannot be shortened; no wait here is long enough to pass by accident.
            done, _ = await asyncio.wait({health}, timeout=PROBE_S)
            assert not done, "Waitress answered with all its threads waiting"
            inventory.open_gate()
            assert (await health).status_code == 200
        responses = await calls
    assert Counter(response.status_code for response in responses) == {200: WAITRESS_THREADS}
