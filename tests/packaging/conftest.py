"""Fixtures of the packaging tests: a copy of the repository and a sample Flask app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.docs import runner
from tests.docs.snippets import ROOT

#: A Flask app the checker has findings in: QM101 (import from flask), QM402 (requests.get).
SAMPLE_APP = """\
import requests
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return requests.get("https://example.com/", timeout=5).text
"""


@pytest.fixture(scope="session")
def repository_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's files (tracked and new, not ignored) in a folder of their own.

    Builds run there, so their ``build/`` and ``*.egg-info`` never land in the working tree.
    """
    copy = tmp_path_factory.mktemp("repository")
    for name in runner.repository_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return copy


@pytest.fixture
def sample_app(tmp_path: Path) -> Path:
    """A folder holding ``app.py``, a small Flask app with findings."""
    folder = tmp_path / "sample"
    folder.mkdir()
    (folder / "app.py").write_text(SAMPLE_APP, encoding="utf-8")
    return folder
