"""Settings from ``[tool.migrate]`` in ``pyproject.toml``.

The nearest ``pyproject.toml`` that has a ``[tool.migrate]`` table, searching
from the first checked path (or the current directory) upwards, supplies the
defaults; command-line options override them. Recognised keys:

``select``, ``ignore``, ``extend-select`` (lists of codes or prefixes),
``exclude`` (replaces the default excludes), ``extend-exclude`` (adds to them),
both lists of glob patterns, ``respect-gitignore`` (bool, default true),
``mounted-wsgi`` (paths, relative to the ``pyproject.toml``, of the Flask packages that
stay behind ``migrate.mount_wsgi``: see :func:`migrate.checker.engine.run`),
``force-exclude`` (bool, default false: apply the excludes to files named on the
command line too, as ruff's option of that name), and
``docs-url`` (base of the rule page links in JSON and SARIF output).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude", "mounted-wsgi")
KEYS = (*LIST_KEYS, "respect-gitignore", "force-exclude", "docs-url")


class ConfigError(ValueError):
    """Raised for an unreadable ``pyproject.toml`` or an invalid ``[tool.migrate]`` value."""


@dataclass
class Settings:
    """Resolved settings; ``None`` for ``select``/``exclude`` means the defaults."""

    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    force_exclude: bool = False
    mounted_wsgi: list[str] = field(default_factory=list)
    docs_url: str | None = None
    source: Path | None = None


def find(start: Path) -> Path | None:
    """Return the nearest ``pyproject.toml`` with a ``[tool.migrate]`` table, or None."""
    directory = start.resolve()
    if not directory.is_dir():
        directory = directory.parent
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "tool.migrate" in _read(candidate):
            return candidate
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def load(path: Path) -> Settings:
    """Read ``[tool.migrate]`` from ``path``; raise :class:`ConfigError` when invalid."""
    try:
        data = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    table: Any = data.get("tool", {}).get("migrate", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.migrate] must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key in [tool.migrate]: {', '.join(unknown)}")
    for key in LIST_KEYS:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: [tool.migrate] {key} must be a list of strings")
    if not isinstance(table.get("respect-gitignore", True), bool):
        raise ConfigError(f"{path}: [tool.migrate] respect-gitignore must be true or false")
    if not isinstance(table.get("force-exclude", False), bool):
        raise ConfigError(f"{path}: [tool.migrate] force-exclude must be true or false")
    if not isinstance(table.get("docs-url", ""), str):
        raise ConfigError(f"{path}: [tool.migrate] docs-url must be a string")
    return Settings(
        select=table.get("select"),
        ignore=table.get("ignore", []),
        extend_select=table.get("extend-select", []),
        exclude=table.get("exclude"),
        extend_exclude=table.get("extend-exclude", []),
        respect_gitignore=table.get("respect-gitignore", True),
        force_exclude=table.get("force-exclude", False),
        mounted_wsgi=table.get("mounted-wsgi", []),
        docs_url=table.get("docs-url"),
        source=path,
    )
