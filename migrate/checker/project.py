"""The context of a run: checked code that the named files depend on but that was not named.

Whether a function becomes async, and whether a call blocks, depends on code in other
files: the app package a test imports, the ``conftest.py`` whose fixtures a test uses.
So that ``check tests/``, ``check .`` and ``check tests/test_a.py`` report the same
findings on the same lines, the files named on the command line are read together with

* the ``conftest.py`` files in their folders and the folders above them, up to the
  project root, and
* the project's own modules they import (found from the project root or its ``src/``:
  the module files named by the imports, not whole packages), and what those import
  in turn;

the context files are analysed but never reported. The project root is the nearest
folder above the named paths that holds ``pyproject.toml``, ``setup.py``, ``setup.cfg``
or ``.git``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from pathlib import Path

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w, \t]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)", re.M)
#: Rounds of following imports (a package that imports another package, ...).
MAX_ROUNDS = 4


def project_root(paths: Sequence[Path]) -> Path | None:
    """Return the nearest folder above ``paths[0]`` with a project marker, or None."""
    if not paths:
        return None
    start = paths[0].resolve()
    for folder in (start, *start.parents):
        if folder.is_dir() and any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return None


def _module_file(base: Path, parts: Sequence[str]) -> Path | None:
    if not parts:
        return None
    target = base.joinpath(*parts)
    if (target / "__init__.py").is_file():
        return target / "__init__.py"
    if target.with_suffix(".py").is_file():
        return target.with_suffix(".py")
    return None


def _imported(path: Path, root: Path) -> set[Path]:
    """Return the project files ``path`` imports: the modules themselves, not whole packages."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    bases = (root, root / "src")
    out: set[Path] = set()

    def add(parts: list[str], names: Sequence[str], relative_to: Path | None) -> None:
        for base in (relative_to,) if relative_to is not None else bases:
            # ``from pkg import module``: the module's file; the package's own
            # ``__init__.py`` only for the names it defines.
            modules = [_module_file(base, [*parts, name]) for name in names]
            out.update(found for found in modules if found is not None)
            if names and None not in modules:
                return
            found = _module_file(base, parts)
            if found is not None:
                out.add(found)
                return

    for match in _FROM.finditer(text):
        dots, module, names = match.groups()
        parts = module.split(".") if module else []
        words = [n.strip() for n in names.split(",") if n.strip().isidentifier()]
        if dots:
            base = path.resolve().parent
            for _ in range(len(dots) - 1):
                base = base.parent
            add(parts, words, base)
        else:
            add(parts, words, None)
    for match in _IMPORT.finditer(text):
        for module in match.group(1).split(","):
            add(module.strip().split("."), [], None)
    return out


def _conftests(files: Sequence[Path], root: Path) -> set[Path]:
    out: set[Path] = set()
    folders = {f.resolve().parent for f in files}
    for folder in folders:
        for parent in (folder, *folder.parents):
            candidate = parent / "conftest.py"
            if candidate.is_file():
                out.add(candidate)
            if parent == root:
                break
    return out


def _skipped(path: Path, root: Path, exclude: Sequence[str]) -> bool:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return True
    return any(fnmatch.fnmatch(part, pattern) for part in parts[:-1] for pattern in exclude)


def context_files(
    files: Sequence[Path],
    paths: Sequence[Path],
    exclude: Sequence[str],
    respect_gitignore: bool,
) -> list[Path]:
    """Return the files to analyse beside ``files`` (see the module docstring), sorted."""
    root = project_root(paths)
    if root is None or any(p.is_dir() and p.resolve() == root for p in paths):
        # No project, or the whole project is named already.
        return []
    named = {f.resolve() for f in files}
    found: set[Path] = set()
    pending = [f for f in files if f.suffix == ".py"]
    pending += [c for c in _conftests(files, root) if c.resolve() not in named]
    found.update(c.resolve() for c in pending if c.resolve() not in named)
    for _ in range(MAX_ROUNDS):
        imported = set().union(*(_imported(f, root) for f in pending))
        pending = []
        for path in sorted(imported):
            resolved = path.resolve()
            if resolved in named or resolved in found or _skipped(resolved, root, exclude):
                continue
            found.add(resolved)
            pending.append(resolved)
        if not pending:
            break
    return sorted(found)
