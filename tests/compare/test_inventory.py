"""The inventory stand-in, served in-process on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from compare.inventory import CONTROL
from compare.inventory import FAIL_MODES
from compare.inventory import MAX_LATENCY_MS
from compare.inventory import Behaviour
from compare.inventory import RunningInventory
from compare.inventory import create_app
from compare.inventory import serve_app
from compare.inventory import stock_for

ISBN = "9780306406157"
#: Seconds a client waits for an answer that must not come.
GIVE_UP_S = 0.3


@contextlib.asynccontextmanager
async def stand_in(latency_ms: float = 0, fail: str = "none") -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serve_app(create_app(latency_ms=latency_ms, fail=fail)) as server,
        httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client,
    ):
        yield client


@pytest.fixture
async def inventory() -> AsyncIterator[RunningInventory]:
    async with serve_app(create_app()) as server:
        yield server


@pytest.fixture
async def client(inventory: RunningInventory) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=inventory.base_url, timeout=5.0, trust_env=False
    ) as client:
        yield client


async def test_answers_the_documented_shape(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/stock/{ISBN}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"isbn": ISBN, "in_stock": stock_for(ISBN)}


def test_stock_follows_the_documented_rule() -> None:
    # Pinned values: changing the rule changes every recorded comparison, so it must be deliberate.
    assert stock_for(ISBN) == 19
    assert stock_for("9780000000002") == stock_for("9780000000002")
    figures = {stock_for(f"978000000{n:04d}") for n in range(500)}
    assert figures <= set(range(100))
    assert len(figures) > 50


async def test_two_apps_give_the_same_answer() -> None:
    answers = []
    for _ in range(2):
        async with stand_in() as client:
            answers.append((await client.get(f"/stock/{ISBN}")).json())
    assert answers[0] == answers[1]


@pytest.mark.parametrize("isbn", ["0306406152", "978030640615", "97803064061577", "abc"])
async def test_anything_but_an_isbn13_is_not_found(client: httpx.AsyncClient, isbn: str) -> None:
    response = await client.get(f"/stock/{isbn}")

    assert response.status_code == 404
    assert response.json() == {"error": "not an ISBN-13", "isbn": isbn}


async def test_health_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_latency_delays_the_answer() -> None:
    async with stand_in(latency_ms=MAX_LATENCY_MS) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"/stock/{ISBN}", timeout=GIVE_UP_S)

        await client.put("/_control", json={"latency_ms": 0})
        response = await client.get(f"/stock/{ISBN}")

    assert response.status_code == 200


async def test_error_mode_answers_500_with_json() -> None:
    async with stand_in(fail="error") as client:
        response = await client.get(f"/stock/{ISBN}")

    assert response.status_code == 500
    assert response.json() == {"error": "simulated inventory failure", "isbn": ISBN}


async def test_garbage_mode_answers_200_that_is_not_json() -> None:
    async with stand_in(fail="garbage") as client:
        response = await client.get(f"/stock/{ISBN}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_hang_mode_never_answers() -> None:
    async with stand_in(fail="hang") as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"/stock/{ISBN}", timeout=GIVE_UP_S)


async def test_stopping_ends_hung_requests() -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=30.0) as client:
        async with serve_app(create_app(fail="hang")) as server:
            hung = asyncio.create_task(client.get(f"{server.base_url}/stock/{ISBN}"))
            await client.get(f"{server.base_url}/health")
        # A request the server had read gets 503; one still in flight when it stopped
        # listening gets a closed connection. Either way the client is not left waiting.
        try:
            response = await asyncio.wait_for(hung, timeout=10.0)
        except httpx.TransportError:
            return

    assert response.status_code == 503


async def test_control_reads_and_switches_the_mode(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_control")).json() == {"fail": "none", "latency_ms": 0.0}

    response = await client.put("/_control", json={"fail": "error"})

    assert response.status_code == 200
    assert response.json() == {"fail": "error", "latency_ms": 0.0}
    assert (await client.get(f"/stock/{ISBN}")).status_code == 500
    await client.put("/_control", json={"fail": "none"})
    assert (await client.get(f"/stock/{ISBN}")).status_code == 200


async def test_control_keeps_fields_left_out(client: httpx.AsyncClient) -> None:
    await client.put("/_control", json={"fail": "garbage", "latency_ms": 5})

    response = await client.put("/_control", json={"latency_ms": 1})

    assert response.json() == {"fail": "garbage", "latency_ms": 1.0}


@pytest.mark.parametrize(
    "body",
    [
        b'{"fail": "sometimes"}',
        b'{"latency_ms": -1}',
        b'{"latency_ms": 1e9}',
        b'{"colour": "red"}',
        b"[]",
        b"not json",
    ],
)
async def test_control_rejects_bad_values_and_keeps_the_old_ones(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.put(
        "/_control", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert "error" in response.json()
    assert (await client.get("/_control")).json() == {"fail": "none", "latency_ms": 0.0}


@pytest.mark.parametrize("mode", FAIL_MODES)
async def test_health_and_control_never_misbehave(client: httpx.AsyncClient, mode: str) -> None:
    await client.put("/_control", json={"fail": mode})

    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/_control")).json()["fail"] == mode


async def test_in_process_switch_without_http(
    inventory: RunningInventory, client: httpx.AsyncClient
) -> None:
    inventory.app[CONTROL].behaviour = Behaviour(fail="error")

    assert (await client.get(f"/stock/{ISBN}")).status_code == 500


@pytest.mark.parametrize(("latency_ms", "fail"), [(-1, "none"), (0, "flaky"), (1e9, "none")])
def test_create_app_rejects_bad_settings(latency_ms: float, fail: str) -> None:
    with pytest.raises(ValueError, match="validation error"):
        create_app(latency_ms=latency_ms, fail=fail)
