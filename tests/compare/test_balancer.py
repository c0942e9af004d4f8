"""compare.balancer: the rendered HAProxy configuration, and what the balancer does with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from compare.balancer import SERVER_HEADER
from compare.balancer import balancing
from compare.balancer import haproxy_path
from compare.balancer import render_config
from compare.procs import free_port
from compare.procs import running


def test_the_rendered_configuration_is_valid_for_haproxy(tmp_path: Path) -> None:
    config = render_config(
        [("127.0.0.1", 8001), ("127.0.0.1", 8002)],
        host="127.0.0.1",
        port=8080,
        stats_port=8081,
        runtime_socket=tmp_path / "runtime.sock",
    )
    assert "    server app1 127.0.0.1:8001\n    server app2 127.0.0.1:8002" in config
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    # haproxy -c parses the whole configuration and exits 0 only when it is valid.
    checked = subprocess.run(
        [haproxy_path(), "-c", "-f", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_balancer_needs_a_backend() -> None:
    with pytest.raises(ValueError, match="at least one backend"):
        render_config(
            [], host="127.0.0.1", port=8080, stats_port=8081, runtime_socket=Path("runtime.sock")
        )


def test_the_balancer_takes_stopped_backends_out_and_answers_a_problem_without_any() -> None:
    ports = [free_port(), free_port()]
    argv = [sys.executable, "-m", "compare", "inventory", "--latency-ms", "0", "--port"]
    with (
        running([*argv, str(ports[0])], port=ports[0]) as first,
        running([*argv, str(ports[1])], port=ports[1]) as second,
        balancing([("127.0.0.1", port) for port in ports]) as balancer,
    ):
        balancer.wait_for_state("app1", "UP")
        balancer.wait_for_state("app2", "UP")
        with httpx.Client(base_url=balancer.base_url, trust_env=False, timeout=5) as client:
            served = {client.get("/health").headers[SERVER_HEADER] for _ in range(4)}
            assert served == {"app1", "app2"}
            # Drained through the runtime API, app2 gets no new requests while it still runs.
            balancer.runtime("set server apps/app2 state drain")
            drained = {client.get("/health").headers[SERVER_HEADER] for _ in range(4)}
            assert drained == {"app1"}
            balancer.runtime("set server apps/app2 state ready")
            second.stop()
            balancer.wait_for_state("app2", "DOWN")
            answers = [client.get("/health") for _ in range(4)]
            assert {answer.headers[SERVER_HEADER] for answer in answers} == {"app1"}
            assert all(answer.status_code == 200 for answer in answers)
            # With no backend left the balancer's own 503 is a problem document.
            first.stop()
            balancer.wait_for_state("app1", "DOWN")
            none_left = client.get("/health")
    assert none_left.status_code == 503
    assert none_left.headers["Content-Type"] == "application/problem+json"
    assert none_left.json()["detail"] == "no backend is available; try again"
    # Stopped with the block: nothing answers on its port any more.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{balancer.base_url}/health", timeout=5)
