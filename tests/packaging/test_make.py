"""The Makefile: ports for ``make demo``, an environment that follows ``PYTHON``, and a
development environment in which the apps and the harness import from anywhere.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from compare.procs import ServerProcess
from compare.procs import free_port
from tests.docs.snippets import ROOT

#: Seconds a make command that builds a small environment may take.
MAKE_TIMEOUT_S = 300
#: `make -o` keeps the stamp as it is: these tests never rebuild the real .venv.
KEEP_VENV = ["-o", ".venv/.installed"]


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}


@pytest.fixture
def port_8000_taken() -> Iterator[None]:
    """Port 8000, the demo's default for legacy_flask, taken: by this test, or already."""
    with socket.socket() as sock:
        # As the demo's own check does: connections in TIME_WAIT do not make a port taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", 8000))
            sock.listen()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
        yield


@pytest.mark.usefixtures("port_8000_taken")
def test_make_demo_with_port_8000_taken_names_it_and_says_how_to_choose_others() -> None:
    result = subprocess.run(
        ["make", *KEEP_VENV, "demo"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "port 8000 on 127.0.0.1 (--flask-port) is not free: Address already in use" in (
        result.stderr
    )
    assert "make demo FLASK_PORT=N" in result.stderr
    # The advice works: make passes the ports through.
    flask, quart, inventory = free_port(), free_port(), free_port()
    argv = ["make", *KEEP_VENV, "demo", f"FLASK_PORT={flask}", f"QUART_PORT={quart}"]
    demo = ServerProcess([*argv, f"INVENTORY_PORT={inventory}"], port=quart, cwd=ROOT, env=_env())
    try:
        demo.start()
        demo.wait_ready("/health", timeout_s=90)
        with httpx.Client(trust_env=False, timeout=10) as client:
            assert client.get(f"http://127.0.0.1:{flask}/books/1").status_code == 200
            assert client.get(f"http://127.0.0.1:{quart}/books/1/availability").status_code == 200
    finally:
        demo.stop()


def test_the_development_environment_imports_the_apps_from_any_directory(tmp_path: Path) -> None:
    probe = "import compare, legacy_flask, quart_app, migrate; print(compare.__file__)"
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", probe],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()).parent == ROOT / "compare"


PROBE_PROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "make-probe"
version = "0"

[project.optional-dependencies]
bookstore = []
dev = []

[tool.setuptools]
py-modules = []
"""

#: A .venv whose python says it is another interpreter (another installation, another version).
OTHER_PYTHON = "#!/bin/sh\necho /opt/another-python 3.99\n"


def _make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "venv", *args],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT_S,
    )


def test_a_venv_built_by_another_interpreter_is_rebuilt_when_python_is_given(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(ROOT / "Makefile", project / "Makefile")
    (project / "pyproject.toml").write_text(PROBE_PROJECT, encoding="utf-8")
    fake = project / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(OTHER_PYTHON, encoding="utf-8")
    fake.chmod(0o755)
    (project / ".venv" / ".installed").touch()
    python = str(
        Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )

    kept = _make(project)  # PYTHON not given: the environment there is the one to use
    assert kept.returncode == 0, kept.stderr
    assert "anew" not in kept.stdout
    assert fake.read_text(encoding="utf-8") == OTHER_PYTHON

    rebuilt = _make(project, f"PYTHON={python}")
    again = _make(project, f"PYTHON={python}")

    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert (
        f".venv was built by Python 3.99 from /opt/another-python; PYTHON={python} is Python "
        f"{sys.version_info[0]}.{sys.version_info[1]} from {sys.base_prefix}: building .venv anew"
    ) in rebuilt.stdout
    version = subprocess.run(
        [str(fake), "-c", "import sys; print(sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == sys.base_prefix
    assert again.returncode == 0, again.stderr
    assert "anew" not in again.stdout
    assert "pip install" not in again.stdout
