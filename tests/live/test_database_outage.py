"""A running server's SQLite database folder moves away, then comes back.

The in-process contract test (``test_an_unreachable_database_is_503_until_it_is_back``) makes
the app drop its pooled connections first, so the next request has to open the missing file
and gets 503. A server is not told to drop them, and what it already holds open survives:
an open file follows its inode wherever its folder goes (POSIX ``rename``). So for a live
server, moving the folder is an outage only for connections it has yet to open:

- requests on the connections it holds are served from the moved file, writes included, and
  nothing is lost when the folder comes back;
- a request that needs a new connection (more concurrent requests than the pool holds)
  gets a 503 problem document, never a 500;
- ``quart_app`` on Tortoise holds one SQLite connection for the process and never opens
  another: every request is served.

PostgreSQL outages: ``test_postgres_outage.py``.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.contract.conftest import USER
from tests.contract.conftest import login
from tests.contract.conftest import no_server_errors
from tests.contract.helpers import PROBLEM_JSON
from tests.contract.helpers import create_book
from tests.contract.live import LIVE_APPS
from tests.contract.live import RunningServer
from tests.live.conftest import Serve
from tests.live.conftest import async_client_for
from tests.live.conftest import checked_client

pytestmark = pytest.mark.live

#: Concurrent reads while the folder is away: more than Waitress' 4 threads hold connections.
CONCURRENT_READS = 16


async def read_at_once(server: RunningServer, count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count)
    hooks = {"response": [_checked]}
    async with async_client_for(server, limits=limits, event_hooks=hooks, timeout=60) as client:
        return await asyncio.gather(*(client.get("/books") for _ in range(count)))


async def _checked(response: httpx.Response) -> None:
    await response.aread()
    no_server_errors(response)


@pytest.mark.parametrize("app", list(LIVE_APPS))
def test_sqlite_survives_its_folder_moving_away(serve: Serve, tmp_path: Path, app: str) -> None:
    folder = tmp_path / "database"
    folder.mkdir()
    server = serve(app, f"sqlite:///{folder / 'bookstore.db'}")
    with checked_client(server) as user:
        credentials = {"username": USER[0], "password": USER[1]}
        assert user.post("/auth/register", json=credentials).status_code == 201
        login(user, *USER)
        before = create_book(user)
        moved = folder.with_name("database-away")
        shutil.move(folder, moved)
        folder.write_text("not a directory")
        try:
            assert user.get("/health").status_code == 200
            during = create_book(user, title="During", isbn=None)
            burst = asyncio.run(read_at_once(server, CONCURRENT_READS))
        finally:
            folder.unlink()
            shutil.move(moved, folder)
        listed = user.get("/books").json()
        after = asyncio.run(read_at_once(server, CONCURRENT_READS))

    assert [book["id"] for book in listed["items"]] == [before["id"], during["id"]]
    statuses = Counter(response.status_code for response in burst)
    assert set(statuses) <= {200, 503}, statuses
    for response in burst:
        if response.status_code == 503:
            assert response.headers["Content-Type"].startswith(PROBLEM_JSON)
    if LIVE_APPS[app].data_layer == "tortoise":
        assert statuses == {200: CONCURRENT_READS}
    assert {response.status_code for response in after} == {200}
