"""A pytest plugin that fails tests whose code blocked the event loop.

Enable it with ``-p migrate.pytest_plugin`` or ``pytest_plugins = ["migrate.pytest_plugin"]``
in the top-level ``conftest.py``. It needs pytest-asyncio and blockbuster, which the
``pytest`` extra installs (``pip install 'flask-quart-migration-kit[pytest]'``). It provides:

``loop_stall_detector``
    An async fixture: a started :class:`~migrate.StallDetector` on the test's event loop.
    A test that uses it fails when the loop was blocked for the threshold or more,
    with the stack of the blocking code in the report; ``detector.watch(app)`` adds the
    route of each Quart request. The threshold, in ms, comes from
    ``--loop-stall-threshold-ms``, else the ``loop_stall_threshold_ms`` ini option,
    else 100. Mark a test ``@pytest.mark.allow_loop_stalls`` to keep the detector but
    not fail (to assert on ``detector.stalls`` yourself).

``blockbuster``
    A fixture that activates `blockbuster <https://github.com/cbornet/blockbuster>`_
    for the test: a known blocking call (``time.sleep``, file and socket I/O,
    ``sqlite3``, a contended ``threading.Lock``...) made on the event loop's thread
    raises ``blockbuster.BlockingError`` on the spot, however short it is. The stall
    detector measures instead, so it also catches CPU-bound work and calls that no list
    knows. The ``blockbuster_scanned_modules`` ini option (module names) limits the
    detection to calls made from those modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Generator
from collections.abc import Iterator
from typing import Any

try:
    import pytest
    import pytest_asyncio
    from blockbuster import BlockBuster
    from blockbuster import blockbuster_ctx
except ModuleNotFoundError as exc:
    raise ModuleNotFoundError(
        f"migrate.pytest_plugin needs pytest, pytest-asyncio and blockbuster ({exc.name} is not "
        "installed): pip install 'flask-quart-migration-kit[pytest]'",
        name=exc.name,
    ) from exc

from .stalls import StallDetector

__all__ = [
    "blockbuster",
    "loop_stall_detector",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_call",
]

DEFAULT_THRESHOLD_MS = 100.0
_FIXTURE = "loop_stall_detector"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migrate", "event-loop stall detection")
    group.addoption(
        "--loop-stall-threshold-ms",
        type=float,
        default=None,
        help=f"fail tests that block the event loop this long, in ms "
        f"(default {DEFAULT_THRESHOLD_MS:.0f})",
    )
    parser.addini(
        "loop_stall_threshold_ms",
        "event-loop stall threshold in ms for the loop_stall_detector fixture",
        default=str(DEFAULT_THRESHOLD_MS),
    )
    parser.addini(
        "blockbuster_scanned_modules",
        "modules in which the blockbuster fixture detects blocking calls (default: all)",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_loop_stalls: record event-loop stalls without failing the test"
    )


def _ini(config: pytest.Config, name: str) -> object:
    # Loaded from a non-root conftest, the plugin's options are not registered.
    try:
        return config.getini(name)
    except ValueError:
        return None


def _threshold_ms(config: pytest.Config) -> float:
    option = config.getoption("--loop-stall-threshold-ms", None)
    if option is not None:
        return float(option)
    ini = _ini(config, "loop_stall_threshold_ms")
    return float(str(ini)) if ini else DEFAULT_THRESHOLD_MS


def _failure(detector: StallDetector) -> str:
    reports = "\n\n".join(stall.format() for stall in detector.stalls)
    return f"the test blocked the event loop {len(detector.stalls)} time(s):\n\n{reports}"


@pytest_asyncio.fixture
async def loop_stall_detector(request: pytest.FixtureRequest) -> AsyncIterator[StallDetector]:
    """A started :class:`~migrate.StallDetector` on the test's event loop."""
    detector = StallDetector(_threshold_ms(request.config))
    detector.start()
    yield detector
    detector.stop()
    # Stalls seen after the test body (in other fixtures' teardown) fail here instead.
    checked = getattr(request.node, "_migrate_stalls_checked", 0)
    if len(detector.stalls) > checked and not _allowed(request.node):
        pytest.fail(_failure(detector), pytrace=False)


def _allowed(node: Any) -> bool:  # A pytest Node: an item, or a fixture request's node.
    return node.get_closest_marker("allow_loop_stalls") is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail the test itself, not its teardown, when its body stalled the loop."""
    result = yield
    funcargs: dict[str, object] = getattr(item, "funcargs", {})
    detector = funcargs.get(_FIXTURE)
    if isinstance(detector, StallDetector):
        item._migrate_stalls_checked = len(detector.stalls)  # type: ignore[attr-defined]
        if detector.stalls and not _allowed(item):
            pytest.fail(_failure(detector), pytrace=False)
    return result


@pytest.fixture
def blockbuster(request: pytest.FixtureRequest) -> Iterator[BlockBuster]:
    """Blockbuster active for the test, raising at blocking calls on the event loop."""
    modules = _ini(request.config, "blockbuster_scanned_modules")
    scanned = [str(name) for name in modules] if isinstance(modules, list) and modules else None
    with blockbuster_ctx(scanned) as active:
        yield active
