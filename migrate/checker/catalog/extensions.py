"""Rule records of the extensions family; detection is in :mod:`migrate.checker.extensions`.

QM5xx extensions: Flask extensions and their Quart replacements.
"""

from __future__ import annotations

from migrate.checker.rules import Rule

CAT = "extensions"


S = "Quart docs/how_to_guides/flask_extensions.rst; each extension's documentation"


SCHEMA = "quart-schema (`validate_request`, `validate_response`, OpenAPI docs)"


RULES = (
    Rule(
        "QM501",
        "flask-extension-import",
        CAT,
        "An import of a Flask extension.",
        "`{module}` is a Flask extension: {replacement}",
        "from flask_cors import CORS\n\nCORS(app)",
        "from quart_cors import cors\n\napp = cors(app, allow_origin='*')",
        "Most Flask extensions call Flask's synchronous APIs and do not work on Quart; "
        "Quart-Flask-Patch, the old bridge, fails to import on Quart 0.23.",
        S,
        120.0,
    ),
    Rule(
        "QM502",
        "flask-extension-dependency",
        CAT,
        "A Flask extension in a dependency list.",
        "`{name}` is a Flask extension: {replacement}",
        "Flask-Login>=0.6\nFlask-Limiter>=3.8",
        "quart-auth>=0.10\nquart-rate-limiter>=0.10",
        "Read from `requirements*.txt`, `requirements/*.txt`, `*.in` and `pyproject.toml` "
        "(`[project]` dependencies, optional dependencies, dependency groups, Poetry).",
        S,
        5.0,
    ),
    Rule(
        "QM503",
        "flask-patch",
        CAT,
        "Quart-Flask-Patch (or `quart.flask_patch`).",
        "`{name}` fails on Quart 0.23 (it imports removed context names): port each "
        "extension to its Quart replacement instead",
        "import quart_flask_patch\nfrom flask_login import LoginManager",
        "from quart_auth import QuartAuth",
        "`quart.flask_patch` was removed in Quart 0.19; its successor Quart-Flask-Patch 0.3.0 "
        "raises ImportError on 0.23 (`RequestContext`, `request_ctx`).",
        "Quart CHANGES.md (0.19.0: Flask-Patch removed); quart-flask-patch 0.3.0",
        60.0,
    ),
    Rule(
        "QM504",
        "flask-dependency",
        CAT,
        "Flask itself in a dependency list.",
        "`{name}` is Flask: depend on `quart` (0.22 supports Python 3.11; 0.23 needs 3.13)",
        "flask>=3.1",
        "quart>=0.22",
        "Quart depends on Flask's sans-IO core itself, so Flask stays installed, but the "
        "application depends on Quart.",
        "Quart pyproject.toml (requires-python)",
        1.0,
    ),
)
