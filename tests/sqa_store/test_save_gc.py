"""Saving pauses the (process-wide) garbage collector only around CPU work, never on I/O."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from aestore.samples import make_experiment
from aestore.storage.sqa_store import save
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment

BIG = 1_500  # trials: several encode slices


async def test_collector_runs_while_a_re_save_waits_on_the_database(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (A first save of a whole big experiment pauses the collector for its inserts, so that
    # a full collection cannot stall the event loop; see save._save_whole.)
    experiment = make_experiment(num_trials=BIG, name="big_save")
    await save_experiment(experiment)
    experiment.trials[0].update_run_metadata({"changed": True})
    original = save.execute_plan
    waiting = asyncio.Event()

    async def slow_execute_plan(*args: Any, **kwargs: Any) -> Any:
        waiting.set()
        await asyncio.sleep(0.05)  # a slow database
        waiting.clear()
        return await original(*args, **kwargs)

    monkeypatch.setattr(save, "execute_plan", slow_execute_plan)
    samples: list[bool] = []
    done = False

    async def sample() -> None:
        while not done:
            if waiting.is_set():
                samples.append(gc.isenabled())
            await asyncio.sleep(0.002)

    sampler = asyncio.create_task(sample())
    try:
        await save_experiment(experiment)
    finally:
        done = True
        await sampler
    assert len(samples) > 5
    assert all(samples), f"collector off in {samples.count(False)} of {len(samples)} samples"
    assert gc.isenabled()
    assert await load_experiment("big_save") == experiment
