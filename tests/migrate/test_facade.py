"""AsyncFacade: a legacy object's public methods as awaitable twins."""

from __future__ import annotations

import copy
import functools
import inspect
import threading

import pytest

from migrate import AsyncFacade
from migrate import WorkerPool
from migrate import is_run_sync


class LegacyClient:
    """A sync SDK client, as a Flask app would hold one."""

    region = "eu-west-1"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def fetch(self, key: str, *, version: int = 1) -> str:
        """Fetch *key* at *version*."""
        self.calls.append(threading.current_thread().name)
        return f"{key}@{version}"

    def fail(self) -> None:
        raise ConnectionError("upstream down")

    @staticmethod
    def checksum(data: bytes) -> int:
        return sum(data)

    @classmethod
    def build(cls) -> LegacyClient:
        return cls()

    @property
    def status(self) -> str:
        raise AssertionError("a property getter must not run on the loop")

    @functools.cached_property
    def settings(self) -> dict[str, str]:
        raise AssertionError("a cached property must not run on the loop")

    def _sign(self) -> str:
        return "secret"


async def test_methods_become_awaitable_and_run_in_the_pool(pool: WorkerPool) -> None:
    client = LegacyClient()
    facade = AsyncFacade(client)

    assert await facade.fetch("cover", version=2) == "cover@2"
    assert await facade.checksum(b"\x01\x02") == 3
    assert isinstance(await facade.build(), LegacyClient)
    assert client.calls[0].startswith(f"{pool.name}_")


async def test_twins_keep_metadata_and_are_cached(pool: WorkerPool) -> None:
    facade = AsyncFacade(LegacyClient())
    assert facade.fetch is facade.fetch
    assert facade.fetch.__name__ == "fetch"
    assert facade.fetch.__doc__ == "Fetch *key* at *version*."
    assert str(inspect.signature(facade.fetch)) == "(key: 'str', *, version: 'int' = 1) -> 'str'"
    assert is_run_sync(facade.fetch)


async def test_errors_keep_their_type(pool: WorkerPool) -> None:
    with pytest.raises(ConnectionError, match="upstream down"):
        await AsyncFacade(LegacyClient()).fail()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("_sign", "public methods only"),
        ("status", "is a property"),
        ("settings", "is a property"),
        ("region", "is not a method"),
        ("missing", "missing"),
    ],
)
def test_only_public_methods_are_exposed(name: str, message: str) -> None:
    with pytest.raises(AttributeError, match=message):
        getattr(AsyncFacade(LegacyClient()), name)


async def test_a_copy_is_a_working_facade(pool: WorkerPool) -> None:
    facade = AsyncFacade(LegacyClient())
    duplicate = copy.copy(facade)
    assert await duplicate.fetch("k") == "k@1"


def test_dir_lists_the_public_methods_and_wrapped_is_the_object() -> None:
    client = LegacyClient()
    facade = AsyncFacade(client)
    assert {"fetch", "fail", "checksum", "build"} <= set(dir(facade))
    assert not {"status", "settings", "region", "_sign"} & set(dir(facade))
    assert facade.wrapped is client


async def test_timeout_applies_to_every_method(pool: WorkerPool) -> None:
    gate = threading.Event()

    class Slow:
        def wait(self) -> None:
            gate.wait(timeout=30)  # The blocking workload, released below.

    with pytest.raises(TimeoutError):
        await AsyncFacade(Slow(), pool=pool, timeout=0.05).wait()
    gate.set()
