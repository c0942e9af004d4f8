"""Run the docs' blocks: each in a fresh copy of the repository, several at once.

A block runs with the repository's own interpreter in a scratch copy of the repository (its
``.venv`` linked to the real one), so the commands of the docs, given from the repository's
root, may write files (``bookstore.db``, cookie jars) without touching the working tree.

Most of a block's time is spent starting interpreters and servers and waiting for them, so
:class:`BlockRunner` runs :data:`PARALLEL` jobs at once; each test waits for its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextlib import suppress
from pathlib import Path

import httpx
import pathspec

from compare.procs import ServerProcess
from compare.procs import free_port
from tests.docs.snippets import KNOWN_PORTS
from tests.docs.snippets import ROOT
from tests.docs.snippets import Block
from tests.docs.snippets import reported_statuses
from tests.docs.snippets import shell_script

#: Jobs run at once: two CPUs are mostly idle while servers start and commands wait.
PARALLEL = 3
#: Seconds one block may run.
BLOCK_TIMEOUT_S = 120
#: Seconds the processes a shell block left running get to stop after SIGTERM.
STOP_TIMEOUT_S = 10
#: Seconds ``python -m compare demo`` may take to serve.
DEMO_START_TIMEOUT_S = 90

#: Folders never copied: environments, caches, version control.
_SKIP_DIRS = {".git", ".venv", ".venv-py313", "__pycache__", ".pytest_cache", ".mypy_cache"}
_SKIP_DIRS |= {".ruff_cache", ".hypothesis", "build", "dist"}


class BlockFailed(AssertionError):
    """A block did not do what the docs say; the message has its output."""


def repository_files() -> list[Path]:
    """Return the repository's files (tracked and new, not ignored), relative to its root.

    Logs (``*.log``, the load comparison keeps megabytes of them) are left out: no block reads
    them, and every job copies the repository.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return [
            path.relative_to(ROOT)
            for path in ROOT.rglob("*")
            if path.is_file()
            and not _SKIP_DIRS.intersection(path.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in path.parts)
            and path.suffix != ".log"
        ]
    return [
        Path(name)
        for name in listed.split("\0")
        if name and not name.endswith(".log") and (ROOT / name).is_file()
    ]


def copy_repository(copy: Path, files: list[Path]) -> Path:
    """Copy ``files`` of the repository into ``copy``; link its ``.venv`` to the running one."""
    for name in files:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    venv = Path(sys.prefix)
    (copy / ".venv").symlink_to(venv if venv != Path(sys.base_prefix) else ROOT / ".venv")
    return copy


def snippet_env(repo: Path) -> dict[str, str]:
    """The environment blocks run in: the copy importable, no proxy, no BOOKSTORE_* leftovers."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BOOKSTORE_", "PYTEST_", "PYTHON")) and "proxy" not in key.lower()
    }
    env["PYTHONPATH"] = str(repo)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _describe(status: int, stdout: str, stderr: str) -> str:
    return f"status {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"


def run_python(block: Block, repo: Path) -> None:
    """Run a Python block as a script; it must exit 0."""
    script = repo / f"docs_snippet_{block.line}.py"
    script.write_text(block.text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=repo,
        env=snippet_env(repo),
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise BlockFailed(_describe(result.returncode, result.stdout, result.stderr))


def _stop_group(pgid: int) -> None:
    # Servers a block started with "&" share the shell's process group: stop them all.
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def run_shell(block: Block, repo: Path, ports: dict[str, int]) -> None:
    """Run a shell block rewritten by :func:`~tests.docs.snippets.shell_script`.

    It must exit 0, and every ``curl`` whose comment gives a status must have got it.
    """
    rewritten = shell_script(block, ports)
    script = repo / f"docs_snippet_{block.line}.sh"
    script.write_text(rewritten.script, encoding="utf-8")
    env = snippet_env(repo)
    if "collect-only" in block.options:
        # Collecting needs only the plugins the configuration names (pytest.ini_options);
        # hypothesis and schemathesis would double the start-up time of each command.
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        env["PYTEST_ADDOPTS"] = (
            "-p pytest_asyncio.plugin -p pytest_timeout -p no:cacheprovider --collect-only -q"
        )
    # Files, not pipes: servers left running in the background would hold a pipe open.
    out_path, err_path = script.with_suffix(".out"), script.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            ["bash", str(script)], cwd=repo, env=env, stdout=out, stderr=err, start_new_session=True
        )
        try:
            process.wait(timeout=BLOCK_TIMEOUT_S)
        finally:
            _stop_group(process.pid)
            process.wait()
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace")
    output = _describe(process.returncode, stdout, stderr)
    if process.returncode != 0:
        raise BlockFailed(output)
    reported = reported_statuses(stderr)
    if len(reported) != len(rewritten.statuses):
        raise BlockFailed(
            f"{len(reported)} curl statuses for {len(rewritten.statuses)} curls\n{output}"
        )
    mismatches = [
        f"curl #{n}: got {got}, the comment says {want}"
        for n, (got, want) in enumerate(zip(reported, rewritten.statuses, strict=True), start=1)
        if want is not None and got != want
    ]
    if mismatches:
        raise BlockFailed("\n".join(mismatches) + "\n" + output)


@contextmanager
def demo(repo: Path, ports: dict[str, int]) -> Iterator[ServerProcess]:
    """Serve ``python -m compare demo`` from ``repo`` on ``ports``; stop it afterwards."""
    argv = [
        str(repo / ".venv" / "bin" / "python"),
        "-m",
        "compare",
        "demo",
        "--flask-port",
        str(ports["8000"]),
        "--quart-port",
        str(ports["8001"]),
        "--inventory-port",
        str(ports["8081"]),
        "--data-dir",
        str(repo / "demo-data"),
    ]
    # The demo starts quart_app last, once the other two answer.
    server = ServerProcess(argv, port=ports["8001"], env=snippet_env(repo), cwd=repo)
    try:
        server.start()
        server.wait_ready("/health", timeout_s=DEMO_START_TIMEOUT_S)
        httpx.get(f"http://127.0.0.1:{ports['8000']}/health", trust_env=False).raise_for_status()
        yield server
    finally:
        server.stop()


def left_in_repository(repo: Path, files: list[Path]) -> list[str]:
    """Return the files a block left in ``repo`` that the repository's ``.gitignore`` lets in.

    The runner's own scripts and their output, and everything under ``.venv``, do not count.
    """
    ignore = pathspec.GitIgnoreSpec.from_lines(
        (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    )
    before = {name.as_posix() for name in files}
    left = []
    for path in repo.rglob("*"):
        relative = path.relative_to(repo).as_posix()
        if (
            path.is_dir()
            or relative in before
            or relative.startswith((".venv/", "docs_snippet_"))
            or "__pycache__" in path.parts
        ):
            continue
        if not ignore.match_file(relative):
            left.append(relative)
    return sorted(left)


def run_job(block: Block, app: str | None, workdir: Path, files: list[Path]) -> None:
    """Run ``block`` once in a fresh copy of the repository under ``workdir``.

    Whatever the block writes into the repository must be covered by ``.gitignore``.

    ``app`` is ``"flask"`` or ``"quart"`` for the two passes of a ``per-app`` block: a fresh
    demo each, with the block's Flask port (8000) pointing at that app.

    :raises BlockFailed: the block failed; the message quotes its output.
    """
    repo = copy_repository(workdir / "repo", files)
    if block.runner == "python":
        run_python(block, repo)
    elif "demo" not in block.options:
        run_shell(block, repo, {port: free_port() for port in KNOWN_PORTS})
    else:
        ports = {port: free_port() for port in KNOWN_PORTS}
        block_ports = {**ports, "8000": ports["8001"]} if app == "quart" else ports
        with demo(repo, ports):
            run_shell(block, repo, block_ports)
    left = left_in_repository(repo, files)
    if left:
        raise BlockFailed(
            "the block left files in the repository that .gitignore does not cover: "
            + ", ".join(left)
        )


def jobs(block: Block) -> list[str | None]:
    """Return the passes of a block: one, or one per app for ``per-app``."""
    return ["flask", "quart"] if "per-app" in block.options else [None]


class BlockRunner:
    """Run blocks' jobs on a thread pool, started as soon as they are submitted."""

    def __init__(self, workdir: Path, files: list[Path]) -> None:
        self.workdir = workdir
        self.files = files
        self.executor = ThreadPoolExecutor(PARALLEL, thread_name_prefix="docs-block")
        self.futures: dict[str, list[Future[None]]] = {}

    def submit(self, block: Block) -> None:
        """Start the block's jobs (once)."""
        if block.id in self.futures:
            return
        name = block.id.replace("/", "_").replace(":", "_")
        self.futures[block.id] = [
            self.executor.submit(
                run_job, block, app, self.workdir / f"{name}-{app or 'run'}", self.files
            )
            for app in jobs(block)
        ]

    def result(self, block: Block) -> None:
        """Wait for the block's jobs; re-raise the first failure."""
        self.submit(block)
        for future in self.futures[block.id]:
            future.result()

    def close(self) -> None:
        """Cancel what has not started; wait for what has."""
        self.executor.shutdown(wait=True, cancel_futures=True)
