"""Loading experiments: one query per table, whatever the number of trials.

``load_experiment`` reads the experiment row by name, then every table filtered by the
experiment's id and ordered by key (10 queries; 11 with ``reduced_state=True``, which reads
the generator runs without their large blobs and then the blobs of the last run alone). The
rows are decoded by a :class:`~aestore.storage.sqa_store.base_decoder.Decoder`, and the
bookkeeping of what is stored is set from them, so re-saving a loaded experiment writes
nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from aestore.core.experiment import Experiment
from aestore.exceptions import ExperimentNotFoundError
from aestore.storage.sqa_store.base_decoder import Decoder, StoredRows
from aestore.storage.sqa_store.db import database_key, session_scope
from aestore.storage.sqa_store.encoder import Encoder
from aestore.storage.sqa_store.retry import run_with_retries
from aestore.storage.sqa_store.save import experiment_level_rows
from aestore.storage.sqa_store.save_plan import (
    ABANDONED_ARMS,
    ARMS,
    DATA,
    EXPERIMENT_TABLES,
    EXPERIMENTS,
    GENERATOR_RUNS,
    RUNNERS,
    TRIALS,
)
from aestore.storage.sqa_store.snapshot import (
    ExperimentState,
    TrialEntry,
    image,
    images,
    new_state,
    registration,
)
from aestore.storage.sqa_store.sqa_config import SQAConfig

__all__ = [
    "gc_paused",
    "list_experiments",
    "load_experiment",
    "load_experiment_with_decoder",
    "read_rows",
]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a block allocates many objects.

    Decoding a 10,000-trial experiment creates hundreds of thousands of containers; each
    collection then re-traverses everything decoded so far, which roughly doubled load time.
    The block is synchronous, so no other coroutine runs while the collector is paused.

    Example:
        >>> with gc_paused():
        ...     rows = [{"i": i} for i in range(3)]
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


REDUCED_STATE_COLUMNS = ("model_kwargs", "bridge_kwargs", "gen_metadata", "model_state_after_gen")


async def _all(session: AsyncSession, table: Table, eid: int, columns: Any = None) -> Any:
    stmt = select(*(columns or [table])).where(table.c.experiment_id == eid)
    stmt = stmt.order_by(*table.primary_key.columns)
    return (await session.execute(stmt)).mappings().all()


async def read_rows(session: AsyncSession, name: str, reduced_state: bool = False) -> StoredRows:
    """Every stored row of experiment ``name``, one query per table.

    Example:
        >>> # async with session_scope() as session: rows = await read_rows(session, "exp")
    """
    found = (
        (await session.execute(select(EXPERIMENTS).where(EXPERIMENTS.c.name == name)))
        .mappings()
        .first()
    )
    if found is None:
        raise ExperimentNotFoundError(name)
    eid = found["id"]
    rows = StoredRows(experiment=dict(found))
    rows.parameters = await _all(session, EXPERIMENT_TABLES["parameters"], eid)
    rows.parameter_constraints = await _all(
        session, EXPERIMENT_TABLES["parameter_constraints"], eid
    )
    rows.metrics = await _all(session, EXPERIMENT_TABLES["metrics"], eid)
    rows.runners = await _all(session, RUNNERS, eid)
    rows.trials = await _all(session, TRIALS, eid)
    if reduced_state:
        light = [c for c in GENERATOR_RUNS.c if c.name not in REDUCED_STATE_COLUMNS]
        runs = [dict(r) for r in await _all(session, GENERATOR_RUNS, eid, light)]
        if runs:
            last = runs[-1]
            g = GENERATOR_RUNS.c
            blobs = (
                (
                    await session.execute(
                        select(*(g[c] for c in REDUCED_STATE_COLUMNS)).where(
                            g.experiment_id == eid,
                            g.trial_index == last["trial_index"],
                            g.position == last["position"],
                        )
                    )
                )
                .mappings()
                .one()
            )
            last.update(blobs)
        rows.generator_runs = runs
    else:
        rows.generator_runs = await _all(session, GENERATOR_RUNS, eid)
    rows.arms = await _all(session, ARMS, eid)
    rows.abandoned_arms = await _all(session, ABANDONED_ARMS, eid)
    rows.data = await _all(session, DATA, eid)
    return rows


def _stored_state(experiment: Experiment, rows: StoredRows, encoder: Encoder) -> ExperimentState:
    """What is stored, as bookkeeping: a re-save of the loaded experiment writes nothing."""
    eid = rows.experiment["id"]
    entries = {}
    for row in rows.trials:
        index = row["trial_index"]
        entries[index] = TrialEntry.of(
            experiment.trials[index], row, row["version"], experiment.data_by_trial.get(index)
        )
    return new_state(
        eid,
        rows.experiment["version"],
        image(encoder.experiment_row(experiment)) or (),
        {k: images(v) for k, v in experiment_level_rows(encoder, experiment, eid).items()},
        entries,
    )


async def load_experiment_with_decoder(
    experiment_name: str, decoder: Decoder, reduced_state: bool = False
) -> Experiment:
    """Load an experiment with a custom :class:`Decoder`.

    Example:
        >>> # exp = await load_experiment_with_decoder("exp", Decoder(SQAConfig(...)))
    """
    key = database_key()

    async def read() -> StoredRows:
        async with session_scope() as session:
            return await read_rows(session, experiment_name, reduced_state)

    rows = await run_with_retries(read, experiment_name)
    with gc_paused():
        experiment = decoder.experiment_from_rows(rows)
        state = _stored_state(experiment, rows, Encoder(decoder.config))
    reg = registration(experiment, token=rows.experiment["instance_token"])
    reg.states[key] = state
    reg.unsure.discard(key)
    return experiment


async def load_experiment(
    experiment_name: str, config: SQAConfig | None = None, reduced_state: bool = False
) -> Experiment:
    """Load an experiment by name. ``reduced_state`` skips the large generator-run blobs
    (``model_kwargs``, ``bridge_kwargs``, ``gen_metadata``, ``model_state_after_gen``) except
    on the last generator run.

    Example:
        >>> # experiment = await load_experiment("my_experiment")
    """
    return await load_experiment_with_decoder(
        experiment_name, Decoder(config or SQAConfig()), reduced_state
    )


async def list_experiments() -> list[str]:
    """Names of the stored experiments, sorted.

    Example:
        >>> # await list_experiments()
        >>> # ['demo_experiment']
    """
    async with session_scope() as session:
        result = await session.execute(select(EXPERIMENTS.c.name).order_by(EXPERIMENTS.c.name))
        return list(result.scalars().all())
