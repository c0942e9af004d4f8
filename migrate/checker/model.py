"""Data passed between the per-file pass and the whole-run pass.

Everything here is a plain slotted dataclass so it pickles cheaply between the
worker processes and the parent (:mod:`migrate.checker.engine`).
Positions are 1-based lines and 1-based character columns, as ruff reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrate.checker.edits import Fix


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One reported problem: ``path:line:col: code message``.

    ``end_line``/``end_col`` close the range (end column exclusive, 1-based).
    ``fix`` is the rewrite ``--fix`` can apply (see :mod:`migrate.checker.edits`);
    it takes no part in comparisons.
    """

    path: str
    line: int
    col: int
    code: str
    message: str
    end_line: int
    end_col: int
    fix: Fix | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Span:
    """A source range: 1-based lines, 1-based columns, end column exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(slots=True)
class CallSite:
    """A call from one function to a function that may be defined in the run.

    ``callee`` is the dotted name the call resolves to (``pkg.mod.func`` or
    ``pkg.mod.Class.method``); ``awaited`` is true when the call is the direct
    operand of ``await``; ``startup`` when it is start-up work in the app factory
    (QM214), which moves into an async ``before_serving`` function.
    """

    callee: str
    span: Span
    awaited: bool
    text: str
    startup: bool = False


@dataclass(slots=True)
class PendingBlocking:
    """A method call on the value returned by ``callee`` (e.g. ``get_db().execute``).

    Whether it blocks is known only once the whole run is read: it does when
    ``callee`` returns a blocking client (a sqlite3 connection, a requests
    session, ...), see :func:`migrate.checker.callgraph.propagate`. ``fallback``
    is a second key tried when ``callee`` resolves to nothing; ``orm`` marks an
    SQLAlchemy-session method on an attribute named ``session``
    (``calibre_db.session.query``), taken as blocking when nothing resolves and
    a checked file imports SQLAlchemy.
    """

    callee: str
    span: Span
    text: str
    fallback: str | None = None
    orm: bool = False


@dataclass(slots=True)
class FuncSummary:
    """What the whole-run pass needs to know about one function.

    ``root`` names why the function must become ``async def`` on its own
    (``"view"``, ``"error handler"``, ``"request hook"``) and ``root_code`` the
    rule that says so; ``awaits`` lists the awaitable uses inside it (text,
    line), ``context_awaits`` how many of them push or pop an app or request
    context of its own (QM211, QM212). ``blocking`` holds blocking-call findings, reported only when the
    function ends up running on the event loop; ``startup_blocking`` and
    ``startup_pending`` those of its start-up block (QM214), always reported.
    """

    qualname: str
    name: str
    path: str
    span: Span
    is_async: bool
    is_generator: bool = False
    in_test: bool = False
    off_loop: bool = False
    root: str | None = None
    root_code: str | None = None
    awaits: list[tuple[str, int]] = field(default_factory=list)
    context_awaits: int = 0
    calls: list[CallSite] = field(default_factory=list)
    blocking: list[Finding] = field(default_factory=list)
    pending: list[PendingBlocking] = field(default_factory=list)
    returns_tag: str | None = None
    param_calls: list[CallSite] = field(default_factory=list)
    startup_blocking: list[Finding] = field(default_factory=list)
    startup_pending: list[PendingBlocking] = field(default_factory=list)
    #: In a package that stays behind ``mount_wsgi``: never made async, only its
    #: blocking calls are reported when the Quart app calls it on the loop.
    stays_sync: bool = False
    #: An app factory with start-up work: a ``with app.app_context():`` block on the app
    #: it builds (QM214), or that block moved into an ``@app.before_serving`` function.
    starts_up: bool = False


@dataclass(slots=True)
class FileResult:
    """The per-file pass's output for one file (or the reason it was skipped)."""

    path: str
    module: str = ""
    findings: list[Finding] = field(default_factory=list)
    functions: list[FuncSummary] = field(default_factory=list)
    exports: dict[str, str] = field(default_factory=dict)
    view_decorators: list[str] = field(default_factory=list)
    registered: list[tuple[str, str, str]] = field(default_factory=list)
    module_tags: dict[str, str] = field(default_factory=dict)
    app_sites: list[Span] = field(default_factory=list)
    mentions_max_content_length: bool = False
    stream_sites: list[Span] = field(default_factory=list)
    fixtures: dict[str, str] = field(default_factory=dict)
    thread_entries: list[str] = field(default_factory=list)
    mentions_response_timeout: bool = False
    uses_sqlalchemy: bool = False
    #: Functions passed by name to a worker thread (``run_sync(f)``, ``pool.run(f, ...)``).
    thread_refs: list[str] = field(default_factory=list)
    connects_sqlite: bool = False
    #: ``sqlite3.connect`` itself (``connects_sqlite`` counts aiosqlite's too).
    connects_sqlite3: bool = False
    sqlite_error_checks: list[tuple[Span, str]] = field(default_factory=list)
    #: QM609 candidates: a body assertion's span, what it reads (``response.data``) and
    #: its needle's text when the needle is a literal (``None`` otherwise).
    body_asserts: list[tuple[Span, str, str | None]] = field(default_factory=list)
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)
    file_noqa: bool = False
    error: str | None = None
    lines: int = 0
