"""The reference pages cover what they document: the public API, the extensions, the docs."""

from __future__ import annotations

import re

import migrate
from migrate.checker import docs_extensions
from migrate.checker.catalog.extensions import EXTENSIONS
from migrate.checker.catalog.extensions import STATUSES
from tests.docs.snippets import ROOT

DOCS = ROOT / "docs"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_public_name_of_migrate_is_documented() -> None:
    page = _read("migrate-api.md")
    assert sorted(name for name in migrate.__all__ if f"`{name}" not in page) == []


def test_the_extension_map_is_the_generated_page() -> None:
    assert _read("extensions.md") == docs_extensions.page(), "run: python -m migrate.checker.docs"


def test_the_extension_map_lists_every_extension_with_a_known_status() -> None:
    page = _read("extensions.md")
    assert [ext.module for ext in EXTENSIONS if f"`{ext.module}`" not in page] == []
    assert [ext.module for ext in EXTENSIONS if ext.status not in STATUSES] == []
    modules = [ext.module for ext in EXTENSIONS]
    assert len(modules) == len(set(modules))


def test_the_index_links_every_page() -> None:
    index = _read("README.md")
    linked = set(re.findall(r"\]\(([^)#]+)", index))
    pages = {path.name for path in DOCS.glob("*.md")} - {"README.md"}
    assert sorted(pages - linked) == []
    assert "rules/README.md" in linked


def test_the_readme_leads_into_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in ("docs/README.md", "docs/migration-guide.md", "docs/extensions.md"):
        assert f"]({target})" in readme


def test_the_guide_has_its_four_stages_each_with_an_end() -> None:
    guide = _read("migration-guide.md")
    stages = re.findall(r"^## Stage (\d):", guide, flags=re.MULTILINE)
    assert stages == ["0", "1", "2", "3"]
    assert [n for n in stages if f"**Stage {n} is done when**" not in guide] == []
