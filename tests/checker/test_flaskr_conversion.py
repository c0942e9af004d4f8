"""Flask's own tutorial app, flaskr, converted by ``migrate check --fix --unsafe-fixes``.

The app and its tests come from the Flask sdist of the installed version (pip
download from the package index), are converted with zero hand edits, and then
must: leave ``migrate check`` nothing to report, pass all their own tests on Quart
under pytest-asyncio (with no view raising), initialise their database with
``quart --app flaskr init-db``, and serve register, log in and create-post over
HTTP on Hypercorn, with ``Vary: Cookie`` where Flask sends it.

Three of the fixes this needs change what a test or an answer says, and are
checked here by what they write: ``test_get_close_db`` checks aiosqlite's error
for a closed connection (QM681), the body assertions that a crash page could
satisfy first assert that the status is not 500 (QM609), and the functions of
``flaskr/auth.py`` that use the session flag the request for ``Vary: Cookie``
(QM721).

The sdist's other examples convert with nothing left too: ``examples/javascript``
then passes its 8 tests, and ``examples/celery`` (no tests) is checked by what the
fixes wrote.
"""

from __future__ import annotations

import ast
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

from tests.checker.sdists import download_sdist
from tests.checker.survival import lost_lines

pytestmark = pytest.mark.live

PYTHON = sys.executable
BIN = Path(PYTHON).parent
SERVER_START_S = 30.0
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
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Flask sdist of the installed version, downloaded; returns the archive."""
    base = tmp_path_factory.mktemp("sdist")
    return download_sdist("flask", importlib.metadata.version("flask"), base)


def _example(archive: Path, name: str, base: Path) -> Path:
    """Extract ``examples/<name>`` of the sdist under ``base``; returns its directory."""
    version = importlib.metadata.version("flask")
    prefix = f"flask-{version}/examples/{name}/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        tar.extractall(base, members=members, filter="data")
    return base / prefix


@pytest.fixture(scope="module")
def flaskr(sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """flaskr from the Flask sdist, converted; returns the project directory."""
    base = tmp_path_factory.mktemp("flaskr")
    project = _example(sdist, "tutorial", base)
    originals = base / "originals"
    for path in project.rglob("*"):
        if path.is_file():
            copy = originals / path.relative_to(project)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
    fixed = _run(PYTHON, "-m", "migrate", "check", "--fix", "--unsafe-fixes", ".", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "none remain." in fixed.stdout, fixed.stdout
    return project


def _own_tests(project: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the project's own tests with pytest, failing the run when any view raised."""
    (tmp_path / "no_server_errors.py").write_text(PLUGIN)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    argv = ["-p", "no_server_errors", "-p", "no:cacheprovider", "-q", "-rfE", "--timeout=60"]
    return _run(PYTHON, "-m", "pytest", *argv, cwd=project, env=env)


def test_nothing_is_left_to_report(flaskr: Path) -> None:
    checked = _run(PYTHON, "-m", "migrate", "check", "--format", "json", ".", cwd=flaskr)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout) == []
    pyproject = (flaskr / "pyproject.toml").read_text()
    assert '"quart",\n    "aiosqlite",\n' in pyproject
    assert 'test = ["pytest", "pytest-asyncio"]' in pyproject
    again = _run(PYTHON, "-m", "migrate", "check", "--diff", "--unsafe-fixes", ".", cwd=flaskr)
    assert again.returncode == 0 and again.stdout == ""


def test_the_decisions_the_fixes_took(flaskr: Path) -> None:
    closed = (flaskr / "tests" / "test_db.py").read_text()
    assert "with pytest.raises(ValueError) as e:" in closed
    assert 'assert "no active connection" in str(e.value)' in closed
    assert "sqlite3" not in closed
    # Each test whose body assertion a crash page could satisfy checks the status first.
    for name in ("test_auth.py", "test_blog.py"):
        tree = ast.parse((flaskr / "tests" / name).read_text())
        for test in [n for n in tree.body if isinstance(n, ast.AsyncFunctionDef)]:
            text = ast.unparse(test)
            if "in await response.data" in text and "status_code" not in text:
                raise AssertionError(f"{name}::{test.name} reads the body, never the status")
    auth = (flaskr / "flaskr" / "auth.py").read_text()
    assert auth.count("g.session_read = True") == 3  # load_logged_in_user, login, logout
    assert "@bp.after_app_request\nasync def vary_on_cookie(response):" in auth


def test_comments_and_blank_lines_survive(flaskr: Path) -> None:
    originals = flaskr.parents[2] / "originals"
    changed = 0
    for before_path in originals.rglob("*.py"):
        after_path = flaskr / before_path.relative_to(originals)
        before, after = before_path.read_text(), after_path.read_text()
        changed += before != after
        assert lost_lines(before, after) == [], before_path.name
    assert changed == 9  # the four modules of flaskr and the five test files


def test_the_apps_tests_pass_on_quart(flaskr: Path, tmp_path: Path) -> None:
    tests = _own_tests(flaskr, tmp_path)
    out = tests.stdout
    assert "UNHANDLED IN A VIEW" not in out, out
    assert tests.returncode == 0 and "24 passed" in out, out


def test_the_javascript_example_converts_and_passes_its_tests(sdist: Path, tmp_path: Path) -> None:
    # Flask's other example app with tests: a module-level app, form reads, a blinker signal.
    project = _example(sdist, "javascript", tmp_path)
    fixed = _run(PYTHON, "-m", "migrate", "check", "--fix", "--unsafe-fixes", ".", cwd=project)
    assert fixed.returncode == 0 and "none remain." in fixed.stdout, fixed.stdout
    views = (project / "js_example" / "views.py").read_text()
    assert 'a = (await request.form).get("a", 0, type=float)' in views
    tests = _own_tests(project, tmp_path)
    assert "UNHANDLED IN A VIEW" not in tests.stdout, tests.stdout
    assert tests.returncode == 0 and "8 passed" in tests.stdout, tests.stdout


def test_the_celery_example_converts(sdist: Path, tmp_path: Path) -> None:
    # A Celery task class whose sync ``__call__`` opens the app context, and the
    # ``FLASK_*`` environment read by ``from_prefixed_env()``. Celery is not a test
    # dependency, so the result is checked by what it says, not run (the rewrite of the
    # task class is run in tests/checker/test_fixes.py).
    project = _example(sdist, "celery", tmp_path)
    fixed = _run(PYTHON, "-m", "migrate", "check", "--fix", "--unsafe-fixes", ".", cwd=project)
    assert fixed.returncode == 0 and "none remain." in fixed.stdout, fixed.stdout
    app = (project / "src" / "task_app" / "__init__.py").read_text()
    assert 'app.config.from_prefixed_env(prefix="FLASK")' in app
    assert "            async with app.app_context():\n" in app
    assert "            return asyncio.run(in_app_context())\n" in app
    ast.parse(app)
    again = _run(PYTHON, "-m", "migrate", "check", "--diff", "--unsafe-fixes", ".", cwd=project)
    assert again.returncode == 0 and again.stdout == ""


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
            # Every request reads the session (load_logged_in_user), so Flask varies every
            # answer on the cookie; so does the converted app.
            assert "Cookie" in index.headers["vary"]
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
