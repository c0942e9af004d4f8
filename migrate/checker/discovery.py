"""Find the files to check under the given paths.

Directories are walked for ``*.py`` files and dependency files
(:func:`migrate.checker.depfiles.is_dependency_file`). Entries matching an
exclude pattern are skipped: a pattern without ``/`` is matched (``fnmatch``)
against the entry's name, one with ``/`` against its path relative to the
walked root. ``.gitignore`` files in the walked tree and in its parents up to
the repository root are honoured (via ``pathspec``). A file named explicitly
on the command line is checked all the same, unless ``force_exclude`` is set
(``--force-exclude``, for pre-commit, which names every changed file): then
its path relative to the current directory is matched as well, folder by
folder, and so is ``.gitignore``.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path

import pathspec

from migrate.checker.depfiles import is_dependency_file

DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytest_cache",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "venv",
    "__pycache__",
    "__pypackages__",
    "_build",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "*.egg-info",
)


def _excluded(name: str, relative: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        target = relative if "/" in pattern else name
        if fnmatch.fnmatch(target, pattern.rstrip("/")):
            return True
    return False


def _gitignore(directory: Path) -> pathspec.GitIgnoreSpec | None:
    path = directory / ".gitignore"
    if not path.is_file():
        return None
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _parent_specs(root: Path) -> list[tuple[Path, pathspec.GitIgnoreSpec]]:
    specs = []
    for folder in root.parents:
        spec = _gitignore(folder)
        if spec is not None:
            specs.append((folder, spec))
        if (folder / ".git").exists():
            break
    return specs


def _ignored(
    path: Path, is_dir: bool, specs: Iterable[tuple[Path, pathspec.GitIgnoreSpec]]
) -> bool:
    for base, spec in specs:
        try:
            relative = path.relative_to(base).as_posix()
        except ValueError:
            continue
        if spec.match_file(relative + ("/" if is_dir else "")):
            return True
    return False


def _excluded_file(path: Path, patterns: Sequence[str], respect_gitignore: bool) -> bool:
    absolute = path.resolve()
    try:
        parts = absolute.relative_to(Path.cwd().resolve()).parts
    except ValueError:
        # Outside the current directory: only the patterns without "/" can match (by name).
        parts = absolute.parts[1:]
    for end in range(1, len(parts) + 1):
        if _excluded(parts[end - 1], "/".join(parts[:end]), patterns):
            return True
    return respect_gitignore and _ignored(absolute, False, _parent_specs(absolute))


def discover(
    paths: Sequence[Path],
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    respect_gitignore: bool = True,
    force_exclude: bool = False,
) -> list[Path]:
    """Return the files to check, sorted and without duplicates.

    ``force_exclude`` applies ``exclude`` (and ``.gitignore``) to the files in
    ``paths`` too, not only to what the walk finds.

    Raises ``FileNotFoundError`` for a path that does not exist.
    """
    found: set[Path] = set()
    for root in paths:
        if not root.exists():
            raise FileNotFoundError(str(root))
        if root.is_file():
            if not (force_exclude and _excluded_file(root, exclude, respect_gitignore)):
                found.add(root)
            continue
        absolute = root.resolve()
        specs = _parent_specs(absolute) if respect_gitignore else []
        for folder, dirs, files in os.walk(root):
            current = Path(folder)
            if respect_gitignore and (spec := _gitignore(current)) is not None:
                specs.append((current.resolve(), spec))
            relative_dir = current.relative_to(root).as_posix()
            kept = []
            for name in sorted(dirs):
                rel = name if relative_dir == "." else f"{relative_dir}/{name}"
                child = current / name
                if _excluded(name, rel, exclude):
                    continue
                if respect_gitignore and _ignored(child.resolve(), True, specs):
                    continue
                kept.append(name)
            dirs[:] = kept
            for name in files:
                path = current / name
                if not (name.endswith(".py") or is_dependency_file(path)):
                    continue
                rel = name if relative_dir == "." else f"{relative_dir}/{name}"
                if _excluded(name, rel, exclude):
                    continue
                if respect_gitignore and _ignored(path.resolve(), False, specs):
                    continue
                found.add(path)
    return sorted(found)
