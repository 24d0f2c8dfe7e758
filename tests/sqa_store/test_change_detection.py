"""Change detection of incremental saves: every change of a saved experiment is written.

Scenario of each test: save, change the experiment in place, save again, load: the loaded
experiment equals the one in memory (the model's equality: ``1 != 1.0``, ``True != 1``,
datetimes equal only with the same UTC offset).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, timezone
from typing import Any

import pytest

from aestore.core import Arm, Experiment, GeneratorRun
from aestore.core.batch_trial import BatchTrial
from aestore.exceptions import ConcurrentModificationError, SQAEncodeError
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial
from aestore.storage.sqa_store.sqa_config import SQAConfig
from tests.fixtures import CustomRunner
from tests.sqa_store.helpers import count_statements, failing_commit, tables_written

Change = Callable[[Experiment], Any]


def _batch(experiment: Experiment) -> BatchTrial:
    trial = next(t for t in experiment.trials.values() if isinstance(t, BatchTrial))
    assert isinstance(trial, BatchTrial)
    return trial


def _status_quo_experiment() -> Experiment:
    """A batch trial holding the experiment's status quo Arm object itself."""
    experiment = make_experiment(2, name="status_quo_experiment")
    experiment.status_quo = Arm({**experiment.trials[0].arm.parameters, "x1": 0.25})
    batch = experiment.new_batch_trial(
        GeneratorRun([Arm({**experiment.status_quo.parameters, "x1": 0.7})])
    )
    batch.set_status_quo_with_weight(experiment.status_quo, 0.25)
    return experiment


def _set_runner_retries(experiment: Experiment) -> None:
    runner = experiment.trials[0].runner
    assert isinstance(runner, CustomRunner)
    runner.retries = 9


# (make the experiment, change it in place): all in-place changes of saved objects.
IN_PLACE_CHANGES: dict[str, tuple[Callable[[], Experiment], Change]] = {
    "gen_metadata_item": (
        lambda: make_experiment(3),
        lambda e: e.trials[1].generator_runs[0].gen_metadata.update(seed=99),
    ),
    "model_key": (
        lambda: make_experiment(3),
        lambda e: setattr(e.trials[1].generator_runs[0], "model_key", "BO"),
    ),
    "model_kwargs_item": (
        make_batch_experiment,
        lambda e: _batch(e).generator_runs[0].model_kwargs.update(num_restarts=20),
    ),
    "arm_parameter": (
        lambda: make_experiment(3),
        lambda e: e.trials[1].arm.parameters.update(x1=0.123),
    ),
    "batch_arm_weight": (
        make_batch_experiment,
        lambda e: _batch(e).generator_run_structs[0].generator_run.weights.__setitem__(0, 0.9),
    ),
    "generator_run_multiplier": (
        make_batch_experiment,
        lambda e: setattr(_batch(e).generator_run_structs[1], "weight", 0.75),
    ),
    "abandoned_arm_reason": (
        make_batch_experiment,
        lambda e: setattr(_batch(e).abandoned_arms_metadata[0], "reason", "OOM after all"),
    ),
    "status_quo_parameters_shared_with_batch_trial": (
        _status_quo_experiment,
        lambda e: e.status_quo.parameters.update(x1=0.3),
    ),
}


def _custom_runner_experiment() -> Experiment:
    experiment = make_experiment(3)
    experiment.trials[0].runner = CustomRunner("https://trial.example", retries=3)
    return experiment


# Changes that Python's == misses but the model's equality doesn't.
LOOSE_EQUALITY_CHANGES: dict[str, Change] = {
    "run_metadata_int_to_float": lambda e: e.trials[1].run_metadata.update(n=1.0),
    "run_metadata_true_to_1": lambda e: e.trials[1].run_metadata.update(flag=1),
    "time_completed_other_utc_offset": lambda e: setattr(
        e.trials[1],
        "time_completed",
        e.trials[1].time_completed.astimezone(timezone(timedelta(hours=5, minutes=30))),
    ),
}


def _loose_base() -> Experiment:
    experiment = make_experiment(3)
    experiment.trials[1].run_metadata.update(n=1, flag=True)
    return experiment


@pytest.mark.parametrize(
    ("make", "change"), list(IN_PLACE_CHANGES.values()), ids=list(IN_PLACE_CHANGES)
)
async def test_in_place_change_is_saved(
    store: str, make: Callable[[], Experiment], change: Change
) -> None:
    experiment = make()
    await save_experiment(experiment)
    change(experiment)
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


# A loaded copy doesn't share the status quo Arm object (see the error test below).
LOADED_CHANGES = {
    k: v
    for k, v in IN_PLACE_CHANGES.items()
    if k != "status_quo_parameters_shared_with_batch_trial"
}


@pytest.mark.parametrize(
    ("make", "change"), list(LOADED_CHANGES.values()), ids=list(LOADED_CHANGES)
)
async def test_in_place_change_of_a_loaded_experiment_is_saved(
    store: str, make: Callable[[], Experiment], change: Change
) -> None:
    await save_experiment(make())
    name = make().name or ""
    loaded = await load_experiment(name)
    change(loaded)
    await save_experiment(loaded)
    assert await load_experiment(name) == loaded


async def test_status_quo_changed_apart_from_a_batch_trial_s_is_an_error_at_save(
    store: str,
) -> None:
    # A loaded copy holds separate Arm objects for the two: changing one alone would store
    # an experiment that cannot be loaded (one arm name, two sets of parameters).
    await save_experiment(_status_quo_experiment())
    loaded = await load_experiment("status_quo_experiment")
    loaded.status_quo.parameters["x1"] = 0.3
    with pytest.raises(
        SQAEncodeError, match="arm name 'status_quo' stands for arms with different"
    ):
        await save_experiment(loaded)
    assert (await load_experiment("status_quo_experiment")).status_quo.parameters["x1"] == 0.25


async def test_in_place_change_of_a_trial_runner_is_saved(store: str, config: SQAConfig) -> None:
    experiment = _custom_runner_experiment()
    await save_experiment(experiment, config)
    _set_runner_retries(experiment)
    await save_experiment(experiment, config)
    assert await load_experiment(experiment.name or "", config) == experiment


@pytest.mark.parametrize(
    "change", list(LOOSE_EQUALITY_CHANGES.values()), ids=list(LOOSE_EQUALITY_CHANGES)
)
async def test_change_only_the_model_equality_sees_is_saved_by_save_experiment(
    store: str, change: Change
) -> None:
    experiment = _loose_base()
    await save_experiment(experiment)
    change(experiment)
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


@pytest.mark.parametrize(
    "change", list(LOOSE_EQUALITY_CHANGES.values()), ids=list(LOOSE_EQUALITY_CHANGES)
)
async def test_change_only_the_model_equality_sees_is_saved_by_save_or_update_trial(
    store: str, change: Change
) -> None:
    experiment = _loose_base()
    await save_experiment(experiment)
    change(experiment)
    await save_or_update_trial(experiment, experiment.trials[1])
    assert await load_experiment(experiment.name or "") == experiment


async def test_float_ttl_seconds_is_an_error_at_save(store: str) -> None:
    # The column is an INTEGER: 60.0 would come back as 60, so it is refused, not lost.
    experiment = make_experiment(3)
    experiment.trials[1].ttl_seconds = 60
    await save_experiment(experiment)
    experiment.trials[1].ttl_seconds = 60.0  # type: ignore[assignment]
    with pytest.raises(SQAEncodeError, match="ttl_seconds"):
        await save_experiment(experiment)


async def test_in_place_arm_change_updates_only_that_trial(store: str) -> None:
    experiment = make_experiment(5)
    await save_experiment(experiment)
    experiment.trials[2].arm.parameters["x1"] = 0.5
    with count_statements() as statements:
        await save_experiment(experiment)
    assert tables_written(statements) == [
        ("DELETE", "ae_arms"),
        ("UPDATE", "ae_trials"),
        ("INSERT", "ae_arms"),
    ]


async def test_resave_after_in_place_change_runs_no_statement(store: str) -> None:
    experiment = _status_quo_experiment()
    await save_experiment(experiment)
    experiment.status_quo.parameters["x1"] = 0.3
    await save_experiment(experiment)
    with count_statements() as statements:
        await save_experiment(experiment)
    assert statements == []


async def test_reduced_state_load_then_generator_run_change_keeps_stored_blobs(store: str) -> None:
    experiment = make_batch_experiment()
    await save_experiment(experiment)
    loaded = await load_experiment(experiment.name or "", reduced_state=True)
    _batch(loaded).generator_runs[0].model_key = "BO"
    await save_experiment(loaded)
    full = await load_experiment(experiment.name or "")
    run = _batch(full).generator_runs[0]
    assert (run.model_key, run.model_kwargs) == ("BO", {"acquisition": "qEI", "num_restarts": 10})


async def test_reduced_state_copy_saved_repeatedly_keeps_stored_blobs(store: str) -> None:
    experiment = make_batch_experiment()
    await save_experiment(experiment)
    loaded = await load_experiment(experiment.name or "", reduced_state=True)
    await save_experiment(loaded)
    loaded.trials[2].update_run_metadata({"note": "later"})
    await save_experiment(loaded)
    await save_experiment(loaded)
    full = await load_experiment(experiment.name or "")
    assert _batch(full).generator_runs[0].model_kwargs == {"acquisition": "qEI", "num_restarts": 10}
    assert full.trials[2].run_metadata == {"note": "later"}


async def test_reduced_state_copy_setting_one_blob_keeps_the_other_stored_blobs(
    store: str,
) -> None:
    experiment = make_batch_experiment()
    await save_experiment(experiment)
    loaded = await load_experiment(experiment.name or "", reduced_state=True)
    run = _batch(loaded).generator_runs[0]
    assert run.model_kwargs is None  # not loaded
    run.gen_metadata = {"note": "set after a reduced load"}
    await save_experiment(loaded)
    full = _batch(await load_experiment(experiment.name or "")).generator_runs[0]
    assert full.gen_metadata == {"note": "set after a reduced load"}
    assert full.model_kwargs == {"acquisition": "qEI", "num_restarts": 10}


async def test_save_after_unknown_commit_keeps_trials_other_writers_added(store: str) -> None:
    await save_experiment(make_experiment(3, name="shared"))
    worker_a = await load_experiment("shared")
    worker_b = await load_experiment("shared")
    for _ in range(5):
        trial = worker_b.new_trial(GeneratorRun([Arm({**worker_b.trials[0].arm.parameters})]))
        await save_or_update_trial(worker_b, trial)
    worker_a.trials[1].run_metadata["note"] = "from A"
    with failing_commit(), pytest.raises(RuntimeError, match="injected"):
        await save_experiment(worker_a)
    await save_experiment(worker_a)
    stored = await load_experiment("shared")
    assert (sorted(stored.trials), stored.trials[1].run_metadata["note"]) == (
        list(range(8)),
        "from A",
    )


async def test_save_after_unknown_commit_refuses_a_trial_another_writer_changed(
    store: str,
) -> None:
    await save_experiment(make_experiment(3, name="shared"))
    worker_a = await load_experiment("shared")
    worker_b = await load_experiment("shared")
    worker_a.trials[1].run_metadata["note"] = "from A"
    with failing_commit(), pytest.raises(RuntimeError, match="injected"):
        await save_experiment(worker_a)
    worker_b.trials[1].run_metadata["note"] = "from B"
    await save_or_update_trial(worker_b, worker_b.trials[1])
    with pytest.raises(ConcurrentModificationError):
        await save_experiment(worker_a)
    assert (await load_experiment("shared")).trials[1].run_metadata["note"] == "from B"


async def test_save_under_another_config_rewrites_the_trials_it_encodes_differently(
    store: str,
) -> None:
    # Change tracking skips unchanged trials, but not across configs: under another runner
    # type id, the trial's runner row must be rewritten although no trial object changed.
    from aestore.metrics.registry import MetricRegistry
    from aestore.runners.registry import RunnerRegistry
    from tests.fixtures import CustomMetric, make_custom_classes_experiment
    from tests.sqa_store.conftest import ExperimentType

    def config(runner_id: int) -> SQAConfig:
        return SQAConfig(
            metric_registry=MetricRegistry(class_to_type={CustomMetric: 0}),
            runner_registry=RunnerRegistry(class_to_type={CustomRunner: runner_id}),
            experiment_type_enum=ExperimentType,
        )

    experiment = make_custom_classes_experiment()
    await save_experiment(experiment, config(0))
    await save_experiment(experiment, config(7))
    # Only the new ids are known now: every runner row must carry 7.
    assert await load_experiment(experiment.name or "", config(7)) == experiment
