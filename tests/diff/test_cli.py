"""``python -m compare diff``: flags, exit statuses, and differences found between two stubs.

The stubs are a few lines of WSGI served by ``wsgiref`` on loopback, one per test, in a thread:
two *variants* of one tiny API, so that the diff has something real to find (and, with the
same variant twice, nothing).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import make_server

import pytest

from compare.cli import main
from compare.procs import free_port

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

#: A flows file for the stubs: read a thing, log in (a cookie), then read who is logged in.
STUB_FLOWS: dict[str, Any] = {
    "version": 1,
    "flows": [
        {
            "name": "things",
            "steps": [
                {"name": "read a thing", "path": "/things/1", "capture": {"tag": "header.ETag"}},
                {"path": "/things/1", "headers": {"If-None-Match": "{tag}"}},
                {"method": "POST", "path": "/session", "json": {"user": "{user}"}},
                {"name": "who am I", "path": "/session"},
            ],
        },
        {"name": "a new cookie jar", "steps": [{"name": "who am I", "path": "/session"}]},
    ],
}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request on stderr would bury the test's output


def stub_app(variant: str) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """Return a WSGI app; ``"b"`` differs from ``"a"`` in a field of /things/1 and its cookie."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        if path == "/things/1" and environ.get("HTTP_IF_NONE_MATCH") == '"7"':
            start_response("304 Not Modified", [("ETag", '"7"')])
            return [b""]
        if path == "/things/1":
            body = {
                "id": 1,
                "name": "thing" if variant == "a" else "Thing",
                # Different on every request: the diff must not see it.
                "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            }
            headers = [("Content-Type", "application/json"), ("ETag", '"7"')]
            start_response("200 OK", headers)
            return [json.dumps(body).encode()]
        if path == "/session" and method == "POST":
            start_response("204 No Content", [("Set-Cookie", f"who={variant}; Path=/")])
            return [b""]
        if path == "/session" and "who=" in environ.get("HTTP_COOKIE", ""):
            # The cookie this deployment set: with a jar shared by both, one would see the other's.
            who = environ["HTTP_COOKIE"].partition("who=")[2].partition(";")[0]
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"user": who}).encode()]
        if path == "/session":
            start_response("401 Unauthorized", [("Content-Type", "application/problem+json")])
            return [b'{"status": 401}']
        start_response("404 Not Found", [("Content-Type", "application/problem+json")])
        return [b'{"status": 404}']

    return app


@contextlib.contextmanager
def stub_server(variant: str) -> Iterator[str]:
    """Serve :func:`stub_app` on a free loopback port; yield its base URL."""
    server = make_server("127.0.0.1", 0, stub_app(variant), handler_class=_QuietHandler)
    # The socket listens from here on: requests queue until serve_forever takes them.
    thread = threading.Thread(target=server.serve_forever, name=f"stub-{variant}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def flows_file(tmp_path: Path) -> Path:
    path = tmp_path / "flows.json"
    path.write_text(json.dumps(STUB_FLOWS))
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff"], "the following arguments are required: --old, --new"),
        (["diff", "--old", "http://127.0.0.1:1"], "the following arguments are required: --new"),
        (["diff", "--old", "127.0.0.1:8000", "--new", "http://x"], "argument --old: must be an"),
        (["diff", "--old", "http://x", "--new", "ftp://y"], "argument --new: must be an"),
        (["diff", "--old", "http://x", "--new", "http://"], "argument --new: must be an"),
        (["diff", "--old", "http://x", "--new", "http://y", "--var", "x"], "NAME=VALUE"),
        (["diff", "--old", "http://x", "--new", "http://y", "--var", "1=a"], "NAME=VALUE"),
        (["diff", "--old", "http://x", "--new", "http://y", "--timeout", "0"], "--timeout"),
        (["diff", "--old", "http://x", "--new", "http://y", "--timeout", "soon"], "--timeout"),
        (["diff", "--old", "http://x", "--new", "http://y", "--colour"], "unrecognized"),
    ],
)
def test_bad_flags_give_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status = main(argv)

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


def test_help_describes_the_diff(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["diff", "--help"])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--old", "--new", "--flows", "--openapi", "--var", "--json"):
        assert flag in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the flows file"),
        ("{}", "flows: Field required"),
        ('{"flows": [{"name": "x", "steps": [{"path": "/", "json": 1, "body": ""}]}]}', "one body"),
    ],
)
def test_a_flows_file_that_cannot_be_used_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "flows.json"
    if content is not None:
        path.write_text(content)

    status = main(
        ["diff", "--old", "http://127.0.0.1:1", "--new", "http://127.0.0.1:1", "--flows", str(path)]
    )

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


def test_an_unreachable_deployment_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], flows_file: Path
) -> None:
    with stub_server("a") as up:
        down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        status = main(["diff", "--old", up, "--new", down, "--flows", str(flows_file)])

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith(f"python -m compare diff: error: GET {down}/things/1: ")
    assert err.count("\n") == 1


def test_no_openapi_document_is_one_line_and_status_2_without_a_traceback() -> None:
    down = f"http://127.0.0.1:{free_port()}"

    # As users run it, so that nothing but the one line reaches stderr.
    run = subprocess.run(
        [sys.executable, "-m", "compare", "diff", "--old", down, "--new", down],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith(f"python -m compare diff: error: cannot fetch {down}/openapi.json")
    assert run.stderr.count("\n") == 1


def test_the_same_answers_make_no_difference(
    capsys: pytest.CaptureFixture[str], flows_file: Path
) -> None:
    with stub_server("a") as old, stub_server("a") as new:
        status = main(
            ["diff", "--old", old, "--new", new, "--flows", str(flows_file), "--var", "user=x"]
        )

    out, err = capsys.readouterr()
    assert status == 0
    assert out == ""
    assert err == "5 requests in 2 flows: no differences\n"


def test_a_real_difference_is_printed_as_a_unified_diff_and_exits_1(
    capsys: pytest.CaptureFixture[str], flows_file: Path
) -> None:
    with stub_server("a") as old, stub_server("b") as new:
        status = main(["diff", "--old", old, "--new", new, "--flows", str(flows_file)])

    out, err = capsys.readouterr()
    assert status == 1
    assert out.splitlines()[:3] == [
        "# things / step 1: read a thing",
        "--- old GET /things/1",
        "+++ new GET /things/1",
    ]
    assert '-  "name": "thing"' in out
    assert '+  "name": "Thing"' in out
    # Each deployment sees the cookie it set itself.
    assert "# things / step 4: who am I" in out
    assert '-  "user": "a"' in out
    assert '+  "user": "b"' in out
    # Nothing else: the timestamps differ too, but are normalised away, and a new flow starts
    # with empty cookie jars (401 from both).
    assert sum(line.startswith(("-", "+")) for line in out.splitlines()) == 8
    assert err == "5 requests in 2 flows: 2 differences\n"


def test_json_output_lists_each_difference_with_both_answers(
    capsys: pytest.CaptureFixture[str], flows_file: Path
) -> None:
    with stub_server("a") as old, stub_server("b") as new:
        status = main(["diff", "--old", old, "--new", new, "--flows", str(flows_file), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["old"] == old
    assert report["new"] == new
    assert report["requests"] == 5
    difference, _ = report["differences"]
    assert difference["flow"] == "things"
    assert (difference["method"], difference["old_path"]) == ("GET", "/things/1")
    assert difference["old"]["body"]["name"] == "thing"
    assert difference["new"]["body"]["name"] == "Thing"
    assert difference["old"]["body"]["created_at"] == "<timestamp>"
    assert difference["old"]["headers"] == {"Content-Type": "application/json", "ETag": '"7"'}
    assert difference["diff"].startswith("--- old GET /things/1\n+++ new GET /things/1\n")


@pytest.mark.parametrize(
    "document",
    [
        {"paths": {"/a": ["get"]}},
        {"paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/Gone"}]}}}},
        {"paths": {"a": {"get": {}}}},
    ],
)
def test_an_openapi_document_that_cannot_be_expanded_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, document: dict[str, Any]
) -> None:
    openapi = tmp_path / "openapi.json"
    openapi.write_text(json.dumps(document))
    flows = tmp_path / "flows.json"
    flows.write_text(json.dumps({"flows": [{"name": "x", "steps": [{"openapi": "operations"}]}]}))

    with stub_server("a") as up:
        argv = ["diff", "--old", up, "--new", up, "--flows", str(flows), "--openapi", str(openapi)]
        status = main(argv)

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith("python -m compare diff: error: the OpenAPI document cannot be expanded")
    assert err.count("\n") == 1
