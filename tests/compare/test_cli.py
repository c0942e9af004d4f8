"""The ``python -m compare`` command line: usage errors, help."""

from __future__ import annotations

import socket

import pytest

from compare.cli import main
from compare.procs import free_port


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["serve-everything"], "invalid choice: 'serve-everything'"),
        (["inventory", "--port", "http"], "argument --port: must be an integer"),
        (["inventory", "--port", "70000"], "argument --port: must be an integer"),
        (["inventory", "--latency-ms", "-5"], "argument --latency-ms: must be between 0"),
        (["inventory", "--latency-ms", "soon"], "argument --latency-ms: must be between 0"),
        (["inventory", "--fail", "sometimes"], "argument --fail: invalid choice: 'sometimes'"),
        (["inventory", "--verbose"], "unrecognized arguments: --verbose"),
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
    assert err.startswith("python -m compare")
    assert message in err


def test_help_lists_the_inventory_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    assert exited.value.code == 0
    assert "inventory" in capsys.readouterr().out


def test_demo_with_a_port_taken_names_it_and_the_flags_and_starts_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["demo", "--flask-port", str(free_port()), "--quart-port", str(port)]
        status = main([*argv, "--inventory-port", str(free_port())])

    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err == (
        f"python -m compare demo: error: port {port} on 127.0.0.1 (--quart-port) is not free: "
        "Address already in use; choose free ports with --flask-port, --quart-port and "
        "--inventory-port (with make: make demo QUART_PORT=N)\n"
    )


def test_demo_with_one_port_given_twice_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    port = str(free_port())
    status = main(["demo", "--flask-port", port, "--quart-port", port])

    err = capsys.readouterr().err
    assert status == 1
    assert f"--quart-port and --flask-port are both {port}; give each server a port" in err
