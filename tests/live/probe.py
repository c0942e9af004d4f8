"""Repeat the outside probe's findings against both servers and print one figure per finding.

Run by hand (``.venv/bin/python -m tests.live.probe``), not by pytest: it starts
``legacy_flask`` on Waitress and ``quart_app`` on Hypercorn on loopback, each on a new SQLite
database with production password hashing (scrypt), sends what the probe sent, and prints a
table. Bounded: every step has a request count and a timeout; the servers are stopped at the
end. The figures are the "after the fix" column of docs/reliability.md; the tests in
``tests/live`` and ``tests/contract`` are what proves each behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.contract.helpers import PNG
from tests.contract.helpers import book_fields
from tests.contract.live import LIVE_APPS
from tests.contract.live import RunningServer
from tests.contract.live import next_client_address
from tests.contract.live import start_server

ADMIN = ("admin", "admin-password")
CONFIG = {"secret_key": "probe", "admin_username": ADMIN[0], "admin_password": ADMIN[1]}
MIB = 1024 * 1024


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` and its children, in MiB (Linux ``/proc``)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
    return total / 1024


def client(server: RunningServer, **kwargs: Any) -> httpx.AsyncClient:
    """A client from a loopback address of its own (a new client to the rate limiters)."""
    transport = httpx.AsyncHTTPTransport(local_address=next_client_address())
    return httpx.AsyncClient(
        base_url=server.base_url, transport=transport, trust_env=False, timeout=60, **kwargs
    )


async def raw(server: RunningServer, data: bytes, timeout_s: float = 30) -> bytes:
    reader, writer = await asyncio.open_connection(server.process.host, server.process.port)
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(timeout_s):
            return await reader.read()
    finally:
        writer.close()


async def websocket_flood(server: RunningServer) -> str:
    from tests.quart.wsclient import WebSocketClient
    from tests.quart.wsclient import WebSocketClosedError

    before = rss_mib(server.process.pid)
    ws = await WebSocketClient.connect(server.process.host, server.process.port, "/ws/events")
    sent = 0
    started = time.monotonic()
    code = None
    try:
        while time.monotonic() - started < 3.7:
            await ws.send_bytes(b"\0" * MIB)
            sent += 1
    except OSError:
        pass
    with contextlib.suppress(WebSocketClosedError, ConnectionError, OSError, TimeoutError):
        async with asyncio.timeout(5):
            await ws.receive_text()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            await ws.receive_text()
    if ws.connection.state.name != "OPEN":
        code = "closed"
    after = rss_mib(server.process.pid)
    await ws.aclose()
    return f"{sent} MiB sent before the server closed ({code}); RSS {before:.0f} → {after:.0f} MB"


async def concurrent_logins(server: RunningServer) -> str:
    async with client(server) as c:
        wrong = {"username": ADMIN[0], "password": "wrong password"}
        statuses = await asyncio.gather(*(c.post("/auth/login", json=wrong) for _ in range(200)))
    counts = Counter(r.status_code for r in statuses)
    return f"200 wrong passwords at once: {dict(sorted(counts.items()))}"


async def registrations(server: RunningServer) -> str:
    async with client(server) as c:
        before = rss_mib(server.process.pid)
        started = time.monotonic()
        answers = await asyncio.gather(
            *(
                c.post("/auth/register", json={"username": f"probe_{n}", "password": "password1"})
                for n in range(80)
            )
        )
        elapsed = time.monotonic() - started
        after = rss_mib(server.process.pid)
    counts = Counter(r.status_code for r in answers)
    return (
        f"80 registrations at once from one address: {dict(sorted(counts.items()))} in "
        f"{elapsed:.1f} s; RSS {before:.0f} → {after:.0f} MB"
    )


async def login_timing(server: RunningServer) -> str:
    async with client(server) as c:
        await c.post("/auth/login", json={"username": "nobody", "password": "x" * 8})  # warm
        times: dict[str, list[float]] = {"unknown": [], "known": []}
        for _ in range(4):
            for kind, name in (("unknown", "nobody"), ("known", ADMIN[0])):
                started = time.perf_counter()
                await c.post("/auth/login", json={"username": name, "password": "wrong pass"})
                times[kind].append((time.perf_counter() - started) * 1000)
    return (
        f"failed login, median of 4: unknown user {statistics.median(times['unknown']):.0f} ms, "
        f"known user {statistics.median(times['known']):.0f} ms"
    )


async def sessions(server: RunningServer) -> str:
    async with client(server) as c:
        await c.post("/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        saved = dict(c.cookies.items())
        await c.post("/auth/logout")
    async with client(server, cookies=saved) as replay:
        me = await replay.get("/auth/me")
        book = await replay.post("/books", json=book_fields())
    return f"cookie saved before logout: /auth/me {me.status_code}, POST /books {book.status_code}"


async def csv_and_covers(server: RunningServer) -> list[str]:
    async with client(server) as c:
        await c.post("/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        created = await c.post("/books", json=book_fields(title="=1+2", isbn=None))
        book_id = created.json()["id"]
        export = (await c.get("/books/export.csv")).text.splitlines()[1].split(",")[1]
        uploads = await asyncio.gather(
            *(
                c.put(f"/books/{book_id}/cover", files={"file": ("c.png", PNG, "image/png")})
                for _ in range(10)
            )
        )
        cover = await c.get(f"/books/{book_id}/cover")
    statuses = Counter(r.status_code for r in uploads)
    return [
        f"title '=1+2' exported as {export}",
        f"10 first cover uploads at once: {dict(statuses)}",
        f"cover headers: nosniff={cover.headers.get('X-Content-Type-Options')}, "
        f"Cache-Control={cover.headers.get('Cache-Control')}, "
        f"Accept-Ranges={cover.headers.get('Accept-Ranges')}",
    ]


async def oddities(server: RunningServer) -> list[str]:
    async with client(server) as c:
        deep = await c.post(
            "/auth/register",
            content=b"[" * 5000 + b"]" * 5000,
            headers={"Content-Type": "application/json"},
        )
        digits = await c.post(
            "/auth/register",
            content=b'{"username": 1' + b"1" * 5000 + b"}",
            headers={"Content-Type": "application/json"},
        )
        request = c.build_request("GET", "/", headers={"Host": "evil.example"})
        request.url = request.url.copy_with(raw_path=b"//books//1")
        slashes = await c.send(request)
        kate = {"username": "kate", "password": "password1"}
        await c.post("/auth/register", json=kate)
        kelvin = await c.post("/auth/login", json={**kate, "username": "\u212aate"})
    return [
        f"JSON nested 5000 deep: {deep.status_code}; 5000-digit integer: {digits.status_code}",
        f"GET //books//1 with Host: evil.example: {slashes.status_code}, "
        f"Location {slashes.headers.get('Location')}",
        f"login as '\\u212aate' (KELVIN SIGN) with kate's password: {kelvin.status_code}",
    ]


async def smuggling(server: RunningServer) -> str:
    hidden = b"GET /books HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"0\r\n\r\n" + hidden
    answer = await raw(
        server,
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body) + body,
    )
    status = answer.split(b"\r\n", 1)[0].decode()
    return f"TE + CL with a hidden request: {answer.count(b'HTTP/1.1 ')} answer ({status}), closed"


async def waitress_connections(server: RunningServer) -> list[str]:
    opened = [
        await asyncio.open_connection(server.process.host, server.process.port) for _ in range(250)
    ]
    for _, writer in opened[150:]:
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    async with client(server) as c:
        health = await c.get("/health")
    health_ms = (time.monotonic() - started) * 1000
    started = time.monotonic()
    reader, _ = opened[0]
    async with asyncio.timeout(60):
        await reader.read()
    idle_s = time.monotonic() - started
    for _, writer in opened:
        writer.close()
    temp_before = _temp_bytes()
    started = time.monotonic()
    answer = await raw(
        server,
        b"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (300 * MIB),
    )
    big_ms = (time.monotonic() - started) * 1000
    return [
        f"150 idle + 100 slow-header connections: /health {health.status_code} in "
        f"{health_ms:.0f} ms; an idle connection closed after {idle_s:.0f} s",
        f"Content-Length 300 MB: {answer.split(b' ', 2)[1].decode()} after {big_ms:.0f} ms, "
        f"temporary files grew {(_temp_bytes() - temp_before) / MIB:.0f} MB",
    ]


def _temp_bytes() -> int:
    folder = Path(tempfile.gettempdir())
    return sum(p.stat().st_size for p in folder.glob("tmp*") if p.is_file())


@contextlib.contextmanager
def servers(folder: Path) -> Iterator[dict[str, RunningServer]]:
    running: dict[str, RunningServer] = {}
    try:
        for name in ("flask-live", "quart-live"):
            url = f"sqlite:///{folder / name}.db"
            running[name] = start_server(LIVE_APPS[name], url, CONFIG, folder)
        yield running
    finally:
        for server in running.values():
            server.stop()


async def probe(running: dict[str, RunningServer]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    flask, quart = running["flask-live"], running["quart-live"]
    rows.append(("quart-live", await websocket_flood(quart)))
    for name, server in running.items():
        rows.append((name, await concurrent_logins(server)))
        rows += (
            [(name, line) for line in await waitress_connections(server)] if server is flask else []
        )
        rows.append((name, await sessions(server)))
        rows += [(name, line) for line in await csv_and_covers(server)]
        rows.append((name, await smuggling(server)))
        rows.append((name, await registrations(server)))
        rows.append((name, await login_timing(server)))
        rows += [(name, line) for line in await oddities(server)]
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, servers(Path(folder)) as running:
        for name, line in asyncio.run(probe(running)):
            print(f"{name:12} {line}")


if __name__ == "__main__":
    main()
