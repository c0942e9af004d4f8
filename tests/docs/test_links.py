"""Links in the docs lead somewhere, and every rule code they name is a rule of the checker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migrate.checker.rules import registry
from tests.docs.snippets import ROOT
from tests.docs.snippets import markdown_files

_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_CODE = re.compile(r"\bQM\d{3}\b")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

GUIDE = ROOT / "docs" / "migration-guide.md"
RULES = ROOT / "docs" / "rules"


def outside_fences(path: Path) -> list[tuple[int, str]]:
    """Return (number, text) of the lines outside fenced code blocks."""
    out = []
    fence = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opening = _FENCE.match(line)
        if fence:
            if opening and line.strip().startswith(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        else:
            out.append((number, line))
    return out


def without_code_spans(line: str) -> str:
    """Blank out inline code, whose text is not prose and holds no links."""
    return re.sub(r"`[^`]*`", "``", line)


def slug(title: str) -> str:
    """Return GitHub's anchor for a heading: lower case, punctuation dropped, spaces → ``-``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link counts as its text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Return the anchors of ``path``'s headings, numbered as GitHub numbers repeats."""
    seen: dict[str, int] = {}
    out = set()
    for _, line in outside_fences(path):
        heading = _HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading["title"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def links(path: Path) -> list[tuple[int, str]]:
    """Return (line, target) of every Markdown link outside code."""
    return [
        (number, match["target"])
        for number, line in outside_fences(path)
        for match in _LINK.finditer(without_code_spans(line))
    ]


FILES = markdown_files()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_leads_to_a_file_and_heading_that_exist(path: Path) -> None:
    broken = []
    for number, target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"line {number}: {target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"line {number}: {target} (no such heading)")
    assert broken == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_rule_code_named_is_a_rule(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert sorted(set(_CODE.findall(text)) - set(registry())) == []


def test_rule_pages_and_rules_match_one_to_one() -> None:
    pages = {page.stem for page in RULES.glob("QM*.md")}
    assert sorted(pages - set(registry())) == [], "a page names a rule that does not exist"
    assert sorted(set(registry()) - pages) == [], "a rule has no page"


def test_the_guide_links_each_rule_it_names_to_its_page() -> None:
    named = {
        code
        for _, line in outside_fences(GUIDE)
        for code in _CODE.findall(without_code_spans(line))
    }
    linked = {
        Path(target.partition("#")[0]).stem
        for _, target in links(GUIDE)
        if target.startswith("rules/QM")
    }
    assert named, "the guide names no rule"
    assert sorted(named - linked) == []


def test_the_slugs_follow_github() -> None:
    assert slug("`current_pool` and `default_pool_size`") == "current_pool-and-default_pool_size"
    assert slug("1.7 Keep the sync data layer: stage-1 mode") == (
        "17-keep-the-sync-data-layer-stage-1-mode"
    )
    assert slug("`WS /ws/events`") == "ws-wsevents"
