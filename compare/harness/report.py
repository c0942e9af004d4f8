"""Write a run's results: ``results.json``, the PNG plots, ``report.html`` and ``summary.md``.

The HTML report is self-contained (styles inline, every plot embedded as a ``data:`` URI), so
it can be mailed or attached as one file; the Markdown summary links the PNG files beside it.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from compare.harness import plots
from compare.harness.analysis import FLASK
from compare.harness.analysis import QUART
from compare.harness.analysis import analyse
from compare.harness.scenarios import WAITRESS_CONNECTION_LIMIT

__all__ = [
    "c10k_section",
    "finish",
    "markdown",
    "render_html",
    "scaled_section",
    "write_c10k",
    "write_json",
]

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
.miss { color: #b00; } .met { color: #070; } code { background: #f4f4f4; padding: 0 3px; }
"""


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _us(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e6:,.0f}"


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _range(values: Sequence[float], *, percent: bool = False) -> str:
    if not values:
        return "–"
    low, high = min(values), max(values)
    if percent:
        return f"{low:.0%}–{high:.0%}"
    return f"{low:.2f}–{high:.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _sections(document: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The report's sections as (title, Markdown lines); HTML and Markdown share them."""
    analysis = document["analysis"]
    machine = document["machine"]
    endpoints = document["endpoints"]
    servers = document["servers"]
    sections: list[tuple[str, list[str]]] = []

    ratio_rows = [
        [
            endpoints[r["endpoint"]]["label"],
            str(r["connections"]),
            _us(r.get("flask_cpu_s_per_request")),
            _us(r.get("quart_cpu_s_per_request")),
            _times(r.get("cpu_ratio")),
            _fmt(r["flask_rps"]),
            _fmt(r["quart_rps"]),
            f"{r['ratio']:.2f}×" if r["ratio"] is not None else "–",
            _fmt(r["flask_p99_ms"], 1),
            _fmt(r["quart_p99_ms"], 1),
        ]
        for r in analysis["ratios"]
    ]
    sections.append(
        (
            "Quart/Flask: CPU per request and throughput",
            [
                f"`{FLASK}` is {servers[FLASK]['label']}; `{QUART}` is {servers[QUART]['label']}. "
                "Medians of the repeats. CPU per request: the server process tree's user + "
                "system CPU time (`/proc`) over a run ÷ the requests it answered, in µs; it "
                "barely moves when other work shares the machine, so the verdicts and targets "
                "use it. Throughput ratio = quart_app ÷ legacy_flask requests/s.",
                "",
                *_table(
                    (
                        "endpoint",
                        "connections",
                        "Flask CPU µs/req",
                        "Quart CPU µs/req",
                        "CPU ratio",
                        "Flask req/s",
                        "Quart req/s",
                        "ratio",
                        "Flask p99 ms",
                        "Quart p99 ms",
                    ),
                    ratio_rows,
                ),
            ],
        )
    )
    floor_rows = [
        [
            f"{servers.get(r['server'], {}).get('label', r['server'])}",
            str(r["connections"]),
            _us(r["cpu_s_per_request"]),
            _us(r["floor_cpu_s_per_request"]),
            _times(r["multiple"]),
            _fmt(r["requests_per_s"]),
            _fmt(r["floor_requests_per_s"]),
        ]
        for r in analysis.get("floor", [])
    ]
    sections.append(
        (
            "CPU per request against the framework's floor",
            [
                "GET /books/{id} on each app beside its framework's floor, measured in the same "
                "run on the same server: bare Flask on Waitress (4 threads) and bare Quart on "
                "Hypercorn (one asyncio worker), one JSON route each, no database "
                "(`compare/harness/floor.py`).",
                "",
                *_table(
                    (
                        "app",
                        "connections",
                        "app CPU µs/req",
                        "floor CPU µs/req",
                        "multiple of floor",
                        "app req/s",
                        "floor req/s",
                    ),
                    floor_rows,
                ),
            ],
        )
    )
    target_rows = [
        [t["target"], t["value"], "met" if t["met"] else "missed"] for t in analysis["targets"]
    ]
    sections.append(("Targets", _table(("target", "measured", ""), target_rows)))
    sections.append(
        (
            "Verdicts",
            [
                f"- **{endpoints[ident]['label']}**: {text}"
                for ident, text in analysis["verdicts"].items()
                if text
            ]
            + [f"- {text}" for text in analysis["other_verdicts"]],
        )
    )
    eff_rows = [
        [
            r["server"],
            endpoints[r["endpoint"]]["label"],
            str(r["connections"]),
            "none" if r["cap"] is None else str(r["cap"]),
            _fmt(r["ceiling_rps"]),
            _fmt(r["measured_rps"]),
            f"{r['efficiency']:.0%}",
        ]
        for r in analysis["efficiency"]
    ]
    sections.append(
        (
            "I/O endpoint against the Little's-law ceiling",
            [
                "Ceiling = min(connections, cap) ÷ upstream latency, where the cap is Waitress' "
                f"threads (at most its connection limit, {WAITRESS_CONNECTION_LIMIT}); quart_app has none (its "
                "inventory client's pool has no size limit).",
                "",
                *_table(
                    (
                        "server",
                        "endpoint",
                        "connections",
                        "cap",
                        "ceiling req/s",
                        "req/s",
                        "of ceiling",
                    ),
                    eff_rows,
                ),
            ],
        )
    )
    naive = analysis["naive"]
    naive_rows = []
    for probe in ("read", "health"):
        for condition in ("idle", "async", "blocking"):
            row = naive.get(f"{probe}_{condition}")
            if row:
                naive_rows.append(
                    [
                        f"{probe} / {condition}",
                        _fmt(row["p50_ms"], 1),
                        _fmt(row["p99_ms"], 1),
                        _fmt(row["max_ms"], 1),
                        _fmt(row["ok_per_s"], 1),
                    ]
                )
    factor = naive.get("read_p99_stall_factor")
    sections.append(
        (
            "The naive migration",
            [
                f"quart_app with one extra `async def` view that calls `time.sleep` for "
                f"{naive['block_ms']:g} ms, requested {naive['background_rate']:g} times a second, "
                "while `GET /books/{id}` and `GET /health` are probed open-loop. `async`: the same "
                "wait awaited with `asyncio.sleep`."
                + (
                    f" The blocking view multiplies the read's p99 by {factor:.0f}."
                    if factor
                    else ""
                ),
                "",
                *_table(
                    ("probe / other load", "p50 ms", "p99 ms", "max ms", "answered/s"), naive_rows
                ),
            ],
        )
    )
    gen = analysis["generators"]
    share = gen["openloop_core_share_at_peak"]
    per_1000 = gen["openloop_core_share_per_1000_rps"]
    sections.append(
        (
            "The load generators are not the bottleneck",
            [
                f"- open-loop generator: at its highest offered rate "
                f"({_fmt(gen['openloop_peak_rate'])} requests/s) it used "
                f"{_fmt(None if share is None else share * 100)} % of its core, "
                f"{_fmt(None if per_1000 is None else per_1000 * 100)} % per 1,000 requests/s "
                f"({_fmt(gen['openloop_cpu_s_per_1000_requests'], 3)} CPU-s per 1,000 requests);",
                f"- wrk: {_fmt(gen['wrk_cpu_s_per_1000_requests'], 3)} CPU-s per 1,000 requests "
                "(median over the closed-loop runs).",
            ],
        )
    )
    if "scaled" in document:
        sections.append(scaled_section(document["scaled"], endpoints))
    flagged = analysis["flagged"]
    sections.append(
        (
            "Flagged points",
            [
                f"- {f['server']} {f['endpoint']} at {f['where']}: "
                + ", ".join(
                    filter(
                        None,
                        [
                            f"spread {f['spread']:.0%}"
                            if f["spread"] and f["spread"] > 0.1
                            else "",
                            "no answers" if f["failed"] else "",
                            f"{f['unexpected_errors']} unexpected errors"
                            if f["unexpected_errors"]
                            else "",
                            "busy machine: " + "; ".join(f.get("busy_reasons", []))
                            if f.get("busy")
                            else "",
                        ],
                    )
                )
                for f in flagged
            ]
            or ["None."],
        )
    )
    guarded = [
        run["guard"]
        for p in (*document["closed_loop"], *document["open_loop"])
        for run in (*p["runs"], *p.get("busy_runs", []))
        if "guard" in run
    ]
    repeated = sum(
        len(p.get("busy_runs", [])) for p in (*document["closed_loop"], *document["open_loop"])
    )
    busy_points = sum(
        1 for p in (*document["closed_loop"], *document["open_loop"]) if p.get("busy")
    )
    settings = document["settings"]
    sections.append(
        (
            "Quiet-machine guard",
            [
                "Around every run the harness reads the load average and `/proc/stat`; a run is "
                "busy when other processes used more than "
                f"{settings.get('busy_other_share', 0):.0%} of the machine's CPU time during it, "
                f"or the hypervisor stole more than {settings.get('busy_steal_share', 0):.0%}. "
                f"A busy run is measured again, at most {settings.get('busy_repeats', 0)} times a "
                "point while the time budget allows; a point still busy is marked above.",
                "",
                f"- runs: {len(guarded)}; busy runs measured again: {repeated}; points left "
                f"busy: {busy_points};",
                "- other processes' share of the CPU time: "
                + _range([g["other_share"] for g in guarded], percent=True)
                + "; stolen: "
                + _range([g["steal_share"] for g in guarded], percent=True)
                + "; 1-minute load average: "
                + _range([x for g in guarded for x in (g["load_before"][0], g["load_after"][0])])
                + ".",
            ],
        )
    )
    if "c10k" in document:
        sections.append(c10k_section(document["c10k"]))
    placement = document["placement"]
    sections.append(
        (
            "Machine and method",
            [
                f"- {machine['cpu_model']}, {machine['cpu_count']} CPUs, "
                f"{machine['memory_bytes'] / 2**30:.0f} GiB; Linux {machine['kernel']}; "
                f"Python {machine['python']}; load average at start "
                f"{' '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}.",
                f"- Placement: {placement['description']}; the inventory stand-in shares the "
                "load generator's CPU.",
                f"- Mode `{document['mode']}`, {document['elapsed_s']:.0f} s; closed loop: wrk, "
                f"1 thread, {document['settings']['duration_s']} s per run after a "
                f"{document['settings']['warmup_s']} s warm-up, headline points "
                f"{document['settings']['repeats']}×; open loop: "
                f"{document['settings']['open_duration_s']:g} s per rate.",
                "- Versions: "
                + ", ".join(f"{k} {v}" for k, v in document["versions"].items())
                + ".",
            ],
        )
    )
    return sections


def scaled_section(scaled: dict[str, Any], endpoints: dict[str, Any]) -> tuple[str, list[str]]:
    """The scaled scenario's section (title, Markdown lines) of a results document."""
    n = scaled["backends"]
    cores = scaled["cpu_count"]
    rows = []
    for point in scaled["points"]:
        one = point.get("one_process") or {}
        app = scaled["apps"].get(point["server"], {}).get("label", point["server"])
        rows.append(
            [
                app,
                endpoints[point["endpoint"]]["label"],
                str(point["connections"]),
                _fmt(point["requests_per_s"]) + (" (busy)" if point["busy"] else ""),
                _fmt(point["latency_ms"].get("p50"), 1),
                _fmt(point["latency_ms"].get("p99"), 1),
                _us(point["backends_cpu_s_per_request"]),
                _us(point["balancer_cpu_s_per_request"]),
                " / ".join(f"{b['answered']:,}" for b in point["per_backend"].values()),
                _fmt(one.get("requests_per_s")),
                _us(one.get("cpu_s_per_request")),
            ]
        )
    loads = [x for point in scaled["points"] for x in point["load_average"]]
    where = (
        f"wrk is pinned to one CPU and the backends and HAProxy may use CPUs "
        f"{', '.join(map(str, scaled['cpus']))}"
        if scaled["cpus"]
        else "nothing is pinned"
    )
    lines = [
        f"{n} processes of each app behind HAProxy (`compare/haproxy.cfg`, round robin; "
        f"{scaled['balancer']['version']}), one app at a time, every backend on one shared "
        f"{'PostgreSQL' if scaled['database'] == 'postgresql' else 'SQLite'} database; wrk "
        "drives the balancer. Each legacy_flask backend is Waitress with 4 threads, each "
        "quart_app backend Hypercorn with one asyncio worker, as in the single-process points.",
        "",
        f"**This machine has {cores} CPU{'s' if cores != 1 else ''}**: {where}, so the load "
        "generator, the balancer and the backends share them. Where one process already fills "
        f"a core, {n} processes cannot give {n}× its throughput: the other core also runs wrk "
        "and HAProxy. CPU per request is what carries over to a bigger machine.",
        "",
        "CPU per request: the user + system CPU time of every backend's process tree, summed, "
        "÷ the requests answered, in µs; the balancer's own CPU time separately. Answers per "
        "backend: from HAProxy's statistics, over the point's runs. One process: the "
        "single-process point of the same run at the same connections (pinned to one CPU, wrk "
        "on the other).",
        "",
        *_table(
            (
                "app",
                "endpoint",
                "connections",
                "req/s",
                "p50 ms",
                "p99 ms",
                "backends CPU µs/req",
                "balancer CPU µs/req",
                "answers per backend",
                "one process req/s",
                "one process CPU µs/req",
            ),
            rows,
        ),
        "",
        f"- 1-minute load average during these runs: {_range(loads)}.",
    ]
    return f"Scaled: {n} processes behind HAProxy", lines


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items())) or "0"


def _answered(http: dict[str, Any]) -> str:
    """How many of a c10k HTTP section's active requests were answered, and why not the rest."""
    errors = http.get("errors", {})
    closed = errors.get("active_ConnectionResetError", 0)
    none_left = errors.get("active_no_idle_connection", 0)
    return (
        f"{http.get('answered', 0):,} of its {http.get('scheduled', 0):,} active requests were "
        f"answered, {closed:,} found their held connection closed by the server, and "
        f"{none_left:,} found no held connection left (the latencies are the answered ones')."
    )


def c10k_section(doc: dict[str, Any]) -> tuple[str, list[str]]:
    """The ``python -m compare c10k`` section (title, Markdown lines) of a ``c10k.json``."""
    n = doc["connections"]
    ws = doc["websocket"]
    rows = [
        [
            "WebSocket /ws/events, fan-out of a write",
            "quart_app · Hypercorn asyncio, 1 worker",
            f"{n:,}",
            f"{ws['held']:,}",
            _errors(ws["errors"]),
            _fmt(ws["fanout_ms"].get("p50"), 1),
            _fmt(ws["fanout_ms"].get("p99"), 1),
            _fmt(ws["rss_per_connection_kib"], 1),
            _fmt(ws["server_cpu_s"], 2),
        ]
    ]
    for app, label in (
        ("quart_app", "quart_app · Hypercorn asyncio, 1 worker"),
        ("legacy_flask", "legacy_flask · Waitress 4 threads"),
    ):
        http = doc["http"].get(app)
        if http is None:
            continue
        rows.append(
            [
                f"keep-alive HTTP, {http['rate_per_s']:g} req/s active on GET /books/{{id}}",
                label,
                f"{n:,}",
                f"{http['held']:,}",
                _errors(http["errors"]),
                _fmt(http["latency_ms"].get("p50"), 1),
                _fmt(http["latency_ms"].get("p99"), 1),
                _fmt(http["rss_per_connection_kib"], 1),
                _fmt(http["server_cpu_s"], 2),
            ]
        )
    writes = "; ".join(
        f"{w.get('reached', 0):,} reached, the 2xx after {w.get('response_ms', 0):.0f} ms, the "
        f"last subscriber {w.get('last_from_send_ms', 0):.0f} ms after the write was sent"
        for w in ws["writes"]
    )
    from_send = ws.get("fanout_from_send_ms", {})
    flask_http = doc["http"].get("legacy_flask", {})
    settings = doc["settings"]
    guards = [doc["websocket"]["guard"], *(h["guard"] for h in doc["http"].values())]
    lines = [
        f"{n:,} clients held by one server process, pinned to one CPU, from a client process "
        "pinned to the other (`python -m compare c10k`). Fan-out: the time from a write's 2xx "
        "(`POST /books`) to each subscriber's receipt of its `book.created` event, read on the "
        "client's clock, so the client's own work is included. RSS per connection: the server "
        "process tree's resident memory with every connection held, minus before, ÷ held.",
        "",
        *_table(
            (
                "section",
                "server",
                "connections",
                "held",
                "errors",
                "p50 ms",
                "p99 ms",
                "RSS KiB/conn",
                "server CPU s",
            ),
            rows,
        ),
        "",
        f"- Writes: {writes}. Measured from the write's sending instead of its 2xx, the "
        f"fan-out's p50 is {_fmt(from_send.get('p50'), 1)} ms and its p99 "
        f"{_fmt(from_send.get('p99'), 1)} ms (quart_app queues the event before it answers, so "
        "subscribers may receive it before the 2xx arrives; those count 0 above).",
        f"- legacy_flask: Waitress accepts at most {settings['waitress_connection_limit']} "
        f"connections (`connection_limit`); {flask_http.get('held', 0):,} were answered and held, "
        f"{flask_http.get('unanswered_held', 0):,} connected but unanswered (left in the "
        "kernel's accept queue), the rest could not connect before "
        f"{settings['http_open_timeout_s']['legacy_flask']:g} s. Waitress closes a connection "
        f"idle for {settings.get('waitress_channel_timeout_s', '?')} s (`channel_timeout`): "
        f"{_answered(flask_http)}",
        f"- quart_app's subscriber cap (`{settings['subscriber_cap']['EVENTS_MAX_SUBSCRIBERS']:,}` "
        f"through `{settings['subscriber_cap']['set_through']}`, "
        "`compare/harness/c10k_app.py`) and Hypercorn's keep-alive "
        f"({settings['hypercorn_keep_alive_s']} s) are raised for the run; the open-file limit "
        f"of the harness is {doc['open_files_limit']:,}.",
        "- Machine: load average at start "
        + " ".join(f"{x:.2f}" for x in doc["machine"]["load_average_at_start"])
        + ", at end "
        + " ".join(f"{x:.2f}" for x in doc["machine"].get("load_average_at_end", []))
        + "; other processes' share of the CPU time per section "
        + ", ".join(f"{g['other_share']:.0%}" for g in guards)
        + (" (busy)" if any(g["busy"] for g in guards) else "")
        + f"; {doc['elapsed_s']:.0f} s in all.",
        "",
        *_table(
            ("target", "measured", ""),
            [[t["target"], t["value"], "met" if t["met"] else "missed"] for t in doc["targets"]],
        ),
    ]
    return "Many clients on one worker (c10k)", lines


def write_c10k(doc: dict[str, Any], out: Path) -> None:
    """Write ``c10k.json``, and its section alone as ``c10k.html`` and ``c10k.md``, to ``out``."""
    (out / "c10k.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    title, lines = c10k_section(doc)
    (out / "c10k.md").write_text("\n".join([f"# {title}", "", *lines, ""]))
    (out / "c10k.html").write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n{_lines_to_html(lines)}\n</body></html>\n"
    )


def _inline(text: str) -> str:
    # The few Markdown marks the sections use: `code` and **bold**.
    out = html.escape(text)
    parts = out.split("`")
    out = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = out.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def _lines_to_html(lines: list[str]) -> str:
    out: list[str] = []
    table: list[list[str]] = []
    items: list[str] = []

    def flush() -> None:
        if table:
            head, *body = table
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>")
            out.extend(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body
            )
            out.append("</table>")
            table.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in lines:
        if line.startswith("|"):
            if not line.startswith("|---"):
                table.append([c.strip() for c in line.strip("|").split(" | ")])
            continue
        if line.startswith("- "):
            items.append(line[2:])
            continue
        flush()
        if line:
            out.append(f"<p>{_inline(line)}</p>")
    flush()
    return "\n".join(out)


def render_html(document: dict[str, Any], figures: dict[str, tuple[str, Path]]) -> str:
    """Return the self-contained HTML report."""
    body = [f"<h1>Flask → Quart: load comparison ({html.escape(document['mode'])} run)</h1>"]
    for title, lines in _sections(document):
        body.append(f"<h2>{html.escape(title)}</h2>")
        body.append(_lines_to_html(lines))
    body.append("<h2>Plots</h2>")
    for name, (title, path) in figures.items():
        data = base64.b64encode(path.read_bytes()).decode()
        body.append(
            f'<figure id="plot-{name}"><img alt="{html.escape(title)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(title)}'
            "</figcaption></figure>"
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Flask → Quart load comparison</title><style>{_STYLE}</style></head>"
        f"<body>\n{chr(10).join(body)}\n</body></html>\n"
    )


def markdown(document: dict[str, Any], figures: dict[str, tuple[str, Path]]) -> str:
    """Return the Markdown summary; plots are linked by file name."""
    lines = [f"# Flask → Quart: load comparison ({document['mode']} run)", ""]
    for title, section in _sections(document):
        lines += [f"## {title}", "", *section, ""]
    lines += ["## Plots", ""]
    for _name, (title, path) in figures.items():
        lines += [f"![{title}]({path.name})", ""]
    return "\n".join(lines)


def finish(document: dict[str, Any], out: Path) -> None:
    """Analyse ``document``, draw the plots, and write every output file into ``out``.

    A ``c10k.json`` already in ``out`` (``python -m compare c10k``) adds its section.
    """
    document["analysis"] = analyse(document)
    c10k = out / "c10k.json"
    if c10k.exists():
        document["c10k"] = json.loads(c10k.read_text())
    figures = plots.draw_all(document, out)
    document["plots"] = {name: path.name for name, (_title, path) in figures.items()}
    write_json(document, out)
    (out / "report.html").write_text(render_html(document, figures))
    (out / "summary.md").write_text(markdown(document, figures))


def write_json(document: dict[str, Any], out: Path) -> None:
    """Write ``document`` to ``out/results.json``."""
    (out / "results.json").write_text(json.dumps(document, indent=1, default=str) + "\n")
