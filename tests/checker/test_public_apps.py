"""Public Flask apps from PyPI sdists, converted by ``migrate check --fix --unsafe-fixes``.

Grown apps (calibre-web, archivy, buku's server, flask-monitoringdashboard, lektor's
admin) use extensions Quart lacks, so findings that need a decision remain; what is
checked is what a user would see first: the run ends normally (exit 0 or 1, never
2, no file left unfixed), every Python file it changed compiles, and a second run
changes nothing. The counts are quoted in ``docs/convert-your-app.md``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path

import pytest

from tests.checker.sdists import download_sdist

pytestmark = pytest.mark.live

PYTHON = sys.executable
APPS = [
    ("archivy", "1.7.7"),
    ("buku", "5.1"),
    ("calibreweb", "0.6.27"),
    ("flask-monitoringdashboard", "5.1.0"),
    ("lektor", "3.3.14"),
]


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(("name", "version"), APPS, ids=[name for name, _ in APPS])
def test_public_app_converts(name: str, version: str, tmp_path: Path) -> None:
    archive = download_sdist(name, version, tmp_path)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    (project,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    before = {p: p.read_bytes() for p in project.rglob("*.py")}
    checked = _run(PYTHON, "-m", "migrate", "check", ".", cwd=project)
    assert checked.returncode == 1, checked.stdout[-2000:] + checked.stderr
    fixed = _run(PYTHON, "-m", "migrate", "check", "--fix", "--unsafe-fixes", ".", cwd=project)
    assert fixed.returncode in (0, 1), fixed.stdout[-2000:] + fixed.stderr
    assert "not fixed" not in fixed.stderr, fixed.stderr
    assert re.search(r"^Fixed \d+ findings", fixed.stdout, re.MULTILINE), fixed.stdout[-2000:]
    changed = [p for p, text in before.items() if p.read_bytes() != text]
    assert changed
    for path in changed:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the apps' own invalid escape sequences
            compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)
    again = _run(PYTHON, "-m", "migrate", "check", "--diff", "--unsafe-fixes", ".", cwd=project)
    assert again.returncode == 0 and again.stdout == "", again.stdout[-2000:]
