"""Fixers outside Python statements: dependency lists, the app's config, pytest's settings."""

from __future__ import annotations

import ast
import re

from migrate.checker import rules
from migrate.checker.edits import SAFE
from migrate.checker.edits import UNSAFE
from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.fixers.base import RunInfo
from migrate.checker.fixers.base import Source
from migrate.checker.model import Finding

PYTEST_SECTION = "[tool.pytest.ini_options]"
PYTEST_SETTINGS = 'asyncio_mode = "auto"\nasyncio_default_fixture_loop_scope = "function"\n'
_SECTION = re.compile(r"\s*\[tool\.pytest\.ini_options\]\s*(#.*)?$")
ASYNC_CODES = frozenset({"QM301", "QM302", "QM303", "QM304", "QM305", "QM306", "QM309"})


def fix_flask_dependency(finding: Finding, text: str = "", extra: tuple[str, ...] = ()) -> Fix:
    """QM504: the requirement's name ``flask`` → ``quart`` (its version bound kept).

    ``extra`` names requirements the run's other fixes import (``aiosqlite``): each
    goes on a line of its own after this one, when the requirement has its line.
    """
    edits = [Edit(finding.line, finding.col, finding.end_line, finding.end_col, "quart")]
    lines = text.splitlines()
    line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
    indent = line[: len(line) - len(line.lstrip())]
    body = line.strip()
    new_lines = ""
    for name in extra:
        if re.search(rf"[\"'\s]{re.escape(name)}[\"'\s<>=~!\[;]", "\n" + text + "\n"):
            continue
        if re.fullmatch(r"[\"'][^\"']+[\"'],?(\s*#.*)?", body):  # one string of a TOML list
            new_lines += f'{indent}"{name}",\n'
        elif finding.path.endswith((".txt", ".in")) and not body.startswith(("[", '"')):
            new_lines += f"{indent}{name}\n"
    if new_lines:
        edits.append(Edit(finding.line + 1, 1, finding.line + 1, 1, new_lines))
    return Fix(tuple(edits), UNSAFE, "Depend on `quart`" + "".join(f", `{n}`" for n in extra))


def fix_max_content_length(src: Source, finding: Finding, run: RunInfo) -> Fix | None:
    """QM709: keep Flask's unlimited body size by setting ``MAX_CONTENT_LENGTH = None``.

    Only for ``name = Flask(...)`` as a statement of its own.
    """
    key = (finding.line, finding.col, finding.end_line, finding.end_col)
    node = src.find(key, ast.Call)
    stmt = src.parent(node) if node is not None else None
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return None
    target = stmt.targets[0]
    if not isinstance(target, ast.Name) or stmt.end_lineno is None:
        return None
    after = src.line_text(stmt.end_lineno)[stmt.end_col_offset or 0 :].strip()
    if after and not after.startswith("#"):
        return None
    indent = " " * stmt.col_offset
    line = stmt.end_lineno + 1
    text = (
        f'{indent}{target.id}.config["MAX_CONTENT_LENGTH"] = None'
        "  # Flask's default: no limit (Quart's is 16 MiB)\n"
    )
    if line > len(src.lines):
        text = "\n" + text if not src.text.endswith("\n") else text
    return Fix((Edit(line, 1, line, 1, text, 2),), UNSAFE, "Keep Flask's unlimited body size")


def pytest_asyncio_finding(path: str, text: str, findings: list[Finding]) -> Finding | None:
    """QM680: tests become async but ``pyproject.toml`` does not configure pytest-asyncio.

    ``findings`` are the run's; returns the finding (with its fix) or ``None``.
    """
    if re.search(r"^\s*asyncio_mode\s*=", text, re.MULTILINE):
        return None
    if not any(f.code in ASYNC_CODES and _is_test_path(f.path) for f in findings):
        return None
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if _SECTION.match(line)), None)
    if header is not None:
        line = header + 2
        edit = Edit(line, 1, line, 1, PYTEST_SETTINGS)
        at = header + 1
    else:
        line = len(lines) + 1
        prefix = "" if text.endswith("\n") or not text else "\n"
        edit = Edit(line, 1, line, 1, f"{prefix}\n{PYTEST_SECTION}\n{PYTEST_SETTINGS}")
        at = 1
    edits = [edit, *_test_requirement(lines)]
    rule = rules.get("QM680")
    width = len(lines[at - 1]) if lines else 1
    fix = Fix(tuple(edits), SAFE, 'Set `asyncio_mode = "auto"`')
    return Finding(path, at, 1, "QM680", rule.message, at, width + 1, fix)


_TEST_EXTRA = re.compile(r"(\s*(?:test|tests|testing|dev)\s*=\s*\[)(.*)\]\s*(#.*)?$")


def _test_requirement(lines: list[str]) -> list[Edit]:
    # ``test = ["pytest"]`` in ``[project.optional-dependencies]`` gains pytest-asyncio.
    if any("pytest-asyncio" in line or "pytest_asyncio" in line for line in lines):
        return []
    section = ""
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith("["):
            section = line.strip()
            continue
        match = _TEST_EXTRA.match(line)
        if section in ("[project.optional-dependencies]", "[dependency-groups]") and match:
            if "pytest" not in match.group(2):
                continue
            at = len(match.group(1)) + len(match.group(2)) + 1
            sep = (
                ", " if match.group(2).strip() and not match.group(2).rstrip().endswith(",") else ""
            )
            return [Edit(number, at, number, at, f'{sep}"pytest-asyncio"')]
    return []


def _is_test_path(path: str) -> bool:
    name = path.rpartition("/")[2]
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
