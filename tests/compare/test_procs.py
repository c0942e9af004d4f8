"""Real server processes: start, readiness, stop, and the errors in between."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from compare.inventory import stock_for
from compare.procs import ServerExitedError
from compare.procs import ServerNotReadyError
from compare.procs import ServerProcess
from compare.procs import arunning
from compare.procs import free_port
from compare.procs import running

ISBN = "9780306406157"

#: An HTTP server on argv[1] that ignores SIGTERM, so only SIGKILL stops it.
STUBBORN_SERVER = textwrap.dedent(
    """
    import http.server, signal, sys
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    address = ("127.0.0.1", int(sys.argv[1]))
    http.server.HTTPServer(address, http.server.SimpleHTTPRequestHandler).serve_forever()
    """
)

#: An HTTP server on argv[1] that exits on SIGTERM, leaving behind a child that ignores it and
#: whose pid it writes to argv[2].
SERVER_WITH_STUBBORN_CHILD = textwrap.dedent(
    """
    import http.server, subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", "import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"])
    with open(sys.argv[2], "w") as pid_file:
        pid_file.write(str(child.pid))
    address = ("127.0.0.1", int(sys.argv[1]))
    http.server.HTTPServer(address, http.server.SimpleHTTPRequestHandler).serve_forever()
    """
)


def inventory_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "compare", "inventory", "--port", str(port), "--latency-ms", "0"]


def assert_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def wait_until_dead(pid: int) -> None:
    """Return once ``pid``, which need not be our child, has ended; fail after 10 s."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        # A pidfd becomes readable when its process ends (Linux 5.3+, pidfd_open(2)).
        readable, _, _ = select.select([pidfd], [], [], 10.0)
    finally:
        os.close(pidfd)
    assert readable, f"process {pid} still runs"


def test_free_port_can_be_bound() -> None:
    port = free_port()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_serves_then_stops_the_inventory_stand_in() -> None:
    port = free_port()

    with running(inventory_argv(port), port=port) as server:
        response = httpx.get(f"{server.base_url}/stock/{ISBN}", trust_env=False, timeout=5.0)
        pid = server.pid

    assert response.json() == {"isbn": ISBN, "in_stock": stock_for(ISBN)}
    assert server.returncode == 0  # SIGTERM made it shut down cleanly
    assert_gone(pid)


def test_stop_is_idempotent() -> None:
    port = free_port()
    server = ServerProcess(inventory_argv(port), port=port)
    assert server.stop() is None

    server.start()
    server.wait_ready()
    first = server.stop()

    assert first == 0
    assert server.stop() == first
    assert_gone(server.pid)


def test_early_exit_raises_with_the_last_output(tmp_path: Path) -> None:
    script = "import os, sys; print('cannot open the database', file=sys.stderr); "
    script += "sys.exit(int(os.environ['EXIT_STATUS']))"
    log = tmp_path / "server.log"

    with (
        pytest.raises(ServerExitedError, match="exited with status 7") as caught,
        running(
            [sys.executable, "-c", script], port=free_port(), env={"EXIT_STATUS": "7"}, log_path=log
        ),
    ):
        pytest.fail("the block must not run")

    assert "cannot open the database" in str(caught.value)
    assert "cannot open the database" in log.read_text()


def test_errors_quote_only_this_run_of_a_shared_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("output of an earlier run\n")
    script = "import sys; print('this run', file=sys.stderr); sys.exit(1)"

    with (
        pytest.raises(ServerExitedError) as caught,
        running([sys.executable, "-c", script], port=free_port(), log_path=log),
    ):
        pytest.fail("the block must not run")

    assert "this run" in str(caught.value)
    assert "earlier run" not in str(caught.value)


def test_port_in_use_is_an_early_exit() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]

        with (
            pytest.raises(ServerExitedError, match="exited with status 1") as caught,
            running(inventory_argv(port), port=port),
        ):
            pass

    assert "python -m compare: error:" in str(caught.value)


def test_not_ready_in_time_raises_and_stops(tmp_path: Path) -> None:
    server = ServerProcess([sys.executable, "-c", "import time; time.sleep(120)"], port=free_port())
    server.start()

    with pytest.raises(ServerNotReadyError, match=r"within 0\.3 s"):
        server.wait_ready(timeout_s=0.3)

    server.stop()
    assert_gone(server.pid)


def test_a_server_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-c", STUBBORN_SERVER, str(port)]

    with running(argv, port=port, cwd=tmp_path, ready_path="/", stop_timeout_s=0.3) as server:
        pid = server.pid

    assert server.returncode == -signal.SIGKILL
    assert_gone(pid)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open (Linux)")
def test_stragglers_in_the_process_group_are_killed(tmp_path: Path) -> None:
    port = free_port()
    pid_file = tmp_path / "child.pid"
    argv = [sys.executable, "-c", SERVER_WITH_STUBBORN_CHILD, str(port), str(pid_file)]

    with running(argv, port=port, cwd=tmp_path, ready_path="/"):
        child = int(pid_file.read_text())

    wait_until_dead(child)


def test_keyboard_interrupt_stops_every_server() -> None:
    servers = []

    with pytest.raises(KeyboardInterrupt), contextlib.ExitStack() as stack:
        for _ in range(2):
            port = free_port()
            servers.append(stack.enter_context(running(inventory_argv(port), port=port)))
        raise KeyboardInterrupt

    for server in servers:
        assert server.returncode == 0
        assert_gone(server.pid)


async def test_arunning_serves_then_stops() -> None:
    port = free_port()

    async with (
        arunning(inventory_argv(port), port=port) as server,
        httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client,
    ):
        response = await client.get(f"/stock/{ISBN}")

    assert response.status_code == 200
    assert_gone(server.pid)
