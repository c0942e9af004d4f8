"""``quart_app`` is a finished migration: the checker finds nothing left to change in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.cli import main

QUART_APP = Path(__file__).resolve().parents[2] / "quart_app"


def test_migrate_check_reports_nothing_in_quart_app(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(QUART_APP)]) == 0, capsys.readouterr().out


def test_migrate_check_still_finds_the_flask_app_unmigrated(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The same run on legacy_flask must report: a checker that found nothing anywhere would
    # pass the test above too.
    assert main(["check", str(QUART_APP.with_name("legacy_flask"))]) == 1
    assert "QM101" in capsys.readouterr().out
