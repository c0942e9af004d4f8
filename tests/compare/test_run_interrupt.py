"""Ctrl-C stops ``python -m compare run`` and every process it started."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    marker = f"COMPARE_RUN_TEST_MARKER={uuid.uuid4().hex}"
    name, _, value = marker.partition("=")
    run = subprocess.Popen(
        [sys.executable, "-m", "compare", "run", "--quick", "--out", str(tmp_path)],
        env={**os.environ, name: value},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A shell that starts a job in the background (CI's, with `&`) leaves SIGINT ignored, and
        # a child inherits that: Python then installs no KeyboardInterrupt handler. A terminal's
        # foreground job has the default action, which is what this test stands for.
        preexec_fn=_default_sigint,
    )
    try:
        # Wait until servers and a load generator are running, then press Ctrl-C: the
        # terminal sends SIGINT to the whole foreground process group.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_processes_with(marker)) < 6:
            time.sleep(0.2)
        time.sleep(2)
        assert len(_processes_with(marker)) >= 6, "the run did not start its servers"
        os.killpg(run.pid, signal.SIGINT)
        try:
            _, stderr = run.communicate(timeout=60)
        except subprocess.TimeoutExpired as exc:
            os.killpg(run.pid, signal.SIGKILL)
            _, rest = run.communicate()
            told = (
                (exc.stderr or b"").decode(errors="replace")
                if isinstance(exc.stderr, bytes)
                else (exc.stderr or "")
            )
            pytest.fail(
                f"still running 60 s after Ctrl-C; its output ended with:\n{(told + rest)[-3000:]}"
            )
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()

    assert run.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == []
