"""Find the files to check under the given paths.

Directories are walked for ``*.py`` files and dependency files
(:func:`migrate.checker.depfiles.is_dependency_file`). Entries matching an
exclude pattern are skipped: a pattern without ``/`` is matched (``fnmatch``)
against the entry's name, one with ``/`` against its path relative to the
walked root. ``.gitignore`` files in the walked tree and in its parents up to
the repository root are honoured (via ``pathspec``). A file named explicitly
on the command line is checked unless ``force_exclude`` is set (ruff's
``--force-exclude``); a named path that ends up excluded gets a note
(:func:`discover_explained`).
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


def _excluded(name: str, relative: str, patterns: Sequence[str], path: Path | None = None) -> bool:
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if "/" not in pattern:
            if fnmatch.fnmatch(name, pattern):
                return True
            continue
        # A pattern with a slash names a path from the walked folder, or from the current
        # folder (where the configuration is): ``tests/checker/samples`` is excluded when
        # ``tests`` is walked too.
        if fnmatch.fnmatch(relative, pattern):
            return True
        if path is not None and fnmatch.fnmatch(_from_cwd(path), pattern):
            return True
    return False


def _from_cwd(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


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


def discover(
    paths: Sequence[Path],
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    respect_gitignore: bool = True,
) -> list[Path]:
    """Return the files to check, sorted and without duplicates.

    Raises ``FileNotFoundError`` for a path that does not exist.
    """
    return discover_explained(paths, exclude, respect_gitignore)[0]


def _candidate(path: Path) -> bool:
    return path.name.endswith(".py") or is_dependency_file(path)


def _has_candidates(folder: Path) -> bool:
    return any(_candidate(Path(name)) for _, _, files in os.walk(folder) for name in files)


def discover_explained(
    paths: Sequence[Path],
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    respect_gitignore: bool = True,
    force_exclude: bool = False,
) -> tuple[list[Path], list[str]]:
    """Return the files to check and one note per named path that ends up excluded.

    A named directory whose files are all excluded (by a pattern or by ``.gitignore``)
    gets a note; so does a named file or folder that matches an exclude pattern or
    ``.gitignore`` when ``force_exclude`` is set (ruff's ``--force-exclude``); without it
    such a path is checked. Raises ``FileNotFoundError`` for a path that does not exist.
    """
    found: set[Path] = set()
    notes: list[str] = []
    for root in paths:
        if not root.exists():
            raise FileNotFoundError(str(root))
        reason = _file_excluded(root, exclude, respect_gitignore) if force_exclude else None
        if reason is not None:
            notes.append(f"{root}: not checked: {reason}")
            continue
        if root.is_file():
            found.add(root)
            continue
        before = len(found)
        _walk(root, exclude, respect_gitignore, found)
        if len(found) == before and _has_candidates(root):
            hint = (
                "pass --no-respect-gitignore or change the excludes"
                if respect_gitignore
                else "change the excludes"
            )
            notes.append(
                f"{root}: not checked: every file under it is excluded by a pattern"
                f"{' or .gitignore' if respect_gitignore else ''} ({hint})"
            )
    return sorted(found), notes


def _file_excluded(path: Path, exclude: Sequence[str], respect_gitignore: bool) -> str | None:
    absolute = path.resolve()
    try:
        relative = absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        relative = absolute.as_posix()
    if _excluded(absolute.name, relative, exclude):
        return f"excluded by a pattern ({relative})"
    # Each enclosing folder by its name, and by its path from the current folder
    # (``legacy/old`` excludes ``legacy/old/views.py``).
    for part in absolute.parents:
        if not part.name:
            continue
        if _excluded(part.name, _from_cwd(part), exclude):
            return f"excluded by the pattern matching {_from_cwd(part)!r}"
    if respect_gitignore and _ignored(absolute, path.is_dir(), _parent_specs(absolute)):
        return "ignored by .gitignore"
    return None


def _walk(root: Path, exclude: Sequence[str], respect_gitignore: bool, found: set[Path]) -> None:
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
            if _excluded(name, rel, exclude, child):
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
            if _excluded(name, rel, exclude, path):
                continue
            if respect_gitignore and _ignored(path.resolve(), False, specs):
                continue
            found.add(path)
