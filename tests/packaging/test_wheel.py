"""The kit as a dependency of someone else's app: the wheel holds ``migrate`` and pulls in only
what ``migrate`` needs.

The wheel is built from a copy of the repository and installed, with its dependencies from the
package index, into a fresh virtual environment that knows nothing of this repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Seconds building the wheel or installing it may take (the package index is on the network).
INSTALL_TIMEOUT_S = 600
#: What the bookstore apps and the harness need, which an app using the kit must not get.
NOT_FOR_USERS = ("matplotlib", "numpy", "tortoise-orm", "waitress", "flask-limiter", "aiohttp")


def clean_env() -> dict[str, str]:
    """This process' environment without anything that would import from the repository."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "PYTEST_", "VIRTUAL_ENV"))
    }


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
    )


@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment with the kit's wheel and its dependencies installed."""

    python: Path
    bin: Path
    wheel: Path


@pytest.fixture(scope="module")
def installed(repository_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(work / "dist"), "."],
        cwd=repository_copy,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("flask_quart_migration_kit-*.whl")
    venv = work / "venv"
    created = run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=work)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    # This environment's pip installs into the fresh one: no pip of its own to bootstrap.
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    installing = run([*pip, "install", "--quiet", str(wheel)], cwd=work)
    assert installing.returncode == 0, installing.stderr
    return Installed(python=python, bin=venv / "bin", wheel=wheel)


def _in_env(installed: Installed, code: str, cwd: Path) -> str:
    result = run([str(installed.python), "-c", code], cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_only_top_level_package_is_migrate(installed: Installed, tmp_path: Path) -> None:
    probe = (
        "import importlib.metadata as m, json, sysconfig, pathlib; "
        "files = m.distribution('flask-quart-migration-kit').files; "
        "tops = {f.parts[0] for f in files if not f.parts[0].endswith('.dist-info') "
        "and f.parts[0] != '..'}; "
        "site = pathlib.Path(sysconfig.get_path('purelib')); "
        "in_migrate = [f.name for f in files if f.parts[:1] == ('migrate',) and len(f.parts) == 2]; "
        "print(json.dumps({'tops': sorted(tops), 'in_migrate': in_migrate, "
        "'site': sorted(p.name for p in site.iterdir())}))"
    )
    found = json.loads(_in_env(installed, probe, tmp_path))
    assert found["tops"] == ["migrate"]
    assert "py.typed" in found["in_migrate"]  # PEP 561
    assert not {"compare", "legacy_flask", "quart_app", "tests"} & set(found["site"])


def test_none_of_the_apps_dependencies_is_installed(installed: Installed, tmp_path: Path) -> None:
    probe = (
        "import importlib.metadata as m, json, re; "
        "print(json.dumps(sorted({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower() "
        "for d in m.distributions()})))"
    )
    names = set(json.loads(_in_env(installed, probe, tmp_path)))
    assert "flask-quart-migration-kit" in names
    assert "libcst" in names  # a dependency of migrate's, installed with it
    assert sorted(names & set(NOT_FOR_USERS)) == []


def test_pip_check_is_clean(installed: Installed, tmp_path: Path) -> None:
    result = run(
        [sys.executable, "-m", "pip", "--python", str(installed.python), "check"], tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No broken requirements found" in result.stdout


@pytest.mark.parametrize(
    "command",
    [["{python}", "-m", "migrate", "check"], ["{bin}/flask-quart-check"]],
    ids=["python -m migrate check", "flask-quart-check"],
)
def test_the_checker_reports_a_sample_flask_app(
    installed: Installed, sample_app: Path, command: list[str]
) -> None:
    argv = [part.format(python=installed.python, bin=installed.bin) for part in command] + [
        "app.py"
    ]
    result = run(argv, cwd=sample_app)
    assert result.returncode == 1, result.stderr
    assert "app.py:2:1: QM101" in result.stdout
    assert "QM402 `requests.get` blocks the event loop" in result.stdout
    clean = sample_app / "clean.py"
    clean.write_text("import asyncio\n", encoding="utf-8")
    assert run([*argv[:-1], "clean.py"], cwd=sample_app).returncode == 0


def test_the_helpers_import_and_run(installed: Installed, tmp_path: Path) -> None:
    program = """\
import asyncio, pathlib, time
import migrate
from migrate import run_sync, mount_wsgi, WorkerPool

async def main():
    async with WorkerPool(2, name="check") as pool:
        return await run_sync(time.monotonic, pool=pool)()

assert isinstance(asyncio.run(main()), float)
assert callable(mount_wsgi)
print(pathlib.Path(migrate.__file__).parent)
"""
    where = Path(_in_env(installed, program, tmp_path).strip())
    assert where.is_relative_to(installed.python.parents[1])


def test_the_pytest_plugin_names_its_extra_when_its_dependencies_are_missing(
    installed: Installed, tmp_path: Path
) -> None:
    result = run([str(installed.python), "-c", "import migrate.pytest_plugin"], cwd=tmp_path)
    assert result.returncode == 1
    assert "pip install 'flask-quart-migration-kit[pytest]'" in result.stderr
