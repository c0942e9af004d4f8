"""HAProxy in front of several backends of one app, started and stopped like the servers.

The configuration is ``compare/haproxy.cfg``, under version control; :func:`render_config`
fills in the addresses, and :func:`balancing` starts ``haproxy`` on it as a
:class:`compare.procs.ServerProcess` (in the foreground, on free ports, stopped by its pid)
and waits until the balancer answers. HAProxy checks every backend's ``GET /health`` each
:data:`CHECK_INTERVAL_MS` ms and stops routing to one after two failed checks.

Several backends behind one balancer::

    with contextlib.ExitStack() as stack:
        backends = [stack.enter_context(running(app_argv(port), port=port)) for port in ports]
        balancer = stack.enter_context(balancing([(b.host, b.port) for b in backends]))
        httpx.get(f"{balancer.base_url}/books")

The Debian package ``haproxy`` (2.6 or newer) provides the program. All durations are in
seconds unless named ``_ms``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import socket
import string
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from compare.procs import POLL_INTERVAL_S
from compare.procs import PROBE_TIMEOUT_S
from compare.procs import ServerProcess
from compare.procs import free_port

#: The configuration template (``string.Template`` placeholders).
CONFIG_TEMPLATE: Final = Path(__file__).with_name("haproxy.cfg")
#: Milliseconds between two health checks of one backend.
CHECK_INTERVAL_MS: Final = 200
#: The header naming the backend that answered (set by the balancer).
SERVER_HEADER: Final = "X-Backend-Server"


class BalancerUnavailableError(RuntimeError):
    """``haproxy`` is not installed (Debian package ``haproxy``)."""


def backend_name(index: int) -> str:
    """Return the balancer's name for the ``index``-th backend (0-based): ``app1``, ``app2`` …"""
    return f"app{index + 1}"


def render_config(
    backends: Sequence[tuple[str, int]],
    *,
    host: str,
    port: int,
    stats_port: int,
    runtime_socket: Path,
    check_interval_ms: int = CHECK_INTERVAL_MS,
) -> str:
    """Return ``compare/haproxy.cfg`` for ``backends`` (``(host, port)`` pairs, in order).

    The balancer listens on ``host:port``; its statistics page (``/stats``) and its own
    ``/health`` are on ``host:stats_port``; its runtime API on the Unix socket
    ``runtime_socket``. Backend ``i`` is named ``backend_name(i)``.

    :raises ValueError: ``backends`` is empty.
    """
    if not backends:
        raise ValueError("a balancer needs at least one backend")
    servers = "\n".join(
        f"    server {backend_name(index)} {backend_host}:{backend_port}"
        for index, (backend_host, backend_port) in enumerate(backends)
    )
    template = string.Template(CONFIG_TEMPLATE.read_text())
    return template.substitute(
        bind=f"{host}:{port}",
        stats_bind=f"{host}:{stats_port}",
        servers=servers,
        runtime_socket=runtime_socket,
        check_interval_ms=check_interval_ms,
    )


@dataclass
class Balancer:
    """A running HAProxy: its process, the balanced endpoint, and its statistics page."""

    process: ServerProcess
    port: int
    runtime_socket: Path

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the balanced endpoint."""
        return f"http://{self.process.host}:{self.port}"

    @property
    def stats_url(self) -> str:
        """The statistics page (``/stats``; ``/stats;csv`` for CSV)."""
        return f"{self.process.base_url}/stats"

    def server_states(self) -> dict[str, str]:
        """Return each backend's state as the balancer sees it: ``{"app1": "UP", …}``.

        The state is the ``status`` column of HAProxy's CSV statistics (``UP``, ``DOWN``,
        ``UP 1/2`` while a change is being confirmed, ``NOLB`` while draining).
        """
        return {name: row["status"] for name, row in self._rows().items()}

    def _rows(self) -> dict[str, dict[str, str]]:
        response = httpx.get(f"{self.stats_url};csv", timeout=PROBE_TIMEOUT_S, trust_env=False)
        response.raise_for_status()
        rows = csv.DictReader(io.StringIO(response.text.removeprefix("# ")))
        return {
            row["svname"]: row
            for row in rows
            if row["pxname"] == "apps" and row["svname"] not in {"FRONTEND", "BACKEND"}
        }

    def runtime(self, command: str) -> str:
        """Send one command to HAProxy's runtime API and return its answer.

        ``set server apps/app1 state drain`` stops sending new requests to ``app1`` while
        its current ones finish; ``show servers state`` lists them (HAProxy's management
        guide, "Unix Socket commands").
        """
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(PROBE_TIMEOUT_S)
            connection.connect(str(self.runtime_socket))
            connection.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def answers(self) -> dict[str, int]:
        """Return how many answers each backend has given so far: ``{"app1": 1234, …}``.

        The sum of the ``hrsp_1xx`` … ``hrsp_other`` columns of the CSV statistics (answers
        by status class, counted since the balancer started); health checks are not in them.
        """
        columns = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")
        return {
            name: sum(int(row.get(column) or 0) for column in columns)
            for name, row in self._rows().items()
        }

    def current_sessions(self) -> dict[str, int]:
        """Return each backend's requests in progress (``scur`` of the CSV statistics)."""
        return {name: int(row["scur"] or 0) for name, row in self._rows().items()}

    def wait_for_state(self, server: str, state: str, timeout_s: float = 10.0) -> None:
        """Poll the statistics until ``server``'s state is exactly ``state``.

        :raises TimeoutError: it is not within ``timeout_s``; the message gives the last states.
        """
        deadline = time.monotonic() + timeout_s
        while (states := self.server_states()).get(server) != state:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{server} is not {state} after {timeout_s:g} s: {states}")
            time.sleep(POLL_INTERVAL_S)

    def wait_until_idle(self, server: str, timeout_s: float = 10.0) -> None:
        """Poll the statistics until ``server`` has no request in progress (after a drain).

        :raises TimeoutError: it still has some after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while (sessions := self.current_sessions()).get(server):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{server} is still busy after {timeout_s:g} s: {sessions}")
            time.sleep(POLL_INTERVAL_S)

    def stop(self) -> int | None:
        """Stop HAProxy (SIGTERM: it closes every connection at once) and reap it."""
        return self.process.stop()


def haproxy_path() -> str:
    """Return the path of the ``haproxy`` program.

    :raises BalancerUnavailableError: it is not on ``PATH`` (nor in ``/usr/sbin``).
    """
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise BalancerUnavailableError(
            "haproxy is not installed; on Debian or Ubuntu: apt-get install haproxy"
        )
    return found


@contextlib.contextmanager
def balancing(
    backends: Sequence[tuple[str, int]],
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    log_path: Path | None = None,
    command_prefix: Sequence[str] = (),
    ready_timeout_s: float = 10.0,
    check_interval_ms: int = CHECK_INTERVAL_MS,
) -> Iterator[Balancer]:
    """Run HAProxy in front of ``backends`` until the block ends, however it ends.

    :param backends: ``(host, port)`` of each backend; they should already answer ``/health``.
    :param host: the address the balancer binds.
    :param port: its port; a free one by default. The statistics get another free port.
    :param log_path: where HAProxy's output goes (appended to).
    :param command_prefix: put before the ``haproxy`` command (a wrapper that execs it, such
        as the tests' orphan guard).
    :param ready_timeout_s: how long the balancer may take to answer its ``/health``.
    :param check_interval_ms: milliseconds between two health checks of one backend (a load
        measurement checks less often, so that the checks cost the backends next to nothing).
    :raises BalancerUnavailableError: ``haproxy`` is not installed.
    :raises compare.procs.ServerStartError: HAProxy exited (a bad configuration, a port taken)
        or did not answer in time; the message quotes its output.
    """
    program = haproxy_path()
    port = free_port(host) if port is None else port
    stats_port = free_port(host)
    with tempfile.TemporaryDirectory(prefix="bookstore-haproxy-") as folder:
        config_path = Path(folder) / "haproxy.cfg"
        runtime_socket = Path(folder) / "runtime.sock"
        config_path.write_text(
            render_config(
                backends,
                host=host,
                port=port,
                stats_port=stats_port,
                runtime_socket=runtime_socket,
                check_interval_ms=check_interval_ms,
            )
        )
        # -db: stay in the foreground, one process, so that its pid is the one to stop.
        argv = [*command_prefix, program, "-db", "-f", str(config_path)]
        process = ServerProcess(argv, port=stats_port, host=host, log_path=log_path)
        try:
            process.start()
            process.wait_ready("/health", ready_timeout_s)
            yield Balancer(process, port, runtime_socket)
        finally:
            process.stop()
