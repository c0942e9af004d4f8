"""``python -m compare run``: start everything, measure the plan, write the results and report.

The order of a run: choose the CPU placement and pin this process to the load generators' CPU;
seed one template database and copy it for every server configuration; start the inventory
stand-in (on the load generators' CPU) and every server (on the servers' CPU, all at once: an
idle server costs nothing); log in as the admin on each; then run the closed-loop sweeps, the
open-loop runs and the naive-migration runs, one at a time, with a progress bar on stderr; then
the scaled scenario (:mod:`compare.harness.scaled`), which starts and stops each app's backends
and balancer itself; write ``results.json``, then the plots, ``report.html`` and ``summary.md``.

Ctrl-C (or SIGTERM) at any moment kills the load generator that is running and stops every
server; the exit status is then 130.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any
from typing import Final

from rich.console import Console
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn

from compare import procs
from compare.balancer import BalancerUnavailableError
from compare.balancer import haproxy_path
from compare.harness import measure
from compare.harness import scaled
from compare.harness.placement import Placement
from compare.harness.placement import choose_placement
from compare.harness.placement import raise_open_files_limit
from compare.harness.scenarios import ENDPOINTS
from compare.harness.scenarios import Plan
from compare.harness.scenarios import full_plan
from compare.harness.scenarios import quick_plan
from compare.harness.servers import ManagedServer
from compare.harness.servers import prepare_databases

__all__ = ["RunOptions", "run"]

_VERSIONED: Final = (
    "flask",
    "werkzeug",
    "waitress",
    "sqlalchemy",
    "quart",
    "quart-schema",
    "quart-auth",
    "hypercorn",
    "tortoise-orm",
    "aiosqlite",
    "uvloop",
    "httpx",
    "aiohttp",
    "hdrhistogram",
    "matplotlib",
    "rich",
)


@dataclass(frozen=True)
class RunOptions:
    """The command line of ``python -m compare run``."""

    quick: bool
    out: Path
    db: str | None = None
    tuned_threads: int = 32
    workers: int = 0
    backends: int = 2


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwinds like Ctrl-C: the ExitStack stops every server, the load generator is killed.
    raise KeyboardInterrupt


def _machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "memory_bytes": mem_kib * 1024,
        "kernel": platform.release(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()),
    }


def _versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
        versions["wrk"] = (done.stdout or done.stderr).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        versions["wrk"] = "not found"
    return versions


def _settings(plan: Plan) -> dict[str, Any]:
    data = asdict(plan)
    data.pop("servers")
    return data


@contextlib.contextmanager
def _servers(
    plan: Plan,
    placement: Placement,
    databases: dict[str, str],
    inventory_url: str,
    log_dir: Path,
) -> Iterator[dict[str, ManagedServer]]:
    servers = {
        config.id: ManagedServer(
            config,
            placement=placement,
            database_url=databases.get(config.id, ""),
            inventory_url=inventory_url,
            log_path=log_dir / f"{config.id}.log",
        )
        for config in plan.servers
    }
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
            server.login()
        yield servers
    finally:
        # All at once: one after another, six servers that each use their whole grace period
        # would hold a Ctrl-C for half a minute.
        with ThreadPoolExecutor(max_workers=len(servers), thread_name_prefix="stop") as pool:
            for stopped in [pool.submit(server.stop) for server in servers.values()]:
                stopped.result()


def _describe_servers(servers: dict[str, ManagedServer]) -> dict[str, Any]:
    return {
        ident: {
            **asdict(server.config),
            "label": server.config.label,
            "cap": server.config.cap,
            "command": server.argv,
            "environment": {k: v for k, v in server.env.items() if k != "BOOKSTORE_SECRET_KEY"},
            "restarts": server.restarts,
        }
        for ident, server in servers.items()
    }


def _measure_all(ctx: measure.Context, progress: Progress, task: Any) -> dict[str, Any]:
    plan = ctx.plan
    endpoints = {endpoint.id: endpoint for endpoint in ENDPOINTS}
    closed: list[dict[str, Any]] = []
    for sweep in plan.sweeps:
        server = ctx.servers[sweep.server]
        previous: float | None = None
        for index, connections in enumerate(sweep.connections):
            headline = connections in sweep.headline
            point = measure.closed_point(
                ctx,
                server,
                endpoints[sweep.endpoint],
                connections,
                repeats=plan.repeats if headline else 1,
                # The first point of a sweep gets a warm-up run; each later point follows
                # the previous one on the same server and endpoint, which warmed it up.
                warm=index == 0,
                expected_rps=previous,
            )
            previous = point["ok_per_s"] or None
            closed.append(point)
            progress.advance(task)
            progress.console.log(_point_line(point))
    open_loop: list[dict[str, Any]] = []
    for spec in plan.open_loop:
        for rate in spec.rates:
            point = measure.open_point(
                ctx, ctx.servers[spec.server], endpoints[spec.endpoint], rate
            )
            open_loop.append(point)
            progress.advance(task)
            progress.console.log(_point_line(point))
    naive = measure.naive_runs(ctx, ctx.servers["quart-naive"])
    progress.advance(task)
    return {"closed_loop": closed, "open_loop": open_loop, "naive": naive}


def _point_line(point: dict[str, Any]) -> str:
    where = (
        f"c={point['connections']}"
        if point["loop"] == "closed"
        else f"{point['offered_per_s']:g}/s offered"
    )
    latency = point["latency_ms"]
    per_request = point.get("cpu_s_per_request")
    cpu = f"{per_request * 1e6:7.0f} µs CPU/req" if per_request else " " * 16
    flags = _flags(point)
    return (
        f"{point['server']:<14} {point['endpoint']:<10} {where:<16} "
        f"{point['requests_per_s']:8.1f} req/s {cpu}  p50 {latency.get('p50', 0):8.1f} ms  "
        f"p99 {latency.get('p99', 0):8.1f} ms {' '.join(flags)}"
    )


def _flags(point: dict[str, Any]) -> list[str]:
    # What a progress line says is wrong with a point.
    flags = ["BUSY machine"] if point.get("busy") else []
    if point.get("flagged"):
        flags.append(f"spread {point['spread']:.0%}")
    if point["unexpected_errors"]:
        flags.append(f"{point['unexpected_errors']} unexpected errors")
    if point["failed"]:
        flags.append("FAILED")
    return flags


def _scaled_line(point: dict[str, Any]) -> str:
    latency = point["latency_ms"]
    answered = "/".join(str(b["answered"]) for b in point["per_backend"].values())
    backends = point.get("backends_cpu_s_per_request")
    balancer = point.get("balancer_cpu_s_per_request")
    flags = _flags(point)
    return (
        f"{point['server']:<14} {point['endpoint']:<10} c={point['connections']:<14} "
        f"{point['requests_per_s']:8.1f} req/s "
        f"{(backends or 0) * 1e6:7.0f} µs backends + {(balancer or 0) * 1e6:4.0f} µs balancer "
        f"CPU/req  p50 {latency.get('p50', 0):8.1f} ms  p99 {latency.get('p99', 0):8.1f} ms  "
        f"answers per backend {answered} {' '.join(flags)}"
    )


def _check_tools() -> str | None:
    missing = [tool for tool in ("wrk", "ss") if shutil.which(tool) is None]
    try:
        haproxy_path()
    except BalancerUnavailableError:
        missing.append("haproxy")
    if missing:
        return f"not found on PATH: {', '.join(missing)} (apt-get install wrk iproute2 haproxy)"
    return None


def scaled_points(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The scaled scenario's points of a results document (none when it did not run)."""
    return list(document.get("scaled", {}).get("points", []))


def run(options: RunOptions, console: Console | None = None) -> int:
    """Run the comparison; write ``results.json``, ``report.html``, ``summary.md`` and the plots.

    Returns 0 when every point completed requests (errors are reported, not fatal), 1 when a
    point completed none or a tool is missing. Raises KeyboardInterrupt when interrupted, after
    stopping everything.
    """
    from compare.harness import report

    console = console or Console(stderr=True)
    problem = _check_tools()
    if problem:
        console.print(f"python -m compare run: error: {problem}")
        return 1
    make = quick_plan if options.quick else full_plan
    postgres = options.db is not None and options.db.startswith(("postgresql://", "postgres://"))
    workers = options.workers or (2 if postgres else 0)
    plan = make(
        tuned_threads=options.tuned_threads, postgres_workers=workers, backends=options.backends
    )
    placement = choose_placement()
    open_files = raise_open_files_limit(8192)
    if placement.client_cpu is not None and hasattr(os, "sched_setaffinity"):
        # The harness samples and parses on the load generators' CPU, away from the servers.
        os.sched_setaffinity(0, {placement.client_cpu})
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    started = time.monotonic()
    phases: dict[str, float] = {}
    started_at = datetime.now(UTC)
    options.out.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "schema": 1,
        "mode": plan.mode,
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": _machine(),
        "versions": _versions(),
        "placement": {**placement.as_json(), "inventory_cpu": placement.client_cpu},
        "open_files_limit": open_files,
        "settings": _settings(plan),
        "database": "sqlite" if not postgres else "postgresql",
        "endpoints": {e.id: asdict(e) for e in ENDPOINTS},
    }
    console.print(f"placement: {placement.describe()}; results in {options.out}")
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="compare-run-")))
        log_dir = options.out / "logs"
        log_dir.mkdir(exist_ok=True)
        ids = [config.id for config in plan.servers]
        with_db = [config.id for config in plan.servers if not config.floor]
        if plan.scaled is not None:
            # One database per app, shared by all of its backends.
            with_db += [config.id for config in plan.scaled.servers]
        console.print("seeding the databases…")
        databases = stack.enter_context(prepare_databases(options.db, work, with_db))
        inventory_port = procs.free_port()
        inventory = stack.enter_context(
            procs.running(
                placement.pin_client(
                    [sys.executable, "-m", "compare", "inventory", "--port", str(inventory_port)]
                ),
                port=inventory_port,
                log_path=log_dir / "inventory.log",
            )
        )
        console.print(f"starting {len(ids)} servers…")
        servers = stack.enter_context(
            _servers(plan, placement, databases, inventory.base_url, log_dir)
        )
        ctx = measure.Context(
            plan=plan,
            placement=placement,
            work_dir=work,
            inventory_url=inventory.base_url,
            servers=servers,
            seeds={ident: server.seed_info() for ident, server in servers.items()},
            inventory_pid=inventory.pid,
        )
        phases["setup_s"] = round(time.monotonic() - started, 1)
        total = plan.closed_points + plan.open_points + 1 + plan.scaled_points
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[run]}"),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task(f"compare run --{plan.mode}", total=total, run="")
            ctx.on_run = lambda text: progress.update(task, run=text)

            def may_spend(seconds: float) -> bool:
                # Re-run a noisy point only when the rest of the plan, at the pace so far,
                # still ends within the budget.
                done = progress.tasks[0].completed
                spent = time.monotonic() - started
                pace = (spent - phases["setup_s"]) / max(done, 1)
                return spent + seconds + pace * (total - done) < plan.budget_s

            ctx.may_spend = may_spend
            results = _measure_all(ctx, progress, task)
            if plan.scaled is not None:

                def on_point(point: dict[str, Any]) -> None:
                    point["one_process"] = scaled.single_process_reference(
                        point, results["closed_loop"]
                    )
                    progress.advance(task)
                    progress.console.log(_scaled_line(point))

                results["scaled"] = scaled.run_scaled(
                    ctx,
                    plan.scaled,
                    {config.id: databases[config.id] for config in plan.scaled.servers},
                    log_dir,
                    on_point,
                )
        phases["measure_s"] = round(time.monotonic() - started - phases["setup_s"], 1)
        # The write scenario must leave every database as it found it.
        document["database_check"] = {
            ident: {"books_before": ctx.seeds[ident].books, "books_after": server.seed_info().books}
            for ident, server in servers.items()
            if not server.config.floor
        }
        document["servers"] = _describe_servers(servers)
        document["seed"] = {ident: asdict(seed) for ident, seed in ctx.seeds.items()}
    document.update(results)
    document["machine"]["load_average_at_end"] = list(os.getloadavg())
    document["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    document["phases"] = phases
    document["elapsed_s"] = round(time.monotonic() - started, 1)
    report.finish(document, options.out)
    phases["report_s"] = round(time.monotonic() - started - document["elapsed_s"], 1)
    document["elapsed_s"] = round(time.monotonic() - started, 1)
    report.write_json(document, options.out)
    console.print(
        f"done in {document['elapsed_s']:.0f} s: {options.out / 'report.html'}, "
        f"{options.out / 'summary.md'}, {options.out / 'results.json'}"
    )
    failed = [
        p
        for p in (*document["closed_loop"], *document["open_loop"], *scaled_points(document))
        if p["failed"]
    ]
    for point in failed:
        console.print(f"failed: {point['server']} {point['endpoint']}: no request completed")
    return 1 if failed else 0
