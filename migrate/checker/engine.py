"""Run the checker over files: per-file pass (in parallel), whole-run pass, filtering.

The per-file pass (:func:`analyze`) reads, decodes and parses one file with the
standard library's ``ast`` (which keeps exact line and column positions) and
walks it once with every family's handlers. Files are spread over worker
processes when there are many (:data:`PARALLEL_MIN_FILES`). The whole-run pass
(:func:`migrate.checker.callgraph.propagate`) then needs every file's summary.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from migrate.checker import asyncfuncs
from migrate.checker import awaitables
from migrate.checker import blocking
from migrate.checker import callgraph
from migrate.checker import depfiles
from migrate.checker import extensions
from migrate.checker import imports
from migrate.checker import noqa
from migrate.checker import rules
from migrate.checker import testing
from migrate.checker import wsgi
from migrate.checker.context import FileContext
from migrate.checker.context import Handler
from migrate.checker.fixers import config as fixconfig
from migrate.checker.model import FileResult
from migrate.checker.model import Finding
from migrate.checker.symbols import Symbols
from migrate.checker.symbols import module_name

PARALLEL_MIN_FILES = 48
FAMILIES = (imports, awaitables, asyncfuncs, blocking, extensions, testing, wsgi)


def _dispatch() -> dict[type[ast.AST], list[Handler]]:
    table: dict[type[ast.AST], list[Handler]] = {}
    for family in FAMILIES:
        for kind, handler in family.HANDLERS:
            table.setdefault(kind, []).append(handler)
    return table


DISPATCH = _dispatch()


@dataclass(frozen=True, slots=True)
class Task:
    """One file to read: its path on disk, the path to print, its module name."""

    path: str
    display: str
    module: str
    is_package: bool
    text: str | None = None


@dataclass
class Report:
    """The outcome of a run: sorted findings, skipped files, counts."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    results: list[FileResult] = field(default_factory=list)


def is_test_file(name: str) -> bool:
    """Return true for pytest's file names: ``test_*.py``, ``*_test.py``, ``conftest.py``."""
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def analyze(task: Task, local_roots: frozenset[str]) -> FileResult:
    """Run the per-file pass on one file; never raises.

    A file that cannot be read, is not UTF-8, or does not parse comes back with
    ``error`` set and no findings; so does an internal error in a rule.
    """
    result = FileResult(path=task.display, module=task.module)
    if task.text is not None:
        source = task.text
    else:
        try:
            source = read_source(Path(task.path))
        except OSError as exc:
            result.error = f"cannot read: {exc.strerror or exc}"
            return result
        except UnicodeDecodeError as exc:
            result.error = f"not UTF-8 (byte {exc.start})"
            return result
    try:
        if depfiles.is_dependency_file(Path(task.path)) and not task.path.endswith(".py"):
            result.findings = depfiles.check_file(task.display, source)
        else:
            result = _analyze_python(task, source, local_roots)
    except SyntaxError as exc:
        result.error = f"syntax error at line {exc.lineno}: {exc.msg}"
        return result
    except ValueError as exc:
        result.error = str(exc)
        return result
    except Exception as exc:
        result = FileResult(path=task.display, module=task.module)
        result.error = f"internal error: {type(exc).__name__}: {exc}"
        return result
    result.noqa = noqa.parse(source)
    result.file_noqa = noqa.file_level(source)
    result.lines = source.count("\n") + 1
    return result


def read_source(path: Path) -> str:
    """Return the text of ``path`` decoded as UTF-8; raises ``OSError``/``UnicodeDecodeError``."""
    return path.read_bytes().decode("utf-8")


def _analyze_python(task: Task, source: str, local_roots: frozenset[str]) -> FileResult:
    tree = ast.parse(source, filename=task.display)
    symbols = Symbols(task.module, task.is_package)
    name = Path(task.path).name
    ctx = FileContext(task.display, source, tree, symbols, local_roots, is_test_file(name))
    ctx.gunicorn_config = "gunicorn" in name
    result = ctx.run(DISPATCH)
    wsgi.on_module_end(ctx)
    result.mentions_max_content_length = "MAX_CONTENT_LENGTH" in source
    result.mentions_response_timeout = "RESPONSE_TIMEOUT" in source
    return result


def _analyze_chunk(tasks: Sequence[Task], local_roots: frozenset[str]) -> list[FileResult]:
    return [analyze(task, local_roots) for task in tasks]


def display_path(path: Path) -> str:
    """Return ``path`` as printed: relative to the working directory when under it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def analyze_all(
    files: Sequence[Path],
    jobs: int | None = None,
    overlay: Mapping[str, str] | None = None,
) -> list[FileResult]:
    """Run the per-file pass over ``files``, in worker processes when there are many.

    ``jobs`` caps the number of processes (default: the CPU count; 1 = serial).
    ``overlay`` maps a file's printed path to text read instead of the file's
    (the rounds of ``--fix`` check text not yet written).
    """
    tasks = []
    overlay = overlay or {}
    for path in files:
        module, is_package = module_name(path) if path.suffix == ".py" else ("", False)
        display = display_path(path)
        tasks.append(Task(str(path), display, module, is_package, overlay.get(display)))
    local_roots = frozenset(t.module.partition(".")[0] for t in tasks if t.module)
    workers = min(jobs or os.cpu_count() or 1, max(1, len(tasks) // 16))
    if workers <= 1 or len(tasks) < PARALLEL_MIN_FILES:
        return _analyze_chunk(tasks, local_roots)
    size = max(1, len(tasks) // (workers * 4))
    chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(_analyze_chunk, chunks, [local_roots] * len(chunks))
        return [result for part in parts for result in part]


def _max_content_length(results: Sequence[FileResult]) -> list[Finding]:
    if any(r.mentions_max_content_length for r in results):
        return []
    rule = rules.get("QM709")
    return [
        Finding(r.path, s.line, s.col, "QM709", rule.message, s.end_line, s.end_col)
        for r in results
        for s in r.app_sites
    ]


def _response_timeout(results: Sequence[FileResult]) -> list[Finding]:
    # A ``RESPONSE_TIMEOUT`` set anywhere in the run covers every streamed response.
    if any(r.mentions_response_timeout for r in results):
        return []
    rule = rules.get("QM714")
    return [
        Finding(r.path, s.line, s.col, "QM714", rule.message, s.end_line, s.end_col)
        for r in results
        for s in r.stream_sites
    ]


def _closed_error_checks(results: Sequence[FileResult]) -> list[Finding]:
    # QM681: only where the run has a sqlite3 (or aiosqlite) connection that QM409 moves.
    if not any(r.connects_sqlite for r in results):
        return []
    rule = rules.get("QM681")
    out = []
    for r in results:
        for s, what in r.sqlite_error_checks:
            message = rule.format(what=what)
            out.append(Finding(r.path, s.line, s.col, "QM681", message, s.end_line, s.end_col))
    return out


def _pytest_asyncio(
    results: Sequence[FileResult], findings: list[Finding], overlay: Mapping[str, str]
) -> list[Finding]:
    out = []
    for result in results:
        if Path(result.path).name != "pyproject.toml":
            continue
        try:
            text = overlay.get(result.path) or read_source(Path(result.path))
        except (OSError, UnicodeDecodeError):
            continue
        found = fixconfig.pytest_asyncio_finding(result.path, text, findings)
        if found is not None:
            out.append(found)
    return out


def run(
    files: Sequence[Path],
    enabled: frozenset[str],
    jobs: int | None = None,
    overlay: Mapping[str, str] | None = None,
) -> Report:
    """Check ``files`` and return the findings of the ``enabled`` codes, sorted.

    ``overlay`` is passed to :func:`analyze_all`.
    """
    return finish(analyze_all(files, jobs, overlay), enabled, overlay)


def finish(
    results: Sequence[FileResult],
    enabled: frozenset[str],
    overlay: Mapping[str, str] | None = None,
) -> Report:
    """Run the whole-run pass over per-file ``results`` and filter by ``enabled`` and noqa.

    ``overlay`` maps printed paths to text that replaces the file's (see :func:`analyze_all`).
    """
    report = Report(files=len(results), results=list(results))
    parsed = [r for r in results if r.error is None]
    report.errors = [f"{r.path}: skipped: {r.error}" for r in results if r.error]
    report.lines = sum(r.lines for r in parsed)
    findings = [f for r in parsed for f in r.findings]
    findings += callgraph.propagate(parsed)
    findings += _max_content_length(parsed)
    findings += _response_timeout(parsed)
    findings += _closed_error_checks(parsed)
    findings += _pytest_asyncio(parsed, findings, overlay or {})
    by_path = {r.path: r for r in parsed}
    kept = set()
    for finding in findings:
        source = by_path.get(finding.path)
        if finding.code not in enabled or source is None or source.file_noqa:
            continue
        if noqa.suppressed(finding.code, finding.line, source.noqa):
            continue
        kept.add(finding)
    report.findings = sorted(kept, key=lambda f: (f.path, f.line, f.col, f.code, f.message))
    return report
