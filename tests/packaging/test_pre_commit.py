"""``.pre-commit-hooks.yaml``: the checker as a pre-commit hook, installed the way pre-commit
installs it (the repository as a package in a virtual environment of pre-commit's own).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: Seconds one pre-commit run may take; the first installs the hook's environment.
PRE_COMMIT_TIMEOUT_S = 600


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=kit", "-c", "user.email=kit@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def hook_repository(repository_copy: Path) -> Path:
    """The copy of the repository as a git repository with one commit, as pre-commit wants."""
    _git("init", "--quiet", cwd=repository_copy)
    _git("add", "--all", cwd=repository_copy)
    _git("commit", "--quiet", "--no-verify", "-m", "the kit", cwd=repository_copy)
    return repository_copy


def try_repo(
    hook_repository: Path, project: Path, home: Path, *files: str
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "PYTEST_", "VIRTUAL_ENV", "PRE_COMMIT"))
    }
    env["PRE_COMMIT_HOME"] = str(home)
    hook = [str(hook_repository), "flask-quart-check"]
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", *hook, "--files", *files],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=PRE_COMMIT_TIMEOUT_S,
    )


def test_the_hook_fails_on_a_finding_and_passes_clean_and_excluded_code(
    hook_repository: Path, sample_app: Path, tmp_path: Path
) -> None:
    (sample_app / "clean.py").write_text("import asyncio\n", encoding="utf-8")
    # Excluded by the project's [tool.migrate]: the hook leaves it out though pre-commit names it.
    (sample_app / "generated").mkdir()
    shutil.copy2(sample_app / "app.py", sample_app / "generated" / "views.py")
    (sample_app / "pyproject.toml").write_text(
        '[tool.migrate]\nextend-exclude = ["generated"]\n', encoding="utf-8"
    )
    _git("init", "--quiet", cwd=sample_app)
    _git("add", "--all", cwd=sample_app)
    home = tmp_path / "pre-commit-home"

    failed = try_repo(hook_repository, sample_app, home, "app.py")
    passed = try_repo(hook_repository, sample_app, home, "clean.py", "generated/views.py")

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert "app.py:2:1: QM101" in failed.stdout
    assert "QM402" in failed.stdout
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
