"""Loading experiments: one query per table, whatever the number of trials.

``load_experiment`` reads the experiment row by name, then every table filtered by the
experiment's id and ordered by key (10 queries; 11 with ``reduced_state=True``, which reads
the generator runs without their large blobs and then the blobs of the last run alone). The
rows are decoded by a :class:`~aestore.storage.sqa_store.base_decoder.Decoder`, and the
bookkeeping of what is stored is set from them, so re-saving a loaded experiment writes
nothing.

All the reads of a load see one snapshot of the database, whatever other connections commit
meanwhile (else a load could return data of trials it doesn't have): they run in one
transaction, ``REPEATABLE READ`` on PostgreSQL (whose default, ``READ COMMITTED``, gives each
statement its own snapshot) and on MySQL/MariaDB (InnoDB's default there), opened by an
explicit ``BEGIN`` on SQLite (whose Python driver sends none before a ``SELECT``).

The garbage collector is paused (:mod:`~aestore.storage.sqa_store.gc_pause`) only while rows
are turned into Python objects and decoded, a slice at a time, never while a load waits on
the database: the pause is process-wide. Between slices, rows and the objects of loads below
``PROMOTE_MIN_TRIALS`` trials stay out of the oldest generation
(:func:`~aestore.storage.sqa_store.base_decoder.young_gc_step`), so that a dropped load is
freed without a full collection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from aestore.core.experiment import Experiment
from aestore.exceptions import ExperimentNotFoundError
from aestore.storage.sqa_store.base_decoder import (
    Decoder,
    StoredRows,
    decode_gc_step,
    young_gc_step,
)
from aestore.storage.sqa_store.db import database_key, session_scope
from aestore.storage.sqa_store.encoder import Encoder
from aestore.storage.sqa_store.gc_pause import gc_paused
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


REDUCED_STATE_COLUMNS = ("model_kwargs", "bridge_kwargs", "gen_metadata", "model_state_after_gen")


# Rows turned into Python values per slice, the loop getting a turn between slices.
ROW_SLICE = 1_000
# Decoding runs in this one persistent thread (made on first use): a 10,000-trial experiment
# takes a few hundred ms of pure Python, and the loop keeps running meanwhile (the GIL is
# handed over every few ms). The decoded objects are new, so nothing else touches them.
_decode_pool: concurrent.futures.ThreadPoolExecutor | None = None
DECODE_IN_THREAD_MIN_ROWS = 2_000


def _decode_executor() -> concurrent.futures.ThreadPoolExecutor:
    global _decode_pool
    if _decode_pool is None:
        _decode_pool = concurrent.futures.ThreadPoolExecutor(1, "aestore-sqa-decode")
    return _decode_pool


async def _all(session: AsyncSession, table: Table, eid: int, columns: Any = None) -> Any:
    stmt = select(*(columns or [table])).where(table.c.experiment_id == eid)
    stmt = stmt.order_by(*table.primary_key.columns)
    rows: list[Any] = []
    if session.get_bind().dialect.name == "mysql":
        # aiomysql parses every row of a buffered result in Python on the loop, all at once
        # (~40 ms for 10,000 trial rows): stream it (a server-side cursor), a slice at a time.
        # Each slice is read and parsed inside one await (network I/O): no GC pause here.
        streamed = (await session.stream(stmt)).mappings()
        async for part in streamed.partitions(ROW_SLICE):
            rows.extend(part)
            await asyncio.sleep(0)
        return rows
    result = (await session.execute(stmt)).mappings()
    parts = result.partitions(ROW_SLICE)
    while True:
        # The rows are fetched: making their Python objects is CPU work, paused per slice.
        # Rows die once decoded: kept out of the oldest generation (see young_gc_step).
        with gc_paused():
            part = next(parts, ())
            rows.extend(part)
            young_gc_step()
        if len(part) < ROW_SLICE:
            return rows
        await asyncio.sleep(0)


async def _begin_snapshot(session: AsyncSession) -> None:
    """Start the session's transaction so that every later read sees one snapshot.

    Call it before the session's first statement. SQLite: pysqlite's legacy transaction
    control sends no ``BEGIN`` before a ``SELECT`` (each one sees the latest commit), so one is
    sent on the driver connection (transaction control, not a statement of the load; the
    session's commit ends it). Elsewhere: ``REPEATABLE READ`` unless the connections' default
    is at least that (InnoDB's is; PostgreSQL's ``READ COMMITTED`` isn't).
    """
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        if driver is not None and not driver.in_transaction:
            cursor = await driver.execute("BEGIN")
            await cursor.close()
        return
    level = str(getattr(dialect, "default_isolation_level", None) or "").upper()  # after connect
    if level in ("REPEATABLE READ", "SERIALIZABLE"):
        await session.connection()
    else:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def read_rows(session: AsyncSession, name: str, reduced_state: bool = False) -> StoredRows:
    """Every stored row of experiment ``name``, one query per table.

    The reads see one snapshot if ``session`` has run no statement yet (see
    :func:`_begin_snapshot`); else they run in the session's transaction as it is.

    Example:
        >>> # async with session_scope() as session: rows = await read_rows(session, "exp")
    """
    if not session.in_transaction():
        await _begin_snapshot(session)
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
    step = decode_gc_step(len(rows.trials))
    for number, row in enumerate(rows.trials, start=1):
        if number % 1_000 == 0:
            step()
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


def _free_rows(rows: StoredRows, step: int = 500) -> None:
    """Drop the read rows a slice at a time.

    Freeing ~1M objects in one go (as the last reference goes) takes ~70 ms in one C call,
    during which no other thread gets the GIL; in slices, the event loop gets its turns.
    """
    for value in vars(rows).values():
        if isinstance(value, list):
            while value:
                del value[-step:]
                young_gc_step()


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

    def decode() -> tuple[Experiment, ExperimentState]:
        # Decoding allocates ~1M objects for 10,000 trials, none garbage: without the pause,
        # full collections would stop the loop for 100+ ms at a time. The pause covers this
        # CPU work only (no await): while a load waits on the database, the collector runs.
        with gc_paused():
            experiment = decoder.experiment_from_rows(rows)
            state = _stored_state(experiment, rows, Encoder(decoder.config))
            _free_rows(rows)
        return experiment, state

    rows = await run_with_retries(read, experiment_name)
    if len(rows.trials) + len(rows.data) >= DECODE_IN_THREAD_MIN_ROWS:
        loop = asyncio.get_running_loop()
        experiment, state = await loop.run_in_executor(_decode_executor(), decode)
    else:
        experiment, state = decode()  # small: a thread hop would cost more than it saves
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
