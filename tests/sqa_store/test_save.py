"""Incremental saves: only the difference is written, in bulk, in one transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from aestore.core import Arm, Data, GeneratorRun
from aestore.exceptions import (
    ConcurrentModificationError,
    ExperimentExistsError,
    SQAEncodeError,
)
from aestore.samples import make_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.delete import delete_experiment
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import (
    save_experiment,
    save_or_update_trial,
    save_or_update_trials,
    update_properties_on_experiment,
    update_runner_on_experiment,
)
from aestore.storage.sqa_store.sqa_config import SQAConfig
from tests.fixtures import CustomRunner
from tests.sqa_store.helpers import (
    count_statements,
    failing_commit,
    failing_statement,
    tables_written,
    writes,
)

ARM = {"x1": 0.1, "x2": 0.9, "lr": 0.1, "layers": 2, "optimizer": "sgd", "seed": 42}


def _add_trial_with_data(experiment: Any) -> Any:
    trial = experiment.new_trial(GeneratorRun([Arm(dict(ARM, x1=0.01 * experiment.num_trials))]))
    trial.mark_running()
    experiment.attach_data(
        Data(
            [
                {
                    "trial_index": trial.index,
                    "arm_name": trial.arm.name,
                    "metric_name": "accuracy",
                    "mean": 0.5,
                    "sem": 0.1,
                }
            ]
        )
    )
    return trial


async def test_resaving_unchanged_experiment_runs_no_statement(store: str) -> None:
    experiment = make_experiment(num_trials=5)
    await save_experiment(experiment)
    with count_statements() as statements:
        await save_experiment(experiment)
    assert statements == []


async def test_resaving_loaded_experiment_runs_no_statement(store: str) -> None:
    await save_experiment(make_experiment(num_trials=5))
    loaded = await load_experiment("demo_experiment")
    with count_statements() as statements:
        await save_experiment(loaded)  # reads the loaded trials' child rows once
    with count_statements() as again:
        await save_experiment(loaded)
    assert (writes(statements), again) == ([], [])


async def test_new_trial_inserts_only_its_rows(store: str) -> None:
    experiment = make_experiment(num_trials=5)
    await save_experiment(experiment)
    _add_trial_with_data(experiment)
    with count_statements() as statements:
        await save_experiment(experiment)
    assert tables_written(statements) == [
        ("INSERT", "ae_trials"),
        ("INSERT", "ae_generator_runs"),
        ("INSERT", "ae_arms"),
        ("INSERT", "ae_data"),
    ]


async def test_changed_status_updates_one_trial_row(store: str) -> None:
    experiment = make_experiment(num_trials=5)
    trial = experiment.new_trial(GeneratorRun([Arm(ARM)]))
    await save_experiment(experiment)
    trial.mark_running()
    with count_statements() as statements:
        await save_experiment(experiment)
    assert tables_written(statements) == [("UPDATE", "ae_trials")]


async def test_first_save_uses_one_statement_per_table_whatever_the_trials(store: str) -> None:
    counts = []
    for n in (3, 30):
        with count_statements() as statements:
            await save_experiment(make_experiment(num_trials=n, name=f"bulk_{n}"))
        counts.append(len(tables_written(statements)))
    assert counts[0] == counts[1]


async def test_changed_property_updates_experiment_row_only(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    experiment.properties["owner"] = "someone-else"
    with count_statements() as statements:
        await update_properties_on_experiment(experiment)
    assert tables_written(statements) == [("UPDATE", "ae_experiments")]


async def test_update_properties_stores_the_properties(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    experiment.properties["owner"] = "someone-else"
    await update_properties_on_experiment(experiment)
    assert (await load_experiment(experiment.name or "")).properties["owner"] == "someone-else"


async def test_update_runner_on_experiment_stores_the_runner(store: str, config: SQAConfig) -> None:
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment, config)
    await update_runner_on_experiment(experiment, CustomRunner("https://new.example"), config)
    loaded = await load_experiment(experiment.name or "", config)
    assert loaded.runner == CustomRunner("https://new.example")


async def test_save_or_update_trial_writes_only_that_trial(store: str) -> None:
    experiment = make_experiment(num_trials=2)
    first = experiment.new_trial(GeneratorRun([Arm(ARM)]))
    second = experiment.new_trial(GeneratorRun([Arm(dict(ARM, x1=0.2))]))
    await save_experiment(experiment)
    first.mark_running()
    second.mark_running()
    with count_statements() as statements:
        await save_or_update_trial(experiment, second)
    loaded = await load_experiment(experiment.name or "")
    assert (tables_written(statements), loaded.trials[first.index].status.name) == (
        [("UPDATE", "ae_trials")],
        "CANDIDATE",
    )


async def test_save_or_update_trials_stores_new_trial_and_its_data(store: str) -> None:
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment)
    trial = _add_trial_with_data(experiment)
    await save_or_update_trials(experiment, [trial])
    assert await load_experiment(experiment.name or "") == experiment


async def test_later_save_stores_what_a_trial_save_skipped(store: str) -> None:
    experiment = make_experiment(num_trials=2)
    first = experiment.new_trial(GeneratorRun([Arm(ARM)]))
    second = experiment.new_trial(GeneratorRun([Arm(dict(ARM, x1=0.2))]))
    await save_experiment(experiment)
    first.mark_running()
    second.mark_running()
    await save_or_update_trial(experiment, second)
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


async def test_removed_trial_is_deleted(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    del experiment.trials[2]
    del experiment.data_by_trial[2]
    await save_experiment(experiment)
    assert sorted((await load_experiment(experiment.name or "")).trials) == [0, 1]


async def test_data_of_a_removed_trial_is_refused_and_nothing_stored(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    stored = await load_experiment(experiment.name or "")
    del experiment.trials[2]
    experiment.trials[1].update_run_metadata({"changed": True})  # not stored either
    with pytest.raises(SQAEncodeError, match=r"data attached for trial 2\b.*nothing was saved"):
        await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == stored


async def test_new_batch_generator_run_and_abandoned_arm_are_stored(store: str) -> None:
    experiment = make_experiment(num_trials=0)
    batch = experiment.new_batch_trial(GeneratorRun([Arm(ARM)]))
    await save_experiment(experiment)
    batch.add_arms_and_weights([Arm(dict(ARM, x1=0.3))], [2.0], multiplier=0.5)
    batch.mark_arm_abandoned(batch.arms[0].name or "", reason="bad")
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


async def test_new_experiment_under_a_taken_name_raises(store: str) -> None:
    await save_experiment(make_experiment(num_trials=1))
    with pytest.raises(ExperimentExistsError, match="demo_experiment"):
        await save_experiment(make_experiment(num_trials=1))


async def test_deleted_experiment_is_stored_whole_by_its_next_save(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    await delete_experiment(experiment.name or "")
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


async def test_failed_save_leaves_stored_experiment_as_before(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    before = await load_experiment(experiment.name or "")
    _add_trial_with_data(experiment)
    experiment.trials[0].update_run_metadata({"changed": True})
    with failing_statement("ae_data"), pytest.raises(RuntimeError, match="injected"):
        await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == before


async def test_save_after_a_failed_save_stores_everything(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    _add_trial_with_data(experiment)
    experiment.trials[0].update_run_metadata({"changed": True})
    with failing_statement("ae_data"), pytest.raises(RuntimeError, match="injected"):
        await save_experiment(experiment)
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


async def test_failed_first_save_stores_nothing(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    with failing_statement("ae_arms"), pytest.raises(RuntimeError, match="injected"):
        await save_experiment(experiment)
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


async def test_save_after_a_commit_of_unknown_outcome_stores_everything(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    _add_trial_with_data(experiment)
    experiment.trials[1].update_run_metadata({"changed": True})
    with failing_commit(), pytest.raises(RuntimeError, match="injected"):
        await save_experiment(experiment)
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


@pytest.mark.parametrize("table", ["ae_trials", "ae_generator_runs", "ae_arms", "ae_data"])
async def test_cancelled_save_then_next_save_stores_everything(store: str, table: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    before = await load_experiment(experiment.name or "")
    _add_trial_with_data(experiment)
    task = asyncio.ensure_future(save_experiment(experiment))

    def cancel_on_insert(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT") and table in statement:
            task.cancel()

    engine = db.get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", cancel_on_insert)
    try:
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        event.remove(engine, "before_cursor_execute", cancel_on_insert)
    stored = await load_experiment(experiment.name or "")
    await save_experiment(experiment)
    assert (stored == before, await load_experiment(experiment.name or "") == experiment) == (
        True,
        True,
    )


async def test_stale_trial_update_raises_concurrent_modification(store: str) -> None:
    experiment = make_experiment(num_trials=1)
    experiment.new_trial(GeneratorRun([Arm(ARM)]))
    await save_experiment(experiment)
    mine = await load_experiment(experiment.name or "")
    theirs = await load_experiment(experiment.name or "")
    theirs.trials[1].mark_running()
    await save_experiment(theirs)
    mine.trials[1].mark_abandoned(reason="mine")
    with pytest.raises(ConcurrentModificationError, match="trial 1"):
        await save_experiment(mine)


async def test_two_writers_creating_one_trial_index_conflict(store: str) -> None:
    await save_experiment(make_experiment(num_trials=1))
    mine = await load_experiment("demo_experiment")
    theirs = await load_experiment("demo_experiment")
    _add_trial_with_data(theirs)
    await save_experiment(theirs)
    _add_trial_with_data(mine)
    with pytest.raises(ConcurrentModificationError, match="demo_experiment"):
        await save_experiment(mine)


async def test_writers_of_different_trials_both_succeed(store: str) -> None:
    experiment = make_experiment(num_trials=1)
    experiment.new_trial(GeneratorRun([Arm(ARM)]))
    experiment.new_trial(GeneratorRun([Arm(dict(ARM, x1=0.3))]))
    await save_experiment(experiment)
    mine = await load_experiment(experiment.name or "")
    theirs = await load_experiment(experiment.name or "")
    theirs.trials[1].mark_running()
    mine.trials[2].mark_running()
    await save_or_update_trial(theirs, theirs.trials[1])
    await save_or_update_trial(mine, mine.trials[2])
    loaded = await load_experiment(experiment.name or "")
    assert [loaded.trials[i].status.name for i in (1, 2)] == ["RUNNING", "RUNNING"]


async def test_save_or_update_trial_of_an_unsaved_experiment_stores_it_whole(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_or_update_trial(experiment, experiment.trials[1])
    assert await load_experiment(experiment.name or "") == experiment


async def test_one_experiment_saved_to_two_databases_stays_whole_in_both(
    store: str, tmp_path: Any
) -> None:
    experiment = make_experiment(num_trials=2)
    other = f"sqlite+aiosqlite:///{tmp_path}/other.db"
    loaded = []
    for url in (store, other):
        db.init_engine_and_session_factory(url=url)
        await db.create_all_tables()
        await save_experiment(experiment)
    _add_trial_with_data(experiment)
    for url in (store, other):
        db.init_engine_and_session_factory(url=url)
        await save_experiment(experiment)
    for url in (store, other):
        db.init_engine_and_session_factory(url=url)
        loaded.append(await load_experiment(experiment.name or ""))
    assert loaded == [experiment, experiment]
