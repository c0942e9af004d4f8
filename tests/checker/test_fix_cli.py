"""``migrate check --fix`` and friends on the command line: files, exit codes, output."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from migrate.checker.edits import Edit
from migrate.checker.edits import Fix
from migrate.checker.fixers import rules as fixer_rules
from migrate.checker.fixers.base import Source
from migrate.cli import main

APP = """\
import os  # standard library

from flask import Flask
from flask import request


# The application object.
app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1


@app.post("/items")
def create():
    # Read the form.
    title = request.form["title"]

    return {"title": title}
"""
FIXED = """\
import os  # standard library

from quart import Quart
from quart import request


# The application object.
app = Quart(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1


@app.post("/items")
async def create():
    # Read the form.
    title = (await request.form)["title"]

    return {"title": title}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fix_writes_and_a_second_fix_is_a_no_op(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mode = (project / "app.py").stat().st_mode
    code, out, err = _run(capsys, "check", "--fix", ".")
    assert (code, err) == (0, "")
    assert (project / "app.py").read_text() == FIXED
    assert "Fixed 6 findings; none remain." in out
    assert (project / "app.py").stat().st_mode == mode
    assert sorted(p.name for p in project.iterdir()) == ["app.py"]  # no temporary file left
    code, out, _ = _run(capsys, "check", "--fix", ".")
    assert code == 0 and "Fixed 0 findings; none remain." in out
    assert (project / "app.py").read_text() == FIXED


def test_comments_and_blank_lines_survive(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "check", "--fix", ".")
    before = APP.splitlines()
    after = (project / "app.py").read_text().splitlines()
    kept = set()
    for block in difflib.SequenceMatcher(None, before, after, autojunk=False).get_matching_blocks():
        kept.update(range(block.a, block.a + block.size))
    for number, line in enumerate(before):
        if not line.strip() or line.lstrip().startswith("#"):
            assert number in kept, line
    assert after[0] == "import os  # standard library"


def test_diff_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "check", "--diff", ".")
    assert code == 1
    assert out.startswith("--- a/app.py\n+++ b/app.py\n")
    assert "\n-from flask import Flask\n" in out and "\n+from quart import Quart\n" in out
    assert "+async def create():" in out
    assert "Would fix 6 findings in 1 files." in err
    assert (project / "app.py").read_text() == APP
    (project / "app.py").write_text(FIXED)
    code, out, _ = _run(capsys, "check", "--diff", ".")
    assert (code, out) == (0, "")


def test_select_and_ignore_apply_to_fixes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "check", "--fix", "--ignore", "QM101,QM102", ".")
    text = (project / "app.py").read_text()
    assert "from flask import Flask" in text and "async def create" in text
    assert code == 0 and "Fixed 2 findings" in out
    (project / "app.py").write_text(APP)
    _run(capsys, "check", "--fix", "--select", "QM101", ".")
    assert (project / "app.py").read_text() == APP.replace("from flask import", "from quart import")


def test_fix_only_and_show_fixes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--fix-only", ".")
    assert code == 0
    assert out.startswith("Fixed 6 findings:\n")
    assert "      2  QM101  flask-import" in out
    assert "app.py:" not in out


def test_unsafe_fixes_need_the_flag(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slow = APP.replace("import os ", "import time ").replace(
        "    # Read the form.\n", "    # Read the form.\n    time.sleep(1)\n"
    )
    (project / "app.py").write_text(slow)
    code, out, _ = _run(capsys, "check", "--fix", ".")
    assert code == 1 and "QM401" in out and "time.sleep(1)" in (project / "app.py").read_text()
    assert "1 more fixable with `--fix --unsafe-fixes` [-]." in out
    code, out, _ = _run(capsys, "check", "--fix", "--unsafe-fixes", ".")
    assert code == 0
    assert "await asyncio.sleep(1)" in (project / "app.py").read_text()


def test_syntax_error_file_is_named_and_the_rest_fixed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "broken.py").write_text("from flask import g\ndef f(:\n")
    code, _, err = _run(capsys, "check", "--fix", ".")
    assert code == 2
    assert err.splitlines() == ["broken.py: skipped: syntax error at line 2: invalid syntax"]
    assert (project / "broken.py").read_text() == "from flask import g\ndef f(:\n"
    assert (project / "app.py").read_text() == FIXED


def test_fixed_text_that_does_not_parse_is_not_written(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def bad(src: object, finding: object, run: object) -> Fix:
        return Fix((Edit(1, 1, 1, 1, "(((\n"),), "safe", "breaks the file")

    (project / "other.py").write_text("import os\n")
    monkeypatch.setitem(fixer_rules.FIXERS, "QM102", bad)
    code, _, err = _run(capsys, "check", "--fix", ".")
    assert code == 2
    assert err.splitlines() == [
        "app.py: not fixed: its fixed text does not parse (syntax error at line 1: "
        "'(' was never closed)"
    ]
    assert (project / "app.py").read_text() == APP


def test_json_fix_field_has_ruffs_shape(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "check", "--format", "json", "app.py")
    items = json.loads(out)
    view = next(i for i in items if i["code"] == "QM301")
    assert view["fix"] == {
        "applicability": "safe",
        "message": "Make it `async def`",
        "edits": [
            {
                "content": "async ",
                "location": {"row": 13, "column": 1},
                "end_location": {"row": 13, "column": 1},
            }
        ],
    }
    body = next(i for i in items if i["code"] == "QM201")
    assert [e["content"] for e in body["fix"]["edits"]] == ["(await ", ")"]
    assert os.path.basename(body["filename"]) == "app.py"


def test_show_fixes_marks_fixable_findings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, plain, _ = _run(capsys, "check", ".")
    assert "[*]" not in plain and "fixable" not in plain
    _, out, _ = _run(capsys, "check", "--show-fixes", ".")
    assert "app.py:13:1: QM301 view `create` must become `async def` so it can await" in out
    assert out.count(" [*]\n") == 6
    assert "6 fixable with `--fix` [*]." in out


def test_rounds_stop_at_the_limit(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate.checker import fixing
    from migrate.checker.discovery import discover
    from migrate.checker.rules import enabled_codes

    def endless(src: object, finding: object, run: object) -> Fix:
        # Never converges: the import is still Flask's after every round.
        return Fix((Edit(1, 1, 1, 1, "# again\n"),), "safe", "loops")

    monkeypatch.setitem(fixer_rules.FIXERS, "QM101", endless)
    monkeypatch.setattr(fixing, "MAX_ROUNDS", 3)
    outcome = fixing.fix_run(discover([project]), enabled_codes(["QM101"]), jobs=1)
    assert outcome.rounds == 3
    # The two imports' identical edits are applied once per round.
    assert outcome.texts["app.py"].startswith("# again\n" * 3 + "import os")


def test_a_failed_write_leaves_the_file_whole(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    code, _, err = _run(capsys, "check", "--fix", ".")
    assert code == 2
    assert err.splitlines() == ["app.py: not written: Permission denied"]
    assert (project / "app.py").read_text() == APP
    assert sorted(p.name for p in project.iterdir()) == ["app.py"]


def test_fixed_text_that_does_not_compile_is_not_written(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``await`` in a ``def`` parses; only the compiler rejects it.
    def bad(src: Source, finding: object, run: object) -> Fix | None:
        if src.path != "app.py":
            return None
        return Fix((Edit(1, 1, 1, 1, "def f():\n    await g()\n"),), "safe", "breaks the file")

    (project / "other.py").write_text("from flask import request\n")
    monkeypatch.setitem(fixer_rules.FIXERS, "QM102", bad)
    code, out, err = _run(capsys, "check", "--fix", "app.py", "other.py")
    assert code == 2
    assert err.splitlines() == [
        "app.py: not fixed: its fixed text does not parse (syntax error at line 2: "
        "'await' outside async function)"
    ]
    assert (project / "app.py").read_text() == APP
    # The other file is fixed, and only its fix is counted.
    assert (project / "other.py").read_text() == "from quart import request\n"
    assert "Fixed 1 finding" in out
