"""Small units: selectors, suppressions, import resolution, dependency names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from migrate.checker import noqa
from migrate.checker.depfiles import check_requirements
from migrate.checker.depfiles import normalize
from migrate.checker.discovery import discover
from migrate.checker.engine import run
from migrate.checker.rules import SelectionError
from migrate.checker.rules import enabled_codes
from migrate.checker.symbols import Symbols
from migrate.checker.symbols import module_name


def test_selectors_prefer_the_more_specific() -> None:
    assert enabled_codes(["QM2"], ["QM201"]) == enabled_codes(["QM2"]) - {"QM201"}
    assert enabled_codes(["QM201"], ["QM2"]) == {"QM201"}
    assert enabled_codes(["ALL"]) == enabled_codes()
    with pytest.raises(SelectionError):
        enabled_codes(["QM9"])


def test_noqa_codes_prefixes_and_blanket() -> None:
    table = noqa.parse("a  # noqa: QM201, QM3\nb  # NOQA\nc  # noqa:QM1 QM7\nd\n")
    assert table == {1: frozenset({"QM201", "QM3"}), 2: None, 3: frozenset({"QM1", "QM7"})}
    assert noqa.suppressed("QM305", 1, table) and not noqa.suppressed("QM202", 1, table)
    assert noqa.suppressed("QM999", 2, table) and not noqa.suppressed("QM101", 4, table)
    assert noqa.file_level("# migrate: noqa\nx = 1\n")
    assert not noqa.file_level("x = 1  # migrate: noqa\n")


def test_relative_imports_resolve_against_the_package() -> None:
    symbols = Symbols("shop.views.cart", is_package=False)
    tree = ast.parse("from . import forms\nfrom ..db import get_db\nimport flask as f\n")
    for node in tree.body:
        assert isinstance(node, ast.Import | ast.ImportFrom)
        symbols.add_import(node)
    assert symbols.aliases == {
        "forms": "shop.views.forms",
        "get_db": "shop.db.get_db",
        "f": "flask",
    }
    expr = ast.parse("f.request.form", mode="eval").body
    assert symbols.resolve(expr) == "flask.request.form"


def test_module_names(tmp_path: Path) -> None:
    package = tmp_path / "shop" / "views"
    package.mkdir(parents=True)
    for folder in (tmp_path / "shop", package):
        (folder / "__init__.py").write_text("")
    assert module_name(package / "cart.py") == ("shop.views.cart", False)
    assert module_name(package / "__init__.py") == ("shop.views", True)
    assert module_name(tmp_path / "script.py") == ("script", False)


def test_requirement_names() -> None:
    assert normalize("Flask_Login") == "flask-login"
    found = list(check_requirements("r.txt", "Flask-CORS[x]>=6 ; python_version>'3'\n# Flask\n"))
    assert [(f.line, f.col, f.end_col, f.code) for f in found] == [(1, 1, 11, "QM502")]


STREAMING_VIEW = """from flask import Flask
from flask import Response

app = Flask(__name__)


def rows():
    yield "a,b\\r\\n"


@app.get("/export.csv")
def export():
    return Response(rows(), mimetype="text/csv")
"""


def _codes(folder: Path) -> set[str]:
    files = discover([folder], respect_gitignore=False)
    return {finding.code for finding in run(files, enabled_codes(), jobs=1).findings}


def test_response_timeout_in_any_checked_file_covers_every_stream(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(STREAMING_VIEW)
    assert "QM714" in _codes(tmp_path)
    (tmp_path / "settings.py").write_text("RESPONSE_TIMEOUT = 10 * 60  # s\n")
    assert "QM714" not in _codes(tmp_path)


def test_a_flask_named_package_of_the_run_is_not_an_extension(tmp_path: Path) -> None:
    # flask_monitoringdashboard imports itself everywhere: the project, not an extension.
    package = tmp_path / "flask_widgets"
    package.mkdir()
    (package / "__init__.py").write_text("import flask_login\n")
    (package / "views.py").write_text("from flask_widgets import models\n")
    (package / "models.py").write_text("")
    report = run(discover([tmp_path]), enabled_codes(["QM501"]))
    found = [(Path(f.path).name, f.message.split("`")[1]) for f in report.findings]
    assert found == [("__init__.py", "flask_login")]
    # Checked from inside the package, it is still the project.
    report = run(discover([package]), enabled_codes(["QM501"]))
    assert [f.message.split("`")[1] for f in report.findings] == ["flask_login"]
