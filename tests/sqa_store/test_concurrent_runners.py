"""Many coroutines saving one shared in-memory experiment through one engine."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from aestore.core import Arm, Data, Experiment, GeneratorRun, Trial
from aestore.samples import make_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import (
    save_experiment,
    save_or_update_trial,
    update_properties_on_experiment,
)
from aestore.storage.sqa_store.snapshot import registration

RUNNERS = 64
TRIALS_PER_RUNNER = 20
POOL_SIZE = 8  # smaller than the number of runners: sessions queue for connections


@pytest.fixture
async def small_pool_store(db_url: str) -> AsyncIterator[str]:
    db.init_engine_and_session_factory(
        url=db_url, force_init=True, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=120
    )
    await db.create_all_tables()
    yield db_url
    await db.dispose_engine()


def new_trial(experiment: Experiment, rng: random.Random) -> Trial:
    arm = Arm(
        {
            "x1": rng.random() * 0.5,
            "x2": 0.5 + rng.random() * 0.5,
            "lr": 0.01,
            "layers": 2,
            "optimizer": "adam",
            "seed": 42,
        }
    )
    return experiment.new_trial(GeneratorRun([arm]))


def attach(experiment: Experiment, trial: Trial, rng: random.Random) -> None:
    name = trial.arm.name if trial.arm is not None else ""
    row = {"trial_index": trial.index, "arm_name": name, "metric_name": "accuracy"}
    experiment.attach_data(Data([{**row, "mean": rng.random(), "sem": 0.01}]))


async def run_trials(experiment: Experiment, runner: int, count: int) -> None:
    """One runner: new trial -> save -> running -> save -> data, completed -> save.

    The ``sleep(0)`` between steps stands for the trial's work: other runners save meanwhile.
    """
    rng = random.Random(runner)
    for _ in range(count):
        trial = new_trial(experiment, rng)
        await save_or_update_trial(experiment, trial)
        await asyncio.sleep(0)
        trial.mark_running()
        trial.update_run_metadata({"runner": runner})
        await save_or_update_trial(experiment, trial)
        await asyncio.sleep(0)
        attach(experiment, trial, rng)
        trial.mark_completed()
        await save_or_update_trial(experiment, trial)


async def test_64_runners_on_one_experiment_lose_nothing(small_pool_store: str) -> None:
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment)
    await asyncio.gather(*(run_trials(experiment, r, TRIALS_PER_RUNNER) for r in range(RUNNERS)))
    loaded = await load_experiment(experiment.name or "")
    counts = (len(loaded.trials), len(loaded.lookup_data()), db.get_engine().pool.checkedout())
    assert counts == (2 + RUNNERS * TRIALS_PER_RUNNER, 4 + RUNNERS * TRIALS_PER_RUNNER, 0)
    assert loaded == experiment


async def test_64_runners_leave_complete_bookkeeping(small_pool_store: str) -> None:
    experiment = make_experiment(num_trials=0)
    await save_experiment(experiment)
    await asyncio.gather(*(run_trials(experiment, r, 2) for r in range(RUNNERS)))
    state = registration(experiment).states[db.database_key()]
    assert (state.order, state.changed_positions(experiment)) == (list(experiment.trials), [])


async def test_new_trials_saved_concurrently_are_each_updated_later(store: str) -> None:
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment)
    rng = random.Random(0)
    first, second = new_trial(experiment, rng), new_trial(experiment, rng)
    await asyncio.gather(
        save_or_update_trial(experiment, first), save_or_update_trial(experiment, second)
    )
    first.mark_running()
    second.mark_running()
    await save_or_update_trial(experiment, first)
    await save_or_update_trial(experiment, second)
    assert await load_experiment(experiment.name or "") == experiment


async def test_one_trial_saved_by_two_coroutines_at_once_is_stored_once(store: str) -> None:
    experiment = make_experiment(num_trials=1)
    await save_experiment(experiment)
    trial = new_trial(experiment, random.Random(1))
    trial.mark_running()
    await asyncio.gather(*(save_or_update_trial(experiment, trial) for _ in range(4)))
    trial.mark_completed()
    await asyncio.gather(*(save_or_update_trial(experiment, trial) for _ in range(4)))
    assert await load_experiment(experiment.name or "") == experiment


async def test_two_whole_saves_of_one_object_at_once_both_succeed(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    rng = random.Random(2)
    for _ in range(3):
        trial = new_trial(experiment, rng)
        attach(experiment, trial, rng)
    experiment.description = "changed"
    await asyncio.gather(save_experiment(experiment), save_experiment(experiment))
    assert await load_experiment(experiment.name or "") == experiment


async def test_experiment_row_and_trial_saves_interleave(store: str) -> None:
    experiment = make_experiment(num_trials=1)
    await save_experiment(experiment)

    async def edit_properties(k: int) -> None:
        for step in range(5):
            experiment.properties[f"editor_{k}"] = step
            await update_properties_on_experiment(experiment)

    await asyncio.gather(
        *(edit_properties(k) for k in range(4)),
        *(run_trials(experiment, r, 2) for r in range(4)),
        save_experiment(experiment),
    )
    assert await load_experiment(experiment.name or "") == experiment
