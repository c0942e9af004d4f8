"""The scaled scenario of ``python -m compare run``: N processes of each app behind HAProxy.

For each app in turn, :func:`topology` starts N backends of one configuration
(:func:`compare.harness.scenarios.scaled_servers`: legacy_flask on Waitress with 4 threads,
quart_app on Hypercorn with one asyncio worker, each process as the single-process points run
it) on one shared database, and HAProxy in front of them (:mod:`compare.balancer`, the
project's ``compare/haproxy.cfg``), every process on a free loopback port and stopped by its
process id when the app's points are done. wrk drives the balancer's URL from the load
generator's CPU, as in every other point; the backends and HAProxy may run on every CPU the
run may use, so on two cores the load generator, the balancer and the backends share them.

Each run records throughput, the latency percentiles, the backends' CPU time (user + system,
summed over every backend's process tree) and the balancer's own, each per answered request,
and each backend's answers (HAProxy's statistics) and CPU time, which show that the balancer
spread the load. The quiet-machine guard (:mod:`compare.harness.guard`) judges every run.
The shapes are documented in ``docs/comparison.md`` ("The scaled scenario").
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

import httpx

from compare import procs
from compare.balancer import Balancer
from compare.balancer import backend_name
from compare.balancer import balancing
from compare.balancer import haproxy_path
from compare.harness import guard
from compare.harness import wrk
from compare.harness.child import run_child
from compare.harness.measure import Context
from compare.harness.measure import cpu_per_request
from compare.harness.measure import unexpected_errors
from compare.harness.measure import wrk_command
from compare.harness.measure import wrk_result
from compare.harness.placement import Placement
from compare.harness.procstats import tree_cpu_s
from compare.harness.procstats import tree_usage
from compare.harness.scenarios import ENDPOINTS
from compare.harness.scenarios import Endpoint
from compare.harness.scenarios import ScaledSpec
from compare.harness.scenarios import ServerConfig
from compare.harness.servers import server_argv
from compare.harness.servers import server_env

__all__ = [
    "SINGLE_PROCESS",
    "Topology",
    "run_scaled",
    "shared_cpus",
    "single_process_reference",
    "summarize",
    "topology",
]

#: CPU seconds one idle process may use in 100 ms (one tick of a 100 Hz clock).
_IDLE_CPU_S: Final = 0.01
_LATENCY_KEYS: Final = ("p50", "p75", "p90", "p99", "p99.9", "max", "mean")
#: Which configuration of the single-process points each scaled one is made of.
SINGLE_PROCESS: Final = {"scaled-flask": "flask-t4", "scaled-quart": "quart-asyncio"}


def shared_cpus(placement: Placement) -> list[int] | None:
    """Return the CPUs the backends and the balancer share: the servers' and the load
    generators' (``None`` when the run is unpinned, and they inherit every CPU)."""
    if not placement.pinned:
        return None
    return sorted({cpu for cpu in (placement.server_cpu, placement.client_cpu) if cpu is not None})


def _on_cpus(cpus: Sequence[int] | None) -> list[str]:
    # The harness pins itself to the load generators' CPU and its children inherit that, so
    # the backends are given every shared CPU explicitly.
    return [] if cpus is None else ["taskset", "-c", ",".join(map(str, cpus))]


@dataclass
class Topology:
    """One app's N backends behind a running balancer."""

    config: ServerConfig
    backends: list[procs.ServerProcess]
    balancer: Balancer
    database_url: str

    @property
    def names(self) -> list[str]:
        """The balancer's names of the backends, in order (``app1``, ``app2`` …)."""
        return [backend_name(index) for index in range(len(self.backends))]

    def backends_cpu_s(self) -> dict[str, float]:
        """CPU seconds (user + system) each backend's process tree has used so far."""
        return {
            name: tree_cpu_s(backend.pid)
            for name, backend in zip(self.names, self.backends, strict=True)
        }

    def balancer_cpu_s(self) -> float:
        """CPU seconds the balancer has used so far."""
        return tree_cpu_s(self.balancer.process.pid)

    def describe(self) -> dict[str, Any]:
        """The commands and environment of the backends and of the balancer, JSON-ready."""
        backend = self.backends[0]
        return {
            "label": self.config.label,
            "backends": len(self.backends),
            "backend_commands": [list(b.argv) for b in self.backends],
            "environment": {
                k: v for k, v in (backend.env or {}).items() if k != "BOOKSTORE_SECRET_KEY"
            },
            "balancer_command": list(self.balancer.process.argv),
            "database_url": self.database_url,
        }


@contextlib.contextmanager
def topology(
    config: ServerConfig,
    *,
    backends: int,
    database_url: str,
    inventory_url: str,
    log_dir: Path,
    cpus: Sequence[int] | None,
    check_interval_ms: int,
) -> Iterator[Topology]:
    """Run ``backends`` processes of ``config`` behind HAProxy until the block ends.

    Every backend gets the environment of the single-process configuration, plus
    ``BOOKSTORE_PROXY_HOPS=1`` (one proxy in front, as deployed); all share ``database_url``.
    The block starts once every backend is ready and the balancer sees each one ``UP``.

    :raises compare.procs.ServerStartError: a backend or the balancer did not start.
    :raises compare.balancer.BalancerUnavailableError: ``haproxy`` is not installed.
    """
    prefix = _on_cpus(cpus)
    env = {**server_env(config, database_url, inventory_url), "BOOKSTORE_PROXY_HOPS": "1"}
    with contextlib.ExitStack() as stack:
        started: list[procs.ServerProcess] = []
        for index in range(backends):
            port = procs.free_port()
            process = procs.ServerProcess(
                [*prefix, *server_argv(config, port, database_url)],
                port=port,
                env=env,
                log_path=log_dir / f"{config.id}-{backend_name(index)}.log",
            )
            stack.callback(process.stop, 5.0)
            process.start()
            started.append(process)
        # Started all at once, then waited for: the backends import their app in parallel.
        for process in started:
            process.wait_ready("/health", 60.0)
        balancer = stack.enter_context(
            balancing(
                [(process.host, process.port) for process in started],
                log_path=log_dir / f"{config.id}-haproxy.log",
                command_prefix=prefix,
                check_interval_ms=check_interval_ms,
            )
        )
        for index in range(backends):
            # Servers start UP, after their first check; a failed first check shows here.
            balancer.wait_for_state(backend_name(index), "UP", timeout_s=30.0)
        yield Topology(config, started, balancer, database_url)


def _book_id(base_url: str) -> int:
    """The id of a seeded book with an ISBN (the availability route needs one)."""
    with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
        page = client.get("/books", params={"sort": "id", "limit": 100}).raise_for_status()
    with_isbn = [int(item["id"]) for item in page.json()["items"] if item.get("isbn")]
    return min(with_isbn) if with_isbn else 1


def _prime(topo: Topology, path: str, endpoint: Endpoint) -> None:
    """Warm up every backend with a few sequential requests through the balancer."""
    count = (5 if endpoint.kind == "io" else 20) * len(topo.backends)
    with httpx.Client(base_url=topo.balancer.base_url, timeout=30, trust_env=False) as client:
        for _ in range(count):
            client.request(endpoint.method, path)


def _settle(topo: Topology, limit_s: float) -> bool:
    """Wait until no request is in progress at the balancer and the backends are idle (at most
    one clock tick of CPU each in 100 ms); return whether that happened within ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if not any(topo.balancer.current_sessions().values()):
            before = topo.backends_cpu_s()
            time.sleep(0.1)
            after = topo.backends_cpu_s()
            if all(after[name] - before[name] <= _IDLE_CPU_S for name in topo.names):
                return True
        else:
            time.sleep(0.05)
    return False


def _wrk_once(
    ctx: Context, topo: Topology, script: str, connections: int, duration_s: int
) -> dict[str, Any]:
    argv, limit_s = wrk_command(ctx, topo.balancer.base_url, script, connections, duration_s)
    before, helpers = guard.read(), ctx.helpers_cpu_s()
    cpu_before, balancer_before = topo.backends_cpu_s(), topo.balancer_cpu_s()
    answers_before = topo.balancer.answers()
    child = run_child(argv, limit_s=limit_s)
    cpu_after, balancer_after = topo.backends_cpu_s(), topo.balancer_cpu_s()
    answers_after = topo.balancer.answers()
    backends_cpu = {name: max(cpu_after[name] - cpu_before[name], 0.0) for name in topo.names}
    balancer_cpu = max(balancer_after - balancer_before, 0.0)
    own = sum(backends_cpu.values()) + balancer_cpu + child.cpu_s
    own += ctx.helpers_cpu_s() - helpers
    assessment = guard.assess(before, guard.read(), own, ctx.limits)
    result = wrk_result(child)
    total_cpu = sum(backends_cpu.values())
    return {
        **wrk.describe(result),
        "ok_per_s": result.ok_per_s,
        "backends_cpu_s": round(total_cpu, 3),
        "balancer_cpu_s": round(balancer_cpu, 3),
        "backends_cpu_s_per_request": cpu_per_request(total_cpu, result.requests),
        "balancer_cpu_s_per_request": cpu_per_request(balancer_cpu, result.requests),
        "per_backend": {
            name: {
                "answered": answers_after.get(name, 0) - answers_before.get(name, 0),
                "cpu_s": round(backends_cpu[name], 3),
            }
            for name in topo.names
        },
        "rss_bytes": sum(tree_usage(backend.pid).rss_bytes for backend in topo.backends),
        "client_cpu_s": round(child.cpu_s, 3),
        "guard": assessment.as_json(),
        "command": argv,
    }


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the medians of ``runs`` of one scaled point, and what they add up to.

    Throughput, latencies and CPU seconds per request (backends', balancer's) are medians;
    ``spread`` is (max − min) ÷ median of the throughput; errors, answers and CPU seconds per
    backend are summed over the runs; ``busy`` says whether a run was taken while the machine
    was busy.
    """
    rates = [float(run["requests_per_s"]) for run in runs]
    median = statistics.median(rates)
    latencies = {
        key: statistics.median(run["latency_ms"][key] for run in runs)
        for key in _LATENCY_KEYS
        if all(key in run["latency_ms"] for run in runs)
    }
    errors: dict[str, int] = {}
    per_backend: dict[str, dict[str, float]] = {}
    for run in runs:
        for kind, count in run["errors"].items():
            errors[kind] = errors.get(kind, 0) + int(count)
        for name, usage in run["per_backend"].items():
            mine = per_backend.setdefault(name, {"answered": 0, "cpu_s": 0.0})
            mine["answered"] += usage["answered"]
            mine["cpu_s"] = round(mine["cpu_s"] + usage["cpu_s"], 3)

    def median_of(key: str) -> float | None:
        values = [run[key] for run in runs if run.get(key) is not None]
        return statistics.median(values) if values else None

    return {
        "requests_per_s": median,
        "ok_per_s": statistics.median(float(run["ok_per_s"]) for run in runs),
        "spread": (max(rates) - min(rates)) / median if median > 0 else 0.0,
        "latency_ms": latencies,
        "errors": errors,
        "requests": sum(int(run["requests"]) for run in runs),
        "backends_cpu_s_per_request": median_of("backends_cpu_s_per_request"),
        "balancer_cpu_s_per_request": median_of("balancer_cpu_s_per_request"),
        "per_backend": per_backend,
        "rss_peak_bytes": max(int(run["rss_bytes"]) for run in runs),
        "busy": any(run["guard"]["busy"] for run in runs),
        "load_average": [run["guard"]["load_before"][0] for run in runs]
        + [runs[-1]["guard"]["load_after"][0]],
    }


def _point(
    ctx: Context, topo: Topology, endpoint: Endpoint, connections: int, repeats: int
) -> dict[str, Any]:
    """Measure one endpoint at one connection count ``repeats`` times after a warm-up."""
    plan = ctx.plan
    ctx.set_upstream(endpoint.upstream_ms)
    path = endpoint.path.format(book_id=_book_id(topo.balancer.base_url))
    script_path = ctx.work_dir / f"{topo.config.id}-{endpoint.id}.lua"
    script_path.write_text(
        wrk.lua_script(mode="static", path=path, method=endpoint.method, headers={}, body=None)
    )
    script = str(script_path)
    label = f"{topo.config.id} {endpoint.id} c={connections}"
    ctx.on_run(f"{label} warm-up")
    _prime(topo, path, endpoint)
    duration_s = max(plan.duration_s, endpoint.min_duration_s)
    if plan.warmup_s:
        rate = _wrk_once(ctx, topo, script, connections, plan.warmup_s)["ok_per_s"]
        if rate:
            # Two queueing cycles at the warm-up's rate (Little's law), as the single-process
            # points do: an event loop completes nothing before C ÷ X seconds.
            wanted = math.ceil(2 * connections / rate + 1)
            duration_s = max(duration_s, min(wanted, plan.max_duration_s))
    notes: set[str] = set()
    if not _settle(topo, 5.0):
        notes.add("a backend was still busy 5 s after a run")
    runs: list[dict[str, Any]] = []
    busy_runs: list[dict[str, Any]] = []
    for index in range(repeats):
        ctx.on_run(f"{label} run {index + 1}/{repeats}")
        while True:
            run = _wrk_once(ctx, topo, script, connections, duration_s)
            if not _settle(topo, 5.0):
                notes.add("a backend was still busy 5 s after a run")
            if not guard.should_repeat(
                run["guard"]["busy"],
                len(busy_runs),
                plan.busy_repeats,
                ctx.may_spend(duration_s + 0.6),
                answered=run["requests"] > 0,
            ):
                break
            busy_runs.append(run)
        runs.append(run)
    summary = summarize(runs)
    unexpected, reason = unexpected_errors(
        summary, in_flight=connections, timeout_s=plan.wrk_timeout_s, offered_per_s=None
    )
    return {
        "server": topo.config.id,
        "app": topo.config.app,
        "endpoint": endpoint.id,
        "connections": connections,
        "backends": len(topo.backends),
        "duration_s": duration_s,
        **summary,
        "failed": summary["requests"] == 0,
        "unexpected_errors": unexpected,
        "expected_errors": reason,
        "notes": sorted(notes),
        "runs": runs,
        "busy_runs": busy_runs,
    }


def _haproxy_version() -> str:
    try:
        done = subprocess.run(
            [haproxy_path(), "-v"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    # "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/": the first three.
    return " ".join((done.stdout.splitlines() or ["unknown"])[0].split()[:3])


def run_scaled(
    ctx: Context,
    spec: ScaledSpec,
    databases: dict[str, str],
    log_dir: Path,
    on_point: Callable[[dict[str, Any]], None] = lambda point: None,
) -> dict[str, Any]:
    """Measure ``spec``: each app's backends behind HAProxy, started, measured and stopped in
    turn; return the ``scaled`` section of ``results.json``.

    ``databases`` maps each scaled configuration's id to the database its backends share;
    ``on_point`` is called with every point once it is measured.
    """
    endpoints = {endpoint.id: endpoint for endpoint in ENDPOINTS}
    cpus = shared_cpus(ctx.placement)
    points: list[dict[str, Any]] = []
    apps: dict[str, Any] = {}
    for config in spec.servers:
        with topology(
            config,
            backends=spec.backends,
            database_url=databases[config.id],
            inventory_url=ctx.inventory_url,
            log_dir=log_dir,
            cpus=cpus,
            check_interval_ms=spec.check_interval_ms,
        ) as topo:
            apps[config.id] = topo.describe()
            for endpoint_id, connections in spec.points:
                point = _point(ctx, topo, endpoints[endpoint_id], connections, spec.repeats)
                points.append(point)
                on_point(point)
    return {
        "backends": spec.backends,
        "cpu_count": os.cpu_count(),
        "cpus": cpus,
        "placement": (
            "unpinned"
            if cpus is None
            else f"backends and balancer on CPUs {','.join(map(str, cpus))}, "
            f"wrk on CPU {ctx.placement.client_cpu}"
        ),
        "database": "postgresql"
        if next(iter(databases.values()), "").startswith("postgres")
        else "sqlite",
        "balancer": {
            "program": "haproxy",
            "version": _haproxy_version(),
            "check_interval_ms": spec.check_interval_ms,
        },
        "repeats": spec.repeats,
        "apps": apps,
        "points": points,
    }


def single_process_reference(
    scaled_point: dict[str, Any], closed_loop: Sequence[dict[str, Any]]
) -> dict[str, Any] | None:
    """Return the single-process point of the same run that ``scaled_point`` scales: the same
    app configuration, endpoint and connection count (``None`` when the run has none)."""
    server = SINGLE_PROCESS.get(scaled_point["server"])
    for point in closed_loop:
        if (
            point["server"] == server
            and point["endpoint"] == scaled_point["endpoint"]
            and point["connections"] == scaled_point["connections"]
        ):
            return {
                "server": server,
                "requests_per_s": point["requests_per_s"],
                "cpu_s_per_request": point.get("cpu_s_per_request"),
                "latency_ms": {k: point["latency_ms"].get(k) for k in ("p50", "p99")},
            }
    return None
