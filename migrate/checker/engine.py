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
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from collections.abc import Set
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from migrate.checker import asyncfuncs
from migrate.checker import awaitables
from migrate.checker import blocking
from migrate.checker import callgraph
from migrate.checker import depfiles
from migrate.checker import deployfiles
from migrate.checker import extensions
from migrate.checker import imports
from migrate.checker import noqa
from migrate.checker import realapps
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
FAMILIES = (imports, awaitables, asyncfuncs, blocking, extensions, testing, wsgi, realapps)


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
            if Path(task.path).name == "setup.py":
                result.findings += deployfiles.check_file(task.display, source)
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
    tasks = _unique_modules(tasks)
    local_roots = frozenset(t.module.partition(".")[0] for t in tasks if t.module)
    workers = min(jobs or os.cpu_count() or 1, max(1, len(tasks) // 16))
    if workers <= 1 or len(tasks) < PARALLEL_MIN_FILES:
        return _analyze_chunk(tasks, local_roots)
    size = max(1, len(tasks) // (workers * 4))
    chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(_analyze_chunk, chunks, [local_roots] * len(chunks))
        return [result for part in parts for result in part]


#: What is still reported in a package that stays behind ``mount_wsgi``: green-thread
#: patching, which breaks the event loop of the whole process, and blocking calls in
#: functions the Quart app calls on its loop.
MOUNT_CODES = ("QM4", "QM715")


def _under(display: str, mounted: Sequence[Path]) -> bool:
    if not mounted:
        return False
    path = Path(display).resolve()
    return any(path == root or root in path.parents for root in mounted)


def _keep_wsgi(result: FileResult) -> None:
    # Flask serves these: nothing in them is a root of async-ness by itself.
    result.registered = []
    result.view_decorators = []
    result.app_sites = []
    result.stream_sites = []
    for func in result.functions:
        func.root = func.root_code = None
        func.awaits = []
        func.context_awaits = 0
        func.param_calls = []
        func.stays_sync = True


def _unique_modules(tasks: list[Task]) -> list[Task]:
    # Files outside any package are named by their stem: two ``conftest.py`` (or
    # ``app.py``) in different folders would share their functions' names, and the
    # whole-run pass would keep one of them, depending on which paths were given.
    # Such files are named by their path instead (``tests/unit/conftest.py`` →
    # ``tests.unit.conftest``).
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.module] = counts.get(task.module, 0) + 1
    out = []
    for task in tasks:
        if (
            task.module
            and "." not in task.module
            and counts[task.module] > 1
            and not task.is_package
        ):
            dotted = Path(task.display).with_suffix("").as_posix().strip("./").replace("/", ".")
            task = Task(task.path, task.display, dotted or task.module, task.is_package, task.text)
        out.append(task)
    return out


def _package(result: FileResult) -> str | None:
    # The top-level package a file belongs to; None for a module outside any package
    # (a ``config.py`` beside the app's package), whose settings count for every package.
    if "." in result.module or result.path.endswith("__init__.py"):
        return result.module.partition(".")[0]
    return None


def _unset(
    results: Sequence[FileResult], mentions: Callable[[FileResult], bool]
) -> set[str | None]:
    """Return the packages where no file of theirs (nor a package-less module) mentions a key.

    A setting made in one package does not cover the app of another package checked in
    the same run (``check .`` over a Flask app and its Quart port side by side).
    """
    mentioned = {_package(r) for r in results if mentions(r)}
    if None in mentioned:
        return set()
    return {_package(r) for r in results} - mentioned


def _max_content_length(results: Sequence[FileResult]) -> list[Finding]:
    unset = _unset(results, lambda r: r.mentions_max_content_length)
    rule = rules.get("QM709")
    return [
        Finding(r.path, s.line, s.col, "QM709", rule.message, s.end_line, s.end_col)
        for r in results
        if _package(r) in unset
        for s in r.app_sites
    ]


def _response_timeout(results: Sequence[FileResult]) -> list[Finding]:
    # A ``RESPONSE_TIMEOUT`` set in the package covers every streamed response of it.
    unset = _unset(results, lambda r: r.mentions_response_timeout)
    rule = rules.get("QM714")
    return [
        Finding(r.path, s.line, s.col, "QM714", rule.message, s.end_line, s.end_col)
        for r in results
        if _package(r) in unset
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


def _error_page_asserts(results: Sequence[FileResult], overlay: Mapping[str, str]) -> list[Finding]:
    # QM609: Quart's TESTING-mode 500 page quotes source lines of the failing frames, so
    # a literal needle can only match a crash when a Python file of the run (not a test)
    # holds its text; a needle that is not a literal (a parametrised message) may.
    asserts = [(r, item) for r in results for item in r.body_asserts]
    if not asserts:
        return []
    sources = []
    for result in results:
        if not result.path.endswith(".py") or is_test_file(Path(result.path).name):
            continue
        try:
            sources.append(overlay.get(result.path) or read_source(Path(result.path)))
        except (OSError, UnicodeDecodeError):
            continue
    rule = rules.get("QM609")
    out = []
    for result, (span, what, needle) in asserts:
        if needle is not None and not any(needle in text for text in sources):
            continue
        message = rule.format(what=what)
        out.append(
            Finding(result.path, span.line, span.col, "QM609", message, span.end_line, span.end_col)
        )
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
    context: Sequence[Path] = (),
    mounted: Sequence[Path] = (),
    overlay: Mapping[str, str] | None = None,
) -> Report:
    """Check ``files`` and return the findings of the ``enabled`` codes, sorted.

    ``context`` files (see :mod:`migrate.checker.project`) are analysed with them, for
    the whole-run pass, but neither reported nor counted. Files under a ``mounted``
    folder (or equal to a ``mounted`` file) belong to a Flask app that stays behind
    :func:`migrate.mount_wsgi`: it keeps running as WSGI in worker threads, so its
    views, hooks and helpers do not become async and its Flask imports, extensions
    and settings stay; only what breaks the mount is reported there (see
    :data:`MOUNT_CODES`). ``overlay`` is passed to :func:`analyze_all`.
    """
    named = {display_path(path) for path in files}
    extra = [path for path in context if display_path(path) not in named]
    every = analyze_all([*files, *extra], jobs, overlay)
    return finish(every, enabled, overlay, named, mounted)


def finish(
    every: Sequence[FileResult],
    enabled: frozenset[str],
    overlay: Mapping[str, str] | None = None,
    named: Set[str] | None = None,
    mounted: Sequence[Path] = (),
) -> Report:
    """Run the whole-run pass over per-file results and filter by ``enabled`` and noqa.

    ``every`` holds the results of the checked files and of their context files;
    ``named`` the printed paths of the checked ones (default: all of ``every``), the
    only ones reported, counted and kept in ``Report.results``. ``overlay`` maps
    printed paths to text that replaces the file's (see :func:`analyze_all`);
    ``mounted`` is as for :func:`run`.
    """
    if named is None:
        named = {r.path for r in every}
    results = [r for r in every if r.path in named]
    report = Report(files=len(results), results=results)
    parsed = [r for r in every if r.error is None]
    kept_wsgi = {r.path for r in parsed if _under(r.path, mounted)}
    for result in parsed:
        if result.path in kept_wsgi:
            _keep_wsgi(result)
    report.errors = [f"{r.path}: skipped: {r.error}" for r in results if r.error]
    report.lines = sum(r.lines for r in results if r.error is None)
    findings = [f for r in parsed for f in r.findings]
    findings += callgraph.propagate(parsed)
    findings += _max_content_length(parsed)
    findings += _response_timeout(parsed)
    findings += _closed_error_checks(parsed)
    findings += _error_page_asserts(parsed, overlay or {})
    findings += _pytest_asyncio(parsed, findings, overlay or {})
    by_path = {r.path: r for r in parsed}
    # A ``flask_*`` package of the run is the project itself, not an extension (QM501).
    own = {f"`{r.module.partition('.')[0]}` " for r in every if r.module.startswith("flask_")}
    kept = set()
    for finding in findings:
        source = by_path.get(finding.path)
        if finding.path not in named:
            continue
        if finding.code == "QM501" and finding.message.startswith(tuple(own)):
            continue
        if finding.path in kept_wsgi and not finding.code.startswith(MOUNT_CODES):
            continue
        if finding.code not in enabled or source is None or source.file_noqa:
            continue
        if noqa.suppressed(finding.code, finding.line, source.noqa):
            continue
        kept.add(finding)
    report.findings = sorted(kept, key=lambda f: (f.path, f.line, f.col, f.code, f.message))
    return report
