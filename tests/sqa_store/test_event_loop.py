"""Saving and loading a 10,000-trial experiment leaves the event loop responsive.

A 1 ms ticker coroutine runs beside the save or load and records the longest wait between
its ticks. Target (``benchmarks/bench_concurrency.py`` reports it): under 50 ms; the bound
asserted here is generous, since the test machine is shared. Before encoding was sliced,
decoding moved to a thread and the collector paused, the gaps were 300-600 ms.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable
from typing import Any

import pytest

from aestore.samples import make_big_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment

NUM_TRIALS = 10_000
GENEROUS_GAP_BOUND_S = 0.2


async def largest_gap(work: Awaitable[Any]) -> tuple[Any, float]:
    """Await ``work`` beside a 1 ms ticker; its result and the ticker's longest wait."""
    done = asyncio.Event()
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.005)
    try:
        result = await work
    finally:
        done.set()
        await task
    return result, max(gaps)


@pytest.mark.slow
async def test_saving_and_loading_10000_trials_keeps_the_loop_ticking(store: str) -> None:
    experiment = make_big_experiment(NUM_TRIALS)
    gc.collect()  # the build's garbage is not the save's
    _, save_gap = await largest_gap(save_experiment(experiment))
    gc.collect()
    loaded, load_gap = await largest_gap(load_experiment(experiment.name or ""))
    checked_out = db.get_engine().pool.checkedout()
    assert (len(loaded.trials), checked_out) == (NUM_TRIALS, 0)
    assert (save_gap < GENEROUS_GAP_BOUND_S, load_gap < GENEROUS_GAP_BOUND_S) == (True, True), (
        f"largest gaps: save {save_gap * 1000:.0f} ms, load {load_gap * 1000:.0f} ms"
    )
    assert gc.isenabled()
