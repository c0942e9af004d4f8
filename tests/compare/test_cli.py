"""The ``python -m compare`` command line: usage errors, help."""

from __future__ import annotations

import pytest

from compare.cli import main


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
        (["c10k", "--connections", "0"], "argument --connections: must be an integer from 1"),
        (["c10k", "--connections", "ten"], "argument --connections: must be an integer from 1"),
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
