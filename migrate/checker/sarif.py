"""Render a report as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format).

One run, one ``tool.driver`` listing every rule (``helpUri`` when the docs base
is an absolute URL), one result per finding with a physical location whose
``uri`` is the file path relative to the current directory, ``uriBaseId``
``%SRCROOT%``. Columns are 1-based characters, as SARIF's default
``columnKind`` (``utf16CodeUnits``) expects for text without astral characters.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from migrate.checker import rules
from migrate.checker.engine import Report
from migrate.checker.output import rule_url

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _version() -> str:
    try:
        return metadata.version("flask-quart-migration-kit")
    except metadata.PackageNotFoundError:
        return "0"


def as_sarif(report: Report, docs_url: str | None = None) -> str:
    """Return the SARIF 2.1.0 log for ``report`` as a JSON string."""
    codes = list(rules.registry())
    absolute = bool(docs_url) and "://" in (docs_url or "")
    driver_rules = []
    for code, rule in rules.registry().items():
        entry: dict[str, Any] = {
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.rationale},
            "help": {"text": f"See {rule_url(code, docs_url)}"},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"category": rule.category},
        }
        if absolute:
            entry["helpUri"] = rule_url(code, docs_url)
        driver_rules.append(entry)
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": codes.index(f.code),
            "level": "warning",
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.col,
                            "endLine": f.end_line,
                            "endColumn": max(f.end_col, 1),
                        },
                    }
                }
            ],
        }
        for f in report.findings
    ]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "migrate-check",
                        "version": _version(),
                        "rules": driver_rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
