"""Measure what one call to the inventory service costs through each async HTTP client.

Run ``python -m compare.bench_client [--concurrency 200] [--duration-s 5] [--latency-ms 50]``.
It starts the inventory stand-in on a free loopback port, pinned to one CPU with ``taskset``
(util-linux), pins itself to another CPU, and for each client in turn (``httpx.AsyncClient``,
``aiohttp.ClientSession``) keeps ``--concurrency`` calls to ``GET /stock/{isbn}`` in flight for
``--duration-s`` seconds through one shared client, as an app shares one client between its
requests. It prints, per client: calls per second, the process's CPU time per call in
milliseconds (user + system, ``time.process_time``), and the Little's-law ceiling
(concurrency ÷ latency).

One event loop on one CPU cannot make calls faster than 1 ÷ (CPU time per call); when that is
below the ceiling, the client is the bottleneck. This is why ``quart_app`` calls the inventory
service through aiohttp (``docs/migration-guide.md``, "The HTTP client").

Exit status: 0 measured, 1 the stand-in failed or a call failed, 2 a bad flag (one line on
stderr), a missing ``taskset``, or CPUs that are not two different ones of this process's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import httpx

from compare import procs
from compare.bench_pool import _bounded_int
from compare.bench_pool import _Parser
from compare.bench_pool import _positive_float
from compare.bench_pool import _UsageError

_PROG = "bench_client"
_ISBN = "9780306406157"

#: One call: GET the stock of one ISBN, raise on a non-200 answer.
Call = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ClientResult:
    """One client's measurement: ``calls`` in ``wall_s`` seconds using ``cpu_s`` CPU seconds."""

    client: str
    calls: int
    wall_s: float
    cpu_s: float

    @property
    def calls_per_s(self) -> float:
        """Completed calls per second of wall time."""
        return self.calls / self.wall_s

    @property
    def cpu_ms_per_call(self) -> float:
        """CPU milliseconds this process spent per completed call."""
        return 1000 * self.cpu_s / self.calls


async def measure(name: str, call: Call, concurrency: int, duration_s: float) -> ClientResult:
    """Keep ``concurrency`` calls in flight for ``duration_s`` seconds; count the completed ones.

    :raises Exception: whatever a failed call raised (the first one).
    """
    deadline = time.monotonic() + duration_s
    completed = 0

    async def worker() -> None:
        nonlocal completed
        while time.monotonic() < deadline:
            await call()
            completed += 1

    cpu_start, wall_start = time.process_time(), time.monotonic()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    return ClientResult(
        name, completed, time.monotonic() - wall_start, time.process_time() - cpu_start
    )


async def run_clients(url: str, concurrency: int, duration_s: float) -> list[ClientResult]:
    """Measure ``httpx.AsyncClient`` then ``aiohttp.ClientSession`` against ``url``.

    Both may open as many connections as there are calls in flight, and each is warmed up for
    one second first, so neither pays for opening connections inside the measurement.
    """
    results = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30, trust_env=False) as client:

        async def httpx_call() -> None:
            (await client.get(url)).raise_for_status()

        await measure("httpx", httpx_call, concurrency, 1.0)
        results.append(await measure("httpx", httpx_call, concurrency, duration_s))
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def aiohttp_call() -> None:
            async with session.get(url) as answer:
                answer.raise_for_status()
                await answer.read()

        await measure("aiohttp", aiohttp_call, concurrency, 1.0)
        results.append(await measure("aiohttp", aiohttp_call, concurrency, duration_s))
    return results


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=_PROG,
        description="Compare the CPU cost of one upstream call through httpx and aiohttp.",
    )
    parser.add_argument("--latency-ms", type=_positive_float, default=50.0, help="(default: 50)")
    parser.add_argument("--concurrency", type=_bounded_int(1), default=200, help="(default: 200)")
    parser.add_argument("--duration-s", type=_positive_float, default=5.0, help="(default: 5)")
    parser.add_argument("--server-cpu", type=_bounded_int(0), default=1, help="(default: 1)")
    parser.add_argument("--client-cpu", type=_bounded_int(0), default=0, help="(default: 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark described in the module docstring; return the exit status."""
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    if shutil.which("taskset") is None:
        print(
            f"{_PROG}: error: taskset not found on PATH (apt-get install util-linux)",
            file=sys.stderr,
        )
        return 2
    cpus = os.sched_getaffinity(0)
    if {args.client_cpu, args.server_cpu} - cpus or args.client_cpu == args.server_cpu:
        print(f"{_PROG}: error: pick two different CPUs of {sorted(cpus)}", file=sys.stderr)
        return 2
    port = procs.free_port()
    inventory = [sys.executable, "-m", "compare", "inventory", "--port", str(port)]
    server_argv = ["taskset", "-c", str(args.server_cpu), *inventory]
    server_argv += ["--latency-ms", str(args.latency_ms)]
    print(f"server: {' '.join(server_argv)}", file=sys.stderr, flush=True)
    ceiling = args.concurrency * 1000 / args.latency_ms
    try:
        with procs.running(server_argv, port=port) as server:
            os.sched_setaffinity(0, {args.client_cpu})
            try:
                results = asyncio.run(
                    run_clients(
                        f"{server.base_url}/stock/{_ISBN}", args.concurrency, args.duration_s
                    )
                )
            finally:
                os.sched_setaffinity(0, cpus)
    except procs.ServerStartError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 1
    except (httpx.HTTPError, aiohttp.ClientError, ExceptionGroup) as exc:
        print(f"{_PROG}: error: a call failed: {exc!r}", file=sys.stderr)
        return 1
    print(f"{args.concurrency} calls in flight, {args.latency_ms:g} ms upstream latency, ", end="")
    print(f"Little's-law ceiling {ceiling:,.0f} calls/s, client on CPU {args.client_cpu}")
    print(f"{'client':<8} {'calls/s':>9} {'CPU ms/call':>12} {'calls':>8}")
    for result in results:
        print(
            f"{result.client:<8} {result.calls_per_s:>9,.0f} {result.cpu_ms_per_call:>12.3f}"
            f" {result.calls:>8,}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
