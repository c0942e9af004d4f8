"""StallDetector and the pytest plugin: a blocked event loop is reported, with its culprit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from quart import Quart

import migrate
from migrate import Stall
from migrate import StallDetector
from migrate import run_sync

THRESHOLD_MS = 100.0


def create_app() -> Quart:
    app = Quart(__name__)

    @app.get("/blocking")
    async def blocking() -> str:
        time.sleep(0.2)  # noqa: ASYNC251  # The deliberate bug under test.
        return "slept on the loop"

    @app.get("/offloaded")
    async def offloaded() -> str:
        await run_sync(time.sleep)(0.2)
        return "slept in a thread"

    @app.get("/awaiting")
    async def awaiting() -> str:
        await asyncio.sleep(0.2)
        return "awaited"

    return app


async def test_a_blocking_route_is_caught_with_its_route_and_stack() -> None:
    app = create_app()
    detector = StallDetector(THRESHOLD_MS)
    detector.init_app(app)

    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/blocking")
        assert response.status_code == 200

    (stall,) = detector.stalls
    assert stall.route == "GET /blocking"
    assert stall.duration_ms >= THRESHOLD_MS
    stack = "".join(stall.stack)
    assert "in blocking" in stack
    assert "time.sleep(0.2)" in stack
    assert "GET /blocking" in stall.format()
    assert not detector.running  # Stopped with the app.


async def test_a_blocking_start_up_step_is_reported() -> None:
    app = create_app()
    detector = StallDetector(THRESHOLD_MS)
    detector.init_app(app)

    @app.before_serving
    async def create_tables() -> None:
        time.sleep(0.2)  # noqa: ASYNC251  # A sync DB call left in a start-up hook.

    async with app.test_app():
        pass
    (stall,) = detector.stalls
    assert "in create_tables" in "".join(stall.stack)


async def test_offloaded_and_awaiting_routes_are_not_reported() -> None:
    app = create_app()
    detector = StallDetector(THRESHOLD_MS)
    detector.init_app(app)

    async with app.test_app() as test_app:
        client = test_app.test_client()
        await client.get("/offloaded")
        await client.get("/awaiting")

    assert detector.stalls == []


async def test_each_stall_is_passed_to_the_callback_and_logged_by_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Stall] = []
    async with StallDetector(THRESHOLD_MS, on_stall=seen.append) as detector:
        time.sleep(0.2)  # noqa: ASYNC251  # Blocks the loop on purpose.
    assert seen == detector.stalls
    assert len(seen) == 1
    assert seen[0].route is None  # Not inside a watched request.

    async with StallDetector(THRESHOLD_MS):
        time.sleep(0.2)  # noqa: ASYNC251  # Blocks the loop on purpose.
    assert "Event loop blocked for" in caplog.text


async def test_a_block_in_progress_is_recorded_by_stop() -> None:
    detector = StallDetector(THRESHOLD_MS)
    detector.start()
    time.sleep(0.2)  # noqa: ASYNC251  # Blocks the loop on purpose, until stop().
    detector.stop()
    assert len(detector.stalls) == 1


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threshold_ms"):
        StallDetector(0)


async def test_the_fixture_gives_a_started_detector(loop_stall_detector: StallDetector) -> None:
    assert loop_stall_detector.running
    assert loop_stall_detector.threshold_ms == 100.0


INNER_TESTS = """
    import asyncio
    import time

    import pytest
    from quart import Quart


    @pytest.fixture
    def app():
        # Built outside the event loop: Quart's set-up reads the file system.
        app = Quart(__name__)

        @app.get("/blocking")
        async def blocking():
            time.sleep(0.2)
            return "slept"

        @app.get("/fine")
        async def fine():
            await asyncio.sleep(0.01)
            return "fine"

        return app


    async def test_blocking_request(app, loop_stall_detector):
        loop_stall_detector.watch(app)
        await app.test_client().get("/blocking")


    async def test_fine_request(app, loop_stall_detector):
        loop_stall_detector.watch(app)
        await app.test_client().get("/fine")


    @pytest.mark.allow_loop_stalls
    async def test_allowed(app, loop_stall_detector):
        await app.test_client().get("/blocking")
        assert len(loop_stall_detector.stalls) == 1


    async def test_blockbuster_raises_at_the_blocking_call(app, blockbuster):
        assert (await app.test_client().get("/fine")).status_code == 200
        # BlockingError is raised inside the view, which Quart turns into a 500.
        assert (await app.test_client().get("/blocking")).status_code == 500
"""


def test_the_plugin_fails_the_test_whose_request_blocked(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS))
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "migrate.pytest_plugin", "-q", "-rf"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(migrate.__file__).parents[1])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 failed, 3 passed" in out, out
    assert "FAILED test_inner.py::test_blocking_request" in out
    assert "the test blocked the event loop 1 time(s)" in out
    assert "in GET /blocking" in out
    assert "time.sleep(0.2)" in out


async def test_a_late_beat_with_the_loop_idle_is_not_a_stall() -> None:
    # The watchdog found the loop thread waiting in its selector while the heartbeat was
    # overdue: the OS ran the process late, no code blocked the loop. Nothing to act on.
    seen: list[Stall] = []
    detector = StallDetector(20.0, on_stall=seen.append)
    detector.start()
    try:
        late_beat = (7, time.monotonic() - 1.0)
        detector._due = late_beat
        detector._sample = migrate.stalls._Sample(7, (), None, None, idle=True)
        detector._check_overdue()
    finally:
        detector.stop()
    assert (seen, detector.stalls, detector.idle_late_beats) == ([], [], 1)


async def test_an_unsampled_stall_says_how_to_catch_it() -> None:
    seen: list[Stall] = []
    detector = StallDetector(20.0, on_stall=seen.append)
    detector.start()
    try:
        detector._due = (3, time.monotonic() - 0.030)
        detector._sample = None  # The block ended before the watchdog sampled it.
        detector._check_overdue()
    finally:
        detector.stop()
    (stall,) = seen
    text = stall.format()
    assert stall.stack == () and "no code was sampled" not in text
    assert "run again with threshold_ms=15" in text and "blockbuster" in text
