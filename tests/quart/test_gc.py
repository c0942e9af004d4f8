"""While quart_app serves, the objects it made to start are frozen and young collections rare;
both are undone when it stops, so that a process building many apps collects them."""

from __future__ import annotations

import gc

from quart import Quart

from quart_app import GC_YOUNG_THRESHOLD


async def test_serving_freezes_the_start_up_objects_and_stopping_undoes_it(app: Quart) -> None:
    before = gc.get_threshold()

    async with app.test_app():
        serving = gc.get_threshold()
        frozen = gc.get_freeze_count()

    assert serving == (GC_YOUNG_THRESHOLD, *before[1:])
    assert frozen > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
