"""Rule records, the registry that holds them, and rule selection.

Every rule is a small declarative :class:`Rule`. The modules of
:mod:`migrate.checker.catalog` (one per family: ``imports``, ``awaitables``,
``asyncfuncs``, ``blocking``, ``extensions``, ``testing``, ``wsgi``) each define
a tuple ``RULES`` of records; :func:`registry` gathers them in code order. The
detection code of each family is the module of the same name in
:mod:`migrate.checker`. The docs pages under ``docs/rules/`` are generated
from these records by :mod:`migrate.checker.docs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "QM"

CATEGORIES: Mapping[str, str] = {
    "imports": "QM1",
    "awaitables": "QM2",
    "async-functions": "QM3",
    "blocking": "QM4",
    "extensions": "QM5",
    "tests": "QM6",
    "wsgi-config": "QM7",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One check: what it reports, how to fix it, and why.

    ``message`` is a :meth:`str.format` template; the placeholders it uses are
    filled by the code that reports the finding. ``before`` and ``after`` are
    Flask and Quart code for the docs page. ``effort_minutes`` is the rough
    time one finding takes to fix, used by the text summary's estimate.
    ``needs_async`` marks findings that put an ``await`` (or ``async with``)
    into the enclosing function, which must then become ``async def``.
    """

    code: str
    name: str
    category: str
    summary: str
    message: str
    before: str
    after: str
    rationale: str
    source: str
    effort_minutes: float = 1.0
    needs_async: bool = False

    def format(self, **fields: Any) -> str:
        """Fill the message template; a missing field raises ``KeyError``."""
        return self.message.format(**fields)


class SelectionError(ValueError):
    """Raised when a ``select``/``ignore`` entry matches no rule code."""


def _build_registry() -> dict[str, Rule]:
    # Imported here so each family module can import this one for ``Rule``.
    from migrate.checker.catalog import asyncfuncs
    from migrate.checker.catalog import awaitables
    from migrate.checker.catalog import blocking
    from migrate.checker.catalog import extensions
    from migrate.checker.catalog import imports
    from migrate.checker.catalog import testing
    from migrate.checker.catalog import wsgi

    rules: dict[str, Rule] = {}
    for module in (imports, awaitables, asyncfuncs, blocking, extensions, testing, wsgi):
        for rule in module.RULES:
            if rule.code in rules:
                raise RuntimeError(f"duplicate rule code {rule.code}")
            if not rule.code.startswith(CATEGORIES[rule.category]):
                raise RuntimeError(f"{rule.code} is not in the range of {rule.category}")
            rules[rule.code] = rule
    return dict(sorted(rules.items()))


_REGISTRY: dict[str, Rule] = {}


def registry() -> Mapping[str, Rule]:
    """Return every rule keyed by code, in code order (built once, then cached)."""
    if not _REGISTRY:
        _REGISTRY.update(_build_registry())
    return _REGISTRY


def get(code: str) -> Rule:
    """Return the rule for ``code``; raise ``KeyError`` for an unknown code."""
    return registry()[code]


def _check_selectors(selectors: Iterable[str]) -> list[str]:
    out = []
    codes = registry()
    for raw in selectors:
        selector = raw.strip().upper()
        if not selector:
            continue
        if selector == "ALL":
            selector = PREFIX
        if not any(code.startswith(selector) for code in codes):
            raise SelectionError(f"unknown rule selector: {raw!r}")
        out.append(selector)
    return out


def enabled_codes(
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
) -> frozenset[str]:
    """Resolve selectors (codes or prefixes such as ``QM2``) to the enabled codes.

    ``select`` defaults to every rule. A code is enabled when a selector in
    ``select`` or ``extend_select`` is a prefix of it and no ``ignore`` selector
    at least as long as the longest matching select selector is (so
    ``--select QM201 --ignore QM2`` keeps QM201, as in ruff). ``ALL`` means every
    rule. Raises :class:`SelectionError` for a selector that matches no code.
    """
    chosen = _check_selectors([PREFIX] if select is None else select)
    chosen += _check_selectors(extend_select)
    ignored = _check_selectors(ignore)
    result = set()
    for code in registry():
        matching = [len(s) for s in chosen if code.startswith(s)]
        if not matching:
            continue
        ignore_len = max((len(s) for s in ignored if code.startswith(s)), default=-1)
        if ignore_len < max(matching):
            result.add(code)
    return frozenset(result)
