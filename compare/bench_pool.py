"""Measure how the size of the worker pool caps an I/O-bound Quart endpoint.

Run ``python -m compare.bench_pool [--duration-s 10] [--connections 200] [--latency-ms 50]
[--sizes 4,16,64] [--json PATH]``. The endpoint ``GET /sleep`` blocks in ``time.sleep`` for
``--latency-ms``, offloaded to a thread so the event loop stays free. It is served by Quart on
Hypercorn in one configuration per pool size N, where the sleep goes through
:func:`migrate.run_sync` on a :class:`migrate.WorkerPool` of N threads (made at start-up with
``WorkerPool(N).init_app(app)``), and once more through :func:`asyncio.to_thread`, on the loop's
default executor of ``min(32, CPUs + 4)`` threads.

Each configuration gets a fresh server process (``python -m hypercorn`` on a free loopback port,
asyncio worker, listen backlog :data:`BACKLOG`), then ``wrk --latency`` runs a warm-up and a
measured run of ``--duration-s`` against it. With two CPUs or more, the server is pinned to the
first allowed CPU and wrk to the second (``taskset``, util-linux); otherwise both run unpinned.
The placement and the commands are printed on stderr, so a figure can be reproduced by hand.

The table on stdout gives requests/s, the 50th and 99th latency percentiles (ms), and the
ceiling Little's law puts on a closed-loop load: with C connections, T threads and a wait of
L s, at most ``min(C, T)`` requests are in the thread at once, so throughput cannot exceed
``min(C, T) / L`` requests/s (:func:`littles_law_ceiling`). wrk is a closed-loop generator: its
latencies leave out the time a request would have waited to be sent (coordinated omission).

Needs ``wrk`` on ``PATH`` (``apt-get install wrk``) and open files for the connections
(``ulimit -n``). Ctrl-C stops wrk and the server.

Exit status: 0 measured, 1 a server or wrk failed, or a run saw socket errors or non-2xx
answers, 2 usage error or wrk missing, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final
from typing import NoReturn

from quart import Quart
from rich import box
from rich.console import Console
from rich.table import Table

from compare import procs
from compare.harness.placement import Placement
from compare.harness.placement import choose_placement
from compare.harness.wrk import WrkFailedError
from compare.harness.wrk import WrkOutputError
from compare.harness.wrk import WrkReport
from compare.harness.wrk import parse_wrk_output
from compare.harness.wrk import run_wrk
from compare.harness.wrk import wrk_argv
from migrate import WorkerPool
from migrate import default_pool_size
from migrate import run_sync

__all__ = [
    "BenchResult",
    "WrkOutputError",
    "WrkReport",
    "create_app",
    "littles_law_ceiling",
    "main",
    "parse_sizes",
    "parse_wrk_output",
]

#: Pending connections Hypercorn's listening socket may hold. Its default of 100 is below the
#: default 200 connections that wrk opens at once; overflowing SYNs are retried after 1 s and
#: show up only as latency.
BACKLOG: Final = 1024
#: Seconds wrk waits for one answer before counting a timeout. wrk's own default (2 s) is below
#: the queueing delay of a small pool (200 connections on 4 threads of 50 ms: 2.5 s), and timed
#: out requests are left out of its percentiles.
WRK_TIMEOUT_S: Final = 30
#: Seconds allowed beyond a wrk run's duration (start-up, the last answers) before it is killed.
WRK_MARGIN_S: Final = 30

_PROG: Final = "bench_pool"
_ROOT: Final = Path(__file__).resolve().parent.parent


def create_app(pool_size: int | None = None, latency_ms: float = 50.0) -> Quart:
    """Create the benchmark app: ``GET /sleep`` blocks a thread for *latency_ms*.

    ``GET /health`` answers at once, for readiness probes.

    :param pool_size: threads of the :class:`migrate.WorkerPool` that :func:`migrate.run_sync`
        uses, created when the app starts serving; ``None`` offloads with
        :func:`asyncio.to_thread` to the loop's default executor instead.
    :param latency_ms: how long each request sleeps in its thread, in ms.
    :raises ValueError: if *pool_size* is below 1.
    """
    app = Quart(__name__)
    latency_s = latency_ms / 1_000
    if pool_size is None:

        async def sleep() -> dict[str, Any]:
            await asyncio.to_thread(time.sleep, latency_s)
            return {"slept_ms": latency_ms, "via": "to_thread"}

    else:
        WorkerPool(pool_size, name="bench-worker").init_app(app)
        sleep_in_pool = run_sync(time.sleep)

        async def sleep() -> dict[str, Any]:
            await sleep_in_pool(latency_s)
            return {"slept_ms": latency_ms, "via": "run_sync"}

    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    app.add_url_rule("/sleep", "sleep", sleep, methods=["GET"])
    app.add_url_rule("/health", "health", health, methods=["GET"])
    return app


def littles_law_ceiling(connections: int, threads: int, latency_ms: float) -> float:
    """Return the most requests/s a closed-loop load can get through *threads* threads.

    Little's law (L = λ·W): at most ``min(connections, threads)`` requests sleep at once, each
    for *latency_ms*, so λ ≤ ``min(connections, threads) / (latency_ms / 1000)``.

    :raises ValueError: if *latency_ms* is not positive.
    """
    if latency_ms <= 0:
        raise ValueError(f"latency_ms must be positive, not {latency_ms!r}")
    return min(connections, threads) * 1_000 / latency_ms


def parse_sizes(text: str) -> list[int]:
    """Parse ``"4,16,64"`` into ``[4, 16, 64]``: distinct pool sizes, each at least 1.

    :raises ValueError: on an empty list, a size that is not an integer or below 1, or a
        size given twice.
    """
    sizes: list[int] = []
    for part in text.split(","):
        try:
            size = int(part.strip())
        except ValueError:
            raise ValueError(f"not an integer: {part.strip()!r}") from None
        if size < 1:
            raise ValueError(f"pool sizes must be at least 1, not {size}")
        if size in sizes:
            raise ValueError(f"pool size {size} given twice")
        sizes.append(size)
    return sizes


@dataclass(frozen=True)
class BenchResult:
    """One configuration's measurement: how requests were offloaded, to how many threads."""

    label: str
    offload: str
    threads: int
    ceiling_rps: float
    report: WrkReport

    @property
    def errors(self) -> int:
        """Socket errors plus non-2xx answers (count)."""
        return self.report.socket_errors + self.report.non_2xx


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # A one-line error instead of argparse's usage block.
        raise _UsageError(message)


def _bounded_int(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _sizes(text: str) -> list[int]:
    try:
        return parse_sizes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m compare.bench_pool",
        description="Compare WorkerPool sizes with asyncio.to_thread on a blocking endpoint.",
    )
    parser.add_argument("--duration-s", type=_bounded_int(1), default=10, help="(default: 10)")
    parser.add_argument(
        "--warmup-s", type=_bounded_int(0), default=2, help="0 skips it (default: 2)"
    )
    parser.add_argument("--connections", type=_bounded_int(1), default=200, help="(default: 200)")
    parser.add_argument("--latency-ms", type=_positive_float, default=50.0, help="(default: 50)")
    parser.add_argument(
        "--sizes", type=_sizes, default=[4, 16, 64], help="pool sizes (default: 4,16,64)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    return parser


def _server_argv(port: int, pool_size: int | None, latency_ms: float) -> list[str]:
    # Hypercorn evaluates the text after the colon in the module's namespace, so it can call
    # the factory with arguments (hypercorn.utils.load_application).
    app = f"compare.bench_pool:create_app(pool_size={pool_size!r}, latency_ms={latency_ms!r})"
    bind = f"127.0.0.1:{port}"
    hypercorn = ["-m", "hypercorn", "--bind", bind, "--backlog", str(BACKLOG), "-k", "asyncio"]
    return [sys.executable, *hypercorn, app]


def _wrk_argv(url: str, connections: int, duration_s: int) -> list[str]:
    return wrk_argv(
        url, connections=connections, duration_s=duration_s, timeout_s=WRK_TIMEOUT_S, latency=True
    )


def _note(text: str) -> None:
    # Plain prints, not rich: commands must stay on one line to be copied into a shell.
    print(text, file=sys.stderr, flush=True)


def _run_wrk(argv: list[str], duration_s: int) -> str:
    return run_wrk(argv, limit_s=duration_s + WRK_MARGIN_S)


def _measure(
    args: argparse.Namespace,
    placement: Placement,
    pool_size: int | None,
) -> BenchResult:
    if pool_size is None:
        label, offload, threads = "to_thread", "asyncio.to_thread", default_pool_size()
    else:
        label, offload, threads = f"WorkerPool({pool_size})", "migrate.run_sync", pool_size
    port = procs.free_port()
    server_argv = placement.pin(
        placement.server_cpu, _server_argv(port, pool_size, args.latency_ms)
    )
    url = f"http://127.0.0.1:{port}/sleep"
    _note(f"{label}: server: {shlex.join(server_argv)}")
    with procs.running(server_argv, port=port, cwd=_ROOT):
        if args.warmup_s:
            warmup = placement.pin(
                placement.client_cpu, _wrk_argv(url, args.connections, args.warmup_s)
            )
            _note(f"{label}: warm-up: {shlex.join(warmup)}")
            _run_wrk(warmup, args.warmup_s)
        measured = placement.pin(
            placement.client_cpu, _wrk_argv(url, args.connections, args.duration_s)
        )
        _note(f"{label}: measure: {shlex.join(measured)}")
        report = parse_wrk_output(_run_wrk(measured, args.duration_s))
    return BenchResult(
        label=label,
        offload=offload,
        threads=threads,
        ceiling_rps=littles_law_ceiling(args.connections, threads, args.latency_ms),
        report=report,
    )


def _table(results: Sequence[BenchResult], caption: str) -> Table:
    # Two-line headers and no vertical rules keep the table within 80 columns, the width rich
    # assumes when stdout is not a terminal.
    table = Table(caption=caption, caption_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("offload")
    for header in ("threads", "ceiling\nreq/s", "req/s", "of\nceiling", "p50\nms", "p99\nms"):
        table.add_column(header, justify="right")
    table.add_column("errors", justify="right")
    for result in results:
        report = result.report
        table.add_row(
            result.label,
            str(result.threads),
            f"{result.ceiling_rps:.0f}",
            f"{report.requests_per_s:.1f}",
            f"{100 * report.requests_per_s / result.ceiling_rps:.0f}%",
            f"{report.p50_ms:.0f}",
            f"{report.p99_ms:.0f}",
            str(result.errors),
        )
    return table


def _document(
    args: argparse.Namespace, placement: Placement, results: Sequence[BenchResult]
) -> dict[str, Any]:
    return {
        "settings": {
            "duration_s": args.duration_s,
            "warmup_s": args.warmup_s,
            "connections": args.connections,
            "latency_ms": args.latency_ms,
            "wrk_threads": 1,
            "wrk_timeout_s": WRK_TIMEOUT_S,
            "server": f"hypercorn, asyncio worker, backlog {BACKLOG}",
        },
        "placement": {
            "server_cpu": placement.server_cpu,
            "client_cpu": placement.client_cpu,
            "cpu_count": os.cpu_count(),
        },
        "results": [
            {
                "label": result.label,
                "offload": result.offload,
                "threads": result.threads,
                "ceiling_rps": result.ceiling_rps,
                **asdict(result.report),
            }
            for result in results
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark described in the module docstring; return the exit status."""
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print(f"{_PROG}: error: wrk not found on PATH (apt-get install wrk)", file=sys.stderr)
        return 2
    placement = choose_placement()
    _note(f"placement: {placement.describe()}")
    results: list[BenchResult] = []
    try:
        for pool_size in [*args.sizes, None]:
            results.append(_measure(args, placement, pool_size))
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130
    except (procs.ServerStartError, WrkFailedError, WrkOutputError) as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 1
    caption = (
        f"{placement.describe()}; wrk: 1 thread, {args.connections} connections, "
        f"{args.duration_s} s after a {args.warmup_s} s warm-up; each request sleeps "
        f"{args.latency_ms:g} ms in a thread; Hypercorn asyncio worker, fresh per row. "
        "WorkerPool(N): migrate.run_sync on a pool of N threads; to_thread: "
        "asyncio.to_thread on the loop's default executor. "
        "Ceiling = min(connections, threads) / latency (Little's law)."
    )
    Console().print(_table(results, caption))
    if args.json is not None:
        try:
            args.json.write_text(json.dumps(_document(args, placement, results), indent=2) + "\n")
        except OSError as exc:
            print(f"{_PROG}: error: cannot write {args.json}: {exc}", file=sys.stderr)
            return 1
    failed = [result.label for result in results if result.errors]
    if failed:
        print(
            f"{_PROG}: error: socket errors or non-2xx answers in {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
