"""Drive ``wrk`` (the Debian package, 4.x) and read what it reports.

Two ways to read a run:

* :func:`parse_wrk_output` reads the text report that ``wrk --latency`` prints (50/75/90/99 %
  lines, ``Requests/sec:``, the error lines); ``compare.bench_pool`` uses it.
* :func:`lua_script` writes a script whose ``done()`` prints one line, ``HARNESS_RESULT {json}``,
  with the full distribution of wrk's own HDR histogram (microseconds, from 50 % up to 99.99 %
  and the maximum), the error counters of its summary, and the answers by status class counted
  in ``response()``. :func:`parse_lua_result` reads that line into a :class:`WrkRun`.

:func:`run_wrk` runs one wrk process through :func:`compare.harness.child.run_child`: in a
session of its own, with a hard time limit, killed when the harness is interrupted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Final
from typing import Literal

from compare.harness.child import ChildTimeoutError
from compare.harness.child import run_child

__all__ = [
    "LUA_PERCENTILES",
    "WrkFailedError",
    "WrkOutputError",
    "WrkReport",
    "WrkRun",
    "describe",
    "lua_script",
    "parse_lua_result",
    "parse_wrk_output",
    "run_wrk",
    "wrk_argv",
]

#: Percentiles the Lua ``done()`` reads from wrk's histogram.
LUA_PERCENTILES: Final = (50.0, 75.0, 90.0, 99.0, 99.9, 99.99)

# wrk 4.x prints times with the units of src/units.c: us, ms, s, then m and h.
_TIME_UNITS_MS: Final = {"us": 0.001, "ms": 1.0, "s": 1_000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE_RE: Final = re.compile(r"^\s*(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RATE_RE: Final = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_REQUESTS_RE: Final = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_SOCKET_ERRORS_RE: Final = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)
_NON_2XX_RE: Final = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_RESULT_PREFIX: Final = "HARNESS_RESULT "


class WrkOutputError(ValueError):
    """wrk's output lacks a figure the caller reads (requests/s, a percentile, the result line)."""


class WrkFailedError(RuntimeError):
    """wrk exited with an error status or ran past its time limit."""


@dataclass(frozen=True)
class WrkReport:
    """The figures read from one ``wrk --latency`` text report.

    Latencies are in ms; ``requests`` counts the answers received; ``socket_errors`` sums
    connect, read, write errors and timeouts; ``non_2xx`` counts answers with another status.
    """

    requests_per_s: float
    p50_ms: float
    p75_ms: float | None
    p90_ms: float | None
    p99_ms: float
    requests: int
    socket_errors: int
    non_2xx: int


def parse_wrk_output(text: str) -> WrkReport:
    """Read requests/s, the latency distribution and the error counts from wrk's stdout.

    Follows the report format of wrk 4.x run with ``--latency``: a ``Latency Distribution``
    block of ``50%``, ``75%``, ``90%`` and ``99%`` lines, then ``Requests/sec:``. The error
    lines are printed only when there were errors; their absence reads as 0.

    :raises WrkOutputError: if requests/s, the 50% or the 99% line is missing.
    """
    rate = _RATE_RE.search(text)
    if rate is None:
        raise WrkOutputError("no 'Requests/sec:' line in wrk's output")
    percentiles = {
        int(match[1]): float(match[2]) * _TIME_UNITS_MS[match[3]]
        for match in _PERCENTILE_RE.finditer(text)
    }
    for needed in (50, 99):
        if needed not in percentiles:
            raise WrkOutputError(f"no {needed}% latency in wrk's output (was --latency given?)")
    requests = _REQUESTS_RE.search(text)
    socket_errors = _SOCKET_ERRORS_RE.search(text)
    non_2xx = _NON_2XX_RE.search(text)
    return WrkReport(
        requests_per_s=float(rate[1]),
        p50_ms=percentiles[50],
        p75_ms=percentiles.get(75),
        p90_ms=percentiles.get(90),
        p99_ms=percentiles[99],
        requests=0 if requests is None else int(requests[1]),
        socket_errors=0 if socket_errors is None else sum(int(n) for n in socket_errors.groups()),
        non_2xx=0 if non_2xx is None else int(non_2xx[1]),
    )


@dataclass(frozen=True)
class WrkRun:
    """One wrk run read from the Lua result line.

    ``latency_ms`` maps ``"p50"``, ``"p75"``, ``"p90"``, ``"p99"``, ``"p99.9"``, ``"p99.99"``,
    ``"max"`` and ``"mean"`` to milliseconds, over the answered requests (wrk leaves timed-out
    ones out). ``errors`` has wrk's socket counters ``connect``, ``read``, ``write``,
    ``timeout`` and the answers by status: ``status_5xx``, ``status_4xx``.
    """

    duration_s: float
    requests: int
    bytes_read: int
    latency_ms: Mapping[str, float]
    errors: Mapping[str, int]
    statuses: Mapping[str, int]

    @property
    def requests_per_s(self) -> float:
        """Answers per second over the run, errors included (wrk's ``Requests/sec``)."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def ok_per_s(self) -> float:
        """Answers with a status below 400 per second."""
        bad = self.errors.get("status_4xx", 0) + self.errors.get("status_5xx", 0)
        return max(self.requests - bad, 0) / self.duration_s if self.duration_s > 0 else 0.0


def _percentile_key(p: float) -> str:
    return f"p{p:g}"


def parse_lua_result(text: str) -> WrkRun:
    """Read the ``HARNESS_RESULT`` line that :func:`lua_script`'s ``done()`` prints.

    :raises WrkOutputError: when the line is missing or is not the expected JSON object.
    """
    for line in text.splitlines():
        if line.startswith(_RESULT_PREFIX):
            try:
                data = json.loads(line[len(_RESULT_PREFIX) :])
                latency_us: dict[str, float] = data["latency_us"]
                summary_errors: dict[str, int] = data["errors"]
                statuses: dict[str, int] = data["statuses"]
                return WrkRun(
                    duration_s=float(data["duration_us"]) / 1e6,
                    requests=int(data["requests"]),
                    bytes_read=int(data["bytes"]),
                    latency_ms={k: float(v) / 1000 for k, v in latency_us.items()},
                    errors={
                        "connect": int(summary_errors["connect"]),
                        "read": int(summary_errors["read"]),
                        "write": int(summary_errors["write"]),
                        "timeout": int(summary_errors["timeout"]),
                        "status_4xx": int(statuses.get("4xx", 0)),
                        "status_5xx": int(statuses.get("5xx", 0)),
                    },
                    statuses={k: int(v) for k, v in statuses.items()},
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise WrkOutputError(f"unreadable {_RESULT_PREFIX.strip()} line: {exc}") from None
    raise WrkOutputError(f"no {_RESULT_PREFIX.strip()} line in wrk's output")


def _lua_string(text: str) -> str:
    # A Lua string literal: printable ASCII as is, everything else as a decimal escape.
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\' or not 32 <= byte < 127:
            out.append(f"\\{byte}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _lua_table(headers: Mapping[str, str]) -> str:
    return (
        "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"
    )


_LUA_COMMON: Final = """\
-- Counted per status class in every thread; done() adds the threads' counts up.
s2xx, s3xx, s4xx, s5xx = 0, 0, 0, 0
local function count(status)
  if status >= 500 then s5xx = s5xx + 1
  elseif status >= 400 then s4xx = s4xx + 1
  elseif status >= 300 then s3xx = s3xx + 1
  else s2xx = s2xx + 1 end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local classes = {"2xx", "3xx", "4xx", "5xx"}
  local sums = {0, 0, 0, 0}
  for _, thread in ipairs(threads) do
    for i, class in ipairs(classes) do
      sums[i] = sums[i] + (thread:get("s" .. class) or 0)
    end
  end
  local e = summary.errors
  local parts = {}
  for _, p in ipairs(PERCENTILES) do
    table.insert(parts, string.format('"p%s": %d', p[2], latency:percentile(p[1])))
  end
  io.write(string.format(
    'HARNESS_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {"2xx": %d, "3xx": %d, "4xx": %d, "5xx": %d}, ' ..
    '"latency_us": {%s, "max": %d, "min": %d, "mean": %.1f}}\\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    sums[1], sums[2], sums[3], sums[4],
    table.concat(parts, ", "), latency.max, latency.min, latency.mean))
end
"""

_LUA_STATIC: Final = """\
wrk.method = {method}
wrk.path = {path}
wrk.headers = {headers}
{body_line}

function response(status, headers, body)
  count(status)
end
"""

# POST a book, then DELETE the one it created, on whichever connection comes next: the ids wait
# in a per-thread queue. Books created but not yet deleted when the run ends are removed by the
# harness afterwards.
_LUA_WRITE: Final = """\
local post_headers = {headers}
local body = {body}
local pending = {{}}

function request()
  local id = table.remove(pending)
  if id then
    local headers = {{}}
    for k, v in pairs(post_headers) do
      if k ~= "Content-Type" then headers[k] = v end
    end
    return wrk.format("DELETE", {path} .. "/" .. id, headers, nil)
  end
  local headers = {{}}
  for k, v in pairs(post_headers) do headers[k] = v end
  return wrk.format("POST", {path}, headers, body)
end

function response(status, headers, body)
  count(status)
  if status == 201 then
    local location = headers["Location"] or headers["location"]
    local id = location and string.match(location, "(%d+)$")
    if id then table.insert(pending, id) end
  end
end
"""


def lua_script(
    *,
    mode: Literal["static", "write"],
    path: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
) -> str:
    """Return the text of a wrk Lua script for one scenario.

    ``static`` sends the same request every time (``method``, ``path``, ``headers``, ``body``)
    and costs wrk no Lua call per request, only one per answer, to count statuses. ``write``
    alternates ``POST path`` with ``body`` and ``DELETE path/{id}`` of a book the POST created;
    ``headers`` (a session cookie, the content type) go with both.
    """
    percentiles = ", ".join(f'{{{p!r}, "{p:g}"}}' for p in LUA_PERCENTILES)
    head = f"PERCENTILES = {{{percentiles}}}\n"
    table = _lua_table(headers or {})
    if mode == "write":
        specific = _LUA_WRITE.format(
            headers=table, body=_lua_string(body or "{}"), path=_lua_string(path)
        )
    else:
        body_line = "" if body is None else f"wrk.body = {_lua_string(body)}"
        specific = _LUA_STATIC.format(
            method=_lua_string(method), path=_lua_string(path), headers=table, body_line=body_line
        )
    return head + _LUA_COMMON + "\n" + specific


def wrk_argv(
    url: str,
    *,
    connections: int,
    duration_s: float,
    timeout_s: float,
    script: str | None = None,
    threads: int = 1,
    latency: bool = False,
) -> list[str]:
    """Return a wrk command line.

    wrk reads ``-d`` and ``--timeout`` in whole seconds (``src/units.c`` knows no ms), so both
    are rounded up to at least 1 s.
    """
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{max(connections, threads)}",
        f"-d{max(math.ceil(duration_s), 1)}s",
        f"--timeout={max(math.ceil(timeout_s), 1)}s",
    ]
    if script is not None:
        argv += ["-s", script]
    if latency:
        argv.append("--latency")
    return [*argv, url]


def run_wrk(argv: Sequence[str], *, limit_s: float, env: Mapping[str, str] | None = None) -> str:
    """Run wrk, return its stdout; see :func:`compare.harness.child.run_child`.

    :raises WrkFailedError: on a non-zero exit or when ``limit_s`` passes.
    """
    try:
        done = run_child(argv, limit_s=limit_s, env=env)
    except ChildTimeoutError as exc:
        raise WrkFailedError(str(exc)) from None
    if done.returncode != 0:
        raise WrkFailedError(f"wrk exited with status {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def describe(result: WrkRun) -> dict[str, Any]:
    """Return ``result`` as a JSON-ready mapping."""
    return {
        "duration_s": result.duration_s,
        "requests": result.requests,
        "bytes_read": result.bytes_read,
        "requests_per_s": result.requests_per_s,
        "latency_ms": dict(result.latency_ms),
        "errors": dict(result.errors),
        "statuses": dict(result.statuses),
    }
