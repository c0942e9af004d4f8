"""What ``python -m compare run`` measures: endpoints, server configurations and the plan.

An *endpoint scenario* is one request shape (:data:`ENDPOINTS`); a *server configuration* is an
app on a server with its settings (:data:`SERVERS`); the :class:`Plan` says which pairs are
swept over which connection counts, which are also driven open-loop at which rates, how long
each point lasts, and which points are repeated (the headline points, :attr:`Sweep.headline`),
and the scaled scenario (:class:`ScaledSpec`): N processes of each app behind HAProxy.
:func:`full_plan` is the default run (within 15 minutes on two cores), :func:`quick_plan` the
one for CI (within 90 s): one connection count, every scenario once.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Final
from typing import Literal

__all__ = [
    "CONNECTION_LEVELS",
    "ENDPOINTS",
    "FLOORS",
    "FLOOR_FLASK",
    "FLOOR_QUART",
    "SERVERS",
    "Endpoint",
    "NaiveSpec",
    "OpenLoopSpec",
    "Plan",
    "ScaledSpec",
    "ServerConfig",
    "Sweep",
    "full_plan",
    "quick_plan",
    "scaled_servers",
    "waitress_limits",
]

#: Connection counts of a full closed-loop sweep.
CONNECTION_LEVELS: Final = (1, 10, 50, 200, 1000)


def waitress_limits() -> dict[str, int]:
    """The ``connection_limit`` and ``channel_timeout`` (s) ``python -m legacy_flask serve``
    gives Waitress: its ``legacy_flask.server.WAITRESS_LIMITS`` where it sets them, else
    Waitress' own defaults (``waitress.adjustments.Adjustments``: 100 and 120)."""
    from waitress.adjustments import Adjustments

    try:
        from legacy_flask.server import WAITRESS_LIMITS as limits  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        limits = {}
    return {
        name: int(limits.get(name, getattr(Adjustments, name)))
        for name in ("connection_limit", "channel_timeout")
    }


#: Waitress' ``connection_limit`` under ``legacy_flask serve``: beyond it, connections wait
#: unaccepted.
WAITRESS_CONNECTION_LIMIT: Final = waitress_limits()["connection_limit"]

Kind = Literal["cpu-light", "io", "write", "export", "cpu-bound"]


@dataclass(frozen=True)
class Endpoint:
    """One request shape. ``path`` may hold ``{book_id}``; ``upstream_ms`` is the inventory
    stand-in's latency while it runs (``None``: the endpoint does not call it);
    ``min_duration_s`` lengthens short runs of slow requests, so that some complete."""

    id: str
    label: str
    kind: Kind
    method: str
    path: str
    upstream_ms: float | None = None
    body: str | None = None
    login: bool = False
    min_duration_s: int = 1


_BOOK_BODY: Final = '{"title": "Load test", "author": "compare run", "year": 2024}'

ENDPOINTS: Final[tuple[Endpoint, ...]] = (
    Endpoint(
        "read",
        "GET /books/{id}",
        "cpu-light",
        "GET",
        "/books/{book_id}",
    ),
    Endpoint(
        "list",
        "GET /books?q=the",
        "cpu-light",
        "GET",
        "/books?q=the",
    ),
    Endpoint(
        "write",
        "POST /books + DELETE",
        "write",
        "POST",
        "/books",
        body=_BOOK_BODY,
        login=True,
    ),
    *(
        Endpoint(
            f"avail-{ms}",
            f"GET /books/{{id}}/availability, upstream {ms} ms",
            "io",
            "GET",
            "/books/{book_id}/availability",
            upstream_ms=float(ms),
        )
        for ms in (0, 50, 200)
    ),
    Endpoint(
        "export",
        "GET /books/export.csv",
        "export",
        "GET",
        "/books/export.csv",
    ),
    Endpoint(
        "login",
        "POST /auth/login (scrypt)",
        "cpu-bound",
        "POST",
        "/auth/login",
        # Concurrent scrypt checks share one core: 10 of them finish together after ~1 s.
        min_duration_s=3,
    ),
)

AppName = Literal["legacy_flask", "quart_app", "bare_flask", "bare_quart"]


@dataclass(frozen=True)
class ServerConfig:
    """An app on a server. ``cap`` is the most requests one process works on at once while
    they wait on I/O (Waitress' threads, at most its connection limit), which bounds the
    Little's-law ceiling; ``None`` for quart_app, whose inventory client (aiohttp with
    ``limit=0``) keeps as many calls in flight as there are requests."""

    id: str
    label: str
    app: AppName
    server: Literal["waitress", "hypercorn"]
    threads: int | None = None
    workers: int = 1
    worker_class: Literal["asyncio", "uvloop"] | None = None
    data_layer: Literal["tortoise", "threaded"] | None = None
    naive: bool = False

    @property
    def floor(self) -> bool:
        """Whether this is a bare framework app (:mod:`compare.harness.floor`), not a bookstore."""
        return self.app in ("bare_flask", "bare_quart")

    @property
    def cap(self) -> int | None:
        """The I/O concurrency cap of one process (see the class docstring)."""
        if self.server == "waitress":
            return min(self.threads or 4, WAITRESS_CONNECTION_LIMIT)
        return None


def flask(threads: int) -> ServerConfig:
    """legacy_flask on Waitress with ``threads`` threads."""
    return ServerConfig(
        f"flask-t{threads}",
        f"legacy_flask · Waitress {threads} threads",
        "legacy_flask",
        "waitress",
        threads=threads,
    )


def quart(
    worker_class: Literal["asyncio", "uvloop"] = "asyncio",
    *,
    workers: int = 1,
    data_layer: Literal["tortoise", "threaded"] = "tortoise",
    naive: bool = False,
) -> ServerConfig:
    """quart_app on Hypercorn."""
    if naive:
        ident, label = "quart-naive", "quart_app + one blocking view · Hypercorn asyncio"
    elif data_layer == "threaded":
        ident, label = "quart-stage1", "quart_app stage 1 (threaded SQLAlchemy) · Hypercorn asyncio"
    elif workers > 1:
        ident, label = f"quart-w{workers}", f"quart_app · Hypercorn {worker_class} × {workers}"
    else:
        ident, label = f"quart-{worker_class}", f"quart_app · Hypercorn {worker_class}"
    return ServerConfig(
        ident,
        label,
        "quart_app",
        "hypercorn",
        workers=workers,
        worker_class=worker_class,
        data_layer=data_layer,
        naive=naive,
    )


#: The framework's floor: one JSON route, no database, on the servers of the headline pair.
FLOOR_FLASK: Final = ServerConfig(
    "floor-flask", "bare Flask · Waitress 4 threads", "bare_flask", "waitress", threads=4
)
FLOOR_QUART: Final = ServerConfig(
    "floor-quart",
    "bare Quart · Hypercorn asyncio",
    "bare_quart",
    "hypercorn",
    worker_class="asyncio",
)
#: Each app's configuration and the bare framework app it is measured against.
FLOORS: Final = {"flask-t4": FLOOR_FLASK.id, "quart-asyncio": FLOOR_QUART.id}

#: The configurations every run starts (the tuned Waitress count is set by the plan).
SERVERS: Final = (
    flask(4),
    quart("asyncio"),
    quart("uvloop"),
    quart("asyncio", data_layer="threaded"),
    quart("asyncio", naive=True),
    FLOOR_FLASK,
    FLOOR_QUART,
)


@dataclass(frozen=True)
class Sweep:
    """Closed-loop points of one server and endpoint; ``headline`` ones are repeated."""

    server: str
    endpoint: str
    connections: tuple[int, ...]
    headline: tuple[int, ...] = ()


@dataclass(frozen=True)
class OpenLoopSpec:
    """Open-loop runs of one server and endpoint at each offered rate (requests/s)."""

    server: str
    endpoint: str
    rates: tuple[float, ...]


@dataclass(frozen=True)
class NaiveSpec:
    """The naive-migration run: probe a route at ``probe_rate`` while ``/_naive/*`` gets
    ``background_rate`` requests/s, each holding the event loop (or awaiting) ``block_ms``."""

    probe_rate: float
    background_rate: float
    block_ms: float
    duration_s: float
    warmup_s: float


def scaled_servers(backends: int) -> tuple[ServerConfig, ServerConfig]:
    """The scaled scenario's two configurations: ``backends`` processes of legacy_flask on
    Waitress (4 threads each, as ``flask-t4``) and of quart_app on Hypercorn (one asyncio
    worker each, as ``quart-asyncio``), each app's processes behind one HAProxy."""
    behind = f"× {backends} behind HAProxy"
    return (
        replace(flask(4), id="scaled-flask", label=f"legacy_flask · Waitress 4 threads {behind}"),
        replace(
            quart("asyncio"), id="scaled-quart", label=f"quart_app · Hypercorn asyncio {behind}"
        ),
    )


@dataclass(frozen=True)
class ScaledSpec:
    """The scaled scenario: ``backends`` processes of each app behind HAProxy, one app at a time.

    ``points`` are ``(endpoint id, connections)`` pairs, each measured closed-loop (wrk, against
    the balancer) ``repeats`` times per app; ``check_interval_ms`` is the balancer's health-check
    interval during the runs (milliseconds).
    """

    backends: int
    points: tuple[tuple[str, int], ...]
    repeats: int
    check_interval_ms: int = 2000

    @property
    def servers(self) -> tuple[ServerConfig, ServerConfig]:
        """The two configurations (:func:`scaled_servers`)."""
        return scaled_servers(self.backends)

    @property
    def measured_points(self) -> int:
        """How many points the scenario has, over both apps."""
        return len(self.points) * len(self.servers)


@dataclass(frozen=True)
class Plan:
    """Everything one run measures, and how long each point lasts (s).

    ``warmup_s`` 0 warms up with a few sequential requests instead of a wrk run; ``rerun``
    allows measuring a repeated point once more when its spread exceeds ``spread_limit``, while
    the whole run is expected to end within ``budget_s``. A closed-loop run lasts from
    ``duration_s`` to ``max_duration_s``, longer when queueing makes each request slow.

    The quiet-machine guard (:mod:`compare.harness.guard`) takes a run as busy when other
    processes used more than ``busy_other_share`` of the machine's CPU time during it, or the
    hypervisor stole more than ``busy_steal_share``; each point re-measures at most
    ``busy_repeats`` busy runs, within the budget.
    """

    mode: Literal["quick", "full"]
    servers: tuple[ServerConfig, ...]
    sweeps: tuple[Sweep, ...]
    open_loop: tuple[OpenLoopSpec, ...]
    naive: NaiveSpec
    warmup_s: int
    duration_s: int
    repeats: int
    wrk_timeout_s: int
    open_duration_s: float
    open_warmup_s: float
    open_timeout_s: float
    spread_limit: float = 0.10
    rerun: bool = True
    max_duration_s: int = 6
    budget_s: float = 840.0
    tuned_threads: int = 32
    busy_other_share: float = 0.10
    busy_steal_share: float = 0.05
    busy_repeats: int = 2
    scaled: ScaledSpec | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def closed_points(self) -> int:
        """How many closed-loop points the plan has."""
        return sum(len(sweep.connections) for sweep in self.sweeps)

    @property
    def open_points(self) -> int:
        """How many open-loop runs the plan has."""
        return sum(len(spec.rates) for spec in self.open_loop)

    @property
    def scaled_points(self) -> int:
        """How many points the scaled scenario has (0 without it)."""
        return 0 if self.scaled is None else self.scaled.measured_points


_FLOOR_IDS: Final = (FLOOR_FLASK.id, FLOOR_QUART.id)


def _servers(tuned_threads: int, postgres_workers: int) -> tuple[ServerConfig, ...]:
    extra = (quart("uvloop", workers=postgres_workers),) if postgres_workers > 1 else ()
    return (SERVERS[0], flask(tuned_threads), *SERVERS[1:], *extra)


#: Connection counts repeated in the full run: 1 and 50 everywhere; 1,000 too on the read and
#: the I/O endpoint, and 200 on the I/O endpoint (its target point).
_HEADLINE: Final = {"read": (1, 50, 1000), "avail-50": (1, 50, 200, 1000)}


def full_plan(*, tuned_threads: int = 32, postgres_workers: int = 0, backends: int = 2) -> Plan:
    """The default run: every endpoint on the two headline configurations at every connection
    count, the other configurations on the read and the I/O endpoint, open-loop rates around
    both servers' capacities, the naive migration, and ``backends`` processes of each app
    behind HAProxy on the read (50 connections) and the I/O endpoint (200)."""
    main = ("flask-t4", "quart-asyncio")
    sweeps = [
        Sweep(server, endpoint.id, CONNECTION_LEVELS, headline=_HEADLINE.get(endpoint.id, (1, 50)))
        for server in main
        for endpoint in ENDPOINTS
    ]
    others = [f"flask-t{tuned_threads}", "quart-uvloop", "quart-stage1"]
    if postgres_workers > 1:
        others.append(f"quart-w{postgres_workers}")
    sweeps += [
        Sweep(server, e, CONNECTION_LEVELS) for server in others for e in ("read", "avail-50")
    ]
    sweeps += [Sweep(floor, "read", (1, 50, 1000), headline=(1, 50, 1000)) for floor in _FLOOR_IDS]
    # Rates below, near and above both servers' capacities (about 1,000 req/s for the read;
    # 80 and about 350 req/s for the I/O endpoint on Waitress' 4 threads and on Hypercorn).
    read_rates = (300.0, 700.0, 1100.0)
    io_rates = (40.0, 70.0, 150.0, 300.0)
    open_loop = [OpenLoopSpec(server, "read", read_rates) for server in main]
    open_loop += [OpenLoopSpec(server, "avail-50", io_rates) for server in main]
    return Plan(
        mode="full",
        servers=_servers(tuned_threads, postgres_workers),
        sweeps=tuple(sweeps),
        open_loop=tuple(open_loop),
        naive=NaiveSpec(
            probe_rate=100.0, background_rate=5.0, block_ms=50.0, duration_s=5.0, warmup_s=1.0
        ),
        warmup_s=1,
        duration_s=2,
        repeats=3,
        wrk_timeout_s=10,
        open_duration_s=3.0,
        open_warmup_s=1.0,
        open_timeout_s=5.0,
        budget_s=780.0,
        tuned_threads=tuned_threads,
        # The headline connection counts of the two endpoints, so that the report can set one
        # process of each app, measured in the same run, beside the scaled points.
        scaled=ScaledSpec(backends, (("read", 50), ("avail-50", 200)), repeats=3),
    )


def quick_plan(*, tuned_threads: int = 32, postgres_workers: int = 0, backends: int = 2) -> Plan:
    """The CI run: every scenario and configuration once, at 10 connections, 1 s a point after
    a warm-up of a few sequential requests; the one headline point is repeated but not re-run.
    The scaled scenario runs too, once per point at 10 connections."""
    main = ("flask-t4", "quart-asyncio")
    sweeps = [
        Sweep(server, e.id, (10,), headline=(10,) if e.id == "avail-50" else ())
        for server in main
        for e in ENDPOINTS
    ]
    others = [f"flask-t{tuned_threads}", "quart-uvloop", "quart-stage1"]
    if postgres_workers > 1:
        others.append(f"quart-w{postgres_workers}")
    sweeps += [Sweep(server, e, (10,)) for server in others for e in ("read", "avail-50")]
    sweeps += [Sweep(floor, "read", (10,)) for floor in _FLOOR_IDS]
    open_loop = [OpenLoopSpec(server, "avail-50", (40.0,)) for server in main]
    return Plan(
        mode="quick",
        servers=_servers(tuned_threads, postgres_workers),
        sweeps=tuple(sweeps),
        open_loop=tuple(open_loop),
        naive=NaiveSpec(
            probe_rate=50.0, background_rate=5.0, block_ms=50.0, duration_s=1.5, warmup_s=0.3
        ),
        warmup_s=0,
        duration_s=1,
        repeats=3,
        rerun=False,
        max_duration_s=3,
        wrk_timeout_s=5,
        open_duration_s=1.5,
        open_warmup_s=0.3,
        open_timeout_s=3.0,
        budget_s=80.0,
        busy_repeats=1,
        tuned_threads=tuned_threads,
        scaled=ScaledSpec(backends, (("read", 10), ("avail-50", 10)), repeats=1),
    )
