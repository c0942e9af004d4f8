"""Dependency files: Flask, its extensions and WSGI servers in requirement lists.

Reads ``requirements*.txt``, ``requirements/*.txt``, ``*.in`` (pip-tools) and
``pyproject.toml`` (``[project]`` dependencies and optional dependencies,
``[dependency-groups]``, ``[tool.poetry]`` dependencies and groups) and reports
QM502/QM503/QM504 (extensions) and QM704 (servers) at the requirement's line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrate.checker import extensions
from migrate.checker import rules
from migrate.checker.model import Finding
from migrate.checker.wsgi import SERVERS

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def is_dependency_file(path: Path) -> bool:
    """Return true for the file names this module reads."""
    name = path.name
    if name == "pyproject.toml":
        return True
    if path.suffix in (".txt", ".in"):
        # ``requirements.txt``, ``requirements-dev.txt``, ``dev-requirements.txt``,
        # ``optional-requirements.txt``, ``requirements/base.in``.
        return "requirements" in path.stem or path.parent.name == "requirements"
    return False


def normalize(name: str) -> str:
    """Normalise a distribution name as PEP 503 does (``Flask_Login`` → ``flask-login``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _finding(path: str, line: int, col: int, width: int, raw: str) -> Finding | None:
    name = normalize(raw)
    module = name.replace("-", "_")
    if name == "flask":
        code, fields = "QM504", {"name": raw}
    elif name in ("quart-flask-patch",):
        code, fields = "QM503", {"name": raw}
    elif extensions.is_extension(module):
        code, fields = "QM502", {"name": raw, "replacement": extensions.replacement(module)}
    elif name in SERVERS:
        code, fields = "QM704", {"name": raw, "replacement": SERVERS[name]}
    else:
        return None
    message = rules.get(code).format(**fields)
    return Finding(path, line, col, code, message, line, col + width)


def check_requirements(path: str, text: str) -> Iterator[Finding]:
    """Yield findings for a pip requirements file (one requirement per line)."""
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split(" #", 1)[0]
        if content.lstrip().startswith(("#", "-")):
            continue
        match = _NAME.match(content)
        if match:
            found = _finding(path, number, match.start(1) + 1, len(match.group(1)), match.group(1))
            if found is not None:
                yield found


def _strings(data: Any) -> Iterator[str]:
    project = data.get("project", {})
    yield from project.get("dependencies", [])
    for group in project.get("optional-dependencies", {}).values():
        yield from group
    for group in data.get("dependency-groups", {}).values():
        yield from (item for item in group if isinstance(item, str))
    poetry = data.get("tool", {}).get("poetry", {})
    yield from poetry.get("dependencies", {})
    for group in poetry.get("group", {}).values():
        yield from group.get("dependencies", {})


def check_pyproject(path: str, text: str) -> Iterator[Finding]:
    """Yield findings for the dependencies declared in a ``pyproject.toml``.

    Raises ``tomllib.TOMLDecodeError`` for a file that is not valid TOML.
    """
    data = tomllib.loads(text)
    lines = text.splitlines()
    seen: set[tuple[int, int]] = set()
    for requirement in _strings(data):
        match = _NAME.match(requirement)
        if not match:
            continue
        raw = match.group(1)
        for number, line in enumerate(lines, start=1):
            col = _locate(line, requirement, raw)
            if col >= 0 and (number, col) not in seen:
                seen.add((number, col))
                found = _finding(path, number, col + 1, len(raw), raw)
                if found is not None:
                    yield found
                break


def _locate(line: str, requirement: str, raw: str) -> int:
    stripped = line.lstrip()
    if stripped.startswith("#"):
        return -1
    for quote in ('"', "'"):
        # The whole string: ``"flask"`` is not found in ``name = "flaskr"``.
        at = line.find(quote + requirement + quote)
        if at >= 0:
            return at + 1
    if re.match(rf"\s*{re.escape(raw)}\s*=", line):
        return line.index(raw)
    return -1


def check_file(path: str, text: str) -> list[Finding]:
    """Dispatch on the file name; raise ``ValueError`` for an unparsable file."""
    if Path(path).name == "pyproject.toml":
        try:
            return list(check_pyproject(path, text))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"invalid TOML: {exc}") from exc
    return list(check_requirements(path, text))
