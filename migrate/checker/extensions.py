"""QM5xx extensions: Flask extensions and their Quart replacements.

Each ``flask_*`` import (and each Flask extension listed as a dependency, see
:mod:`migrate.checker.depfiles`) is reported with the replacement from the
extension table in :mod:`migrate.checker.catalog.extensions`, or the statement
that none exists.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from migrate.checker.catalog import extensions as catalog

if TYPE_CHECKING:
    from migrate.checker.context import FileContext
    from migrate.checker.context import Handler


EXTENSIONS: dict[str, str] = {ext.module: ext.advice for ext in catalog.EXTENSIONS}
UNKNOWN = "no known Quart port: check whether it works with Quart before relying on it"
PATCH_MODULES = frozenset({"quart_flask_patch", "quart.flask_patch"})


def replacement(module: str) -> str:
    """Return the replacement text for an extension module such as ``flask_login``."""
    return EXTENSIONS.get(module, UNKNOWN)


def is_extension(module: str) -> bool:
    """Return true for a Flask extension's top-level module (``flask_*``).

    A name with a ``quart`` part (``flask_quart_migration_kit``, this kit's own
    distribution) is a migration tool, not an extension.
    """
    return module.startswith("flask_") and len(module) > 6 and "quart" not in module.split("_")


def _check(ctx: FileContext, node: ast.AST, module: str) -> None:
    top = module.partition(".")[0]
    if module in PATCH_MODULES or top == "quart_flask_patch":
        ctx.report(node, "QM503", name=module)
    elif is_extension(top):
        ctx.report(node, "QM501", module=top, replacement=replacement(top))


def on_import(ctx: FileContext, node: ast.AST) -> None:
    """Report imports of ``flask_*`` extensions and of Quart-Flask-Patch."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            _check(ctx, alias, alias.name)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        if node.module == "quart" and any(a.name == "flask_patch" for a in node.names):
            ctx.report(node, "QM503", name="quart.flask_patch")
        else:
            _check(ctx, node, node.module)


HANDLERS: list[tuple[type[ast.AST], Handler]] = [
    (ast.Import, on_import),
    (ast.ImportFrom, on_import),
]
