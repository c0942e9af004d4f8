"""``--fix``: attach fixes to findings, apply them in rounds, write files atomically.

A round checks every file (text changed by earlier rounds is read from memory),
attaches to each finding the fix of its rule (:mod:`migrate.checker.fixers`),
and applies the applicable ones file by file (:func:`migrate.checker.edits.apply`).
Fixes that overlap one already taken wait for the next round, and a round can
make new findings fixable (a function made async in one round has its callers
awaited in the next), so rounds repeat until none applies, at most
:data:`MAX_ROUNDS`. Text that no longer parses after a round is dropped for that
file: the file keeps its last good text and is reported. Nothing is written
until the last round; then each changed file is replaced atomically (a
temporary file in the same directory, then :func:`os.replace`).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import difflib
import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from migrate.checker import callgraph
from migrate.checker import wrapping
from migrate.checker.edits import DISPLAY_ONLY
from migrate.checker.edits import Fix
from migrate.checker.edits import applicable
from migrate.checker.edits import apply
from migrate.checker.engine import PARALLEL_MIN_FILES
from migrate.checker.engine import Report
from migrate.checker.engine import analyze_all
from migrate.checker.engine import display_path
from migrate.checker.engine import finish
from migrate.checker.engine import read_source
from migrate.checker.fixers import config
from migrate.checker.fixers import limiter
from migrate.checker.fixers import plan
from migrate.checker.fixers import sqlite
from migrate.checker.fixers.base import RunInfo
from migrate.checker.fixers.base import Source
from migrate.checker.fixers.rules import FIXERS
from migrate.checker.fixers.rules import METHOD_RUN_SYNC_CODES
from migrate.checker.fixers.rules import RUN_SYNC_CODES
from migrate.checker.model import FileResult
from migrate.checker.model import Finding

MAX_ROUNDS = 20
ASYNC_CODES = config.ASYNC_CODES
# Rules whose every fix is unsafe: not worked out when ``--unsafe-fixes`` is off.
ALWAYS_UNSAFE = frozenset(
    {
        *RUN_SYNC_CODES,
        *METHOD_RUN_SYNC_CODES,
        "QM214",
        "QM401",
        "QM409",
        "QM504",
        "QM609",
        "QM681",
        "QM709",
        "QM721",
    }
)
#: The message of the limiter swap's findings that exist only as fixes (see ``attach``).
LIMITER_COMPANION = "is a use of a Flask-Limiter object that becomes quart-rate-limiter's"


@dataclass
class Outcome:
    """The result of a fixing run.

    ``report`` holds the findings that remain (with their fixes, if any);
    ``fixed`` counts fixed findings per code; ``originals``/``texts`` are the
    files' text before and after; ``broken`` names files whose fixed text does
    not parse (left as they were) and why; ``rounds`` is the number of rounds run.
    """

    report: Report
    fixed: Counter[str] = field(default_factory=Counter)
    originals: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    rounds: int = 0

    def changed(self) -> list[str]:
        """Return the paths whose text the fixes changed, sorted."""
        return sorted(p for p, t in self.texts.items() if t != self.originals.get(p))


class _Files:
    """Text and parsed trees of the run's files, read lazily, current round first."""

    def __init__(self, results: Sequence[FileResult], texts: dict[str, str]) -> None:
        self.results = {r.path: r for r in results}
        self.texts = texts
        self.sources: dict[str, Source | None] = {}

    def forget(self, paths: Sequence[str]) -> None:
        """Drop the parsed trees of ``paths`` (their text changed)."""
        for path in paths:
            self.sources.pop(path, None)

    def text(self, path: str) -> str | None:
        if path in self.texts:
            return self.texts[path]
        try:
            return read_source(Path(path))
        except (OSError, UnicodeDecodeError):
            return None

    def source(self, path: str) -> Source | None:
        if path not in self.sources:
            text = self.text(path)
            result = self.results.get(path)
            module = result.module if result is not None else ""
            try:
                package = Path(path).name == "__init__.py"
                made = Source(path, text, module, package) if text is not None else None
            except (SyntaxError, ValueError):
                made = None
            self.sources[path] = made
        return self.sources[path]


def _connections(results: Sequence[FileResult]) -> set[str]:
    graph = callgraph._Graph(results)
    found = set()
    for name, func in graph.funcs.items():
        if func.returns_tag and graph._settle(func.returns_tag, 0) == "QM409":
            found.add(name)
    return found


def startup_calls(results: Sequence[FileResult]) -> frozenset[tuple[str, int, int]]:
    """Return ``(path, line, col)`` of every call to an app factory with start-up work.

    Flask runs a factory's start-up work (``with app.app_context():`` in it) when the
    factory is called; the QM214 fix moves it into an ``@app.before_serving`` function,
    which Quart runs when the app starts serving (``app.startup()``) and not when a script
    or a command line opens ``app.app_context()``: those need the start-up run too.
    """
    factories = {f.qualname for r in results for f in r.functions if f.starts_up}
    if not factories:
        return frozenset()
    graph = callgraph._Graph(results)
    return frozenset(
        (func.path, site.span.line, site.span.col)
        for result in results
        for func in result.functions
        for site in func.calls
        if graph.lookup(site.callee) in factories
    )


def attach(
    report: Report,
    enabled: frozenset[str],
    unsafe: bool,
    texts: dict[str, str] | None = None,
    sqlite_uses: bool = True,
    files: _Files | None = None,
    jobs: int | None = None,
) -> list[Finding]:
    """Return the report's findings with their fixes, plus the aiosqlite companions.

    ``unsafe`` decides which fixes count when working out the functions that
    become async (an ``await`` is only put into those). ``sqlite_uses`` adds
    findings for the uses of a converted sqlite3 connection that carry none (tests).
    ``files`` caches parsed files between calls (one per round). Files are worked
    on in worker processes when there are many (``jobs`` as for the check).
    """
    if files is None:
        files = _Files(report.results, texts or {})
    by_path: dict[str, list[int]] = {}
    for number, finding in enumerate(report.findings):
        if finding.path.endswith(".py") and _local(finding.code, unsafe):
            by_path.setdefault(finding.path, []).append(number)
    fixes: list[Fix | None] = [None] * len(report.findings)
    run = RunInfo(unsafe=unsafe)
    base = _planned(report, files, unsafe)
    base.aiosqlite_only = any(r.connects_sqlite for r in report.results) and not any(
        r.connects_sqlite3 for r in report.results
    )
    if any(f.starts_up for r in report.results for f in r.functions):
        calls = startup_calls(report.results)
        base = dataclasses.replace(base, startup_calls=calls, starts_up=True)
    tasks = [
        (path, files.texts.get(path), _module(files, path), [report.findings[i] for i in numbers])
        for path, numbers in by_path.items()
    ]
    workers = min(jobs or os.cpu_count() or 1, max(1, len(tasks) // 16))
    if workers > 1 and len(tasks) >= PARALLEL_MIN_FILES:
        size = max(1, len(tasks) // (workers * 4))
        chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = pool.map(_chunk_fixes, chunks, [base] * len(chunks))
            done = [item for part in parts for item in part]
    else:
        done = [_file_fixes(task, base, files.source(task[0])) for task in tasks]
    for (path, _, _, _), (found, becoming) in zip(tasks, done, strict=True):
        run.becoming |= becoming
        for number, fix in zip(by_path[path], found, strict=True):
            fixes[number] = fix
    by_span: dict[tuple[str, int, int, int, int], Fix] = {}
    if (unsafe or not sqlite_uses) and any(f.code == "QM409" for f in report.findings):
        by_span = _sqlite_fixes(report, files, run)
    limits: dict[tuple[str, tuple[int, int, int, int]], Fix] = {}
    if unsafe and any(_is_limiter_setup(f) for f in report.findings):
        limits = _limiter_fixes(report, files)
    out = []
    for number, finding in enumerate(report.findings):
        fix = fixes[number]
        span = (finding.line, finding.col, finding.end_line, finding.end_col)
        if finding.code == "QM505" and (finding.path, span) in limits:
            fix = limits.pop((finding.path, span))
        if finding.code == "QM504" and unsafe:
            extra = ("aiosqlite",) if by_span else ()
            fix = config.fix_flask_dependency(finding, files.text(finding.path) or "", extra)
        elif finding.code == "QM680":
            fix = finding.fix
        elif finding.code == "QM409":
            key = (finding.path, finding.line, finding.col, finding.end_line, finding.end_col)
            fix = by_span.get(key)
        out.append(Finding(*_fields(finding), fix) if fix is not None else finding)
    for (path, (line, col, end_line, end_col)), fix in limits.items():
        call = _call_text(files.text(path) or "", line, col, end_line, end_col)
        message = f"`{call}` {LIMITER_COMPANION}"
        out.append(Finding(path, line, col, "QM505", message, end_line, end_col, fix))
    if sqlite_uses:
        taken = {(f.path, f.line, f.col, f.end_line, f.end_col) for f in report.findings}
        for key, fix in by_span.items():
            if key not in taken:
                path, line, col, end_line, end_col = key
                text = files.text(path) or ""
                call = _call_text(text, line, col, end_line, end_col)
                message = f"`{call}` is a call on a sqlite3 connection that becomes aiosqlite's"
                out.append(Finding(path, line, col, "QM409", message, end_line, end_col, fix))
    return sorted(out, key=lambda f: (f.path, f.line, f.col, f.code, f.message))


def _fields(f: Finding) -> tuple[str, int, int, str, str, int, int]:
    return (f.path, f.line, f.col, f.code, f.message, f.end_line, f.end_col)


def _local(code: str, unsafe: bool) -> bool:
    # Fixed from the file alone (QM409, QM504 and QM680 are worked out run-wide).
    if code in ALWAYS_UNSAFE and not unsafe:
        return False
    return code in FIXERS or code == "QM709"


def _module(files: _Files, path: str) -> str:
    result = files.results.get(path)
    return result.module if result is not None else ""


_Task = tuple[str, str | None, str, list[Finding]]


def _planned(report: Report, files: _Files, unsafe: bool) -> RunInfo:
    """Return the run-wide facts of this round: the functions kept sync and the entry points."""
    if not any(f.code in ("QM305", "QM309") for f in report.findings):
        return RunInfo(unsafe=unsafe)
    entry_paths = []
    for result in report.results:
        # Entry points are called at module level: ``__main__.py``, ``if __name__ == ...``.
        text = files.text(result.path) if result.path.endswith(".py") else None
        if text is not None and ("__main__" in text or result.path.endswith("__main__.py")):
            entry_paths.append(result.path)
    made = plan.make(report.results, report.findings, files.source, files.text, entry_paths)
    return RunInfo(
        unsafe=unsafe,
        kept=made.kept,
        kept_defs=made.kept_defs,
        entries=made.entries,
        entry_defs=made.entry_defs,
        unsafe_async=made.unsafe_async,
    )


def _chunk_fixes(
    tasks: Sequence[_Task], base: RunInfo
) -> list[tuple[list[Fix | None], set[tuple[str, int]]]]:
    return [_file_fixes(task, base) for task in tasks]


def _file_fixes(
    task: _Task, base: RunInfo, src: Source | None = None
) -> tuple[list[Fix | None], set[tuple[str, int]]]:
    """Return the fixes of one file's findings and the ``def`` lines they make async."""
    path, text, module, findings = task
    unsafe = base.unsafe
    if src is None:
        try:
            text = text if text is not None else read_source(Path(path))
            src = Source(path, text, module, Path(path).name == "__init__.py")
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            return [None] * len(findings), set()
    run = dataclasses.replace(base, becoming=set())
    run.awaits = {
        (f.path, f.line, f.col, f.end_line, f.end_col)
        for f in findings
        if f.code in ("QM307", "QM601")
    }
    fixes: list[Fix | None] = [None] * len(findings)
    for number, finding in enumerate(findings):
        if finding.code in ASYNC_CODES:
            fix = FIXERS[finding.code](src, finding, run)
            fixes[number] = fix
            if fix is not None and applicable(fix, unsafe) and _makes_async(fix):
                run.becoming.add((finding.path, finding.line))
    for number, finding in enumerate(findings):
        if finding.code in ASYNC_CODES:
            continue
        if finding.code == "QM709":
            fixes[number] = config.fix_max_content_length(src, finding, run)
        else:
            fixes[number] = FIXERS[finding.code](src, finding, run)
    return fixes, run.becoming


def _call_text(text: str, line: int, col: int, end_line: int, end_col: int) -> str:
    lines = text.splitlines()
    first = lines[line - 1][col - 1 :] if line <= len(lines) else ""
    return first.split("(", 1)[0].strip() if "(" in first else first.strip()


def _makes_async(fix: Fix) -> bool:
    return any(edit.content == "async " for edit in fix.edits)


def _sqlite_fixes(
    report: Report, files: _Files, run: RunInfo
) -> dict[tuple[str, int, int, int, int], Fix]:
    conv = sqlite.Conversion(functions=_connections(report.results))
    names = {name.rpartition(".")[2] for name in conv.functions}
    candidates = []
    for result in report.results:
        if not result.path.endswith(".py"):
            continue
        text = files.text(result.path) or ""
        if "sqlite3" in text or any(name in text for name in names):
            src = files.source(result.path)
            if src is not None:
                candidates.append(src)
                conv.g_attrs |= sqlite.collect_g_attrs(src)
    out = {}
    for src in candidates:
        for (line, col, end_line, end_col), fix in sqlite.fixes(src, conv, run).items():
            out[(src.path, line, col, end_line, end_col)] = fix
    return out


def _reported(finding: Finding) -> bool:
    # The aiosqlite and quart-rate-limiter companions exist only as fixes (see ``attach``).
    if finding.code == "QM505" and finding.message.endswith(LIMITER_COMPANION):
        return False
    return not (finding.code == "QM409" and finding.message.endswith("becomes aiosqlite's"))


def _is_limiter_setup(finding: Finding) -> bool:
    return finding.code == "QM505" and finding.message.startswith(
        ("`Limiter(", "`flask_limiter.Limiter(")
    )


def _limiter_fixes(
    report: Report, files: _Files
) -> dict[tuple[str, tuple[int, int, int, int]], Fix]:
    sources = []
    for result in report.results:
        if result.path.endswith(".py") and "limit" in (files.text(result.path) or ""):
            src = files.source(result.path)
            if src is not None:
                sources.append(src)
    return limiter.fixes(sources)


def _parse_error(path: str, result: FileResult | None, text: str) -> str | None:
    # The re-check parses every changed file; a syntax error is its first report of it.
    if result is not None and result.error is not None and result.error.startswith("syntax"):
        return result.error
    if result is None and path.endswith(".py"):
        try:
            ast.parse(text)
        except SyntaxError as exc:
            return f"syntax error at line {exc.lineno}: {exc.msg}"
    return None


def _compile_errors(
    broken: dict[str, str], texts: dict[str, str], originals: dict[str, str]
) -> list[str]:
    """Compile each changed Python file's final text; restore and name those that fail.

    :func:`ast.parse` accepts what only the compiler rejects (``'await' outside async
    function``, ``'return' outside function``), so the last round's texts are compiled
    once; a file that fails gets its original text back and an entry in ``broken``.
    Returns the paths restored.
    """
    failed = []
    for path, text in texts.items():
        if not path.endswith(".py") or text == originals.get(path):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the app's own SyntaxWarnings
                compile(text, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            broken[path] = f"syntax error at line {exc.lineno}: {exc.msg}"
            texts[path] = originals[path]
            failed.append(path)
    return failed


def fix_run(
    files: Sequence[Path],
    enabled: frozenset[str],
    unsafe: bool = False,
    jobs: int | None = None,
    display: bool = True,
    context: Sequence[Path] = (),
    mounted: Sequence[Path] = (),
) -> Outcome:
    """Fix ``files`` in memory in rounds (see the module docstring); write nothing.

    With ``display`` the remaining findings also carry the unsafe fixes that were
    not applied, so the summary can count them (``--diff`` needs no summary).
    ``context`` and ``mounted`` are as for :func:`migrate.checker.engine.run`:
    context files inform the whole-run pass and are never changed.
    """
    paths = {display_path(p): p for p in files}
    extra = [p for p in context if display_path(p) not in paths]
    results = analyze_all([*files, *extra], jobs)
    texts: dict[str, str] = {}
    originals: dict[str, str] = {}
    outcome = Outcome(Report())
    skip: set[str] = set()
    cache = _Files(results, texts)
    final: Report | None = None
    fixed_in: dict[str, Counter[str]] = {}
    for number in range(1, MAX_ROUNDS + 1):
        report = finish(results, enabled, texts, set(paths), mounted)
        cache.results = {r.path: r for r in results}
        findings = attach(report, enabled, unsafe, texts, files=cache, jobs=jobs)
        per_file: dict[str, list[tuple[Finding, Fix]]] = {}
        for finding in findings:
            fix = finding.fix
            if fix is not None and applicable(fix, unsafe) and finding.path not in skip:
                per_file.setdefault(finding.path, []).append((finding, fix))
        changed: dict[str, str] = {}
        counts: dict[str, Counter[str]] = {}
        for path, pairs in per_file.items():
            old = texts.get(path)
            if old is None:
                try:
                    old = read_source(Path(path))
                except (OSError, UnicodeDecodeError):
                    continue
                originals[path] = old
            new, applied = apply(old, [fix for _, fix in pairs])
            new = wrapping.wrap(old, new)
            if new != old:
                changed[path] = new
                counts[path] = Counter(pairs[i][0].code for i in applied)
        outcome.rounds = number
        if not changed:
            # Nothing applies any more: this round's report is what remains.
            report.findings = [f for f in findings if _reported(f)]
            final = report
            break
        previous = {p: texts.get(p) for p in changed}
        texts.update(changed)
        redo = [paths[p] for p in changed if p in paths]
        fresh = {r.path: r for r in analyze_all(redo, jobs, texts)}
        for path in changed:
            result = fresh.get(path)
            error = _parse_error(path, result, changed[path])
            if error is not None:
                # The fixed text does not parse: keep the file's last good text.
                outcome.broken[path] = error
                skip.add(path)
                fresh.pop(path, None)
                if previous[path] is None:
                    texts.pop(path)
                else:
                    texts[path] = previous[path]  # type: ignore[assignment]
            else:
                outcome.fixed.update(counts[path])
                fixed_in.setdefault(path, Counter()).update(counts[path])
        cache.forget(list(changed))
        results = [fresh.get(r.path, r) for r in results]
    failed = _compile_errors(outcome.broken, texts, originals)
    for path in failed:
        outcome.fixed.subtract(fixed_in.get(path, Counter()))
    outcome.fixed = +outcome.fixed
    if failed:
        # A file whose fixed text parses but does not compile (``await`` in a ``def``)
        # keeps its original text; the report is worked out again without its fixes.
        fresh = {
            r.path: r for r in analyze_all([paths[p] for p in failed if p in paths], jobs, texts)
        }
        results = [fresh.get(r.path, r) for r in results]
        final = None
    if final is None:
        final = finish(results, enabled, texts, set(paths), mounted)
        final.findings = attach(final, enabled, unsafe, texts, sqlite_uses=False)
    elif display and not unsafe and any(f.code in ALWAYS_UNSAFE for f in final.findings):
        final.findings = attach(final, enabled, True, texts, sqlite_uses=False, files=cache)
    outcome.report = final
    outcome.originals = originals
    outcome.texts = texts
    return outcome


def unified_diff(outcome: Outcome) -> str:
    """Return a unified diff (``a/path``, ``b/path``) of every changed file."""
    out: list[str] = []
    for path in outcome.changed():
        before = outcome.originals[path].splitlines(keepends=True)
        after = outcome.texts[path].splitlines(keepends=True)
        out.extend(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"))
    return "".join(out)


def write(outcome: Outcome) -> list[str]:
    """Replace each changed file atomically; return one error line per file not written."""
    errors = []
    for path in outcome.changed():
        try:
            write_atomic(Path(path), outcome.texts[path])
        except OSError as exc:
            errors.append(f"{path}: not written: {exc.strerror or exc}")
    return errors


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in its directory and a rename."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def needs_decision(findings: Sequence[Finding], unsafe: bool) -> list[str]:
    """Return the codes of remaining findings that no fix covers, sorted."""
    codes = {
        f.code
        for f in findings
        if f.fix is None or f.fix.applicability == DISPLAY_ONLY or not applicable(f.fix, unsafe)
    }
    return sorted(codes)
