"""CapacityLimiter: tokens, the waiting line, misuse."""

from __future__ import annotations

import asyncio

import pytest

from migrate import CapacityLimiter


async def test_holders_beyond_total_wait_in_order() -> None:
    limiter = CapacityLimiter(1)
    order: list[str] = []

    async def hold(name: str) -> None:
        async with limiter:
            order.append(name)

    await limiter.acquire()
    waiters = [asyncio.create_task(hold(name)) for name in ("first", "second")]
    await asyncio.sleep(0)  # One loop turn: both tasks reach acquire().
    assert (limiter.borrowed, limiter.waiting) == (1, 2)

    limiter.release()
    await asyncio.gather(*waiters)
    assert order == ["first", "second"]
    assert (limiter.borrowed, limiter.waiting) == (0, 0)


async def test_a_cancelled_waiter_takes_no_token() -> None:
    limiter = CapacityLimiter(1)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)  # One loop turn: the task reaches acquire().
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (limiter.borrowed, limiter.waiting) == (1, 0)


def test_release_without_a_token_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no token"):
        CapacityLimiter(2).release()
