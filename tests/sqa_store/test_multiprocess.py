"""Worker processes sharing one database: unique trial indices, stale copies detected."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from aestore.core import Arm, GeneratorRun
from aestore.exceptions import ConcurrentModificationError
from aestore.samples import make_experiment
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial

ARM = {"x1": 0.2, "x2": 0.7, "lr": 0.01, "layers": 4, "optimizer": "sgd", "seed": 42}
ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
TRIALS_PER_WORKER = 25


async def run_worker(url: str, *args: str) -> dict[str, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sqa_store.process_worker",
        url,
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, err.decode()[-3000:]
    result: dict[str, int] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@pytest.mark.slow
async def test_four_processes_add_100_trials_without_losing_one(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    name = experiment.name or ""
    await asyncio.gather(
        *(run_worker(store, name, "add", str(TRIALS_PER_WORKER), str(w)) for w in range(WORKERS))
    )
    loaded = await load_experiment(name)
    new = [t for i, t in loaded.trials.items() if i >= 3]
    layers = sorted(t.arm.parameters["layers"] for t in new if t.arm is not None)
    with_data = {int(i) for i in loaded.lookup_data().trial_indices if i >= 3}
    expected_layers = sorted(w + 1 for w in range(WORKERS) for _ in range(TRIALS_PER_WORKER))
    assert (len(new), layers, with_data) == (100, expected_layers, {t.index for t in new})
    assert {t.status.name for t in new} == {"COMPLETED"}


async def test_stale_copy_cannot_overwrite_a_trial_another_process_finished(store: str) -> None:
    experiment = make_experiment(num_trials=1)
    trial = experiment.new_trial(GeneratorRun([Arm(ARM)]))
    trial.mark_running()
    await save_experiment(experiment)
    name = experiment.name or ""
    stale = await load_experiment(name)
    await run_worker(store, name, "fail", str(trial.index))
    stale.trials[trial.index].mark_completed()
    with pytest.raises(ConcurrentModificationError) as info:
        await save_or_update_trial(stale, stale.trials[trial.index])
    stored = (await load_experiment(name)).trials[trial.index]
    error = (info.value.experiment_name, info.value.trial_index)
    assert (error, stored.status.name, stored.run_metadata) == (
        (name, trial.index),
        "FAILED",
        {"by": "other process"},
    )


async def test_stale_run_metadata_does_not_win(store: str) -> None:
    experiment = make_experiment(num_trials=1)
    trial = experiment.new_trial(GeneratorRun([Arm(ARM)]))
    trial.mark_running()
    await save_experiment(experiment)
    name = experiment.name or ""
    mine, theirs = await load_experiment(name), await load_experiment(name)
    theirs.trials[trial.index].update_run_metadata({"job": "theirs", "attempt": 2})
    await save_or_update_trial(theirs, theirs.trials[trial.index])
    mine.trials[trial.index].update_run_metadata({"job": "mine"})
    with pytest.raises(ConcurrentModificationError, match=f"trial {trial.index}"):
        await save_or_update_trial(mine, mine.trials[trial.index])
    stored = (await load_experiment(name)).trials[trial.index].run_metadata
    assert stored == {"job": "theirs", "attempt": 2}


async def test_index_taken_by_a_stale_copy_names_it_and_reload_and_retry_succeeds(
    store: str,
) -> None:
    await save_experiment(make_experiment(num_trials=2))
    mine, theirs = (
        await load_experiment("demo_experiment"),
        await load_experiment("demo_experiment"),
    )
    theirs_trial = theirs.new_trial(GeneratorRun([Arm(ARM)]))
    await save_or_update_trial(theirs, theirs_trial)
    mine_trial = mine.new_trial(GeneratorRun([Arm(dict(ARM, layers=5))]))
    with pytest.raises(ConcurrentModificationError) as info:
        await save_or_update_trial(mine, mine_trial)
    error = (info.value.experiment_name, info.value.trial_index)
    mine = await load_experiment("demo_experiment")  # the recipe: reload, redo the change
    retried = mine.new_trial(GeneratorRun([Arm(dict(ARM, layers=5))]))
    await save_or_update_trial(mine, retried)
    stored = await load_experiment("demo_experiment")
    layers = [t.arm.parameters["layers"] for t in stored.trials.values() if t.arm][2:]
    assert (error, retried.index, layers) == (("demo_experiment", 2), 3, [4, 5])
