"""Requests a server must not take at face value: ambiguous framing, a foreign ``Host``.

Sent over raw sockets, as an attacker would, to both servers.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.contract.live import RunningServer
from tests.live.conftest import Serve
from tests.live.fakes import EXPECTED_WITHIN_S

pytestmark = pytest.mark.live

APPS = ["flask-live", "quart-live"]


async def exchange(server: RunningServer, raw: bytes) -> bytes:
    """Send ``raw`` on a new connection; return all it gets back until the server closes."""
    reader, writer = await asyncio.open_connection(server.process.host, server.process.port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(EXPECTED_WITHIN_S):
            return await reader.read()
    finally:
        writer.close()


@pytest.mark.parametrize("app", APPS)
async def test_a_request_with_both_content_length_and_chunked_is_answered_once_then_closed(
    serve: Serve, tmp_path: Path, app: str
) -> None:
    # RFC 9112 §6.3: the server must close the connection after answering such a request, so
    # the request hidden in its body is never served.
    server = serve(app, f"sqlite:///{tmp_path}/bookstore.db")
    hidden = b"GET /books HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"0\r\n\r\n" + hidden
    raw = (
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body)
    ) + body
    answer = await exchange(server, raw)
    assert answer.count(b"HTTP/1.1 ") == 1, answer
    assert b'"items"' not in answer
    head, _, content = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close" in head.lower()
    # Both as problem documents: from the app's ASGI middleware on Hypercorn, from the
    # request parser legacy_flask gives Waitress (Waitress removes the header before the app).
    assert b"application/problem+json" in head
    assert json.loads(content)["status"] == 400
