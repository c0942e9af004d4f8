"""What Waitress' own limits leave to a buffering proxy, shown with HAProxy in front of it.

Waitress keeps a connection while its client keeps sending, however slowly, and stops
accepting at ``connection_limit`` (:func:`tests.live.test_connections.test_waitress_waits_at_its_connection_limit`).
HAProxy, buffering each request whole before it forwards it (``option http-buffer-request``)
and dropping a request head not complete within ``timeout http-request``, holds such clients
itself: more slow senders than Waitress has places leave ``/health`` answered through it.
HAProxy is a Debian package (``.ci/run`` installs it).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from compare.procs import ServerProcess
from compare.procs import free_port
from legacy_flask.server import WAITRESS_LIMITS
from tests.contract.live import HOST
from tests.contract.live import RunningServer
from tests.live.conftest import Serve
from tests.live.conftest import async_client_for
from tests.live.fakes import EXPECTED_WITHIN_S
from tests.live.test_connections import HEALTH_WITHIN_S

pytestmark = pytest.mark.live

#: Slow senders: more than Waitress' connection limit.
SLOW_SENDERS = int(WAITRESS_LIMITS["connection_limit"]) + 100

HAPROXY_CONFIG = """
global
    maxconn 2000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout queue 30s
    timeout http-request 10s
    option http-buffer-request
frontend bookstore
    bind {host}:{port}
    maxconn 2000
    default_backend waitress
backend waitress
    server waitress {host}:{backend_port} maxconn 4
"""


@pytest.fixture
def haproxy(
    serve: Serve, many_files: None, tmp_path: Path
) -> Iterator[tuple[RunningServer, ServerProcess]]:
    """Waitress, and HAProxy in front of it: ``(waitress, haproxy)``."""
    executable = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert Path(executable).exists(), "HAProxy is not installed (apt-get install haproxy)"
    waitress = serve("flask-live", f"sqlite:///{tmp_path}/bookstore.db")
    port = free_port(HOST)
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        HAPROXY_CONFIG.format(host=HOST, port=port, backend_port=waitress.process.port)
    )
    proxy = ServerProcess(
        [executable, "-db", "-f", str(config)],
        port=port,
        host=HOST,
        log_path=tmp_path / "haproxy.log",
    )
    try:
        proxy.start()
        proxy.wait_ready("/health")
        yield waitress, proxy
    finally:
        proxy.stop()


async def test_slow_senders_past_waitress_limit_wait_in_the_proxy_not_in_waitress(
    haproxy: tuple[RunningServer, ServerProcess],
) -> None:
    waitress, proxy = haproxy
    slow: list[asyncio.StreamWriter] = []
    try:
        for _ in range(SLOW_SENDERS):
            _, writer = await asyncio.open_connection(proxy.host, proxy.port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            slow.append(writer)
        await asyncio.gather(*(writer.drain() for writer in slow))
        # Through the proxy, and straight to Waitress: neither waits for the slow senders.
        async with async_client_for(waitress, timeout=HEALTH_WITHIN_S) as direct:
            assert (await direct.get("/health")).status_code == 200
        async with httpx.AsyncClient(
            base_url=proxy.base_url, trust_env=False, timeout=EXPECTED_WITHIN_S
        ) as proxied:
            assert (await proxied.get("/health")).status_code == 200
    finally:
        for writer in slow:
            writer.close()
