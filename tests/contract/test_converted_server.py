"""The converted app's server reports event-loop stalls in its log, and the suite reads them."""

from __future__ import annotations

from migrate import Stall
from tests.contract.live import iter_log_stalls
from tests.contract.serve_converted import stall_line


def test_each_reported_stall_is_found_in_the_log() -> None:
    stalls = [
        Stall(180.0, 100.0, "POST /auth/register", "Task-7", ('  File "store.py", line 9\n',)),
        Stall(120.0, 100.0, None, None, ()),
    ]
    log = "\n".join(
        ["[INFO] Running on http://127.0.0.1:8000", *map(stall_line, stalls), "[INFO] done"]
    )
    found = list(iter_log_stalls(log))
    assert len(found) == 2
    assert found[0].startswith("Event loop blocked for 180 ms in POST /auth/register")
    assert found[1].startswith("Event loop blocked for 120 ms, over the 100 ms threshold")
