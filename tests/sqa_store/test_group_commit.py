"""Group commit: concurrent trial saves of one experiment object share transactions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

from aestore.core import Arm, Data, Experiment, GeneratorRun, Trial
from aestore.exceptions import ConcurrentModificationError
from aestore.samples import make_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.group_commit import trial_batcher
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial
from aestore.storage.sqa_store.save_gate import save_gate
from aestore.storage.sqa_store.save_plan import TRIALS
from aestore.storage.sqa_store.snapshot import registration
from tests.sqa_store.helpers import count_statements, tables_written


@contextmanager
def count_commits() -> Iterator[list[int]]:
    """Count the transactions committed on the current engine."""
    commits: list[int] = []

    def on_commit(conn: Any) -> None:
        commits.append(1)

    engine = db.get_engine().sync_engine
    event.listen(engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", on_commit)


async def stored_experiment(num_trials: int) -> Experiment:
    experiment = make_experiment(num_trials=0)
    for k in range(num_trials):
        parameters = {"x1": k / 100, "x2": 0.6, "lr": 0.01, "layers": 2, "optimizer": "adam"}
        arm = Arm({**parameters, "seed": 42})
        experiment.new_trial(GeneratorRun([arm]))
    await save_experiment(experiment)
    return experiment


def step(experiment: Experiment, trial: Trial, mean: float) -> None:
    """What a runner does before saving: a status change and a data attach."""
    trial.mark_running()
    row = {"trial_index": trial.index, "arm_name": trial.arms[0].name, "metric_name": "m"}
    experiment.attach_data(Data([{**row, "mean": mean, "sem": 0.1}]))


def batcher_of(experiment: Experiment) -> Any:
    return trial_batcher(registration(experiment), db.database_key())


async def test_concurrent_trial_saves_share_transactions(store: str) -> None:
    experiment = await stored_experiment(16)
    trials = list(experiment.trials.values())
    for trial in trials:
        step(experiment, trial, 0.5)
    with count_commits() as commits:
        await asyncio.gather(*(save_or_update_trial(experiment, t) for t in trials))
    assert 0 < len(commits) < len(trials)
    assert await load_experiment(experiment.name or "") == experiment


async def test_stale_member_gets_its_own_error_and_the_others_commit(store: str) -> None:
    experiment = await stored_experiment(4)
    trials = list(experiment.trials.values())
    # Another writer changes trial 2 behind this object's back: its copy is stale.
    async with db.session_scope() as session:
        await session.execute(
            update(TRIALS).where(TRIALS.c.trial_index == 2).values(version=TRIALS.c.version + 1)
        )
    for trial in trials:
        step(experiment, trial, 0.25)
    batches_before = batcher_of(experiment).batches
    with count_commits() as commits:
        outcomes = await asyncio.gather(
            *(save_or_update_trial(experiment, t) for t in trials), return_exceptions=True
        )
    errors = {i: type(o).__name__ for i, o in enumerate(outcomes) if o is not None}
    assert errors == {2: "ConcurrentModificationError"}
    error = outcomes[2]
    assert isinstance(error, ConcurrentModificationError) and error.trial_index == 2
    # One combined attempt (rolled back), then each member alone: three of them commit.
    assert (batcher_of(experiment).batches - batches_before, len(commits)) == (5, 3)
    stored = await load_experiment(experiment.name or "")
    statuses = {i: t.status.name for i, t in stored.trials.items()}
    assert statuses == {0: "RUNNING", 1: "RUNNING", 2: "CANDIDATE", 3: "RUNNING"}
    assert sorted(set(stored.lookup_data().columns["trial_index"])) == [0, 1, 3]


async def test_two_saves_of_one_trial_in_a_batch_both_succeed(store: str) -> None:
    experiment = await stored_experiment(2)
    trial = experiment.trials[0]
    step(experiment, trial, 0.75)
    with count_commits() as commits:
        await asyncio.gather(*(save_or_update_trial(experiment, trial) for _ in range(3)))
    assert len(commits) == 1
    assert await load_experiment(experiment.name or "") == experiment


async def test_member_cancelled_before_its_batch_started_writes_nothing(store: str) -> None:
    experiment = await stored_experiment(2)
    first, second = experiment.trials[0], experiment.trials[1]
    step(experiment, first, 0.1)
    step(experiment, second, 0.2)
    batcher = batcher_of(experiment)
    batches_before = batcher.batches
    async with save_gate(registration(experiment), db.database_key()).exclusive():
        leading = asyncio.ensure_future(save_or_update_trial(experiment, first))
        while batcher.batches == batches_before:  # the first batch started: held at the gate
            await asyncio.sleep(0)
        queued = asyncio.ensure_future(save_or_update_trial(experiment, second))
        await asyncio.sleep(0)  # queued behind the running batch
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
    await leading
    stored = await load_experiment(experiment.name or "")
    statuses = [t.status.name for t in stored.trials.values()]
    assert (statuses, batcher.batches - batches_before) == (["RUNNING", "CANDIDATE"], 1)
    await save_or_update_trial(experiment, second)  # its change is still to be saved
    assert await load_experiment(experiment.name or "") == experiment


async def test_member_cancelled_after_its_batch_started_is_written_whole(store: str) -> None:
    experiment = await stored_experiment(2)
    first, second = experiment.trials[0], experiment.trials[1]
    step(experiment, first, 0.1)
    step(experiment, second, 0.2)
    batcher = batcher_of(experiment)
    batches_before = batcher.batches
    async with save_gate(registration(experiment), db.database_key()).exclusive():
        other = asyncio.ensure_future(save_or_update_trial(experiment, first))
        victim = asyncio.ensure_future(save_or_update_trial(experiment, second))
        while batcher.batches == batches_before:  # both in one batch, held at the gate
            await asyncio.sleep(0)
        victim.cancel()
        with pytest.raises(asyncio.CancelledError):
            await victim
    await other  # the batch was not cancelled with the victim
    assert await load_experiment(experiment.name or "") == experiment
    assert (batcher.batches - batches_before, db.get_engine().pool.checkedout()) == (1, 0)


async def test_a_batch_updates_its_trials_in_bulk(store: str) -> None:
    experiment = await stored_experiment(8)
    trials = list(experiment.trials.values())
    for trial in trials:
        step(experiment, trial, 0.5)
    with count_statements() as statements:
        await asyncio.gather(*(save_or_update_trial(experiment, t) for t in trials))
    # One UPDATE for all trials (asyncpg: one per trial, its executemany rowcount is not
    # reliable), one INSERT of all data rows.
    per_trial = db.get_engine().dialect.name == "postgresql"
    expected = [("UPDATE", "ae_trials")] * (len(trials) if per_trial else 1) + [
        ("INSERT", "ae_data")
    ]
    assert tables_written(statements) == expected
    assert await load_experiment(experiment.name or "") == experiment


async def test_saves_with_equal_but_separate_configs_share_transactions(store: str) -> None:
    from aestore.storage.sqa_store.sqa_config import SQAConfig

    experiment = await stored_experiment(16)
    trials = list(experiment.trials.values())
    for trial in trials:
        step(experiment, trial, 0.5)
    with count_commits() as commits:
        await asyncio.gather(*(save_or_update_trial(experiment, t, SQAConfig()) for t in trials))
    assert 0 < len(commits) < len(trials)
    assert await load_experiment(experiment.name or "") == experiment
