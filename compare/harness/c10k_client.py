"""The clients of ``python -m compare c10k``: many connections held open from one process.

Two modes, each printing one JSON object on stdout:

``websocket``
    Open ``--connections`` WebSocket subscribers on ``--url`` (``/ws/events``), at most
    ``--opening`` handshakes at a time; read the server's resident memory (``--server-pid``,
    from ``/proc``) once they are all held; then ``--writes`` times POST a book to
    ``--http-url`` (``/books``, as the admin: the ``Cookie`` header in ``BOOKSTORE_COOKIE``),
    note when its 2xx arrives, and wait until every subscriber has received the
    ``book.created`` event of that book (or ``--timeout-s`` passes); then DELETE it. The
    fan-out latency of one subscriber is the time from the write's 2xx to its receipt of the
    event, both read on this process' monotonic clock; a subscriber that receives the event
    before the 2xx arrives counts 0 (quart_app queues the event before it answers). The same
    latencies from the moment the write was sent are reported too. The receipt time is taken when this process reads the
    message, so the client's own work on thousands of messages is included: the figures are
    upper bounds.

``http``
    Open ``--connections`` HTTP/1.1 keep-alive connections to ``--url``'s host, each with one
    ``GET --url`` answered; then send ``GET --url`` at ``--rate`` requests/s for
    ``--duration-s`` on a fixed schedule (open loop: latency from the due time), each on an
    idle held connection picked at random; the other connections stay open and idle. The
    latencies are those of the answered requests; a request that fails (the server closed its
    connection, or no held connection is left) is counted among the errors. A
    connection that is not answered within ``--open-timeout-s`` of its opening is an error (a
    server that stops accepting at its connection limit leaves it in the kernel's queue); it
    is kept open, idle, as a waiting client would.

Connections: aiohttp for the WebSocket clients, h11 over asyncio streams for HTTP (aiohttp's
pool would reuse a few connections instead of holding many). The open-file limit of this
process is raised to what it needs, within the hard limit. Latencies go into HDR histograms
(microseconds, 3 significant digits).

Exit status: 0 measured (errors are in the output), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final
from urllib.parse import urlsplit

import aiohttp
import h11
from hdrh.histogram import HdrHistogram

from compare.harness.placement import raise_open_files_limit
from compare.harness.procstats import pending_connections
from compare.harness.procstats import tree_usage

__all__ = ["main"]

_HIGHEST_US: Final = 120_000_000
_PERCENTILES: Final = (50.0, 90.0, 99.0, 99.9)
_BOOK: Final = {"title": "c10k fan-out", "author": "compare c10k", "year": 2024}


def _histogram() -> HdrHistogram:
    return HdrHistogram(1, _HIGHEST_US, 3)


def _record(histogram: HdrHistogram, seconds: float) -> None:
    histogram.record_value(min(max(int(seconds * 1e6), 1), _HIGHEST_US))


def _latency_ms(histogram: HdrHistogram) -> dict[str, float]:
    if not histogram.get_total_count():
        return {}
    out = {f"p{p:g}": histogram.get_value_at_percentile(p) / 1000 for p in _PERCENTILES}
    out["max"] = histogram.get_max_value() / 1000
    out["mean"] = histogram.get_mean_value() / 1000
    return out


def _count(errors: dict[str, int], kind: str) -> None:
    errors[kind] = errors.get(kind, 0) + 1


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"handshake_{exc.status}"
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return "connect"
    return type(exc).__name__


@dataclass
class _Subscriber:
    ws: aiohttp.ClientWebSocketResponse
    #: write number → (the id in its ``book.created`` event, when it was read)
    received: dict[int, tuple[int, float]] = field(default_factory=dict)
    closed: str = ""


@dataclass
class _Feed:
    """The write in progress (one at a time), how many subscribers have its event, who waits.

    Events are keyed by the write's number, not the book's id: SQLite hands a deleted book's
    id to the next one.
    """

    target: int = 0
    write: int = 0
    count: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        self.write += 1
        self.count = 0
        self.done = asyncio.Event()

    def got(self) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()


async def _read_events(subscriber: _Subscriber, feed: _Feed) -> None:
    loop = asyncio.get_running_loop()
    while True:
        message = await subscriber.ws.receive()
        now = loop.time()
        if message.type != aiohttp.WSMsgType.TEXT:
            subscriber.closed = message.type.name.lower()
            return
        event = json.loads(message.data)
        if event.get("event") == "book.created" and feed.write not in subscriber.received:
            subscriber.received[feed.write] = (int(event["id"]), now)
            feed.got()


async def websocket_mode(args: argparse.Namespace) -> dict[str, Any]:
    """Hold the subscribers, write, measure the fan-out; see the module docstring."""
    loop = asyncio.get_running_loop()
    cookie = os.environ.get("BOOKSTORE_COOKIE", "")
    errors: dict[str, int] = {}
    subscribers: list[_Subscriber] = []
    gate = asyncio.Semaphore(args.opening)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    feed = _Feed()
    readers: list[asyncio.Task[None]] = []
    started = loop.time()

    async with aiohttp.ClientSession(connector=connector) as session:

        async def subscribe() -> None:
            async with gate:
                try:
                    async with asyncio.timeout(args.timeout_s):
                        ws = await session.ws_connect(args.url, autoping=True, heartbeat=None)
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    _count(errors, _error_kind(exc))
                    return
            subscriber = _Subscriber(ws)
            subscribers.append(subscriber)
            readers.append(loop.create_task(_read_events(subscriber, feed)))

        await asyncio.gather(*(subscribe() for _ in range(args.connections)))
        connect_s = loop.time() - started
        held = sum(1 for s in subscribers if not s.closed)
        feed.target = held
        server_rss = tree_usage(args.server_pid).rss_bytes if args.server_pid else 0
        established = pending_connections(args.server_port, count_idle=True)

        fanout = _histogram()
        from_send = _histogram()
        writes: list[dict[str, Any]] = []
        headers = {"Cookie": cookie}
        for _ in range(args.writes):
            feed.start()
            sent_at = loop.time()
            async with session.post(args.http_url, json=_BOOK, headers=headers) as answer:
                answered_at = loop.time()
                status = answer.status
                body = await answer.json() if status == 201 else {}
            if status != 201:
                _count(errors, f"write_status_{status}")
                writes.append({"status": status, "reached": 0})
                continue
            book_id = int(body["id"])
            try:
                async with asyncio.timeout(args.timeout_s):
                    await feed.done.wait()
            except TimeoutError:
                _count(errors, "fanout_timeout")
            got = [s.received[feed.write] for s in subscribers if feed.write in s.received]
            times = [at for event_id, at in got if event_id == book_id]
            if len(times) < len(got):
                errors["wrong_event"] = errors.get("wrong_event", 0) + len(got) - len(times)
            for at in times:
                _record(fanout, max(at - answered_at, 0.0))
                _record(from_send, at - sent_at)
            writes.append(
                {
                    "status": status,
                    "book_id": book_id,
                    "reached": len(times),
                    "response_ms": round((answered_at - sent_at) * 1e3, 3),
                    "last_ms": round(max((at - answered_at for at in times), default=0) * 1e3, 3),
                    "last_from_send_ms": round(
                        max((at - sent_at for at in times), default=0) * 1e3, 3
                    ),
                }
            )
            async with session.delete(f"{args.http_url}/{book_id}", headers=headers) as gone:
                if gone.status != 204:
                    _count(errors, f"delete_status_{gone.status}")
        closed_early = sum(1 for s in subscribers if s.closed)
        if closed_early:
            errors["closed_by_server"] = closed_early
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.gather(*(s.ws.close() for s in subscribers), return_exceptions=True)
    return {
        "mode": "websocket",
        "connections": args.connections,
        "held": held,
        "established_server_side": established,
        "connect_s": round(connect_s, 3),
        "server_rss_held_bytes": server_rss,
        "writes": writes,
        "every_subscriber_reached": bool(writes)
        and all(w["reached"] == args.connections for w in writes),
        "fanout_ms": _latency_ms(fanout),
        "fanout_from_send_ms": _latency_ms(from_send),
        "errors": errors,
    }


class _Connection:
    """One HTTP/1.1 keep-alive connection driven with h11."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    async def get(self, host: str, target: str) -> int:
        """Send ``GET target``, read the whole answer, return its status."""
        request = h11.Request(
            method="GET", target=target, headers=[("Host", host), ("Connection", "keep-alive")]
        )
        self.writer.write(self.h11.send(request) + self.h11.send(h11.EndOfMessage()))
        status = 0
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionResetError("the server closed the connection")
                self.h11.receive_data(data)
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the server closed the connection")
        self.h11.start_next_cycle()
        return status

    def close(self) -> None:
        self.writer.close()


async def http_mode(args: argparse.Namespace) -> dict[str, Any]:
    """Hold the connections, drive the open-loop rate over them; see the module docstring."""
    loop = asyncio.get_running_loop()
    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    authority = f"{host}:{port}"
    errors: dict[str, int] = {}
    idle: list[_Connection] = []
    stuck: list[_Connection] = []
    gate = asyncio.Semaphore(args.opening)
    started = loop.time()

    async def open_one() -> None:
        async with gate:
            connection: _Connection | None = None
            try:
                async with asyncio.timeout(args.open_timeout_s):
                    reader, writer = await asyncio.open_connection(host, port)
                    connection = _Connection(reader, writer)
                    status = await connection.get(authority, target)
            except (TimeoutError, OSError, h11.ProtocolError) as exc:
                # Connected but unanswered: kept open, as a client would while it waits.
                kind = "unanswered" if connection is not None else _error_kind(exc)
                _count(errors, f"open_{kind}")
                if connection is not None:
                    stuck.append(connection)
                return
            if status >= 400:
                _count(errors, f"open_status_{status}")
            idle.append(connection)

    await asyncio.gather(*(open_one() for _ in range(args.connections)))
    open_s = loop.time() - started
    held = len(idle)
    established = pending_connections(args.server_port, count_idle=True)
    server_rss = tree_usage(args.server_pid).rss_bytes if args.server_pid else 0

    histogram = _histogram()
    statuses: dict[str, int] = {}
    active_errors: dict[str, int] = {}
    in_flight: set[asyncio.Task[None]] = set()
    scheduled = 0

    async def one(due: float) -> None:
        # Swap-remove a random idle connection: O(1), and the activity spreads over all.
        index = random.randrange(len(idle))
        idle[index], idle[-1] = idle[-1], idle[index]
        connection = idle.pop()
        try:
            async with asyncio.timeout_at(due + args.timeout_s):
                status = await connection.get(authority, target)
        except (TimeoutError, OSError, h11.ProtocolError) as exc:
            # Not a latency: a request that failed (a connection the server had closed fails
            # at once) is counted among the errors only.
            _count(active_errors, _error_kind(exc))
            connection.close()
            return
        _record(histogram, loop.time() - due)
        key = f"{status // 100}xx"
        statuses[key] = statuses.get(key, 0) + 1
        idle.append(connection)

    if held:
        start = loop.time() + 0.02
        interval = 1.0 / args.rate
        end = start + args.duration_s
        while (due := start + scheduled * interval) < end:
            now = loop.time()
            if due > now:
                await asyncio.sleep(due - now)
            scheduled += 1
            if not idle:
                _count(active_errors, "no_idle_connection")
                continue
            task = loop.create_task(one(due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*in_flight)
    for connection in (*idle, *stuck):
        connection.close()
    bad = statuses.get("4xx", 0) + statuses.get("5xx", 0)
    if bad:
        active_errors["status_4xx_5xx"] = bad
    return {
        "mode": "http",
        "connections": args.connections,
        "held": held,
        "unanswered_held": len(stuck),
        "established_server_side": established,
        "open_s": round(open_s, 3),
        "server_rss_held_bytes": server_rss,
        "rate_per_s": args.rate,
        "duration_s": args.duration_s,
        "scheduled": scheduled,
        "answered": sum(statuses.values()),
        "statuses": statuses,
        "latency_ms": _latency_ms(histogram),
        "errors": {**errors, **{f"active_{k}": v for k, v in active_errors.items()}},
    }


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _UsageError(message)


def _parser() -> _Parser:
    parser = _Parser(prog="python -m compare.harness.c10k_client", description=__doc__)
    parser.add_argument("mode", choices=("websocket", "http"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--http-url", default="")
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--opening", type=int, default=500)
    parser.add_argument("--writes", type=int, default=5)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--duration-s", type=float, default=5.0)
    parser.add_argument("--timeout-s", type=float, default=10.0)
    parser.add_argument("--open-timeout-s", type=float, default=5.0)
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--server-port", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one mode (see the module docstring); print its JSON; return the exit status."""
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        print(f"c10k_client: error: {exc}", file=sys.stderr)
        return 2
    limit = raise_open_files_limit(args.connections + 1024)
    wall, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
    run = websocket_mode if args.mode == "websocket" else http_mode
    result = asyncio.run(run(args))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["client"] = {
        "open_files_limit": limit,
        "wall_s": round(time.monotonic() - wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime - cpu.ru_utime - cpu.ru_stime, 3),
        "max_rss_kib": usage.ru_maxrss,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
