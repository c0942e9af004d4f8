"""PostgreSQL goes away under a running server, then comes back.

The server reaches the database through a TCP proxy the test controls
(:class:`~tests.live.fakes.TcpProxy`); cutting it resets every open connection and refuses
new ones, as a database restart or a network partition does. Every endpoint that needs the
database answers 503 with a problem document (``/health`` included), no traceback reaches
the client or the server's log, and the server serves again as soon as the proxy lets
connections through, with the data it had.

Collected only when ``BOOKSTORE_TEST_POSTGRES_URL`` names a server (``conftest.py``).
"""

from __future__ import annotations

import httpx
import pytest

from tests.contract.conftest import ADMIN
from tests.contract.conftest import USER
from tests.contract.conftest import login
from tests.contract.helpers import assert_problem
from tests.contract.helpers import book_fields
from tests.contract.helpers import create_book
from tests.contract.live import LIVE_APPS
from tests.contract.live import iter_log_tracebacks
from tests.live.conftest import Serve
from tests.live.conftest import checked_client
from tests.live.fakes import TcpProxy

pytestmark = pytest.mark.live

#: Tracebacks a server may log during an outage without failing the test, and why:
KNOWN_OUTAGE_TRACEBACKS = (
    # asyncpg's pool (Tortoise's) logs each failed attempt to reopen its minimum of
    # connections while the database is down, then succeeds once it is back.
    "Failed to restore the pool connection floor",
)


def assert_everything_is_503(anonymous: httpx.Client, user: httpx.Client, book_id: int) -> None:
    assert_problem(anonymous.get("/health"), 503)
    assert_problem(anonymous.get("/books"), 503)
    assert_problem(anonymous.get(f"/books/{book_id}"), 503)
    assert_problem(anonymous.get(f"/books/{book_id}/reviews"), 503)
    assert_problem(anonymous.get("/books/export.csv"), 503)
    assert_problem(user.get("/auth/me"), 503)
    assert_problem(user.post("/books", json=book_fields(title="During", isbn=None)), 503)
    assert_problem(user.patch(f"/books/{book_id}", json={"price_cents": 1}), 503)
    assert_problem(
        anonymous.post("/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]}), 503
    )


@pytest.mark.parametrize("app", list(LIVE_APPS))
def test_postgres_outage_is_503_until_it_is_back(
    serve: Serve, postgres_behind_proxy: tuple[TcpProxy, str], app: str
) -> None:
    cut_off, database_url = postgres_behind_proxy
    server = serve(app, database_url)
    with checked_client(server) as anonymous, checked_client(server) as user:
        credentials = {"username": USER[0], "password": USER[1]}
        assert user.post("/auth/register", json=credentials).status_code == 201
        login(user, *USER)
        book = create_book(user)
        server.mark()

        cut_off.cut()
        assert_everything_is_503(anonymous, user, book["id"])
        # Still 503 on a second round: the failed reconnects left nothing half-open behind.
        assert_everything_is_503(anonymous, user, book["id"])
        cut_off.restore()

        assert anonymous.get("/health").json() == {"status": "ok", "database": "ok"}
        assert anonymous.get(f"/books/{book['id']}").json() == book
        assert user.get("/auth/me").json()["username"] == USER[0]
        assert create_book(user, title="After", isbn=None)["title"] == "After"
        assert anonymous.get("/books").json()["total"] == 2
    tracebacks = "\n\n".join(
        traceback
        for traceback in iter_log_tracebacks(server.log_since_mark())
        if not any(known in traceback for known in KNOWN_OUTAGE_TRACEBACKS)
    )
    assert not tracebacks, f"{app} logged a traceback during the outage:\n{tracebacks}"
