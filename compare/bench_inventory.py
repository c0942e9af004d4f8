"""Measure how many requests per second the inventory stand-in serves on one core.

Run ``python -m compare.bench_inventory [--connections 1000] [--duration-s 10]``. It starts the
stand-in on a free loopback port, pinned to one CPU with ``taskset`` (util-linux), runs ``wrk``
pinned to another CPU, prints wrk's report on stdout, and stops the stand-in. The commands it
runs are printed on stderr first, so a figure can be reproduced by hand.

The point is to show that the stand-in is never the bottleneck of a load test: with a latency
of L ms and C connections, C * 1000 / L requests/s is the ceiling, and the stand-in should reach
a good part of it. Needs ``wrk`` on ``PATH`` (``apt-get install wrk``) and enough open files
for the connections (``ulimit -n``).

Exit status: 0 measured, 1 the stand-in or wrk failed or answered errors, 2 usage error or a
missing tool.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence

from compare import procs

_ISBN = "9780306406157"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m compare.bench_inventory",
        description="Load the inventory stand-in with wrk and print its throughput.",
    )
    parser.add_argument("--latency-ms", type=float, default=50.0, help="(default: %(default)g)")
    parser.add_argument("--connections", type=int, default=1000, help="(default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default: %(default)s)")
    parser.add_argument("--duration-s", type=int, default=10, help="(default: %(default)s)")
    parser.add_argument("--server-cpu", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--client-cpu", type=int, default=1, help="(default: %(default)s)")
    return parser


def _pinned(cpu: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark described in the module docstring; return the exit status."""
    args = _parser().parse_args(argv)
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        print(f"bench_inventory: error: not found on PATH: {', '.join(missing)}", file=sys.stderr)
        return 2
    port = procs.free_port()
    inventory = [sys.executable, "-m", "compare", "inventory", "--port", str(port)]
    server_argv = _pinned(args.server_cpu, [*inventory, "--latency-ms", str(args.latency_ms)])
    url = f"http://127.0.0.1:{port}/stock/{_ISBN}"
    wrk = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration_s}s"]
    wrk_argv = _pinned(args.client_cpu, [*wrk, "--latency", url])
    print(f"server: {' '.join(server_argv)}", file=sys.stderr)
    print(f"client: {' '.join(wrk_argv)}", file=sys.stderr, flush=True)
    try:
        with procs.running(server_argv, port=port):
            # wrk stops itself after --duration; the margin covers start-up and the final
            # requests, and the timeout keeps a stuck wrk from holding the run forever.
            report = subprocess.run(
                wrk_argv, capture_output=True, text=True, timeout=args.duration_s + 30, check=False
            )
    except (procs.ServerStartError, subprocess.TimeoutExpired) as exc:
        print(f"bench_inventory: error: {exc}", file=sys.stderr)
        return 1
    print(report.stdout, end="")
    if report.returncode != 0:
        print(f"bench_inventory: error: wrk failed: {report.stderr.strip()}", file=sys.stderr)
        return 1
    if "Non-2xx or 3xx responses" in report.stdout:
        print("bench_inventory: error: the stand-in answered errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
