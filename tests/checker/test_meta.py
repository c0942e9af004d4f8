"""Every rule is documented, exercised by a sample, and has a no-finding case."""

from __future__ import annotations

from pathlib import Path

from migrate.checker import docs
from migrate.checker.rules import CATEGORIES
from migrate.checker.rules import registry

from .markers import markers
from .markers import units

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


def _all(kind: str) -> set[tuple[str, int, str]]:
    found: set[tuple[str, int, str]] = set()
    for unit in units():
        found |= markers(unit, kind)
    return found


def test_every_code_has_a_docs_page() -> None:
    missing = [code for code in registry() if not (DOCS / f"{code}.md").is_file()]
    assert missing == []


def test_committed_pages_equal_the_generated_ones() -> None:
    generated = docs.generate()
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert sorted(committed) == sorted(generated)
    stale = [name for name, text in generated.items() if committed[name] != text]
    assert stale == [], "run: python -m migrate.checker.docs"


def test_every_code_has_a_finding_case() -> None:
    codes = {code for _, _, code in _all("error")}
    assert sorted(set(registry()) - codes) == []


def test_every_code_has_a_no_finding_case() -> None:
    codes = {code for _, _, code in _all("ok")}
    assert sorted(set(registry()) - codes) == []


def test_at_least_as_many_no_finding_cases_as_findings() -> None:
    assert len(_all("ok")) >= len(_all("error"))


def test_markers_name_known_codes() -> None:
    known = set(registry())
    assert sorted({c for _, _, c in _all("error") | _all("ok")} - known) == []


def test_rule_records_are_complete() -> None:
    for code, rule in registry().items():
        assert code.startswith(CATEGORIES[rule.category])
        assert rule.name and rule.name == rule.name.lower()
        assert rule.before.strip() and rule.after.strip() and rule.before != rule.after
        assert rule.rationale and rule.source and rule.summary
        assert rule.effort_minutes > 0


def test_names_are_unique() -> None:
    names = [rule.name for rule in registry().values()]
    assert len(names) == len(set(names))
