"""Cancelling a save at any point: the store is as before (or as saved), nothing leaks."""

from __future__ import annotations

import asyncio

import pytest

from aestore.core import Arm, Data, Experiment, GeneratorRun
from aestore.samples import make_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial

# Loop iterations to let the save run before cancelling it: from "not started" to "done".
CANCEL_POINTS = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128]


def change(experiment: Experiment) -> None:
    """A new trial with data, a status change and new run metadata on an old one."""
    arm = Arm({"x1": 0.3, "x2": 0.6, "lr": 0.1, "layers": 2, "optimizer": "sgd", "seed": 42})
    trial = experiment.new_trial(GeneratorRun([arm]))
    trial.mark_running()
    experiment.attach_data(
        Data(
            [
                {
                    "trial_index": trial.index,
                    "arm_name": arm.name,
                    "metric_name": "accuracy",
                    "mean": 0.25,
                    "sem": 0.01,
                }
            ]
        )
    )
    experiment.trials[0].update_run_metadata({"note": "changed"})


async def cancel_after(task: asyncio.Task[None], iterations: int) -> bool:
    """Cancel ``task`` after that many loop iterations; whether it was cancelled."""
    for _ in range(iterations):
        if task.done():
            break
        await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


@pytest.mark.parametrize("iterations", CANCEL_POINTS)
async def test_cancelled_save_leaves_the_store_as_before_or_as_saved(
    store: str, iterations: int
) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    before = await load_experiment(experiment.name or "")
    change(experiment)
    await cancel_after(asyncio.ensure_future(save_experiment(experiment)), iterations)
    stored = await load_experiment(experiment.name or "")
    checked_out = db.get_engine().pool.checkedout()
    await save_experiment(experiment)
    after = await load_experiment(experiment.name or "")
    assert (stored in (before, experiment), checked_out, after == experiment) == (True, 0, True)


@pytest.mark.parametrize("iterations", CANCEL_POINTS)
async def test_cancelled_trial_save_among_concurrent_ones_loses_nothing_else(
    store: str, iterations: int
) -> None:
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment)
    for index in experiment.trials:
        experiment.trials[index].update_run_metadata({"round": 2})
    victim = asyncio.ensure_future(save_or_update_trial(experiment, experiment.trials[0]))
    other = asyncio.ensure_future(save_or_update_trial(experiment, experiment.trials[1]))
    await cancel_after(victim, iterations)
    await other
    stored = await load_experiment(experiment.name or "")
    stored_rounds = [t.run_metadata.get("round") for t in stored.trials.values()]
    checked_out = db.get_engine().pool.checkedout()
    await save_experiment(experiment)
    assert (stored_rounds[1], checked_out) == (2, 0)
    assert await load_experiment(experiment.name or "") == experiment


async def test_save_cancelled_while_waiting_for_the_same_trial_gives_its_turn_back(
    store: str,
) -> None:
    experiment = make_experiment(num_trials=1)
    await save_experiment(experiment)
    trial = experiment.trials[0]
    trial.update_run_metadata({"k": 1})
    first = asyncio.ensure_future(save_or_update_trial(experiment, trial))
    waiting = asyncio.ensure_future(save_or_update_trial(experiment, trial))
    await asyncio.sleep(0)
    waiting.cancel()
    await first
    trial.update_run_metadata({"k": 2})
    await asyncio.wait_for(save_or_update_trial(experiment, trial), timeout=60)
    stored = await load_experiment(experiment.name or "")
    assert (waiting.cancelled(), stored.trials[0].run_metadata["k"]) == (True, 2)
