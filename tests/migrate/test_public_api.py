"""The public API: what ``migrate`` exports is documented, and importing it stays light."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import migrate

DOCS = Path(__file__).parents[2] / "docs" / "migrate-api.md"


@pytest.mark.parametrize("name", migrate.__all__)
def test_every_exported_name_has_a_reference_entry_and_a_docstring(name: str) -> None:
    assert f"`{name}`" in DOCS.read_text(encoding="utf-8")
    value = getattr(migrate, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), f"{name} has no docstring"


def test_importing_migrate_does_not_import_the_checker_or_the_frameworks() -> None:
    probe = (
        "import sys, migrate; "
        "print(sorted(m for m in ('migrate.checker', 'quart', 'flask', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(migrate.__file__).parents[1],
    )
    assert result.stdout.strip() == "[]"
