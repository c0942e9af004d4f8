"""The whole-run pass: which functions become async, and which run on the loop.

Input is every file's :class:`~migrate.checker.model.FileResult`. The pass

1. collects the roots that must become ``async def`` (QM301–QM304, QM306),
2. spreads async-ness to every caller, transitively (QM305), and asks for
   ``await`` at each call of a function that becomes async (QM307),
3. marks as *on the event loop* every ``async def``, every function that becomes
   async, and every sync function they call (transitively, through the same
   call graph), leaving out code that serves no request (see :func:`_on_loop`),
   and reports the blocking calls found in those (QM4xx), and those of the app
   factory's start-up work (QM214).

How far calls are followed is described in
:data:`migrate.checker.catalog.asyncfuncs.PROPAGATION`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from migrate.checker import blocking
from migrate.checker import rules
from migrate.checker.model import CallSite
from migrate.checker.model import FileResult
from migrate.checker.model import Finding
from migrate.checker.model import FuncSummary
from migrate.checker.model import Span


class _Graph:
    def __init__(self, results: Sequence[FileResult]) -> None:
        self.funcs: dict[str, FuncSummary] = {}
        self.exports: dict[str, dict[str, str]] = {}
        self.module_tags: dict[str, str] = {}
        # Fixture name → the class it returns; a name two fixtures give different classes
        # (several conftest files) is dropped.
        fixtures: dict[str, str | None] = {}
        for result in results:
            for name, made in result.fixtures.items():
                fixtures[name] = made if fixtures.get(name, made) == made else None
        self.fixtures = {name: made for name, made in fixtures.items() if made is not None}
        self.uses_sqlalchemy = any(result.uses_sqlalchemy for result in results)
        self.thread_entries = [name for result in results for name in result.thread_entries]
        for result in results:
            self.exports[result.module] = result.exports
            for name, tag in result.module_tags.items():
                self.module_tags[f"{result.module}.{name}"] = tag
            for func in result.functions:
                self.funcs.setdefault(func.qualname, func)

    def lookup(self, name: str | None) -> str | None:
        if name is not None and name.startswith("fixture:"):
            fixture, _, method = name.removeprefix("fixture:").partition(".")
            made = self.fixtures.get(fixture)
            name = f"{made}.{method}" if made is not None else None
        # Follow package re-exports: ``pkg.get_db`` → ``pkg.db.get_db``.
        for _ in range(8):
            if name is None or name in self.funcs:
                return name
            module, _, attr = name.rpartition(".")
            name = self.exports.get(module, {}).get(attr)
        return None

    def tag(self, key: str, depth: int = 0) -> str | None:
        """Resolve a pending tag (``call:q`` or ``var:q``) to a rule code."""
        kind, _, name = key.partition(":")
        if depth > 8 or kind == "orm":
            return None
        if kind == "var":
            for _ in range(8):
                if name in self.module_tags:
                    return self._settle(self.module_tags[name], depth)
                module, _, attr = name.rpartition(".")
                nxt = self.exports.get(module, {}).get(attr)
                if nxt is None:
                    return None
                name = nxt
            return None
        target = self.lookup(name)
        returns = self.funcs[target].returns_tag if target else None
        return self._settle(returns, depth) if returns else None

    def _settle(self, tag: str, depth: int) -> str | None:
        if tag.startswith(("call:", "var:")):
            return self.tag(tag, depth + 1)
        return tag if tag.startswith("QM4") else None


def _dunder(name: str) -> bool:
    # ``__init__`` and the other special methods are called by Python, never awaited:
    # they cannot become ``async def`` (``__aenter__`` and friends are already async).
    return name.startswith("__") and name.endswith("__")


def _finding(path: str, span: Span, code: str, **fields: str) -> Finding:
    message = rules.get(code).format(**fields)
    return Finding(path, span.line, span.col, code, message, span.end_line, span.end_col)


def _roots(graph: _Graph, results: Sequence[FileResult]) -> dict[str, tuple[str, dict[str, str]]]:
    roots: dict[str, tuple[str, dict[str, str]]] = {}
    for result in results:
        for name, kind, code in result.registered:
            target = graph.lookup(name)
            if target and not graph.funcs[target].root:
                graph.funcs[target].root, graph.funcs[target].root_code = kind, code
    decorators = {graph.lookup(n) for r in results for n in r.view_decorators} - {None}
    for func in graph.funcs.values():
        if func.is_async or func.off_loop or _dunder(func.name):
            continue
        parent = func.qualname.rpartition(".")[0]
        if func.root_code:
            roots[func.qualname] = (func.root_code, {"name": func.name})
        elif func.param_calls and parent in decorators:
            fields = {"name": func.name, "decorator": parent.rpartition(".")[2]}
            roots[func.qualname] = ("QM304", fields)
        elif func.param_calls and parent.rpartition(".")[0] in decorators:
            # A decorator factory, ``@admin_required("x")``: the wrapper is two levels down.
            factory = parent.rpartition(".")[0]
            fields = {"name": func.name, "decorator": factory.rpartition(".")[2]}
            roots[func.qualname] = ("QM304", fields)
        elif func.awaits:
            what, line = func.awaits[0]
            fields = {"name": func.name, "what": f"`{what}`", "line": str(line)}
            roots[func.qualname] = ("QM306", fields)
    return roots


def _spread(
    graph: _Graph,
    becomes: dict[str, tuple[str, dict[str, str]]],
    callers: dict[str, list[FuncSummary]],
    queue: deque[str],
) -> None:
    while queue:
        callee = queue.popleft()
        for caller in callers.get(callee, ()):
            name = caller.qualname
            if (
                caller.is_async
                or caller.off_loop
                or caller.stays_sync
                or name in becomes
                or _dunder(caller.name)
            ):
                continue
            becomes[name] = ("QM305", {"name": caller.name, "callee": callee.rpartition(".")[2]})
            queue.append(name)


def _outside_requests(graph: _Graph, becomes: dict[str, tuple[str, dict[str, str]]]) -> set[str]:
    """Return the functions that become async only for a context of their own.

    A function that pushes its own app context (``with app.app_context()``) runs
    outside any request: in a CLI command, a script, a worker thread. Once async
    it runs under its own ``asyncio.run``, not on the server's loop; so do the
    functions that become async only because they call such functions.
    """
    outside = {
        q
        for q, (code, _) in becomes.items()
        if code == "QM306" and graph.funcs[q].context_awaits == len(graph.funcs[q].awaits)
    }
    callers = [q for q, (code, _) in becomes.items() if code == "QM305"]
    changed = True
    while changed:
        changed = False
        for name in callers:
            if name in outside:
                continue
            targets = {graph.lookup(s.callee) for s in graph.funcs[name].calls if not s.startup}
            reasons = (targets & becomes.keys()) - {name}
            if reasons and reasons <= outside:
                outside.add(name)
                changed = True
    return outside


def _reach(graph: _Graph, starts: set[str]) -> set[str]:
    # ``starts`` and every sync function they call, transitively. A generator's body
    # runs when it is iterated (Quart iterates a sync generator in a thread), not when
    # it is called; an ``async def`` is on the loop by itself.
    reached = set(starts)
    queue = deque(starts)
    while queue:
        func = graph.funcs[queue.popleft()]
        for site in func.calls:
            target = graph.lookup(site.callee)
            if target is None or target in reached:
                continue
            callee = graph.funcs[target]
            if callee.is_generator or callee.off_loop or callee.is_async:
                continue
            reached.add(target)
            queue.append(target)
    return reached


def _startup_calls(graph: _Graph) -> set[str]:
    # Start-up work (QM214) runs in a ``before_serving`` function, on the loop.
    out = set()
    for func in graph.funcs.values():
        if func.in_test or func.off_loop:
            continue
        for site in func.calls:
            target = graph.lookup(site.callee) if site.startup else None
            callee = graph.funcs[target] if target else None
            if callee and not (callee.is_generator or callee.off_loop or callee.in_test):
                out.add(callee.qualname)
    return out


def _on_loop(graph: _Graph, becomes: dict[str, tuple[str, dict[str, str]]]) -> set[str]:
    """Return the functions that run on the server's event loop.

    Every ``async def`` and every function that becomes async, except (1) test
    code, (2) functions that become async only for a context of their own (see
    :func:`_outside_requests`) and (3) callers that become async but are reached
    only from a thread's entry point (``Thread.run``, ``Thread(target=f)``), not
    from a view, hook or handler; then every sync function those call.
    """
    outside = _outside_requests(graph, becomes)
    served = {
        q
        for q, f in graph.funcs.items()
        if (f.is_async or (q in becomes and becomes[q][0] not in ("QM305", "QM309")))
        and not f.off_loop
        and not f.in_test
        and q not in outside
    }
    startup = _startup_calls(graph)
    threads = {t for t in map(graph.lookup, graph.thread_entries) if t is not None}
    thread_only = _reach(graph, threads) - _reach(graph, served | startup)
    seeds = {
        q
        for q, f in graph.funcs.items()
        if (f.is_async or q in becomes)
        and not f.off_loop
        and not f.in_test
        and q not in outside
        and q not in thread_only
    }
    return _reach(graph, seeds | startup)


def _blocking_of(graph: _Graph, func: FuncSummary, startup: bool = False) -> list[Finding]:
    out = list(func.startup_blocking if startup else func.blocking)
    for pending in func.startup_pending if startup else func.pending:
        code = graph.tag(pending.callee)
        if code is None and pending.fallback is not None:
            code = graph.tag(pending.fallback)
        if code is None and pending.orm and graph.uses_sqlalchemy:
            code = "QM416"
        if code is not None and blocking.reported(code, pending.text.rpartition(".")[2]):
            fields = blocking.fields(code, pending.text)
            out.append(_finding(func.path, pending.span, code, **fields))
    return sorted(out)


def _mark_thread_only(graph: _Graph, results: Sequence[FileResult]) -> None:
    # A function handed to a worker thread (``run_sync(f)``, ``pool.run(f, ...)``) and
    # called nowhere directly runs off the loop: it neither becomes async nor spreads.
    handed = {graph.lookup(name) for r in results for name in r.thread_refs} - {None}
    if not handed:
        return
    called = {graph.lookup(s.callee) for f in graph.funcs.values() for s in f.calls}
    for name in handed - called:
        assert name is not None
        graph.funcs[name].off_loop = True


def propagate(results: Sequence[FileResult]) -> list[Finding]:
    """Return the QM3xx and QM4xx findings that need the whole run; see the module doc."""
    graph = _Graph(results)
    _mark_thread_only(graph, results)
    becomes = _roots(graph, results)
    callers: dict[str, list[FuncSummary]] = {}
    for func in graph.funcs.values():
        for site in func.calls:
            target = graph.lookup(site.callee)
            # A start-up call moves into its own async function (QM214): it makes
            # that function async, not the factory it was written in.
            if target is not None and target != func.qualname and not site.startup:
                callers.setdefault(target, []).append(func)
    queue = deque(becomes)
    blocked: dict[str, list[Finding]] = {}
    while True:
        _spread(graph, becomes, callers, queue)
        on_loop = _on_loop(graph, becomes)
        for name in on_loop - blocked.keys():
            blocked[name] = _blocking_of(graph, graph.funcs[name])
        # A sync function whose blocking call gets fixed gains an ``await``: it
        # becomes async too, and so do its callers (until nothing changes).
        new = [
            q
            for q in on_loop
            if blocked[q]
            and q not in becomes
            and not graph.funcs[q].is_async
            and not graph.funcs[q].stays_sync
            and not _dunder(graph.funcs[q].name)
        ]
        if not new:
            break
        for name in sorted(new):
            first = blocked[name][0]
            call = blocking.call_text(first)
            fields = {"name": graph.funcs[name].name, "call": call, "line": str(first.line)}
            becomes[name] = ("QM309", fields)
            queue.append(name)
    findings = [
        _finding(graph.funcs[q].path, graph.funcs[q].span, code, **fields)
        for q, (code, fields) in becomes.items()
    ]
    findings += _unawaited(graph, becomes)
    findings += [f for name in on_loop for f in blocked[name]]
    findings += [f for func in graph.funcs.values() for f in _blocking_of(graph, func, True)]
    return findings


def _unawaited(graph: _Graph, becomes: dict[str, tuple[str, dict[str, str]]]) -> list[Finding]:
    out = []
    for func in graph.funcs.values():
        if func.off_loop:
            continue
        sites: list[CallSite] = [
            s for s in func.calls if not s.awaited and graph.lookup(s.callee) in becomes
        ]
        if func.qualname in becomes and becomes[func.qualname][0] == "QM304":
            sites += [s for s in func.param_calls if not s.awaited]
        out += [_finding(func.path, s.span, "QM307", callee=s.text) for s in sites]
    return out
