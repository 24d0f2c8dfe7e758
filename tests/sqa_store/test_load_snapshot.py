"""Loading reads one consistent snapshot, whatever other connections commit meanwhile."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from aestore.core import Arm, Data, Experiment, GeneratorRun
from aestore.samples import make_experiment
from aestore.storage.sqa_store import load
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial
from aestore.storage.sqa_store.save_plan import DATA

LOADS = 30


async def add_trial_with_data(experiment: Experiment, rng: random.Random) -> None:
    """One new completed trial and its data, saved in one transaction."""
    params = {"x1": rng.random() * 0.5, "x2": 0.5 + rng.random() * 0.5, "lr": 0.01}
    params.update(layers=3, optimizer="adam", seed=42)
    trial = experiment.new_trial(GeneratorRun([Arm(params)]))
    trial.mark_running()
    arm_name = trial.arm.name if trial.arm else ""
    experiment.attach_data(
        Data(
            [
                {
                    "trial_index": trial.index,
                    "arm_name": arm_name,
                    "metric_name": "accuracy",
                    "mean": rng.random(),
                    "sem": 0.1,
                }
            ]
        )
    )
    trial.mark_completed()
    await save_or_update_trial(experiment, trial)


def assert_self_consistent(loaded: Experiment) -> None:
    data_trials = {int(i) for i in loaded.lookup_data().trial_indices}
    assert data_trials <= set(loaded.trials), (
        f"data of trials {sorted(data_trials - set(loaded.trials))} not among the loaded trials"
    )
    for trial in loaded.trials.values():
        for arm in trial.arms:
            assert arm.name in loaded.arms_by_name


async def test_load_does_not_see_a_commit_made_between_its_reads(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    writer = await load_experiment("demo_experiment")
    rng = random.Random(0)
    original = load._all
    committed: list[int] = []

    async def all_rows(session: Any, table: Any, eid: int, columns: Any = None) -> Any:
        if table is DATA and not committed:
            # Another connection commits a trial with its data after the trials were read.
            await add_trial_with_data(writer, rng)
            committed.append(max(writer.trials))
        return await original(session, table, eid, columns)

    monkeypatch.setattr(load, "_all", all_rows)
    loaded = await load_experiment("demo_experiment")
    assert committed == [3]
    assert sorted(loaded.trials) == [0, 1, 2]
    assert_self_consistent(loaded)
    monkeypatch.setattr(load, "_all", original)
    assert sorted((await load_experiment("demo_experiment")).trials) == [0, 1, 2, 3]


async def test_every_load_is_self_consistent_while_a_writer_adds_trials(store: str) -> None:
    experiment = make_experiment(num_trials=5)
    await save_experiment(experiment)
    writer = await load_experiment("demo_experiment")
    rng = random.Random(1)
    stop = asyncio.Event()

    async def write() -> int:
        added = 0
        while not stop.is_set():
            await add_trial_with_data(writer, rng)
            added += 1
        return added

    task = asyncio.create_task(write())
    try:
        counts = []
        for _ in range(LOADS):
            loaded = await load_experiment("demo_experiment")
            assert_self_consistent(loaded)
            counts.append(len(loaded.trials))
            await asyncio.sleep(0)
    finally:
        stop.set()
        added = await task
    assert added > 0 and counts[-1] > counts[0]
