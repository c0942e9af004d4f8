"""Turn a run's points into the numbers the report leads with, and plain-language verdicts.

:func:`analyse` reads the results document and returns: the Quart/Flask throughput ratio per
endpoint at each headline connection count, the I/O endpoints' efficiency against the
Little's-law ceiling, each app's server CPU time per request against its framework's floor
(the bare apps of :mod:`compare.harness.floor`), the targets (met or missed), the naive
migration's stall, the load generators' own CPU cost, the flagged points (busy machine, wide
spread, errors), and one verdict per endpoint scenario.

CPU time per request (the server process tree's user + system seconds over the run, divided by
the requests it answered) barely moves when other work shares the machine, while requests/s
can halve; so verdicts and targets compare CPU per request, and requests/s stays beside it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any
from typing import Final

__all__ = ["FLASK", "FLOOR_FLASK", "FLOOR_QUART", "QUART", "analyse", "ceiling", "closed_index"]

#: The two configurations the headline numbers compare.
FLASK: Final = "flask-t4"
QUART: Final = "quart-asyncio"
#: Their frameworks' floors: bare Flask on the same Waitress, bare Quart on the same Hypercorn.
FLOOR_FLASK: Final = "floor-flask"
FLOOR_QUART: Final = "floor-quart"
_FLOOR_OF: Final = {FLASK: FLOOR_FLASK, QUART: FLOOR_QUART}
#: CPU per request targets on the CPU-light read: quart_app ÷ legacy_flask, quart_app ÷ bare Quart.
CPU_VS_FLASK_TARGET: Final = 1.0
CPU_VS_FLOOR_TARGET: Final = 1.5

_WHY: Final = {
    "cpu-light": (
        "nothing waits, so each request is CPU work on the one server core and the cheaper "
        "request path wins: Waitress hands a WSGI call to a thread, while quart_app pays for "
        "the event loop, the ASGI layers, quart-schema's validation and Tortoise's async "
        "round trip"
    ),
    "io": (
        "Waitress can hold only as many requests waiting on the inventory service as it has "
        "threads, so Little's law caps it at threads ÷ latency; quart_app awaits the call and "
        "keeps every connection in flight until its one core runs out"
    ),
    "write": (
        "every request is a committed transaction on SQLite, which runs one writer at a time, "
        "so the database's commit path, more than the framework, sets the pace"
    ),
    "export": (
        "the answer is a streamed CSV of every book: per-chunk overhead of the streaming "
        "path (a WSGI iterator in a thread, or an async generator on the loop) decides"
    ),
    "cpu-bound": (
        "each login is one scrypt check, about 0.1 s of one core; both apps run it in threads "
        "(Waitress' pool, quart_app's worker pool, keeping the loop free), so the core is the "
        "limit and the framework hardly matters"
    ),
}


def closed_index(document: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Map ``(server, endpoint, connections)`` to its closed-loop point."""
    return {(p["server"], p["endpoint"], int(p["connections"])): p for p in document["closed_loop"]}


def ceiling(connections: int, cap: int | None, latency_ms: float) -> float | None:
    """Little's law: ``min(connections, cap) ÷ latency`` requests/s (``None`` for 0 ms).

    ``cap`` ``None`` means no cap: ``connections ÷ latency``.
    """
    if latency_ms <= 0:
        return None
    in_flight = connections if cap is None else min(connections, cap)
    return in_flight * 1000.0 / latency_ms


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _levels(document: dict[str, Any], endpoint: str) -> list[int]:
    """The connection counts compared on ``endpoint``: 1, 50, 1,000 and the headline ones
    (every measured count when there are none of those)."""
    points = [
        p
        for p in document["closed_loop"]
        if p["endpoint"] == endpoint and p["server"] in (FLASK, QUART)
    ]
    measured = {int(p["connections"]) for p in points}
    headline = {int(p["connections"]) for p in points if p["headline"]}
    return sorted(headline | (measured & {1, 50, 1000})) or sorted(measured)


def _ratios(document: dict[str, Any], index: dict[Any, Any]) -> list[dict[str, Any]]:
    rows = []
    for endpoint in document["endpoints"]:
        for c in _levels(document, endpoint):
            flask, quart = index.get((FLASK, endpoint, c)), index.get((QUART, endpoint, c))
            if flask is None or quart is None:
                continue
            flask_cpu, quart_cpu = flask.get("cpu_s_per_request"), quart.get("cpu_s_per_request")
            rows.append(
                {
                    "endpoint": endpoint,
                    "connections": c,
                    "flask_cpu_s_per_request": flask_cpu,
                    "quart_cpu_s_per_request": quart_cpu,
                    "cpu_ratio": _ratio(quart_cpu, flask_cpu) if quart_cpu and flask_cpu else None,
                    "flask_rps": flask["requests_per_s"],
                    "quart_rps": quart["requests_per_s"],
                    "ratio": _ratio(quart["requests_per_s"], flask["requests_per_s"]),
                    "flask_p99_ms": flask["latency_ms"].get("p99"),
                    "quart_p99_ms": quart["latency_ms"].get("p99"),
                }
            )
    return rows


def _efficiency(document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    servers = document["servers"]
    for point in document["closed_loop"]:
        endpoint = document["endpoints"][point["endpoint"]]
        latency = endpoint.get("upstream_ms")
        if endpoint["kind"] != "io" or not latency:
            continue
        cap = servers[point["server"]]["cap"]
        limit = ceiling(int(point["connections"]), cap, float(latency))
        if limit is None:
            continue
        rows.append(
            {
                "server": point["server"],
                "endpoint": point["endpoint"],
                "connections": point["connections"],
                "cap": cap,
                "ceiling_rps": limit,
                "measured_rps": point["requests_per_s"],
                "efficiency": point["requests_per_s"] / limit,
            }
        )
    return rows


def _floor(index: dict[Any, Any]) -> list[dict[str, Any]]:
    """Each app's CPU per request on the read as a multiple of its own framework's floor, at
    every connection count where both were measured."""
    rows = []
    for (server, endpoint, c), point in sorted(index.items()):
        floor = _FLOOR_OF.get(server)
        if endpoint != "read" or floor is None or (floor, "read", c) not in index:
            continue
        app_cpu = point.get("cpu_s_per_request")
        floor_cpu = index[(floor, "read", c)].get("cpu_s_per_request")
        rows.append(
            {
                "server": server,
                "floor": floor,
                "connections": c,
                "cpu_s_per_request": app_cpu,
                "floor_cpu_s_per_request": floor_cpu,
                "multiple": _ratio(app_cpu, floor_cpu) if app_cpu and floor_cpu else None,
                "requests_per_s": point["requests_per_s"],
                "floor_requests_per_s": index[(floor, "read", c)]["requests_per_s"],
            }
        )
    return rows


def _us(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e6:,.0f} µs"


def _cpu_targets(index: dict[Any, Any]) -> list[dict[str, Any]]:
    targets = []
    levels = sorted(c for (s, e, c) in index if s == QUART and e == "read")
    for c in levels:
        quart = index[(QUART, "read", c)].get("cpu_s_per_request")
        where = f"GET /books/{{id}} at {c} connection{'' if c == 1 else 's'}"
        flask = index.get((FLASK, "read", c), {}).get("cpu_s_per_request")
        if quart and flask:
            ratio = quart / flask
            targets.append(
                {
                    "target": f"{where}: quart_app's CPU per request ≤ "
                    f"{CPU_VS_FLASK_TARGET:g}× legacy_flask's",
                    "value": f"{ratio:.2f}× ({_us(quart)} vs {_us(flask)})",
                    "met": ratio <= CPU_VS_FLASK_TARGET,
                }
            )
        floor = index.get((FLOOR_QUART, "read", c), {}).get("cpu_s_per_request")
        if quart and floor:
            ratio = quart / floor
            targets.append(
                {
                    "target": f"{where}: quart_app's CPU per request ≤ "
                    f"{CPU_VS_FLOOR_TARGET:g}× bare Quart's",
                    "value": f"{ratio:.2f}× ({_us(quart)} vs {_us(floor)})",
                    "met": ratio <= CPU_VS_FLOOR_TARGET,
                }
            )
    return targets


def _targets(index: dict[Any, Any]) -> list[dict[str, Any]]:
    targets = []
    io_c = 200 if (QUART, "avail-50", 200) in index else None
    if io_c is not None:
        flask, quart = index[(FLASK, "avail-50", io_c)], index[(QUART, "avail-50", io_c)]
        ratio = _ratio(quart["requests_per_s"], flask["requests_per_s"]) or 0.0
        p99 = quart["latency_ms"].get("p99", float("inf"))
        targets.append(
            {
                "target": "I/O endpoint, 50 ms upstream, 200 connections: quart_app ≥ 10× "
                "legacy_flask (Waitress, 4 threads)",
                "value": f"{ratio:.1f}×",
                "met": ratio >= 10,
            }
        )
        targets.append(
            {
                "target": "same point: quart_app p99 within 4× the upstream latency (≤ 200 ms)",
                "value": f"{p99:.0f} ms",
                "met": p99 <= 200,
            }
        )
    targets += _cpu_targets(index)
    return targets


def _naive(document: dict[str, Any]) -> dict[str, Any]:
    naive = document["naive"]
    out: dict[str, Any] = {
        "block_ms": naive["block_ms"],
        "background_rate": naive["background_rate"],
    }
    for name, condition in naive["conditions"].items():
        for probe in ("read", "health"):
            target = condition["targets"][probe]
            out[f"{probe}_{name}"] = {
                "p50_ms": target["latency_ms"].get("p50"),
                "p99_ms": target["latency_ms"].get("p99"),
                "max_ms": target["latency_ms"].get("max"),
                "ok_per_s": target["ok_per_s"],
            }
    idle = out.get("read_idle", {}).get("p99_ms") or 0
    blocking = out.get("read_blocking", {}).get("p99_ms") or 0
    out["read_p99_stall_factor"] = blocking / idle if idle else None
    return out


def _generators(document: dict[str, Any]) -> dict[str, Any]:
    """The load generators' own CPU use.

    Open loop: the generator's share of its core over a run (CPU time ÷ wall time, warm-up and
    drain included) divided by the offered thousands of requests/s, at the highest offered rate
    (where fixed costs weigh least); wrk: CPU seconds per 1,000 answered requests.
    """
    shares = [
        (
            p["offered_per_s"],
            p["generator"]["cpu_s"] / p["generator"]["wall_s"],
        )
        for p in document["open_loop"]
        if p["generator"].get("wall_s")
    ]
    peak = max((rate for rate, _share in shares), default=0.0)
    at_peak = [share for rate, share in shares if rate == peak]
    share = statistics.median(at_peak) if at_peak else None
    wrk_costs = []
    for point in document["closed_loop"]:
        for run in point["runs"]:
            if run["requests"] > 0:
                wrk_costs.append(1000 * run["client_cpu_s"] / run["requests"])
    return {
        "openloop_peak_rate": peak,
        "openloop_core_share_at_peak": share,
        "openloop_core_share_per_1000_rps": share * 1000 / peak if share and peak else None,
        "openloop_cpu_s_per_1000_requests": statistics.median(
            p["generator"]["cpu_s_per_1000_requests"]
            for p in document["open_loop"]
            if p["offered_per_s"] == peak
        )
        if peak
        else None,
        "wrk_cpu_s_per_1000_requests": statistics.median(wrk_costs) if wrk_costs else None,
    }


def _fmt_rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _verdict(endpoint: dict[str, Any], rows: Iterable[dict[str, Any]]) -> str:
    parts = []
    for row in rows:
        ratio = row["ratio"]
        c = row["connections"]
        if ratio is None or ratio == 0:
            silent = "legacy_flask" if ratio is None else "quart_app"
            parts.append(f"at {c} connections {silent} completed no request in the run")
            continue
        quart, flask = _fmt_rate(row["quart_rps"]), _fmt_rate(row["flask_rps"])
        if 0.95 <= ratio <= 1.05:
            who = f"they are level ({flask} and {quart} req/s)"
        elif ratio > 1:
            who = f"quart_app serves {ratio:.1f}× legacy_flask's requests/s ({quart} vs {flask})"
        else:
            who = (
                f"legacy_flask serves {1 / ratio:.1f}× quart_app's requests/s ({flask} vs {quart})"
            )
        cpu_ratio = row.get("cpu_ratio")
        if cpu_ratio is not None:
            # CPU per request first: it holds when the machine is shared, requests/s does not.
            cost = (
                f"quart_app uses {cpu_ratio:.2f}× legacy_flask's server CPU per request "
                f"({_us(row['quart_cpu_s_per_request'])} vs {_us(row['flask_cpu_s_per_request'])})"
            )
            who = f"{cost}, and {who}"
        parts.append(f"at {c} connection{'s' if c != 1 else ''} {who}")
    if not parts:
        return ""
    text = "; ".join(parts)
    why = _WHY.get(endpoint["kind"], "")
    if endpoint["kind"] == "io" and not endpoint.get("upstream_ms"):
        why = (
            "with no upstream latency nothing waits long, so this behaves like a CPU-light "
            "read plus one more HTTP round trip on the same core"
        )
    return f"{text[0].upper()}{text[1:]}. Why: {why}."


#: Each other configuration, compared with the one it varies.
_VARIANTS: Final = (
    ("quart-uvloop", QUART, "uvloop instead of asyncio's event loop"),
    ("quart-stage1", QUART, "the legacy SQLAlchemy layer in worker threads instead of Tortoise"),
    ("flask-t32", FLASK, "32 Waitress threads instead of 4"),
)


def _floor_verdicts(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for server, framework in ((FLASK, "bare Flask"), (QUART, "bare Quart")):
        mine = [r for r in rows if r["server"] == server and r["multiple"] is not None]
        if not mine:
            continue
        parts = [
            f"{r['multiple']:.2f}× at {r['connections']} connection"
            f"{'' if r['connections'] == 1 else 's'} ({_us(r['cpu_s_per_request'])} vs "
            f"{_us(r['floor_cpu_s_per_request'])})"
            for r in mine
        ]
        lines.append(
            f"GET /books/{{id}} on {server} costs {framework}'s server CPU per request (the "
            f"framework's floor: one JSON route, no database) times " + "; ".join(parts) + "."
        )
    return lines


def _config_verdicts(document: dict[str, Any], index: dict[Any, Any]) -> list[str]:
    lines = []
    servers = {p["server"] for p in document["closed_loop"]}
    variants = [
        *_VARIANTS,
        *(
            (s, QUART, "several Hypercorn workers")
            for s in sorted(servers)
            if s.startswith("quart-w")
        ),
    ]
    for variant, base, what in variants:
        parts = []
        for endpoint in ("read", "avail-50"):
            levels = sorted(
                c for (s, e, c) in index if s == variant and e == endpoint and (base, e, c) in index
            )
            if not levels:
                continue
            c = 50 if 50 in levels else levels[-1]
            ratio = _ratio(
                index[(variant, endpoint, c)]["requests_per_s"],
                index[(base, endpoint, c)]["requests_per_s"],
            )
            if ratio is not None:
                label = document["endpoints"][endpoint]["label"]
                parts.append(f"{ratio:.2f}× {base}'s requests/s on {label} at {c} connections")
        if parts:
            lines.append(f"{variant} ({what}): " + "; ".join(parts) + ".")
    return lines


def _open_verdicts(document: dict[str, Any]) -> list[str]:
    lines = []
    for endpoint in sorted({p["endpoint"] for p in document["open_loop"]}):
        points = [p for p in document["open_loop"] if p["endpoint"] == endpoint]
        parts = []
        for server in (FLASK, QUART):
            mine = sorted(
                (p for p in points if p["server"] == server), key=lambda p: p["offered_per_s"]
            )
            kept = [
                p
                for p in mine
                if p["ok_per_s"] >= 0.95 * p["offered_per_s"] and not p["unanswered"]
            ]
            if not mine:
                continue
            best = kept[-1] if kept else None
            worst = mine[-1]
            text = (
                f"{server} keeps up to {best['offered_per_s']:g}/s (p99 {best['latency_ms'].get('p99', 0):.0f} ms)"
                if best
                else f"{server} keeps up with none of the rates"
            )
            if worst is not best:
                text += (
                    f", and at {worst['offered_per_s']:g}/s answers {worst['ok_per_s']:.0f}/s "
                    f"with p99 {worst['latency_ms'].get('p99', 0):.0f} ms and "
                    f"{worst['unanswered']} unanswered"
                )
            parts.append(text)
        if parts:
            label = document["endpoints"][endpoint]["label"]
            lines.append(f"{label}, open loop: " + "; ".join(parts) + ".")
    return lines


def _naive_verdict(naive: dict[str, Any]) -> str:
    idle, blocking = naive.get("read_idle"), naive.get("read_blocking")
    asynchronous = naive.get("read_async")
    if not idle or not blocking or not asynchronous:
        return ""
    return (
        f"One view that blocks the loop for {naive['block_ms']:g} ms, {naive['background_rate']:g} "
        f"times a second, raises GET /books/{{id}}'s p99 from {idle['p99_ms']:.0f} ms to "
        f"{blocking['p99_ms']:.0f} ms (max {blocking['max_ms']:.0f} ms), and /health's the same "
        f"way, though neither route blocks; awaiting the same wait leaves the p99 at "
        f"{asynchronous['p99_ms']:.0f} ms. Why: one event loop runs every request of a worker, so "
        "a blocking call stalls them all."
    )


def analyse(document: dict[str, Any]) -> dict[str, Any]:
    """Return the analysis section of the results document (see the module docstring)."""
    index = closed_index(document)
    ratios = _ratios(document, index)
    verdicts = {
        ident: _verdict(endpoint, [r for r in ratios if r["endpoint"] == ident])
        for ident, endpoint in document["endpoints"].items()
    }
    flagged = [
        {
            "server": p["server"],
            "endpoint": p["endpoint"],
            "where": p.get("connections", p.get("offered_per_s")),
            "spread": p.get("spread"),
            "failed": p["failed"],
            "unexpected_errors": p["unexpected_errors"],
            "busy": bool(p.get("busy")),
            "busy_reasons": sorted(
                {reason for run in p["runs"] for reason in run.get("guard", {}).get("reasons", [])}
            ),
        }
        for p in (*document["closed_loop"], *document["open_loop"])
        if p.get("flagged") or p["failed"] or p["unexpected_errors"] or p.get("busy")
    ]
    naive = _naive(document)
    floor = _floor(index)
    return {
        "ratios": ratios,
        "efficiency": _efficiency(document),
        "floor": floor,
        "targets": _targets(index),
        "naive": naive,
        "generators": _generators(document),
        "flagged": flagged,
        "verdicts": verdicts,
        "other_verdicts": [
            *_floor_verdicts(floor),
            *_open_verdicts(document),
            *_config_verdicts(document, index),
            *filter(None, [_naive_verdict(naive)]),
        ],
    }
