"""The helpers never block the event loop themselves: run them under blockbuster."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import aclosing

import flask
import pytest
import quart
from blockbuster import BlockBuster

from migrate import AsyncFacade
from migrate import StallDetector
from migrate import WorkerPool
from migrate import iterate_in_pool
from migrate import mount_wsgi
from migrate import run_async
from migrate import run_sync
from tests.migrate.helpers import Gate


@pytest.fixture
def app(pool_name: str) -> quart.Quart:
    # Built before blockbuster is active: Quart's set-up reads the file system.
    legacy = flask.Flask("legacy")

    @legacy.get("/legacy")
    def legacy_view() -> str:
        time.sleep(0.01)  # Blocking, but in a worker thread: allowed.
        return "flask"

    app = quart.Quart("migrated")

    @app.get("/offloaded")
    async def offloaded() -> str:
        await run_sync(time.sleep)(0.01)
        return "quart"

    WorkerPool(2, name=pool_name).init_app(app)
    mount_wsgi(app, legacy)
    return app


async def test_pool_bridges_and_mount_make_no_blocking_call_on_the_loop(
    app: quart.Quart, blockbuster: BlockBuster
) -> None:
    detector = StallDetector(100)
    detector.init_app(app)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert await (await client.get("/offloaded")).get_data(as_text=True) == "quart"
        assert await (await client.get("/legacy")).get_data(as_text=True) == "flask"

        def rows() -> Iterator[int]:
            yield from range(3)

        for pinned in (False, True):
            async with aclosing(iterate_in_pool(rows(), pinned=pinned)) as steps:
                assert [n async for n in steps] == [0, 1, 2]

        facade = AsyncFacade(threading.Lock())
        assert await facade.acquire() is True
        await facade.release()

        async def double(n: int) -> int:
            return 2 * n

        assert await run_sync(run_async(double))(21) == 42

        # A call that outlives its caller, then a close that waits for it.
        gate = Gate()
        with pytest.raises(TimeoutError):
            await run_sync(gate.wait, timeout=0.05)()
        gate.opened.set()
    assert detector.stalls == []
