"""``python -m compare demo``: both apps on one seeded database, and nothing left running."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from compare.balancer import SERVER_HEADER
from compare.demo import ADMIN_PASSWORD
from compare.demo import ADMIN_USERNAME
from compare.demo import DemoPorts
from compare.demo import run_demo
from compare.procs import free_port


def test_demo_serves_both_apps_on_one_database_and_stops_everything(tmp_path: Path) -> None:
    ports = DemoPorts(flask=free_port(), quart=free_port(), inventory=free_port())
    stop = threading.Event()
    seen: dict[str, object] = {}

    def visit() -> None:
        # run_demo prints its URLs once every server answers; poll the last one to start.
        try:
            with httpx.Client(timeout=5) as client:
                for _ in range(600):
                    try:
                        if client.get(f"http://127.0.0.1:{ports.quart}/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        stop.wait(0.05)
                flask = f"http://127.0.0.1:{ports.flask}"
                quart = f"http://127.0.0.1:{ports.quart}"
                seen["flask_total"] = client.get(f"{flask}/books").json()["total"]
                seen["quart_total"] = client.get(f"{quart}/books").json()["total"]
                seen["availability"] = client.get(f"{quart}/books/1/availability").status_code
                login = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
                seen["login"] = client.post(f"{flask}/auth/login", json=login).status_code
                seen["docs"] = client.get(f"{quart}/docs").status_code
        finally:
            stop.set()

    visitor = threading.Thread(target=visit)
    visitor.start()
    assert run_demo(host="127.0.0.1", ports=ports, data_dir=tmp_path, latency_ms=0, stop=stop) == 0
    visitor.join()

    assert seen["flask_total"] == seen["quart_total"] == 36
    assert seen["availability"] == 200
    assert seen["login"] == 204
    assert seen["docs"] == 200
    assert (tmp_path / "bookstore.db").exists()
    for port in (ports.flask, ports.quart, ports.inventory):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)


def test_demo_serves_each_app_as_several_processes_behind_haproxy(tmp_path: Path) -> None:
    ports = DemoPorts(flask=free_port(), quart=free_port(), inventory=free_port())
    stop = threading.Event()
    served: dict[str, set[str]] = {}

    def visit() -> None:
        try:
            with httpx.Client(timeout=5, trust_env=False) as client:
                for _ in range(600):
                    try:
                        if client.get(f"http://127.0.0.1:{ports.quart}/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        stop.wait(0.05)
                for name, port in (("flask", ports.flask), ("quart", ports.quart)):
                    answers = [client.get(f"http://127.0.0.1:{port}/books") for _ in range(4)]
                    assert all(answer.json()["total"] == 36 for answer in answers)
                    served[name] = {answer.headers[SERVER_HEADER] for answer in answers}
        finally:
            stop.set()

    visitor = threading.Thread(target=visit)
    visitor.start()
    assert (
        run_demo(
            host="127.0.0.1", ports=ports, data_dir=tmp_path, latency_ms=0, stop=stop, backends=2
        )
        == 0
    )
    visitor.join()

    # Each app's port is a balancer in front of two processes, which both answered.
    assert served == {"flask": {"app1", "app2"}, "quart": {"app1", "app2"}}
    for port in (ports.flask, ports.quart, ports.inventory):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
