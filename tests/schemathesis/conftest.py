"""Fixtures of the schemathesis suite: both bookstores live on loopback, seeded alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.diff.servers import LiveApps
from tests.diff.servers import live_apps


@pytest.fixture(scope="package")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApps]:
    """legacy_flask on Waitress and quart_app on Hypercorn, each on a fresh seeded database."""
    with live_apps(tmp_path_factory.mktemp("live")) as running:
        yield running
