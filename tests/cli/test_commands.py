"""``python -m legacy_flask`` and ``python -m quart_app``: the same commands, the same answers."""

from __future__ import annotations

import io
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

import legacy_flask.cli
import quart_app.cli

Main = Callable[[Sequence[str] | None], int]
MAINS = pytest.mark.parametrize(
    "main", [legacy_flask.cli.main, quart_app.cli.main], ids=["legacy_flask", "quart_app"]
)


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(text(query))]
    engine.dispose()
    return found


@MAINS
def test_seed_adds_the_sample_books_once(main: Main, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["seed", "--db", url]) == 0
    assert main(["seed", "--db", url]) == 0
    assert rows(url, "SELECT count(*), count(DISTINCT isbn) FROM books") == [(36, 36)]


@MAINS
def test_create_admin_reads_the_password_from_stdin(
    main: Main, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["create-admin", "Root", "--db", url]) == 0
    [(username, is_admin, password_hash)] = rows(
        url, "SELECT username, is_admin, password_hash FROM users"
    )
    assert (username, bool(is_admin)) == ("root", True)
    assert "a-long-password" not in password_hash


@MAINS
def test_bad_input_is_one_line_and_status_2(
    main: Main, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["create-admin", "root", "--db", url]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: password: String should have at least 8 characters"
    ]
    assert main(["init-db", "--db", "nosuchdb://x"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: database:")
    with pytest.raises(SystemExit) as exit_:
        main(["no-such-command"])
    assert exit_.value.code == 2
