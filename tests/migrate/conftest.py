"""Fixtures for the migration helpers' tests."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from migrate import WorkerPool

# The plugin's fixtures and hooks, loaded the way a project's root conftest would.
from migrate.pytest_plugin import blockbuster
from migrate.pytest_plugin import loop_stall_detector
from migrate.pytest_plugin import pytest_configure
from migrate.pytest_plugin import pytest_runtest_call

__all__ = ["blockbuster", "loop_stall_detector", "pytest_configure", "pytest_runtest_call"]

_names = itertools.count()


@pytest.fixture
def pool_name() -> str:
    return f"test-pool-{next(_names)}"


@pytest.fixture
async def pool(pool_name: str) -> AsyncIterator[WorkerPool]:
    """A pool of 4 threads installed on the test's loop, closed (and waited for) after."""
    async with WorkerPool(4, name=pool_name) as installed:
        yield installed
