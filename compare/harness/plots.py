"""Draw the report's figures with matplotlib (Agg backend, PNG files).

:func:`draw_all` writes every figure into a folder and returns ``{name: (title, path)}``:
throughput and latency against connections per endpoint (with the Little's-law ceiling on the
I/O endpoints), latency against offered rate (open loop), memory against connections, and the
naive migration's stall.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import Final

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.ticker import NullFormatter

from compare.harness.analysis import ceiling

__all__ = ["draw_all"]

_COLORS: Final = {
    "flask-t4": "#1f77b4",
    "quart-asyncio": "#d62728",
    "quart-uvloop": "#ff7f0e",
    "quart-stage1": "#9467bd",
    "quart-naive": "#8c564b",
}
_FALLBACK: Final = ("#2ca02c", "#17becf", "#7f7f7f", "#bcbd22", "#e377c2")
_PERCENTILE_STYLES: Final = (("p50", "o-"), ("p99", "s--"), ("p99.9", "^:"))


def _color(server: str) -> str:
    if server in _COLORS:
        return _COLORS[server]
    return _FALLBACK[sum(map(ord, server)) % len(_FALLBACK)]


def _minor_label(value: float, _pos: int) -> str:
    # Label 2, 3 and 5 of each decade, so that a narrow log axis still has numbers on it.
    text = f"{value:g}"
    return text if text.lstrip("0.")[:1] in ("2", "3", "5") else ""


def _plain(ax: Axes) -> None:
    # Log axes label ticks as 10^3 by default; plain numbers read better in a report.
    plain = FuncFormatter(lambda value, _pos: f"{value:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(NullFormatter())
    if ax.get_yscale() == "log":
        ax.yaxis.set_minor_formatter(FuncFormatter(_minor_label))
    ax.tick_params(which="both", labelsize=7)


def _style_key(ax: Axes) -> None:
    # One legend entry per server (its colour) and one per percentile (its line style).
    for key, style in _PERCENTILE_STYLES:
        ax.plot([], [], style, color="black", ms=3, label=key)


def _grid(count: int) -> tuple[Figure, list[Axes]]:
    cols = min(count, 4)
    rows = (count + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def _series(document: dict[str, Any], endpoint: str) -> dict[str, list[dict[str, Any]]]:
    series: dict[str, list[dict[str, Any]]] = {}
    for point in document["closed_loop"]:
        if point["endpoint"] == endpoint:
            series.setdefault(point["server"], []).append(point)
    for points in series.values():
        points.sort(key=lambda p: p["connections"])
    return series


def _label(document: dict[str, Any], server: str) -> str:
    return str(document["servers"].get(server, {}).get("label", server))


def _finish(fig: Figure, path: Path, title: str) -> None:
    fig.suptitle(title, fontsize=11)
    handles: dict[str, Any] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=False):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles.keys()),
            loc="lower center",
            ncol=min(len(handles), 3),
            fontsize=8,
            frameon=False,
        )
    rows = max(1, round(fig.get_figheight() / 3.4))
    fig.tight_layout(rect=(0, 0.04 + 0.05 * (len(handles) // 3 + 1) / rows, 1, 0.95))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _throughput(document: dict[str, Any], path: Path) -> None:
    endpoints = document["endpoints"]
    fig, axes = _grid(len(endpoints))
    for ax, (ident, endpoint) in zip(axes, endpoints.items(), strict=True):
        for server, points in _series(document, ident).items():
            xs = [p["connections"] for p in points]
            ys = [p["requests_per_s"] for p in points]
            low = [min((r["requests_per_s"] for r in p["runs"]), default=0) for p in points]
            high = [max((r["requests_per_s"] for r in p["runs"]), default=0) for p in points]
            color = _color(server)
            ax.plot(xs, ys, "o-", color=color, label=_label(document, server), ms=4)
            ax.fill_between(xs, low, high, color=color, alpha=0.15, lw=0)
            latency = endpoint.get("upstream_ms")
            if endpoint["kind"] == "io" and latency:
                cap = document["servers"][server]["cap"]
                limits = [ceiling(c, cap, float(latency)) or 0 for c in xs]
                ax.plot(xs, limits, ":", color=color, lw=1, label="Little's-law ceiling (dotted)")
        ax.set_title(endpoint["label"], fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("connections (closed loop)", fontsize=8)
        ax.set_ylabel("requests/s", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        _plain(ax)
    _finish(fig, path, "Throughput against concurrency (median; band: repeats' range)")


def _latency(document: dict[str, Any], path: Path) -> None:
    endpoints = document["endpoints"]
    fig, axes = _grid(len(endpoints))
    for ax, (ident, endpoint) in zip(axes, endpoints.items(), strict=True):
        for server, points in _series(document, ident).items():
            xs = [p["connections"] for p in points]
            color = _color(server)
            for key, style in _PERCENTILE_STYLES:
                ys = [p["latency_ms"].get(key, float("nan")) for p in points]
                label = _label(document, server) if key == "p50" else None
                ax.plot(xs, ys, style, color=color, ms=3, label=label)
        _style_key(ax)
        ax.set_title(endpoint["label"], fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("connections (closed loop)", fontsize=8)
        ax.set_ylabel("latency, ms", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        _plain(ax)
    _finish(fig, path, "Latency percentiles against concurrency (wrk, closed loop)")


def _open_loop(document: dict[str, Any], path: Path) -> None:
    endpoints = sorted({p["endpoint"] for p in document["open_loop"]})
    fig, axes = _grid(max(len(endpoints), 1))
    for ax, ident in zip(axes, endpoints, strict=False):
        servers: dict[str, list[dict[str, Any]]] = {}
        for point in document["open_loop"]:
            if point["endpoint"] == ident:
                servers.setdefault(point["server"], []).append(point)
        for server, points in servers.items():
            points.sort(key=lambda p: p["offered_per_s"])
            xs = [p["offered_per_s"] for p in points]
            color = _color(server)
            for key, style in _PERCENTILE_STYLES:
                ys = [p["latency_ms"].get(key, float("nan")) for p in points]
                label = _label(document, server) if key == "p50" else None
                ax.plot(xs, ys, style, color=color, ms=3, label=label)
            for p in points:
                if p["unanswered"]:
                    ax.annotate(
                        f"{p['unanswered']} unanswered",
                        (p["offered_per_s"], p["latency_ms"].get("p99", 1)),
                        fontsize=6,
                        color=color,
                    )
        _style_key(ax)
        ax.set_title(document["endpoints"][ident]["label"], fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("offered requests/s (constant arrival rate)", fontsize=8)
        ax.set_ylabel("latency from scheduled send, ms", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        _plain(ax)
    _finish(fig, path, "Latency against offered rate (open loop, no coordinated omission)")


def _rss(document: dict[str, Any], path: Path) -> None:
    endpoints = [e for e in ("read", "avail-50") if e in document["endpoints"]]
    fig, axes = _grid(len(endpoints))
    for ax, ident in zip(axes, endpoints, strict=True):
        for server, points in _series(document, ident).items():
            xs = [p["connections"] for p in points]
            ys = [p["rss_peak_bytes"] / 2**20 for p in points]
            ax.plot(xs, ys, "o-", color=_color(server), ms=4, label=_label(document, server))
        ax.set_title(document["endpoints"][ident]["label"], fontsize=9)
        ax.set_xscale("log")
        ax.set_xlabel("connections", fontsize=8)
        ax.set_ylabel("server RSS peak, MiB (process tree)", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        _plain(ax)
    _finish(fig, path, "Server memory against concurrency")


def _naive(document: dict[str, Any], path: Path) -> None:
    naive = document["naive"]
    probes = ("read", "health")
    fig, axes = _grid(len(probes))
    conditions = list(naive["conditions"])
    width = 0.25
    for ax, probe in zip(axes, probes, strict=True):
        for offset, key in enumerate(("p50", "p99", "max")):
            values = [
                naive["conditions"][c]["targets"][probe]["latency_ms"].get(key, 0)
                for c in conditions
            ]
            xs = [i + (offset - 1) * width for i in range(len(conditions))]
            ax.bar(xs, values, width, label=key)
        ax.set_xticks(range(len(conditions)))
        ax.set_xticklabels(
            [
                {"idle": "no other load", "async": "await asyncio.sleep", "blocking": "time.sleep"}[
                    c
                ]
                for c in conditions
            ],
            fontsize=8,
        )
        ax.set_yscale("log")
        ax.set_ylabel("latency, ms (open loop)", fontsize=8)
        ax.set_title(
            f"GET {'/books/{id}' if probe == 'read' else '/health'} at {naive['probe_rate']:g}/s",
            fontsize=9,
        )
        ax.grid(True, axis="y", which="both", alpha=0.3)
        _plain(ax)
    _finish(
        fig,
        path,
        f"Naive migration: another route waits {naive['block_ms']:g} ms, "
        f"{naive['background_rate']:g} times a second",
    )


_FIGURES: Final[dict[str, tuple[str, Callable[[dict[str, Any], Path], None]]]] = {
    "throughput": ("Throughput against concurrency", _throughput),
    "latency": ("Latency against concurrency", _latency),
    "open_loop": ("Latency against offered rate", _open_loop),
    "rss": ("Memory against concurrency", _rss),
    "naive": ("The naive migration's stall", _naive),
}


def draw_all(document: dict[str, Any], folder: Path) -> dict[str, tuple[str, Path]]:
    """Draw every figure into ``folder``; return ``{name: (title, PNG path)}``."""
    drawn: dict[str, tuple[str, Path]] = {}
    for name, (title, draw) in _FIGURES.items():
        path = folder / f"{name}.png"
        draw(document, path)
        drawn[name] = (title, path)
    return drawn
