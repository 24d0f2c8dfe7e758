"""Objects the SQL decoder builds without their constructors look like constructed ones."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from aestore.core import Arm, BatchTrial, Experiment, GeneratorRun, Trial
from aestore.core.base import Base
from aestore.core.tracking import TrackedDict, TrackedList, arm_trial
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.sqa_store.column_values import join_time
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment


def _names(obj: Base) -> list[str]:
    return [k for k in vars(obj) if not k.startswith("_ae_")]


def _constructed(experiment: Experiment) -> dict[type, Base]:
    return {
        Trial: Trial(experiment, 99),
        BatchTrial: BatchTrial(experiment, 98),
        GeneratorRun: GeneratorRun([Arm({"x": 1.0})]),
        Arm: Arm({"x": 1.0}, name="a"),
    }


def _loaded_objects(experiment: Experiment) -> list[Base]:
    found: list[Base] = []
    for trial in experiment.trials.values():
        found.append(trial)
        for run in trial.generator_runs:
            found.append(run)
            found.extend(run.arms)
        if isinstance(trial, BatchTrial) and trial.status_quo is not None:
            found.append(trial.status_quo)
    return found


@pytest.mark.parametrize("build", [make_experiment, make_batch_experiment])
async def test_loaded_objects_hold_the_attributes_their_constructors_give(
    store: str, build: Any
) -> None:
    experiment = build()
    await save_experiment(experiment)
    loaded = await load_experiment(experiment.name or "")
    reference = _constructed(loaded)
    objects = _loaded_objects(loaded)
    assert {type(o) for o in objects} >= (
        {Trial, GeneratorRun, Arm} if build is make_experiment else {BatchTrial, GeneratorRun, Arm}
    )
    assert [(type(o).__name__, _names(o)) for o in objects] == [
        (type(o).__name__, _names(reference[type(o)])) for o in objects
    ]
    assert all(type(vars(o)) is dict for o in objects)


async def test_loaded_containers_are_tracked_copies_owned_by_their_object(store: str) -> None:
    experiment = make_batch_experiment()
    await save_experiment(experiment)
    loaded = await load_experiment(experiment.name or "")
    owned: list[tuple[Any, Any]] = []
    for trial in loaded.trials.values():
        owned += [(trial.run_metadata, trial), (trial.properties, trial)]
        for run in trial.generator_runs:
            owned += [(run.arms, run), (run.weights, run)]
            owned += [(arm.parameters, arm) for arm in run.arms]
        if isinstance(trial, BatchTrial):
            owned.append((trial.generator_run_structs, trial))
    assert owned
    assert [
        (type(value) in (TrackedDict, TrackedList), value._ae_owner is owner)
        for value, owner in owned
    ] == [(True, True)] * len(owned)
    assert [arm_trial(t) for t in loaded.trials.values()] == [True] * len(loaded.trials)


async def test_an_edit_of_a_loaded_trial_is_saved(store: str) -> None:
    experiment = make_experiment(3, name="edited")
    await save_experiment(experiment)
    loaded = await load_experiment("edited")
    await save_experiment(loaded)  # arms the loaded trials
    arm = loaded.trials[1].arms[0]
    arm.parameters["x1"] = 0.123456
    loaded.trials[2].run_metadata["job"] = 7
    await save_experiment(loaded)
    again = await load_experiment("edited")
    assert (again.trials[1].arms[0].parameters["x1"], again.trials[2].run_metadata["job"]) == (
        0.123456,
        7,
    )


async def test_a_dropped_small_load_is_freed_by_a_young_collection(store: str) -> None:
    await save_experiment(make_experiment(200, name="small"))
    gc.collect()
    loaded = await load_experiment("small")
    ref = weakref.ref(loaded)
    del loaded
    gc.collect(1)  # not a full collection: the load's objects were not promoted to the oldest
    assert ref() is None


@pytest.mark.parametrize("offset", [None, 0, 3600, -19800, 45296, -1])
@pytest.mark.parametrize("fold", [0, 1])
def test_join_time_equals_the_plain_replace(offset: int | None, fold: int) -> None:
    stored = datetime(2026, 3, 29, 1, 30, 5, 123456, fold=fold)
    got = join_time(stored, offset)
    if offset is None:
        expected = stored
    else:
        zone = UTC if offset == 0 else timezone(timedelta(seconds=offset))
        expected = (stored + timedelta(seconds=offset)).replace(tzinfo=zone)
    assert (got, got.tzinfo, got.utcoffset(), got.fold) == (
        expected,
        expected.tzinfo,
        expected.utcoffset(),
        expected.fold,
    )
