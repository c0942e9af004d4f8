"""The live servers' pool holds every server the suite's targets need at once."""

from __future__ import annotations

from tests.contract.live import BALANCED_APPS
from tests.contract.live import LIVE_APPS
from tests.contract.live import MAX_RUNNING


def test_every_live_target_on_every_database_stays_running_at_once() -> None:
    # Each test function cycles through the targets: a pool smaller than the cycle restarts
    # a server for every test (least recently used is the next one needed).
    assert len(LIVE_APPS) * 2 + len(BALANCED_APPS) <= MAX_RUNNING
