"""Which functions the fixes keep sync, run-wide: helpers that block, cached ones, entry points.

The checker reports every sync function on the event loop that blocks (QM309) and every
caller of a function that becomes async (QM305). Making such a helper ``async def``
helps only when its blocking calls get an async form too (``time.sleep``, sqlite3 →
aiosqlite, a call moved to ``run_sync`` inside it); around a SQLAlchemy ``Session`` or an
``httpx.Client`` the body would still block. So the fixes keep these sync:

* a QM309 function with a blocking call no fix makes async (QM416, QM403, ...), or any
  decorator (``functools.cache`` would cache the coroutine, which can be awaited once);
* a QM305 function each of whose reasons to become async is a function kept sync.

Their callers in async code call them in the worker pool, ``await run_sync(f)(...)``
(Quart's ``run_sync`` copies the context, so ``g`` and ``current_app`` work there), and
the checker sees them off the loop afterwards. A function called from module level
(``raise SystemExit(main())``, an ``if __name__ == "__main__":`` block) is an entry
point: it stays sync, and runs the async functions it calls with ``asyncio.run``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from migrate.checker import callgraph
from migrate.checker.fixers.base import FUNCS
from migrate.checker.fixers.base import Source
from migrate.checker.model import FileResult
from migrate.checker.model import Finding

#: Blocking calls whose fix makes the function around them async and non-blocking.
ASYNC_FIXABLE = frozenset({"QM401", "QM404", "QM405", "QM407", "QM409", "QM414", "QM415"})
BECOMING = frozenset({"QM301", "QM302", "QM303", "QM304", "QM305", "QM306", "QM309"})


@dataclass(frozen=True)
class Plan:
    """Run-wide decisions the file fixers read (see the module docstring).

    ``kept`` holds the qualnames of the functions kept sync and ``kept_defs`` their
    ``(path, def line)``; ``entries`` the qualnames of entry points and ``entry_defs``
    theirs; ``becoming`` the qualnames of the functions that do become async, and
    ``unsafe_async`` those of them that only an unsafe fix makes async (QM309: the fix of
    a blocking call in their body), whose calls are awaited by an unsafe fix too.
    """

    kept: frozenset[str] = field(default_factory=frozenset)
    kept_defs: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    entries: frozenset[str] = field(default_factory=frozenset)
    entry_defs: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    becoming: frozenset[str] = field(default_factory=frozenset)
    unsafe_async: frozenset[str] = field(default_factory=frozenset)


def _decorated(lines: list[str], line: int) -> bool:
    # The line above a ``def`` holds its last decorator, if it has any.
    return 1 < line <= len(lines) and lines[line - 2].lstrip().startswith("@")


def _module_calls(src: Source) -> Iterable[str]:
    """Yield what the module-level statements of ``src`` call (``main`` in ``main()``)."""
    pending: list[ast.AST] = [s for s in src.tree.body if not isinstance(s, (*FUNCS, ast.ClassDef))]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Call) and (name := src.symbols.resolve(node.func)):
            yield name
        if not isinstance(node, (*FUNCS, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))


def _callees(graph: callgraph._Graph, name: str, codes: dict[str, str]) -> set[str]:
    found = {graph.lookup(site.callee) for site in graph.funcs[name].calls}
    return {n for n in found if n is not None and n in codes and n != name}


def _settle(graph: callgraph._Graph, codes: dict[str, str], base: set[str]) -> set[str]:
    """Return ``base`` grown until it is closed, minus functions that cannot stay sync.

    A QM305 function whose every reason to become async stays sync stays sync too; a
    function kept sync keeps the QM305/QM309 functions it calls sync (it could not await
    them); one that calls a function that must be async (a view, a QM306 function) cannot
    stay sync, and with it go the functions kept for its sake.
    """
    forbidden: set[str] = set()
    while True:
        kept = set(base) - forbidden
        changed = True
        while changed:
            changed = False
            for name, code in codes.items():
                if name in kept or name in forbidden:
                    continue
                reasons = _callees(graph, name, codes)
                if code == "QM305" and reasons and reasons <= kept:
                    kept.add(name)
                    changed = True
            for name in list(kept):
                for callee in _callees(graph, name, codes) - kept:
                    if codes[callee] in ("QM305", "QM309") and callee not in forbidden:
                        kept.add(callee)
                        changed = True
        conflicts = {
            name
            for name in kept
            if any(callee not in kept for callee in _callees(graph, name, codes))
        }
        if not conflicts:
            return kept
        forbidden |= conflicts


def make(
    results: Sequence[FileResult],
    findings: Sequence[Finding],
    source: Callable[[str], Source | None],
    text: Callable[[str], str | None],
    entry_paths: Iterable[str],
) -> Plan:
    """Return the plan of a run from its results and findings.

    ``source`` and ``text`` give a file's parsed tree and text by path (a file is parsed
    only where a QM309 function may hold a blocking call no fix makes async);
    ``entry_paths`` are the files whose module-level calls may name entry points.
    """
    graph = callgraph._Graph(results)
    by_def = {(f.path, f.span.line): q for q, f in graph.funcs.items()}
    codes: dict[str, str] = {}
    for finding in findings:
        name = by_def.get((finding.path, finding.line))
        if finding.code in BECOMING and name is not None:
            codes.setdefault(name, finding.code)
    blocking: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.code.startswith("QM4") and finding.code not in ASYNC_FIXABLE:
            blocking.setdefault(finding.path, []).append(finding)
    lines: dict[str, list[str]] = {}
    base = set()
    for name, code in codes.items():
        func = graph.funcs[name]
        if func.path not in lines:
            lines[func.path] = (text(func.path) or "").splitlines()
        if code in ("QM305", "QM309") and _decorated(lines[func.path], func.span.line):
            base.add(name)
        elif code == "QM309" and func.path in blocking:
            src = source(func.path)
            node = src.defs.get(func.span.line) if src is not None else None
            end = (node.end_lineno or node.lineno) if node is not None else func.span.line
            if any(func.span.line < f.line <= end for f in blocking[func.path]):
                base.add(name)
    kept = _settle(graph, codes, base)
    sources = [src for path in entry_paths if (src := source(path)) is not None]
    called = {graph.lookup(n) for src in sources for n in _module_calls(src)}
    entries = {n for n in called if n is not None and n in codes and n not in kept}
    entries = {n for n in entries if codes[n] == "QM305"}
    return Plan(
        kept=frozenset(kept),
        kept_defs=frozenset((graph.funcs[n].path, graph.funcs[n].span.line) for n in kept),
        entries=frozenset(entries),
        entry_defs=frozenset((graph.funcs[n].path, graph.funcs[n].span.line) for n in entries),
        becoming=frozenset(codes.keys() - kept - entries),
        unsafe_async=frozenset(n for n in codes.keys() - kept - entries if codes[n] == "QM309"),
    )
