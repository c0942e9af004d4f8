"""Measure one point: a closed-loop wrk run, an open-loop run, or the naive-migration runs.

Every measurement is bounded in time, comes after a warm-up, and is taken with a
:class:`~compare.harness.procstats.Sampler` on the server. Results are JSON-ready mappings; the
shapes are documented in ``docs/comparison.md`` ("The results file").
"""

from __future__ import annotations

import json
import math
import resource
import statistics
import sys
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final

import httpx

from compare.demo import ADMIN_PASSWORD
from compare.demo import ADMIN_USERNAME
from compare.harness import guard
from compare.harness import wrk
from compare.harness.child import ChildResult
from compare.harness.child import run_child
from compare.harness.placement import Placement
from compare.harness.procstats import Sampler
from compare.harness.procstats import pending_connections
from compare.harness.procstats import tree_cpu_s
from compare.harness.scenarios import WAITRESS_CONNECTION_LIMIT
from compare.harness.scenarios import Endpoint
from compare.harness.scenarios import Plan
from compare.harness.servers import ManagedServer
from compare.harness.servers import SeedInfo
from compare.harness.servers import cleanup_books

__all__ = ["Context", "closed_point", "naive_runs", "open_point", "summarize", "unexpected_errors"]

#: CPU seconds an idle server may use in 50 ms (one tick of a 100 Hz clock).
_IDLE_CPU_S: Final = 0.01
_LATENCY_KEYS: Final = ("p50", "p75", "p90", "p99", "p99.9", "p99.99", "max", "mean")


@dataclass
class Context:
    """What every measurement needs: the plan, where things run, the servers, the clock."""

    plan: Plan
    placement: Placement
    work_dir: Path
    inventory_url: str
    servers: dict[str, ManagedServer]
    seeds: dict[str, SeedInfo]
    on_run: Callable[[str], None] = lambda text: None
    may_spend: Callable[[float], bool] = lambda seconds: True
    upstream_ms: float | None = None
    inventory_pid: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def limits(self) -> guard.Limits:
        """The quiet-machine guard's limits of the plan."""
        return guard.Limits(self.plan.busy_other_share, self.plan.busy_steal_share)

    def helpers_cpu_s(self) -> float:
        """CPU seconds used so far by this process (every thread) and the inventory stand-in."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        own = usage.ru_utime + usage.ru_stime
        return own + (tree_cpu_s(self.inventory_pid) if self.inventory_pid else 0.0)

    def set_upstream(self, latency_ms: float | None) -> None:
        """Switch the inventory stand-in's latency (ms) when it differs from the current one."""
        if latency_ms is None or latency_ms == self.upstream_ms:
            return
        with httpx.Client(timeout=10, trust_env=False) as client:
            client.put(f"{self.inventory_url}/_control", json={"latency_ms": latency_ms})
        self.upstream_ms = latency_ms

    def path(self, endpoint: Endpoint, server: ManagedServer) -> str:
        """The endpoint's path with the server's sample book id filled in."""
        return endpoint.path.format(book_id=self.seeds[server.config.id].book_id)


def _request(server: ManagedServer, endpoint: Endpoint) -> tuple[dict[str, str], str | None]:
    """The headers and body of the endpoint's request to ``server``."""
    headers: dict[str, str] = {}
    body = endpoint.body
    if endpoint.id == "login":
        body = json.dumps({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    if body is not None:
        headers["Content-Type"] = "application/json"
    if endpoint.login:
        headers["Cookie"] = server.cookie
    return headers, body


def _prime(ctx: Context, server: ManagedServer, endpoint: Endpoint) -> None:
    """Warm up with a few sequential requests, for plans whose warm-up is 0 s."""
    headers, body = _request(server, endpoint)
    count = {"cpu-bound": 2, "io": 5, "write": 4}.get(endpoint.kind, 20)
    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as client:
        for _ in range(count):
            client.request(
                endpoint.method, ctx.path(endpoint, server), headers=headers, content=body
            )
    if endpoint.kind == "write":
        cleanup_books(server, ctx.seeds[server.config.id])


def _script(ctx: Context, server: ManagedServer, endpoint: Endpoint) -> str:
    headers, body = _request(server, endpoint)
    text = wrk.lua_script(
        mode="write" if endpoint.kind == "write" else "static",
        path=ctx.path(endpoint, server),
        method=endpoint.method,
        headers=headers,
        body=body,
    )
    path = ctx.work_dir / f"{server.config.id}-{endpoint.id}.lua"
    path.write_text(text)
    return str(path)


def wrk_command(
    ctx: Context, base_url: str, script: str, connections: int, duration_s: int
) -> tuple[list[str], float]:
    """Return wrk's argv for one closed-loop run against ``base_url`` (pinned to the load
    generator's CPU) and the seconds after which its process group is killed."""
    plan = ctx.plan
    argv = ctx.placement.pin_client(
        wrk.wrk_argv(
            f"{base_url}/",
            connections=connections,
            duration_s=duration_s,
            timeout_s=plan.wrk_timeout_s,
            script=script,
        )
    )
    return argv, duration_s + plan.wrk_timeout_s + 30


def wrk_result(child: ChildResult) -> wrk.WrkRun:
    """Return what one wrk run measured.

    :raises compare.harness.wrk.WrkFailedError: wrk exited non-zero (its stderr says why).
    """
    if child.returncode != 0:
        raise wrk.WrkFailedError(f"wrk exited with {child.returncode}: {child.stderr.strip()}")
    return wrk.parse_lua_result(child.stdout)


def _wrk_once(
    ctx: Context, server: ManagedServer, script: str, connections: int, duration_s: int
) -> dict[str, Any]:
    argv, limit_s = wrk_command(ctx, server.base_url, script, connections, duration_s)
    before, helpers = guard.read(), ctx.helpers_cpu_s()
    with Sampler(server.pid, server.port) as sampler:
        child = run_child(argv, limit_s=limit_s)
    own = sampler.result.cpu_s + child.cpu_s + ctx.helpers_cpu_s() - helpers
    assessment = guard.assess(before, guard.read(), own, ctx.limits)
    result = wrk_result(child)
    return {
        **wrk.describe(result),
        "ok_per_s": result.ok_per_s,
        "server": sampler.result.as_json(),
        "cpu_s_per_request": cpu_per_request(sampler.result.cpu_s, result.requests),
        "client_cpu_s": round(child.cpu_s, 3),
        "guard": assessment.as_json(),
        "command": argv,
    }


def cpu_per_request(cpu_s: float, requests: int) -> float | None:
    """Server CPU seconds (user + system) per answered request; ``None`` when none was."""
    return cpu_s / requests if requests > 0 else None


def _settle(server: ManagedServer, limit_s: float) -> str:
    """Wait until the server is idle; restart it when it is not within ``limit_s``.

    Idle: no connection is pending (a request of a client that has left, which Waitress still
    serves: :func:`~compare.harness.procstats.pending_connections`) and the process tree used at
    most one clock tick of CPU in 50 ms.
    """
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        waitress = server.config.server == "waitress"
        if not pending_connections(server.port, count_idle=waitress):
            before = tree_cpu_s(server.pid)
            time.sleep(0.05)
            if tree_cpu_s(server.pid) - before <= _IDLE_CPU_S:
                return "idle"
        else:
            time.sleep(0.05)
    server.restart()
    return "restarted"


def _duration(ctx: Context, server: ManagedServer, connections: int, rate: float | None) -> int:
    """Seconds for a run: long enough for two queueing cycles at the expected rate, capped.

    At C connections and X requests/s a closed loop keeps every request C ÷ X seconds in the
    server (Little's law); an event loop shares the CPU among all of them, so none completes
    before then, and a shorter run measures nothing.
    """
    plan = ctx.plan
    accepted = _accepted(server, connections)
    if not rate:
        # Unknown rate: the first point of a plan without a wrk warm-up.
        return plan.duration_s if not plan.warmup_s else plan.max_duration_s
    wanted = math.ceil(2 * accepted / rate + 1)
    return max(plan.duration_s, min(wanted, plan.max_duration_s))


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the median and spread of ``runs`` (closed- or open-loop, same shape).

    ``spread`` is (max − min) ÷ median of the throughput; latencies and the server's CPU
    seconds per request (``cpu_s_per_request``) are the medians of the runs; errors are summed;
    memory and threads are the peaks; ``busy`` says whether a run was taken while the machine
    was busy (:mod:`compare.harness.guard`).
    """
    rates = [float(run["requests_per_s"]) for run in runs]
    median = statistics.median(rates)
    latencies: dict[str, float] = {}
    for key in _LATENCY_KEYS:
        values = [run["latency_ms"][key] for run in runs if key in run["latency_ms"]]
        if values:
            latencies[key] = statistics.median(values)
    errors: dict[str, int] = {}
    for run in runs:
        for kind, count in run["errors"].items():
            errors[kind] = errors.get(kind, 0) + int(count)
    servers = [run["server"] for run in runs]
    per_request = [r["cpu_s_per_request"] for r in runs if r.get("cpu_s_per_request") is not None]
    guards = [run["guard"] for run in runs if "guard" in run]
    return {
        "requests_per_s": median,
        "ok_per_s": statistics.median(float(run["ok_per_s"]) for run in runs),
        "spread": (max(rates) - min(rates)) / median if median > 0 else 0.0,
        "latency_ms": latencies,
        "errors": errors,
        "requests": sum(int(run.get("requests", run.get("answered", 0))) for run in runs),
        "rss_peak_bytes": max(s["rss_peak_bytes"] for s in servers),
        "threads_max": max(s["threads_max"] for s in servers),
        "server_cpu_s": statistics.median(s["cpu_s"] for s in servers),
        "cpu_s_per_request": statistics.median(per_request) if per_request else None,
        "busy": any(g["busy"] for g in guards),
        "load_average": [g["load_before"][0] for g in guards] + [guards[-1]["load_after"][0]]
        if guards
        else [],
        "unaccepted_max": max(s["unaccepted_max"] for s in servers),
        "listen_overflows": sum(s["listen_overflows"] for s in servers),
        "listen_drops": sum(s["listen_drops"] for s in servers),
    }


def unexpected_errors(
    summary: dict[str, Any], *, in_flight: float, timeout_s: float, offered_per_s: float | None
) -> tuple[int, str]:
    """Return the errors a point should not have had, and why the others were expected.

    Timeouts (and, open-loop, unsent requests) are expected when the server is overloaded:
    closed-loop when ``in_flight`` requests queued at the measured rate would wait at least
    half of ``timeout_s`` (Little's law), open-loop when less than 95 % of the offered rate was
    answered. Connection errors, cut-off reads and 4xx/5xx answers are never expected.
    """
    errors = summary["errors"]
    rate = max(float(summary["ok_per_s"]), 1e-9)
    if offered_per_s is None:
        overloaded = in_flight / rate >= timeout_s / 2
    else:
        overloaded = rate < 0.95 * offered_per_s
    expected_kinds = ("timeout", "unsent") if overloaded else ()
    unexpected = sum(n for kind, n in errors.items() if kind not in expected_kinds)
    expected = sum(errors.get(kind, 0) for kind in expected_kinds)
    reason = f"{expected} timeouts of an overloaded point" if expected else ""
    return unexpected, reason


def closed_point(
    ctx: Context,
    server: ManagedServer,
    endpoint: Endpoint,
    connections: int,
    *,
    repeats: int,
    warm: bool,
    expected_rps: float | None = None,
) -> dict[str, Any]:
    """Run one closed-loop point (wrk) ``repeats`` times after an optional warm-up.

    ``expected_rps`` (the previous point's rate, or the warm-up's) sets the run's duration
    (:func:`_duration`). After every run the server is let settle, or restarted. A repeated
    point whose spread is above the plan's limit is measured once more when the time budget
    allows, and flagged when that does not bring it below the limit.
    """
    plan = ctx.plan
    ctx.set_upstream(endpoint.upstream_ms)
    script = _script(ctx, server, endpoint)
    label = f"{server.config.id} {endpoint.id} c={connections}"
    events: list[str] = []

    def after_run() -> None:
        events.append(_settle(server, 2.0))
        if endpoint.kind == "write":
            cleanup_books(server, ctx.seeds[server.config.id])

    if warm:
        ctx.on_run(f"{label} warm-up")
        if plan.warmup_s:
            warmup = _wrk_once(ctx, server, script, connections, plan.warmup_s)
            expected_rps = expected_rps or warmup["ok_per_s"]
            after_run()
        else:
            _prime(ctx, server, endpoint)
    duration_s = max(_duration(ctx, server, connections, expected_rps), endpoint.min_duration_s)
    discarded: list[dict[str, Any]] = []
    busy_runs: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for attempt in range(2):
        runs = []
        for index in range(repeats):
            ctx.on_run(f"{label} run {index + 1}/{repeats}" + (" (re-run)" if attempt else ""))
            while True:
                run = _wrk_once(ctx, server, script, connections, duration_s)
                after_run()
                if not guard.should_repeat(
                    run["guard"]["busy"],
                    len(busy_runs),
                    plan.busy_repeats,
                    ctx.may_spend(duration_s + 0.6),
                    answered=run["requests"] > 0,
                ):
                    break
                busy_runs.append(run)
                ctx.on_run(f"{label} run {index + 1}/{repeats} (busy machine, again)")
            runs.append(run)
        summary = summarize(runs)
        if repeats < 3 or summary["spread"] <= plan.spread_limit or attempt == 1:
            break
        if not plan.rerun:
            events.append("spread above the limit; this plan does not re-run")
            break
        if not ctx.may_spend(repeats * (duration_s + 0.6)):
            events.append("spread above the limit; no time left to re-run")
            break
        discarded = runs
    rate = summary["ok_per_s"]
    if rate and duration_s < 2 * min(connections, _accepted(server, connections)) / rate:
        events.append("the run is shorter than two queueing cycles: throughput is understated")
    unexpected, reason = unexpected_errors(
        summary, in_flight=connections, timeout_s=plan.wrk_timeout_s, offered_per_s=None
    )
    return {
        "loop": "closed",
        "server": server.config.id,
        "endpoint": endpoint.id,
        "connections": connections,
        "headline": repeats > 1,
        "duration_s": duration_s,
        **summary,
        "failed": summary["requests"] == 0,
        "flagged": repeats > 1 and summary["spread"] > plan.spread_limit,
        "unexpected_errors": unexpected,
        "expected_errors": reason,
        "restarts": events.count("restarted"),
        "notes": sorted({e for e in events if e not in ("idle", "restarted")}),
        "runs": runs,
        "discarded_runs": discarded,
        "busy_runs": busy_runs,
    }


def _accepted(server: ManagedServer, connections: int) -> int:
    if server.config.server == "waitress":
        return min(connections, WAITRESS_CONNECTION_LIMIT)
    return connections


def _openloop_argv(
    ctx: Context, targets: Sequence[str], duration_s: float, warmup_s: float
) -> list[str]:
    plan = ctx.plan
    argv = [sys.executable, "-m", "compare.harness.openloop"]
    for target in targets:
        argv += ["--target", target]
    argv += [
        "--duration-s",
        f"{duration_s:g}",
        "--warmup-s",
        f"{warmup_s:g}",
        "--timeout-s",
        f"{plan.open_timeout_s:g}",
        "--max-in-flight",
        "2000",
    ]
    return ctx.placement.pin_client(argv)


def _openloop_once(
    ctx: Context, server: ManagedServer, targets: Sequence[str], duration_s: float, warmup_s: float
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    argv = _openloop_argv(ctx, targets, duration_s, warmup_s)
    limit = warmup_s + duration_s + ctx.plan.open_timeout_s + 60
    before, helpers = guard.read(), ctx.helpers_cpu_s()
    with Sampler(server.pid, server.port) as sampler:
        child = run_child(argv, limit_s=limit)
    own = sampler.result.cpu_s + child.cpu_s + ctx.helpers_cpu_s() - helpers
    assessment = guard.assess(before, guard.read(), own, ctx.limits)
    if child.returncode != 0:
        raise RuntimeError(f"the open-loop generator failed: {child.stderr.strip()[-500:]}")
    sample = {**sampler.result.as_json(), "guard": assessment.as_json()}
    return json.loads(child.stdout), sample, argv


def open_point(
    ctx: Context, server: ManagedServer, endpoint: Endpoint, rate: float
) -> dict[str, Any]:
    """Drive one endpoint at ``rate`` requests/s with the open-loop generator."""
    plan = ctx.plan
    ctx.set_upstream(endpoint.upstream_ms)
    ctx.on_run(f"{server.config.id} {endpoint.id} open loop {rate:g}/s")
    url = f"{server.base_url}{ctx.path(endpoint, server)}"
    busy_runs: list[dict[str, Any]] = []
    while True:
        data, sample, argv = _openloop_once(
            ctx, server, [f"probe={url}@{rate:g}"], plan.open_duration_s, plan.open_warmup_s
        )
        target = data["targets"]["probe"]
        assessment = sample.pop("guard")
        run = {
            **target,
            "requests_per_s": target["answered_per_s"],
            "server": sample,
            # The server's CPU covers the warm-up and the drain too: divide by every request sent.
            "cpu_s_per_request": cpu_per_request(sample["cpu_s"], data["requests_sent"]),
            "guard": assessment,
            "generator": {k: v for k, v in data.items() if k != "targets"},
            "command": argv,
        }
        busy = run["guard"]["busy"]
        seconds = plan.open_duration_s + plan.open_warmup_s + 1
        time_left = ctx.may_spend(seconds)
        answered = target["answered"] > 0
        if not guard.should_repeat(busy, len(busy_runs), plan.busy_repeats, time_left, answered):
            break
        busy_runs.append(run)
        _settle(server, 2.0)
    summary = summarize([run])
    unexpected, reason = unexpected_errors(
        summary, in_flight=0, timeout_s=plan.open_timeout_s, offered_per_s=rate
    )
    restarted = _settle(server, 2.0) == "restarted"
    return {
        "loop": "open",
        "server": server.config.id,
        "endpoint": endpoint.id,
        "offered_per_s": rate,
        **summary,
        "unanswered": target["unanswered"],
        "failed": target["answered"] == 0,
        "unexpected_errors": unexpected,
        "expected_errors": reason,
        "restarts": int(restarted),
        "generator": run["generator"],
        "runs": [run],
        "busy_runs": busy_runs,
    }


def naive_runs(ctx: Context, server: ManagedServer) -> dict[str, Any]:
    """Probe ``GET /books/{id}`` and ``GET /health`` open-loop while a ``/_naive/*`` route is
    loaded: not at all, with the awaiting one, with the blocking one."""
    spec = ctx.plan.naive
    base = server.base_url
    book = ctx.seeds[server.config.id].book_id
    probes = [
        f"read={base}/books/{book}@{spec.probe_rate:g}",
        f"health={base}/health@{spec.probe_rate:g}",
    ]
    conditions: dict[str, dict[str, Any]] = {}
    for name, route in (
        ("idle", None),
        ("async", "/_naive/async"),
        ("blocking", "/_naive/blocking"),
    ):
        ctx.on_run(f"{server.config.id} naive: {name}")
        targets = list(probes)
        if route is not None:
            targets.append(f"background={base}{route}@{spec.background_rate:g}")
        data, sample, argv = _openloop_once(ctx, server, targets, spec.duration_s, spec.warmup_s)
        conditions[name] = {
            "background_route": route,
            "targets": data["targets"],
            "server": sample,
            "generator": {k: v for k, v in data.items() if k != "targets"},
            "command": argv,
        }
        _settle(server, 2.0)
    return {
        "server": server.config.id,
        "probe_rate": spec.probe_rate,
        "background_rate": spec.background_rate,
        "block_ms": spec.block_ms,
        "duration_s": spec.duration_s,
        "conditions": conditions,
    }
