"""The rate limits' shared store (``BOOKSTORE_RATELIMIT_STORAGE_URL``) out of reach.

A login or a registration that cannot be counted is refused with 503 and ``Retry-After``, and
the error is logged; every other route keeps working. Letting them through uncounted would lift
the login limit for as long as Redis is down. No Redis is needed: the URL names a port where
nothing listens.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from compare.procs import free_port
from tests.contract.live import LiveDatabases
from tests.live.conftest import Serve

pytestmark = pytest.mark.live


@pytest.mark.parametrize("app", ["flask-live", "quart-live"])
def test_logins_and_registrations_get_503_while_the_store_is_unreachable(
    serve: Serve, databases: LiveDatabases, app: str
) -> None:
    server = serve(
        app,
        databases.url(f"{app}-no-store-{uuid.uuid4().hex[:8]}", "sqlite"),
        ratelimit_storage_url=f"redis://127.0.0.1:{free_port()}/0",
    )
    server.mark()
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client:
        login = client.post("/auth/login", json={"username": "admin", "password": "a-password"})
        register = client.post(
            "/auth/register", json={"username": "someone", "password": "a-long-password"}
        )
        books = client.get("/books")
    for refused in (login, register):
        assert refused.status_code == 503, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["detail"] == "the rate limit store cannot be reached; try again"
        assert refused.headers["Retry-After"] == "5"
    assert books.status_code == 200
    log = server.log_since_mark()
    assert log.count("rate limit storage unavailable") == 2, log
    assert "Traceback" not in log
