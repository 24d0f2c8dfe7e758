"""Loading pauses the (process-wide) garbage collector only around CPU work, never on I/O."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from aestore.core import Experiment
from aestore.samples import make_experiment
from aestore.storage.sqa_store import load
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment

BIG = 1_500  # trials: 3,000 data rows, so the decode runs in the decode thread
LOADS = 15


@pytest.fixture
async def big(store: str) -> str:
    experiment = make_experiment(num_trials=BIG, name="big")
    await save_experiment(experiment)
    return "big"


async def test_collector_runs_while_a_load_waits_on_the_database(
    big: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = load._all
    waiting = asyncio.Event()

    async def slow_all(session: Any, table: Any, eid: int, columns: Any = None) -> Any:
        waiting.set()
        await asyncio.sleep(0.02)  # a slow database
        waiting.clear()
        return await original(session, table, eid, columns)

    monkeypatch.setattr(load, "_all", slow_all)
    samples: list[bool] = []
    done = False

    async def sample() -> None:
        while not done:
            if waiting.is_set():
                samples.append(gc.isenabled())
            await asyncio.sleep(0.002)

    sampler = asyncio.create_task(sample())
    try:
        loaded = await load_experiment(big)
    finally:
        done = True
        await sampler
    assert len(loaded.trials) == BIG
    assert len(samples) > 10
    assert all(samples), f"collector off in {samples.count(False)} of {len(samples)} samples"
    assert gc.isenabled()


async def test_dropped_loads_are_freed_without_an_explicit_collection(big: str) -> None:
    gc.collect()
    refs: list[weakref.ref[Experiment]] = []
    for _ in range(LOADS):
        loaded = await load_experiment(big)
        refs.append(weakref.ref(loaded))
        del loaded
    alive = sum(ref() is not None for ref in refs)
    assert alive <= 3, f"{alive} of {LOADS} dropped experiments still alive"
    await asyncio.sleep(0.05)  # the loop's last callbacks may still hold the last result
    gc.collect()
    assert sum(ref() is not None for ref in refs) == 0
