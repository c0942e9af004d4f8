"""``legacy_flask`` as ``migrate check --fix --unsafe-fixes`` converts it, with no hand edits.

Its command line works on a new database: the factory creates the tables, the QM214 fix
moves that start-up work into an ``@app.before_serving`` function, which an app context
alone does not run, so the converted commands start the app themselves (QM211's fix). And
the fixes leave no import they made unused (ruff's F401 and F811 find none), and every
comment and blank line of the original survives outside the edits.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from legacy_flask.seed import sample_books
from tests.checker.survival import lost_lines
from tests.checker.survival import removed_lines
from tests.contract.live import LEGACY_FLASK
from tests.contract.live import converted_copy

#: Seconds one command may take (it imports the app and opens a SQLite file).
COMMAND_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return converted_copy(tmp_path_factory.mktemp("converted"))


def _manage(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    # ``-m`` puts the working directory first on ``sys.path``: the copy, not the repository's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKSTORE_")}
    return subprocess.run(
        [sys.executable, "-m", "legacy_flask", *args],
        cwd=folder,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def test_seed_then_create_admin_on_a_new_database(converted: Path, tmp_path: Path) -> None:
    assert "await app.startup()" in (converted / "legacy_flask" / "cli.py").read_text()
    database = tmp_path / "new.db"
    url = f"sqlite:///{database}"

    seeded = _manage(converted, "seed", "--db", url)
    assert seeded.returncode == 0, seeded.stderr
    admin = _manage(converted, "create-admin", "alice", "--db", url, stdin="a long passphrase\n")
    assert admin.returncode == 0, admin.stderr

    with sqlite3.connect(database) as db:
        books = db.execute("SELECT count(*) FROM books").fetchone()[0]
        users = db.execute("SELECT username, is_admin FROM users").fetchall()
    assert books == len(list(sample_books()))
    assert users == [("alice", 1)]


def test_no_import_is_left_unused(converted: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F401,F811", "."],
        cwd=converted,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_comments_and_blank_lines_survive(converted: Path) -> None:
    # Every comment line and blank line of legacy_flask is kept, outside the statements the
    # fixes removed or replaced (Flask-Limiter's set-up and 429 handler, imports left unused).
    changed = 0
    removed = []
    for before_path in sorted(LEGACY_FLASK.glob("*.py")):
        before = before_path.read_text()
        after = (converted / "legacy_flask" / before_path.name).read_text()
        changed += before != after
        if removed_lines(before, after):
            removed.append(before_path.name)
        assert lost_lines(before, after) == [], before_path.name
    assert changed >= 10
    # The unused REGISTER_LIMIT_MESSAGE import, the 429 handler, Flask-Limiter's set-up.
    assert removed == ["__init__.py", "errors.py", "extensions.py"]
