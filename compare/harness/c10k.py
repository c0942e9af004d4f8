"""``python -m compare c10k``: many clients on one worker, and what each connection costs.

Three sections, one after another, each with a fresh server pinned to the servers' CPU and the
clients (:mod:`compare.harness.c10k_client`) in a separate process pinned to the other CPU:

1. ``websocket``: N subscribers on ``/ws/events`` of one quart_app worker (Hypercorn, asyncio);
   a few writes (``POST /books`` as the admin) each fan out to all of them; the latency from a
   write's 2xx to each subscriber's receipt (p50, p99); the server's resident memory per
   connection (process tree, held minus idle, ÷ subscribers held).
2. ``http`` on quart_app: N open keep-alive HTTP connections, of which an open-loop rate
   (default 300 requests/s) is active on ``GET /books/{id}``; the p99 of those requests.
   Hypercorn is started with ``--keep-alive`` above the run's length, so that it does not
   close the idle connections (its default is 5 s).
3. ``http`` on legacy_flask (Waitress, 4 threads, ``python -m legacy_flask serve``): the same.
   Waitress accepts at most its ``connection_limit`` connections and closes one that has been
   idle for ``channel_timeout`` seconds (:func:`~compare.harness.scenarios.waitress_limits`:
   legacy_flask sets 1,000 and 15 s). The others wait in the kernel's accept queue,
   unanswered, and the held ones that opened more than 15 s before the active requests begin
   have been closed by then: the section shows how many were held, how many of the active
   requests were answered, and how many found their connection closed.

The harness raises its own open-file limit (soft, within the hard limit) before it starts the
servers, which inherit it; the client raises its own. quart_app's subscriber cap
(``EVENTS_MAX_SUBSCRIBERS``) is raised to N through :mod:`compare.harness.c10k_app`.

Writes ``c10k.json`` (the summary keys ``connections_held``, ``errors``, ``fanout_p50_ms``,
``fanout_p99_ms``, ``rss_per_connection_kib``, ``http_p99_ms`` are quart_app's; the sections
hold everything), ``c10k.html`` and ``c10k.md`` in the output folder; ``compare run`` adds the
same section to its report when ``c10k.json`` is in its folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

import httpx

from compare import procs
from compare.demo import ADMIN_PASSWORD
from compare.demo import ADMIN_USERNAME
from compare.harness import guard
from compare.harness.c10k_app import CAP_CONFIG_KEY
from compare.harness.c10k_app import CAP_ENV
from compare.harness.child import run_child
from compare.harness.placement import Placement
from compare.harness.placement import choose_placement
from compare.harness.placement import raise_open_files_limit
from compare.harness.procstats import Sampler
from compare.harness.procstats import tree_usage
from compare.harness.scenarios import flask
from compare.harness.scenarios import waitress_limits
from compare.harness.servers import BACKLOG
from compare.harness.servers import SECRET_KEY
from compare.harness.servers import prepare_databases
from compare.harness.servers import server_argv

__all__ = ["C10kOptions", "run_c10k", "summary_keys"]

#: Seconds Hypercorn keeps an idle connection open in these runs.
KEEP_ALIVE_S: Final = 3600
#: Writes whose fan-out is measured.
WRITES: Final = 5
#: Seconds the active requests of an HTTP section last.
ACTIVE_S: Final = 5.0
#: WebSocket handshakes in flight at once.
OPENING: Final = 500
#: HTTP connections opening at once.
HTTP_OPENING: Final = 2000
#: Seconds a new HTTP connection may take to get its first answer. Waitress never answers the
#: connections beyond its limit while the held ones stay open, so waiting longer for those
#: would only lengthen the run; quart_app gets the time its one core needs for all of them.
HTTP_OPEN_TIMEOUT_S: Final = {"quart_app": 60.0, "legacy_flask": 5.0}
#: The issue's targets for 10,000 connections.
TARGETS: Final = {
    "fanout_p99_ms": 1000.0,
    "rss_per_connection_kib": 32.0,
    "http_p99_ms": 100.0,
}


@dataclass(frozen=True)
class C10kOptions:
    """The command line of ``python -m compare c10k``."""

    connections: int = 10_000
    out: Path = Path("compare-results")
    rate: float = 300.0
    active_s: float = ACTIVE_S
    writes: int = WRITES


def _quart_argv(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hypercorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        str(BACKLOG),
        "--worker-class",
        "asyncio",
        "--workers",
        "1",
        "--keep-alive",
        str(KEEP_ALIVE_S),
        "compare.harness.c10k_app:create_app()",
    ]


def _env(database_url: str) -> dict[str, str]:
    return {
        "BOOKSTORE_DATABASE_URL": database_url,
        # The read and the event feed never call the inventory service.
        "BOOKSTORE_INVENTORY_URL": "http://127.0.0.1:9",
        "BOOKSTORE_SECRET_KEY": SECRET_KEY,
    }


@contextlib.contextmanager
def _server(
    argv: list[str], port: int, env: dict[str, str], log_path: Path
) -> Iterator[procs.ServerProcess]:
    with procs.running(argv, port=port, env=env, log_path=log_path, ready_timeout_s=60) as server:
        yield server


@contextlib.contextmanager
def _quart(
    placement: Placement, env: dict[str, str], logs: Path
) -> Iterator[tuple[procs.ServerProcess, list[str]]]:
    port = procs.free_port()
    argv = placement.pin_server(_quart_argv(port))
    with _server(argv, port, env, logs / "c10k-quart.log") as server:
        yield server, argv


def _login_and_book(base_url: str) -> tuple[str, int]:
    with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
        client.post(
            "/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        ).raise_for_status()
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        page = client.get("/books", params={"limit": 1}).raise_for_status().json()
    return cookie, int(page["items"][0]["id"]) if page["items"] else 1


def _client(
    placement: Placement,
    mode: str,
    server: procs.ServerProcess,
    options: C10kOptions,
    url: str,
    extra: list[str],
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one client section; return its JSON with the server's usage and the guard's reading."""
    argv = placement.pin_client(
        [
            sys.executable,
            "-m",
            "compare.harness.c10k_client",
            mode,
            "--url",
            url,
            "--connections",
            str(options.connections),
            "--server-pid",
            str(server.pid),
            "--server-port",
            str(server.port),
            *extra,
        ]
    )
    idle_rss = tree_usage(server.pid).rss_bytes
    before = guard.read()
    with Sampler(server.pid, server.port) as sampler:
        child = run_child(argv, limit_s=120 + options.connections / 50, env=env)
    limits = guard.Limits(other_share=0.10, steal_share=0.05)
    assessment = guard.assess(before, guard.read(), sampler.result.cpu_s + child.cpu_s, limits)
    if child.returncode != 0:
        raise RuntimeError(f"the c10k client failed: {child.stderr.strip()[-800:]}")
    data: dict[str, Any] = json.loads(child.stdout)
    held = data["held"]
    grown = data["server_rss_held_bytes"] - idle_rss
    data.update(
        server_idle_rss_bytes=idle_rss,
        server_rss_peak_bytes=sampler.result.rss_peak_bytes,
        server_cpu_s=round(sampler.result.cpu_s, 3),
        rss_per_connection_kib=round(grown / held / 1024, 2) if held else None,
        guard=assessment.as_json(),
        command=argv,
    )
    return data


def summary_keys(document: dict[str, Any]) -> dict[str, Any]:
    """The summary of a c10k document: quart_app's figures, under the issue's key names."""
    ws = document["websocket"]
    http = document["http"]["quart_app"]
    return {
        "connections_held": ws["held"],
        "errors": sum(ws["errors"].values()) + sum(http["errors"].values()),
        "fanout_p50_ms": ws["fanout_ms"].get("p50"),
        "fanout_p99_ms": ws["fanout_ms"].get("p99"),
        "rss_per_connection_kib": ws["rss_per_connection_kib"],
        "http_p99_ms": http["latency_ms"].get("p99"),
    }


def _targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    n = document["connections"]
    summary = summary_keys(document)
    http = document["http"]["quart_app"]
    at = f"{n:,} connections" + ("" if n >= 10_000 else " (the target is for 10,000)")

    def within(key: str) -> bool:
        value = summary[key]
        return value is not None and value <= TARGETS[key]

    return [
        {
            "target": f"WebSocket subscribers held on one worker with 0 errors, at {at}",
            "value": f"{summary['connections_held']:,} held, {summary['errors']} errors",
            "met": summary["connections_held"] == n and summary["errors"] == 0 and n >= 10_000,
        },
        {
            "target": "fan-out p99 ≤ 1 s",
            "value": f"{summary['fanout_p99_ms']} ms",
            "met": within("fanout_p99_ms") and n >= 10_000,
        },
        {
            "target": "≤ 32 KiB server RSS per WebSocket connection",
            "value": f"{summary['rss_per_connection_kib']} KiB",
            "met": within("rss_per_connection_kib") and n >= 10_000,
        },
        {
            "target": f"open HTTP connections on quart_app: active requests' p99 ≤ 100 ms, at {at}",
            "value": f"{summary['http_p99_ms']} ms with {http['held']:,} held",
            "met": within("http_p99_ms") and http["held"] == n and n >= 10_000,
        },
    ]


def run_c10k(options: C10kOptions, log: Any = print) -> int:
    """Run the three sections; write ``c10k.json``, ``c10k.html`` and ``c10k.md``.

    Returns 0 when every section ran (its errors are in the results), 1 when the open-file
    limit cannot be raised far enough.
    """
    from compare.harness import report

    placement = choose_placement()
    needed = options.connections + 1024
    limit = raise_open_files_limit(needed)
    if limit < needed:
        log(
            f"python -m compare c10k: error: {options.connections} connections need {needed} "
            f"open files, and the hard limit is {limit} (ulimit -Hn)"
        )
        return 1
    if placement.client_cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {placement.client_cpu})
    options.out.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    logs = options.out / "logs"
    logs.mkdir(exist_ok=True)
    started = time.monotonic()
    document: dict[str, Any] = {
        "schema": 1,
        "connections": options.connections,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpu_count": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "load_average_at_start": list(os.getloadavg()),
        },
        "placement": placement.as_json(),
        "open_files_limit": limit,
        "settings": {
            "writes": options.writes,
            "rate_per_s": options.rate,
            "active_s": options.active_s,
            "websocket_handshakes_at_once": OPENING,
            "http_opening_at_once": HTTP_OPENING,
            "http_open_timeout_s": HTTP_OPEN_TIMEOUT_S,
            "hypercorn_keep_alive_s": KEEP_ALIVE_S,
            "subscriber_cap": {CAP_CONFIG_KEY: options.connections, "set_through": CAP_ENV},
            "waitress_connection_limit": waitress_limits()["connection_limit"],
            "waitress_channel_timeout_s": waitress_limits()["channel_timeout"],
        },
        "http": {},
    }
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="compare-c10k-")))
        log("seeding the databases…")
        databases = stack.enter_context(prepare_databases(None, work, ["quart", "flask"]))

        phases["setup_s"] = round(time.monotonic() - started, 1)
        env = {**_env(databases["quart"]), CAP_ENV: str(options.connections)}
        with _quart(placement, env, logs) as (quart, argv):
            cookie, book_id = _login_and_book(quart.base_url)
            document["servers"] = {"quart_app": {"command": argv}}
            log(f"quart_app: {options.connections:,} WebSocket subscribers…")
            document["websocket"] = _client(
                placement,
                "websocket",
                quart,
                options,
                f"ws://127.0.0.1:{quart.port}/ws/events",
                [
                    *("--opening", str(OPENING), "--http-url", f"{quart.base_url}/books"),
                    *("--writes", str(options.writes)),
                ],
                env={"BOOKSTORE_COOKIE": cookie},
            )
        phases["websocket_s"] = round(time.monotonic() - started - sum(phases.values()), 1)
        # A fresh worker: the memory the subscribers used is not all returned to the system.
        with _quart(placement, env, logs) as (quart, _argv):
            log(f"quart_app: {options.connections:,} keep-alive HTTP connections…")
            document["http"]["quart_app"] = _client(
                placement,
                "http",
                quart,
                options,
                f"{quart.base_url}/books/{book_id}",
                _http_args(options, HTTP_OPEN_TIMEOUT_S["quart_app"]),
            )
        phases["http_quart_s"] = round(time.monotonic() - started - sum(phases.values()), 1)
        port = procs.free_port()
        argv = placement.pin_server(server_argv(flask(4), port, databases["flask"]))
        with _server(argv, port, _env(databases["flask"]), logs / "c10k-flask.log") as legacy:
            document["servers"]["legacy_flask"] = {"command": argv}
            log(f"legacy_flask: {options.connections:,} keep-alive HTTP connections…")
            document["http"]["legacy_flask"] = _client(
                placement,
                "http",
                legacy,
                options,
                f"{legacy.base_url}/books/{book_id}",
                _http_args(options, HTTP_OPEN_TIMEOUT_S["legacy_flask"]),
            )
        phases["http_flask_s"] = round(time.monotonic() - started - sum(phases.values()), 1)
    document["phases"] = phases
    document["machine"]["load_average_at_end"] = list(os.getloadavg())
    document["elapsed_s"] = round(time.monotonic() - started, 1)
    document.update(summary_keys(document))
    document["targets"] = _targets(document)
    report.write_c10k(document, options.out)
    log(
        f"done in {document['elapsed_s']:.0f} s: held {document['connections_held']:,} "
        f"subscribers, {document['errors']} errors, fan-out p99 {document['fanout_p99_ms']} ms, "
        f"{document['rss_per_connection_kib']} KiB per connection, HTTP p99 "
        f"{document['http_p99_ms']} ms; {options.out / 'c10k.json'}"
    )
    return 0


def _http_args(options: C10kOptions, open_timeout_s: float) -> list[str]:
    return [
        *("--opening", str(HTTP_OPENING), "--open-timeout-s", f"{open_timeout_s:g}"),
        *("--rate", f"{options.rate:g}", "--duration-s", f"{options.active_s:g}"),
        *("--timeout-s", "5"),
    ]
