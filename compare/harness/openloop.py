"""An open-loop HTTP load generator: requests at a constant arrival rate, honest latencies.

Run ``python -m compare.harness.openloop --target NAME=URL@RATE [--target …] --duration-s 5
[--warmup-s 1] [--timeout-s 5] [--max-in-flight 2000]``; it prints one JSON object on stdout.

Each target gets ``GET URL`` sent at RATE requests/s on a fixed schedule, whatever the server
does: request *i* is due at ``start + i / RATE``, and its latency is measured from that due time,
not from when it was actually sent. A closed-loop tool (wrk) waits for an answer before sending
the next request on a connection, so a server that stalls is simply asked less, and the requests
that would have waited are never measured (coordinated omission). Here they are.

Requests that get no answer within ``--timeout-s`` of their due time count as timeouts; those
that cannot be sent because ``--max-in-flight`` requests are already waiting count as unsent;
both, and requests that failed to connect or were cut off, are *unanswered*. Every measured
request goes into the latency histogram (an HDR histogram, microseconds, 3 significant digits):
a failed one with the time until it failed, so the high percentiles of an overloaded run are
lower bounds. The generator reports its own CPU time per 1,000 requests, which shows how far
it is from being the bottleneck. Built on aiohttp and hdrhistogram, on uvloop when installed.

Exit status: 0 measured, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import sys
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final

import aiohttp
from hdrh.histogram import HdrHistogram

__all__ = ["Target", "TargetStats", "generate", "main", "parse_target"]

#: Percentiles reported for every target.
PERCENTILES: Final = (50.0, 75.0, 90.0, 99.0, 99.9, 99.99)
_HIGHEST_US: Final = 3_600_000_000
_TARGET_RE: Final = re.compile(r"^([A-Za-z0-9_.-]+)=(https?://.+)@([0-9.]+)$")


@dataclass(frozen=True)
class Target:
    """Send ``GET url`` at ``rate`` requests per second; results go under ``name``."""

    name: str
    url: str
    rate: float


def parse_target(text: str) -> Target:
    """Parse ``NAME=URL@RATE``.

    :raises ValueError: when the text has another form or the rate is not positive.
    """
    match = _TARGET_RE.match(text)
    if match is None:
        raise ValueError(f"expected NAME=URL@RATE, got {text!r}")
    rate = float(match[3])
    if rate <= 0:
        raise ValueError(f"the rate must be positive, got {match[3]}")
    return Target(match[1], match[2], rate)


@dataclass
class TargetStats:
    """What happened to the measured requests of one target."""

    target: Target
    duration_s: float
    histogram: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, _HIGHEST_US, 3))
    scheduled: int = 0
    answered: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(
        default_factory=lambda: {"connect": 0, "read": 0, "timeout": 0, "unsent": 0}
    )
    max_lag_s: float = 0.0
    sent: int = 0

    def record(self, latency_s: float, status: int | None, error: str | None) -> None:
        """Count one measured request that ended after ``latency_s`` from its due time."""
        self.histogram.record_value(min(max(int(latency_s * 1e6), 1), _HIGHEST_US))
        if error is not None:
            self.errors[error] += 1
        elif status is not None:
            self.answered += 1
            key = f"{status // 100}xx"
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def as_json(self) -> dict[str, Any]:
        """The target's results as a JSON-ready mapping (latencies in ms)."""
        hist = self.histogram
        count = hist.get_total_count()
        latency: dict[str, float] = {}
        if count:
            for p in PERCENTILES:
                latency[f"p{p:g}"] = hist.get_value_at_percentile(p) / 1000
            latency["max"] = hist.get_max_value() / 1000
            latency["mean"] = hist.get_mean_value() / 1000
        ok = sum(n for key, n in self.statuses.items() if key in ("2xx", "3xx"))
        return {
            "url": self.target.url,
            "offered_per_s": self.target.rate,
            "duration_s": self.duration_s,
            "scheduled": self.scheduled,
            "answered": self.answered,
            "answered_per_s": self.answered / self.duration_s,
            "ok_per_s": ok / self.duration_s,
            "statuses": dict(self.statuses),
            "errors": {
                **self.errors,
                "status_4xx": self.statuses.get("4xx", 0),
                "status_5xx": self.statuses.get("5xx", 0),
            },
            "unanswered": sum(self.errors.values()),
            "max_send_lag_ms": self.max_lag_s * 1000,
            "latency_ms": latency,
        }


async def _one(
    session: aiohttp.ClientSession,
    url: str,
    due: float,
    timeout_s: float,
    done: Callable[[float, int | None, str | None], None],
) -> None:
    loop = asyncio.get_running_loop()
    status: int | None = None
    error: str | None = None
    try:
        async with asyncio.timeout_at(due + timeout_s):
            async with session.get(url) as response:
                await response.read()
                status = response.status
    except TimeoutError:
        error = "timeout"
    except aiohttp.ClientConnectorError:
        error = "connect"
    except (aiohttp.ClientError, OSError):
        error = "read"
    done(loop.time() - due, status, error)


async def _drive(
    session: aiohttp.ClientSession,
    stats: TargetStats,
    start: float,
    measure_from: float,
    end: float,
    timeout_s: float,
    max_in_flight: int,
) -> None:
    loop = asyncio.get_running_loop()
    interval = 1.0 / stats.target.rate
    in_flight: set[asyncio.Task[None]] = set()
    index = 0
    while (due := start + index * interval) < end:
        index += 1
        now = loop.time()
        if due > now:
            await asyncio.sleep(due - now)
        measured = due >= measure_from
        if measured:
            stats.scheduled += 1
            stats.max_lag_s = max(stats.max_lag_s, loop.time() - due)
        if len(in_flight) >= max_in_flight:
            if measured:
                stats.record(timeout_s, None, "unsent")
            continue
        done = stats.record if measured else _ignore
        stats.sent += 1
        task = loop.create_task(_one(session, stats.target.url, due, timeout_s, done))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)


def _ignore(latency_s: float, status: int | None, error: str | None) -> None:
    return None


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def generate(
    targets: Sequence[Target],
    *,
    duration_s: float,
    warmup_s: float = 0.0,
    timeout_s: float = 5.0,
    max_in_flight: int = 2000,
) -> dict[str, Any]:
    """Run the targets' schedules side by side; return the results as a JSON-ready mapping.

    The first ``warmup_s`` seconds of every schedule are sent but not measured.
    """
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=max_in_flight, limit_per_host=0, ttl_dns_cache=None)
    cpu_start = _cpu_s()
    wall_start = loop.time()
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False
    ) as session:
        start = loop.time() + 0.02
        measure_from = start + warmup_s
        end = measure_from + duration_s
        all_stats = [TargetStats(target, duration_s) for target in targets]
        await asyncio.gather(
            *(
                _drive(session, stats, start, measure_from, end, timeout_s, max_in_flight)
                for stats in all_stats
            )
        )
    cpu_s = _cpu_s() - cpu_start
    sent = sum(stats.sent for stats in all_stats)
    return {
        "tool": "compare.harness.openloop",
        "event_loop": type(loop).__module__.partition(".")[0],
        "aiohttp": aiohttp.__version__,
        "warmup_s": warmup_s,
        "duration_s": duration_s,
        "timeout_s": timeout_s,
        "max_in_flight": max_in_flight,
        "wall_s": loop.time() - wall_start,
        "cpu_s": cpu_s,
        "requests_sent": sent,
        "cpu_s_per_1000_requests": 1000 * cpu_s / sent if sent else None,
        "targets": {stats.target.name: stats.as_json() for stats in all_stats},
    }


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:  # not built for Windows; the default loop works too, a little slower
        return asyncio.new_event_loop
    return uvloop.new_event_loop


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _UsageError(message)


def _target(text: str) -> Target:
    try:
        return parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator described in the module docstring; return the exit status."""
    parser = _Parser(prog="python -m compare.harness.openloop", description=__doc__)
    parser.add_argument("--target", type=_target, action="append", required=True)
    parser.add_argument("--duration-s", type=_positive, required=True)
    parser.add_argument("--warmup-s", type=_positive, default=0.0)
    parser.add_argument("--timeout-s", type=_positive, default=5.0)
    parser.add_argument("--max-in-flight", type=int, default=2000)
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"openloop: error: {exc}", file=sys.stderr)
        return 2
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        result = runner.run(
            generate(
                args.target,
                duration_s=args.duration_s,
                warmup_s=args.warmup_s,
                timeout_s=args.timeout_s,
                max_in_flight=args.max_in_flight,
            )
        )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
