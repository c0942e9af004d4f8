"""Static checker for Flask code that is to run on Quart (``python -m migrate check``).

Public API:

- :func:`check` — check paths, return a :class:`~migrate.checker.engine.Report`;
- :func:`~migrate.checker.rules.registry` — every :class:`~migrate.checker.rules.Rule`;
- :class:`~migrate.checker.model.Finding` — one reported problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path

from migrate.checker.discovery import DEFAULT_EXCLUDE
from migrate.checker.discovery import discover
from migrate.checker.engine import Report
from migrate.checker.engine import run
from migrate.checker.model import Finding
from migrate.checker.rules import Rule
from migrate.checker.rules import enabled_codes
from migrate.checker.rules import registry

__all__ = ["Finding", "Report", "Rule", "check", "registry"]


def check(
    paths: Sequence[str | Path],
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    respect_gitignore: bool = True,
    jobs: int | None = None,
) -> Report:
    """Check the files under ``paths`` and return the report.

    ``select``/``ignore`` take codes or prefixes (see
    :func:`~migrate.checker.rules.enabled_codes`); raises ``FileNotFoundError``
    for a missing path and :class:`~migrate.checker.rules.SelectionError` for an
    unknown selector.
    """
    files = discover([Path(p) for p in paths], exclude, respect_gitignore)
    return run(files, enabled_codes(select, ignore), jobs)
