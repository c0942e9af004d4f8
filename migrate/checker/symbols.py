"""Per-file symbol table: what each imported name refers to.

The table maps a local name to the dotted name it was imported as, so that
``import flask as f``, ``from flask import request as req`` and ``import flask``
all resolve ``f.request.form``, ``req.form`` and ``flask.request.form`` to
``flask.request.form``. Relative imports are resolved against the module's own
dotted name (see :func:`module_name`). Shadowing by a later local assignment
is not tracked: the first import of a name wins for the whole file.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4096)
def _package_parts(directory: Path) -> tuple[str, ...]:
    # A directory is a package while it holds an ``__init__.py`` (PEP 420
    # namespace packages are not followed: their modules resolve by file name).
    if not (directory / "__init__.py").is_file():
        return ()
    return (*_package_parts(directory.parent), directory.name)


def module_name(path: Path) -> tuple[str, bool]:
    """Return ``(dotted module name, is_package)`` for a Python file.

    ``pkg/sub/mod.py`` with ``__init__.py`` files in ``pkg`` and ``pkg/sub`` is
    ``("pkg.sub.mod", False)``; ``pkg/__init__.py`` is ``("pkg", True)``; a file
    outside any package is named by its stem.
    """
    parts = _package_parts(path.resolve().parent)
    if path.name == "__init__.py":
        return ".".join(parts) or path.resolve().parent.name, True
    return ".".join((*parts, path.stem)), False


class Symbols:
    """Import aliases and module-level definitions of one file."""

    __slots__ = ("aliases", "defs", "is_package", "module")

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.aliases: dict[str, str] = {}
        self.defs: dict[str, str] = {}

    def _absolute(self, level: int, target: str | None) -> str:
        if level == 0:
            return target or ""
        base = self.module.split(".")
        # A module's level-1 base is its package; a package's is itself.
        drop = level if not self.is_package else level - 1
        base = base[: len(base) - drop] if drop else base
        # Beyond the top-level package the import cannot name anything real.
        prefix = "." if not base else ""
        return prefix + ".".join([*base, target] if target else base)

    def add_import(self, node: ast.Import | ast.ImportFrom) -> None:
        """Record the names an import statement binds (first binding wins)."""
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.aliases.setdefault(alias.asname, alias.name)
                else:
                    top = alias.name.partition(".")[0]
                    self.aliases.setdefault(top, top)
            return
        base = self._absolute(node.level, node.module)
        for alias in node.names:
            if alias.name == "*":
                continue
            target = f"{base}.{alias.name}" if base else alias.name
            self.aliases.setdefault(alias.asname or alias.name, target)

    def resolve(self, expr: ast.expr) -> str | None:
        """Return the dotted name ``expr`` refers to, or ``None`` if unknown.

        Only names and attribute chains on names resolve: ``f.request.form``
        gives ``flask.request.form`` after ``import flask as f``; a name that is
        neither imported nor defined at module level gives ``None``.
        """
        if isinstance(expr, ast.Name):
            return self.aliases.get(expr.id) or self.defs.get(expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None


def dotted(expr: ast.expr) -> str | None:
    """Return the source text of a name or attribute chain (``a.b.c``), else ``None``."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


def canonical(name: str | None) -> str | None:
    """Map Quart's names onto Flask's so one table serves both frameworks.

    ``quart.request`` → ``flask.request``, ``quart.Quart`` → ``flask.Quart``
    (so Quart's app class is never taken for ``flask.Flask``).
    """
    if name is None:
        return None
    if name == "quart" or name.startswith("quart."):
        return "flask" + name[5:]
    return name
