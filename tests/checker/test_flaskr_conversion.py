"""Flask's own tutorial app, flaskr, converted by ``migrate check --fix --unsafe-fixes``.

The app and its tests come from the Flask sdist of the installed version (pip
download from the package index), are converted with zero hand edits, and then
must: leave to ``migrate check`` only findings that need a decision — QM681 on
``test_get_close_db`` (it reads sqlite3's message for a closed connection, which
aiosqlite does not give), QM609 on the body assertions that never check the
status and whose text the app's Python source holds (Quart's TESTING-mode 500
page quotes that source), and QM721 on ``flaskr/auth.py``'s session import (its
pages read the session, and Quart 0.22 adds no ``Vary: Cookie`` for a read) —, pass their own tests on Quart under pytest-asyncio
but ``test_get_close_db`` (with no request answered by that 500 page),
initialise their database with ``quart --app flaskr init-db``, and serve
register, log in and create-post over HTTP on Hypercorn.
"""

from __future__ import annotations

import ast
import difflib
import importlib.metadata
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.live

PYTHON = sys.executable
BIN = Path(PYTHON).parent
SERVER_START_S = 30.0
# aiosqlite reports use of a closed connection as ValueError("no active connection");
# flaskr's test_get_close_db asserts sqlite3's message text ("closed"). No rewrite
# keeps that assertion true: the run leaves it as QM681, the one finding that
# remains, and it is the one test that fails.
KNOWN_FAILING = "tests/test_db.py::test_get_close_db"
LEFT = "tests/test_db.py:{line}:10: QM681 `pytest.raises((sqlite3.ProgrammingError, ValueError))`"


def _left_line(project: Path) -> int:
    """Return the line of ``pytest.raises`` in test_get_close_db (the finding's line)."""
    lines = (project / "tests" / "test_db.py").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "def test_get_close_db" in line)
    return next(i for i in range(start, len(lines)) if "pytest.raises(" in lines[i]) + 1


PLUGIN = """
import pytest
import quart.app

SERVER_ERRORS = []
_original = quart.app.Quart.handle_exception


async def _record(self, error):
    SERVER_ERRORS.append(repr(error))
    return await _original(self, error)


quart.app.Quart.handle_exception = _record


def pytest_sessionfinish(session, exitstatus):
    if SERVER_ERRORS:
        print("\\nUNHANDLED IN A VIEW:", *SERVER_ERRORS, sep="\\n  ")
        session.exitstatus = 3
"""


def _run(*argv: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False, **kwargs
    )  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def flaskr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """flaskr from the Flask sdist, converted; returns the project directory."""
    base = tmp_path_factory.mktemp("flaskr")
    version = importlib.metadata.version("flask")
    download = _run(
        PYTHON,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        f"flask=={version}",
        "-d",
        str(base),
        cwd=base,
    )
    assert download.returncode == 0, download.stderr
    (archive,) = base.glob("flask-*.tar.gz")
    prefix = f"flask-{version}/examples/tutorial/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        tar.extractall(base, members=members, filter="data")
    project = base / prefix
    originals = base / "originals"
    for path in project.rglob("*"):
        if path.is_file():
            copy = originals / path.relative_to(project)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
    fixed = _run(PYTHON, "-m", "migrate", "check", "--fix", "--unsafe-fixes", ".", cwd=project)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert LEFT.format(line=_left_line(project)) in fixed.stdout, fixed.stdout
    assert "Rules needing a decision: QM609, QM681, QM721." in fixed.stdout, fixed.stdout
    return project


def _remaining(project: Path) -> list[tuple[str, int, str]]:
    checked = _run(PYTHON, "-m", "migrate", "check", "--format", "json", ".", cwd=project)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    return [
        (Path(f["filename"]).relative_to(project).as_posix(), f["location"]["row"], f["code"])
        for f in json.loads(checked.stdout)
    ]


def test_only_decisions_are_left_to_report(flaskr: Path) -> None:
    left = _remaining(flaskr)
    assert {code for _, _, code in left} == {"QM609", "QM681", "QM721"}
    assert [(p, code) for p, _, code in left if code == "QM721"] == [("flaskr/auth.py", "QM721")]
    assert [(p, n) for p, n, code in left if code == "QM681"] == [
        ("tests/test_db.py", _left_line(flaskr))
    ]
    body_asserts = [(p, n) for p, n, code in left if code == "QM609"]
    for path, number in body_asserts:
        assert "response.data" in (flaskr / path).read_text().splitlines()[number - 1]
    # The parametrised validation messages ("Username is required.") are in the views'
    # source, so a crash page could satisfy them: both are reported.
    auth = (flaskr / "tests" / "test_auth.py").read_text().splitlines()
    messages = [
        i + 1 for i, line in enumerate(auth) if "assert message in await response.data" in line
    ]
    assert len(messages) == 2
    assert {("tests/test_auth.py", n) for n in messages} <= set(body_asserts)
    pyproject = (flaskr / "pyproject.toml").read_text()
    assert '"quart",\n    "aiosqlite",\n' in pyproject
    assert 'test = ["pytest", "pytest-asyncio"]' in pyproject
    again = _run(PYTHON, "-m", "migrate", "check", "--diff", "--unsafe-fixes", ".", cwd=flaskr)
    assert again.returncode == 0 and again.stdout == ""


def test_comments_and_blank_lines_survive(flaskr: Path) -> None:
    originals = flaskr.parents[2] / "originals"
    changed = 0
    for before_path in originals.rglob("*.py"):
        after_path = flaskr / before_path.relative_to(originals)
        before = before_path.read_text().splitlines()
        after = after_path.read_text().splitlines()
        changed += before != after
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        kept = {b.a + i for b in matcher.get_matching_blocks() for i in range(b.size)}
        for number, line in enumerate(before):
            if not line.strip() or line.lstrip().startswith("#"):
                assert number in kept, f"{before_path.name}:{number + 1}: {line!r} lost"
    assert changed == 9  # the four modules of flaskr and the five test files


def test_the_apps_tests_pass_on_quart(flaskr: Path, tmp_path: Path) -> None:
    (tmp_path / "no_server_errors.py").write_text(PLUGIN)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    tests = _run(
        PYTHON,
        "-m",
        "pytest",
        "-p",
        "no_server_errors",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfE",
        "--timeout=60",
        cwd=flaskr,
        env=env,
    )
    out = tests.stdout
    assert "UNHANDLED IN A VIEW" not in out, out
    assert "23 passed" in out and "1 failed" in out, out
    assert f"FAILED {KNOWN_FAILING} - AssertionError: assert 'closed'" in out
    # The failing test is the one the remaining finding is in.
    checked = _run(PYTHON, "-m", "migrate", "check", "--format", "json", ".", cwd=flaskr)
    (finding,) = [f for f in json.loads(checked.stdout) if f["code"] == "QM681"]
    path = Path(finding["filename"])
    row = finding["location"]["row"]
    tree = ast.parse(path.read_text())
    (test,) = [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef) and node.lineno <= row <= (node.end_lineno or 0)
    ]
    assert (finding["code"], f"{path.relative_to(flaskr).as_posix()}::{test}") == (
        "QM681",
        KNOWN_FAILING,
    )
    assert "ValueError('no active connection')" in out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "hypercorn exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("hypercorn did not start listening")


def test_init_db_and_serve_on_hypercorn(flaskr: Path) -> None:
    init = _run(str(BIN / "quart"), "--app", "flaskr", "init-db", cwd=flaskr)
    assert init.returncode == 0, init.stderr
    assert "Initialized the database." in init.stdout
    assert (flaskr / "instance" / "flaskr.sqlite").stat().st_size > 0
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "hypercorn"), "flaskr:create_app()", "--bind", f"127.0.0.1:{port}"],
        cwd=flaskr,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_ready(port, server)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            form = {"username": "ada", "password": "lovelace"}
            registered = http.post("/auth/register", data=form)
            assert registered.status_code == 302
            assert registered.headers["location"] == "/auth/login"
            logged_in = http.post("/auth/login", data=form)
            assert logged_in.status_code == 302 and logged_in.headers["location"] == "/"
            created = http.post("/create", data={"title": "On engines", "body": "Notes."})
            assert created.status_code == 302 and created.headers["location"] == "/"
            index = http.get("/")
            assert index.status_code == 200
            assert "On engines" in index.text and "by ada on" in index.text
            again = http.post("/auth/register", data=form)
            assert again.status_code == 200 and "already registered" in again.text
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
