"""Saving experiments: encode, compare with what was committed, write only the difference.

Each save is one transaction on its own connection. A first save writes the whole
experiment; a save after one whose commit outcome is unknown re-reads what is stored and
writes the difference (trials other writers stored are left alone; see ``_resync``); later
saves compare with the state of the last commit:

- the experiment row: UPDATE when it differs, guarded by its ``version``;
- parameters, constraints, metrics, the experiment's runner (a few rows): replaced when they
  differ;
- trials: the trials looked at are encoded again, a slice at a time (the loop runs between
  slices), and their row images are compared with the stored ones (see
  :mod:`~aestore.storage.sqa_store.snapshot`), so in-place changes are found. Which trials:
  the given ones for ``save_or_update_trial(s)``; for ``save_experiment`` those the model's
  change tracking noted since the last whole-experiment save (see
  :mod:`aestore.core.tracking`: each trial is armed when encoded, and every later change below
  it is noted in the experiment's journal), the new ones and the untracked ones, or every
  trial when the journal can't tell (first save after a load, trials replaced or removed by
  hand in ``experiment.trials``). New trials are
  inserted with all their rows; a changed one gets an UPDATE guarded by its ``version``
  (0 rows matched -> :class:`ConcurrentModificationError`), whether its own row or only its
  child rows changed, and only the child rows that differ are rewritten (a stored generator
  run is UPDATEd in its changed columns, its arms rewritten if they differ);
- data: rows of new attach stamps are inserted. Attached ``Data`` is treated as immutable
  (compared by attach stamp and object): don't edit an attached Data object in place, and
  attach data with ``experiment.attach_data`` (which notes the trials in the journal), not by
  editing ``experiment.data_by_trial`` by hand.

New rows of a table go in one bulk ``insert(table)`` executemany; nothing is written one round
trip per row.

Concurrency, in one process: many coroutines may save trials of one experiment object at once
(``save_or_update_trial`` from a runner coroutine per trial). A
:class:`~aestore.storage.sqa_store.save_gate.SaveGate` lets saves of different trials run
concurrently and orders the rest (two saves of one trial, the experiment row, whole-experiment
saves); each save's bookkeeping changes are merged into the state of the moment it commits, so
concurrent saves never drop each other's entries.

Concurrency, across processes: a stale copy never silently wins. A changed trial is written
only if its stored ``version`` is the one this copy read (a trial another writer marked
FAILED cannot be marked COMPLETED by a stale copy), and two writers inserting the same trial
index collide on the primary key ``(experiment_id, trial_index)``. The loser gets
:class:`ConcurrentModificationError` naming the experiment and trial, and nothing of its
transaction is stored. The supported way for worker processes to add trials to one
experiment is to reload and redo the change::

    experiment = await load_experiment(name)
    while True:
        trial = experiment.new_trial(generator_run)     # next index of this copy
        try:
            await save_or_update_trial(experiment, trial)
            break
        except ConcurrentModificationError:
            experiment = await load_experiment(name)    # another worker took the index

(save each new trial at once, before running it: once stored, its index is the worker's.)
Deadlocks, lock wait timeouts and dropped connections are retried, the whole transaction
again (see :mod:`~aestore.storage.sqa_store.retry`); row locks are taken in one order: the
experiment row, then trials by ascending index.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aestore.core.base_trial import BaseTrial
from aestore.core.batch_trial import BatchTrial
from aestore.core.experiment import Experiment
from aestore.core.journal import journal_of
from aestore.core.runner import Runner
from aestore.core.tracking import arm_trial
from aestore.exceptions import (
    ConcurrentModificationError,
    ExperimentExistsError,
    SQAEncodeError,
    data_without_trial_message,
)
from aestore.storage.sqa_store.arm_names import arm_suspects, check_arm_names, note_arm_suspects
from aestore.storage.sqa_store.base_decoder import BLOBS_UNLOADED
from aestore.storage.sqa_store.db import connection_scope, database_key
from aestore.storage.sqa_store.encoder import Encoder, Row, TrialRows, generator_runs_of
from aestore.storage.sqa_store.gc_pause import gc_paused, gc_step
from aestore.storage.sqa_store.group_commit import trial_batcher
from aestore.storage.sqa_store.retry import get_retry_policy, is_transient, retries_exhausted
from aestore.storage.sqa_store.save_gate import save_gate
from aestore.storage.sqa_store.save_plan import (
    ABANDONED_ARMS,
    ARMS,
    DATA,
    EXPERIMENT_TABLES,
    EXPERIMENTS,
    GENERATOR_RUNS,
    RUNNERS,
    TRIALS,
    SavePlan,
    execute_plan,
    plan_children,
    plan_data,
)
from aestore.storage.sqa_store.snapshot import (
    NO_CHILDREN,
    RUN_KEYS,
    TRIAL_KEYS,
    Children,
    ExperimentState,
    StateBuilder,
    TrialEntry,
    children_image,
    image,
    images,
    new_state,
    registration,
    trial_image,
)
from aestore.storage.sqa_store.sqa_classes import (
    EXPERIMENT_RUNNER_INDEX,
)
from aestore.storage.sqa_store.sqa_config import SQAConfig

__all__ = [
    "ENCODE_SLICE",
    "save_experiment",
    "save_experiment_with_encoder",
    "save_or_update_trial",
    "save_or_update_trials",
    "update_properties_on_experiment",
    "update_runner_on_experiment",
]

# Trials encoded between two turns of the event loop (~5 ms of work).
ENCODE_SLICE = 200
# Trials encoded before the young generations are collected (see ``gc_step``).
GC_STEP_MIN = 50
# The generator-run columns that ``load_experiment(reduced_state=True)`` leaves out (all
# runs but the last get None).
REDUCED_STATE_COLUMNS = ("model_kwargs", "bridge_kwargs", "gen_metadata", "model_state_after_gen")
# A batch trial's status quo, in its trial row's image.
_STATUS_QUO_OF_TRIAL = operator.itemgetter(
    *(TRIAL_KEYS.index(column) for column in ("status_quo_name", "status_quo_parameters"))
)
# Trial indices per ``IN (...)`` list when reading stored child rows.
READ_IN_MAX = 500


def experiment_level_rows(
    encoder: Encoder, experiment: Experiment, eid: int
) -> dict[str, list[Row]]:
    """Rows of the small experiment-level tables, by key of ``EXPERIMENT_TABLES``."""
    return {
        "parameters": encoder.parameter_rows(experiment, eid),
        "parameter_constraints": encoder.parameter_constraint_rows(experiment, eid),
        "metrics": encoder.metric_rows(experiment, eid),
        "runners": encoder.experiment_runner_rows(experiment, eid),
    }


async def _save_whole(
    conn: AsyncConnection, experiment: Experiment, encoder: Encoder, token: str
) -> ExperimentState:
    """Insert the whole experiment (never replacing a stored one)."""
    experiment_row = encoder.experiment_row(experiment)
    name = experiment_row["name"]
    found = (
        await conn.execute(
            select(EXPERIMENTS.c.id, EXPERIMENTS.c.instance_token).where(EXPERIMENTS.c.name == name)
        )
    ).first()
    if found is not None:
        raise ExperimentExistsError(name)
    try:
        result: Any = await conn.execute(
            insert(EXPERIMENTS).values(**experiment_row, instance_token=token, version=1)
        )
    except IntegrityError as err:
        raise ExperimentExistsError(name) from err
    eid = int(result.inserted_primary_key[0])
    tables = experiment_level_rows(encoder, experiment, eid)
    for key, rows in tables.items():
        if rows:
            await conn.execute(insert(EXPERIMENT_TABLES[key]), rows)
    plan = SavePlan()
    entries: dict[int, TrialEntry] = {}
    untracked: set[int] = set()
    journal = journal_of(experiment)
    # Changes from here on are noted (each trial is armed before it is encoded).
    position = journal.mark()
    trials = list(experiment.trials.items())  # other coroutines may add trials meanwhile
    suspects = arm_suspects(experiment, False)
    for start in range(0, len(trials), ENCODE_SLICE):
        if start:
            await asyncio.sleep(0)  # encoding 10,000 trials takes ~0.3 s: let the loop run
        # A slice allocates many containers: no full collections meanwhile. The pause never
        # spans an await, so the collector runs while this save waits on the database.
        with gc_paused():
            for index, trial in trials[start : start + ENCODE_SLICE]:
                history = experiment.data_by_trial.get(index)
                if not arm_trial(trial, experiment):
                    untracked.add(index)
                note_arm_suspects(suspects, experiment, trial, changed=False)
                trial_rows = encoder.trial_rows(trial, eid)
                plan.add_trial_rows(encoder, trial_rows, eid, history or {})
                entries[index] = TrialEntry.of(
                    trial, trial_rows.trial, 1, history, _children(trial_rows)
                )
            gc_step()
    # Inserting a whole big experiment allocates hundreds of thousands of parameter rows; a
    # full collection then (~100 ms over the experiment's million objects) would stall the
    # event loop. The pause spans this one transaction's inserts only: never retries' backoff,
    # pool waits or other saves' work (a re-save's smaller writes run with the collector on).
    check_arm_names(experiment, suspects)
    with gc_paused():
        await execute_plan(conn, plan, eid, name)
    return new_state(
        eid,
        1,
        image(experiment_row) or (),
        {k: images(v) for k, v in tables.items()},
        entries,
        journal,
        position,
        encoder_key(encoder),
        untracked,
    )


async def _resync(
    conn: AsyncConnection,
    experiment: Experiment,
    encoder: Encoder,
    reg: Any,
    key: str,
) -> ExperimentState:
    """Save after a commit of unknown outcome: diff against what is stored now.

    Reads the stored experiment row, trial rows and child rows (inside this save's
    transaction) and builds the state to diff against from them. Never deletes and
    re-inserts, never resets versions: trials stored but unknown to this copy (other writers'
    trials) are left alone. A trial (or the experiment row) this copy has whose stored
    version is neither the one this copy last knew nor the one of a commit this copy tried
    is another writer's change: :class:`ConcurrentModificationError`, unless what is stored
    already equals this copy's rows.
    """
    row = encoder.experiment_row(experiment)
    name = row["name"]
    found = (
        (await conn.execute(select(EXPERIMENTS).where(EXPERIMENTS.c.name == name)))
        .mappings()
        .first()
    )
    if found is None:  # the commit didn't happen (or the experiment was deleted)
        return await _save_whole(conn, experiment, encoder, reg.token)
    if found["instance_token"] != reg.token:
        raise ExperimentExistsError(name)
    eid = found["id"]
    known: ExperimentState | None = reg.states.get(key)
    tried = [s for s in reg.attempted.get(key, []) if s.experiment_id == eid]
    if known is not None and known.experiment_id != eid:
        known = None
    stored_row = tuple(found[k] for k in row)
    exp_version = found["version"]
    exp_ok = (known is not None and known.version == exp_version) or any(
        s.version == exp_version and s.experiment_row == stored_row for s in tried
    )
    if not exp_ok and stored_row != image(row):
        raise ConcurrentModificationError(name, "the experiment row was changed by another writer.")
    stored_trials = {
        r["trial_index"]: r
        for r in (
            await conn.execute(select(TRIALS).where(TRIALS.c.experiment_id == eid))
        ).mappings()
    }
    children = await read_children(conn, eid, None)
    stamps: dict[int, set[int]] = {}
    d = DATA.c
    for t, stamp in await conn.execute(
        select(d.trial_index, d.attach_stamp)
        .where(d.experiment_id == eid)
        .group_by(d.trial_index, d.attach_stamp)
    ):
        stamps.setdefault(t, set()).add(stamp)
    entries: dict[int, TrialEntry] = {}
    for index, trial in experiment.trials.items():
        stored = stored_trials.get(index)
        if stored is None:
            continue  # not stored: inserted as new
        version = stored["version"]
        row_image = trial_image(stored)
        child_image = children.get(index, NO_CHILDREN)
        known_entry = _entry(known, index)
        ok = known_entry is not None and known_entry.version == version
        for attempted in tried:
            e = _entry(attempted, index)
            ok = ok or (
                e is not None
                and (e.version, e.row, e.children) == (version, row_image, child_image)
            )
        if not ok:
            rows = encoder.trial_rows(trial, eid)
            if (trial_image(rows.trial), _children(rows)) != (row_image, child_image):
                raise ConcurrentModificationError(
                    name, "the trial was changed by another writer.", trial_index=index
                )
        history = experiment.data_by_trial.get(index) or {}
        have = stamps.get(index, set())
        data = {s: part for s, part in history.items() if s in have}
        entries[index] = TrialEntry(trial, row_image, child_image, version, data or None)
    state = new_state(eid, exp_version, stored_row, {}, entries)
    builder = await _save_changes(conn, experiment, encoder, state, True, None)
    return builder.state


def _entry(state: ExperimentState | None, index: int) -> TrialEntry | None:
    if state is None:
        return None
    position = state.positions.get(index)
    return None if position is None else state.entries[position]


async def _save_experiment_level(
    conn: AsyncConnection,
    experiment: Experiment,
    encoder: Encoder,
    state: ExperimentState,
    builder: StateBuilder,
) -> tuple[bool, bool]:
    """Write the experiment row and its small tables where they differ from ``state``;
    whether the experiment row changed, and whether its status quo did."""
    eid, version, name = state.experiment_id, state.version, experiment.name or ""
    row = encoder.experiment_row(experiment)
    new_image = image(row)
    row_changed = new_image != state.experiment_row
    status_quo_changed = row_changed and _status_quo_columns(row, new_image) != (
        _status_quo_columns(row, state.experiment_row)
    )
    if row_changed:
        result: Any = await conn.execute(
            update(EXPERIMENTS)
            .where(EXPERIMENTS.c.id == eid, EXPERIMENTS.c.version == version)
            .values(**row, version=version + 1)
        )
        if result.rowcount != 1:
            raise ConcurrentModificationError(
                name, "the experiment row was changed (or deleted) by another writer."
            )
        builder.set_experiment(version + 1, image(row) or ())
    for key, rows in experiment_level_rows(encoder, experiment, eid).items():
        rows_image = images(rows)
        if rows_image == state.tables.get(key):
            continue
        table = EXPERIMENT_TABLES[key]
        condition = table.c.experiment_id == eid
        if table is RUNNERS:
            condition = condition & (table.c.trial_index == EXPERIMENT_RUNNER_INDEX)
        await conn.execute(delete(table).where(condition))
        if rows:
            await conn.execute(insert(table), rows)
        builder.set_table(key, rows_image)
    return row_changed, status_quo_changed


_STATUS_QUO_COLUMNS = ("status_quo_name", "status_quo_parameters")


def _status_quo_columns(row: Row, row_image: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    """The status quo's values in an image of an experiment row laid out as ``row``."""
    if row_image is None or len(row_image) != len(row):
        return None
    keys = list(row)
    return tuple(row_image[keys.index(column)] for column in _STATUS_QUO_COLUMNS)


def _batches_with_status_quo(experiment: Experiment) -> list[int]:
    return [
        i
        for i, t in experiment.trials.items()
        if isinstance(t, BatchTrial) and t.status_quo is not None
    ]


def encoder_key(encoder: Encoder) -> Any:
    """What decides how an encoder writes a trial's rows: its class and its config's key.

    Example:
        >>> encoder_key(Encoder(SQAConfig())) == encoder_key(Encoder(SQAConfig()))
        True
    """
    try:
        return (type(encoder), encoder.config.group_key())
    except Exception:  # an encoder without a usable config: never equal (compare every trial)
        return object()


def _children(rows: TrialRows) -> Children:
    return children_image(rows.generator_runs, rows.arms, rows.abandoned_arms, rows.runner)


def _plan_trial(
    plan: SavePlan,
    builder: StateBuilder,
    encoder: Encoder,
    experiment: Experiment,
    index: int,
    old: TrialEntry | None,
    suspects: set[str | None],
) -> None:
    """Plan the writes of one trial: encode all its rows and write those that differ.

    Adds to ``suspects`` the names of its arms that may now clash with other arms of the
    experiment (see :func:`.arm_names.check_arm_names`).

    No shortcut by object identity or ``==`` on the objects: an in-place change (a generator
    run's ``gen_metadata``, an arm's parameters, ``1`` -> ``1.0``, a time's UTC offset) shows
    only in the encoded rows, whose JSON text and typed columns tell those apart.
    """
    eid = builder.old.experiment_id
    trial = experiment.trials[index]
    history = experiment.data_by_trial.get(index)
    # Armed before it is encoded: a change from now on is noted in the journal.
    builder.set_tracked(index, arm_trial(trial, experiment))
    rows = encoder.trial_rows(trial, eid)
    note_arm_suspects(suspects, experiment, trial, changed=False)
    if old is None:
        plan.add_trial_rows(encoder, rows, eid, history or {})
        builder.put(index, TrialEntry.of(trial, rows.trial, 1, history, _children(rows)))
        return
    stored = old.children
    assert stored is not None  # filled by _fill_children
    new = old
    row_image = trial_image(rows.trial)
    children = _children(rows)
    # Not only on the first save after a load: a copy loaded with reduced_state=True never has
    # its blobs, so on every save its all-None blobs mean "as stored", never "set to NULL".
    stored = _without_unloaded_blobs(stored, children, trial)
    if row_image != old.row or children != stored or old.trial is not trial:
        version = old.version
        if row_image != old.row or children != stored:
            # Any change of the trial's rows goes through its version guard.
            plan.trial_updates.append((rows.trial, old.version, old.row))
            version += 1
            if children != stored:
                plan_children(plan, rows, eid, stored, children)
            if children[0] != stored[0] or _STATUS_QUO_OF_TRIAL(row_image) != (
                _STATUS_QUO_OF_TRIAL(old.row)
            ):
                # Its runs, arms or status quo changed: an arm changed in place (the one its
                # name stands for, even) may now clash with an equal copy in another trial.
                note_arm_suspects(suspects, experiment, trial, changed=True)
        new = TrialEntry(trial, row_image, children, version, old.data)
    if history != old.data:
        plan_data(plan, encoder, eid, index, history or {}, old.data or {})
        new = replace(new, data=None if history is None else dict(history))
    if new is not old:
        builder.put(index, new)


_BLOBS = [RUN_KEYS.index(k) for k in REDUCED_STATE_COLUMNS]


def _without_unloaded_blobs(stored: Children, live: Children, trial: BaseTrial) -> Children:
    """``stored`` where a run was loaded with ``reduced_state=True`` (marked by the decoder)
    and a large blob of it is still None: not loaded, so it counts as unchanged (and the
    run's UPDATE, if any, leaves it as stored). Other runs' None blobs are real values: a
    blob cleared to None is stored as NULL."""
    runs = list(stored[0])
    objects = [gr for gr, _ in generator_runs_of(trial)]
    for position, (run, arms) in enumerate(runs[: len(live[0])]):
        if position >= len(objects) or not objects[position].__dict__.get(BLOBS_UNLOADED):
            continue
        live_run = live[0][position][0]
        patched = list(run)
        for k in _BLOBS:
            if live_run[k] is None:
                patched[k] = None
        runs[position] = (tuple(patched), arms)
    return (tuple(runs), *stored[1:])


async def _fill_children(
    conn: AsyncConnection, state: ExperimentState, indices: Sequence[int]
) -> set[int]:
    """Read the stored child rows of trials whose images aren't known (loaded trials).

    Loading records the trial rows' images only; the first save that compares a loaded
    trial reads its child rows once (one query per child table) and records their images.
    """
    unknown = [
        i
        for i in indices
        if (p := state.positions.get(i)) is not None and state.entries[p].children is None
    ]
    if not unknown:
        return set()
    found = await read_children(conn, state.experiment_id, unknown)
    for index in unknown:
        # A fact about the stored rows, kept even if this save fails (the version guard
        # covers any later write of the trial).
        state.entries[state.positions[index]].children = found.get(index, NO_CHILDREN)
    return set(unknown)


async def read_children(
    conn: AsyncConnection, eid: int, indices: Sequence[int] | None
) -> dict[int, Children]:
    """Images of the stored child rows of these trials (all trials: None), by trial index."""
    tables = (GENERATOR_RUNS, ARMS, ABANDONED_ARMS, RUNNERS)
    by_table: list[dict[int, list[Any]]] = []
    chunks: list[Sequence[int] | None] = (
        [None]
        if indices is None or len(indices) > READ_IN_MAX
        else [indices[k : k + READ_IN_MAX] for k in range(0, len(indices), READ_IN_MAX)]
    )
    for table in tables:
        grouped: dict[int, list[Any]] = {}
        for chunk in chunks:
            condition = table.c.experiment_id == eid
            if chunk is not None:
                condition = condition & table.c.trial_index.in_(chunk)
            stmt = select(table).where(condition).order_by(*table.primary_key.columns)
            for row in (await conn.execute(stmt)).mappings():
                grouped.setdefault(row["trial_index"], []).append(row)
        by_table.append(grouped)
    runs, arms, abandoned, runners = by_table
    wanted = None if indices is None else set(indices)
    out: dict[int, Children] = {}
    for index in set(runs) | set(abandoned) | set(runners):
        if index == EXPERIMENT_RUNNER_INDEX or (wanted is not None and index not in wanted):
            continue
        runner = runners.get(index)
        out[index] = children_image(
            runs.get(index, ()),
            arms.get(index, ()),
            abandoned.get(index, ()),
            runner[0] if runner else None,
        )
    return out


async def _save_changes(
    conn: AsyncConnection,
    experiment: Experiment,
    encoder: Encoder,
    state: ExperimentState,
    experiment_level: bool,
    trial_indices: Iterable[int] | None,
) -> StateBuilder:
    """Write what differs from ``state``; returns what was recorded (nothing if nothing did)."""
    builder = StateBuilder(state)
    row_changed = status_quo_changed = False
    if experiment_level:
        row_changed, status_quo_changed = await _save_experiment_level(
            conn, experiment, encoder, state, builder
        )
    # The experiment row holds the status quo: when it changed, check its name everywhere.
    # (the status quo is checked only when the experiment row is written)
    suspects = arm_suspects(experiment, status_quo_changed, check_status_quo=experiment_level)
    plan = SavePlan()
    todo: list[int]
    if trial_indices is None:
        # Which trials may have changed, and the mark for the next save, in one step.
        journal = journal_of(experiment)
        key = encoder_key(encoder)
        compare = state.trials_to_compare(experiment, key)
        builder.set_journal(journal, journal.mark(), key)
        if compare is not None:
            todo = compare
            if row_changed:
                # The experiment's status quo may have changed: batch trials holding one of
                # that name are checked against it when encoded (no silent name clash).
                todo = sorted(set(todo).union(_batches_with_status_quo(experiment)))
        else:
            todo = list(experiment.trials)  # other coroutines may add trials meanwhile
            removed = [i for i in state.order if i not in experiment.trials]
            if removed:
                plan.deleted_trials.extend(removed)
                builder.remove(removed)
    else:
        todo = list(trial_indices)
    await _fill_children(conn, state, todo)
    for start in range(0, len(todo), ENCODE_SLICE):
        if start:
            await asyncio.sleep(0)  # many trials to encode: let the loop run between slices
        with gc_paused():  # CPU only: never across an await
            chunk = todo[start : start + ENCODE_SLICE]
            for index in chunk:
                position = builder.state.positions.get(index)
                old = None if position is None else builder.state.entries[position]
                _plan_trial(plan, builder, encoder, experiment, index, old, suspects)
            if len(chunk) >= GC_STEP_MIN:
                gc_step()  # (a few trials allocate too little to be worth a collection)
    check_arm_names(experiment, suspects)
    if not plan.empty:
        await execute_plan(conn, plan, state.experiment_id, experiment.name or "")
    return builder


class _Attempt:
    """Where one attempt of a save got to: a failure while committing has unknown outcome."""

    committing = False


async def _save_once(
    experiment: Experiment,
    encoder: Encoder,
    key: str,
    experiment_level: bool,
    trial_indices: list[int] | None,
    attempt: _Attempt,
) -> bool:
    """One transaction of a save; False if it turned out to need the gate exclusively."""
    reg = registration(experiment)
    gate = save_gate(reg, key)
    whole = reg.states.get(key) is None or key in reg.unsure
    exclusive = whole or trial_indices is None
    hold = gate.exclusive() if exclusive else gate.shared(trial_indices or (), experiment_level)
    async with hold:
        state = reg.states.get(key)
        whole = state is None or key in reg.unsure
        if whole and not exclusive:
            return False  # another save's commit failed meanwhile: resynchronise alone
        attempt.committing = False
        tried: ExperimentState | None = None
        try:
            async with connection_scope() as conn:
                if state is None or whole:
                    # (the encode slices inside pause the collector themselves)
                    if state is None and key not in reg.unsure:
                        whole_state = await _save_whole(conn, experiment, encoder, reg.token)
                    else:
                        whole_state = await _resync(conn, experiment, encoder, reg, key)
                    tried = whole_state
                    attempt.committing = True
                else:
                    builder = await _save_changes(
                        conn, experiment, encoder, state, experiment_level, trial_indices
                    )
                    tried = builder.state
                    attempt.committing = builder.changed
        except BaseException:
            if attempt.committing:
                # The commit raised or was cancelled: we can't know whether it happened,
                # and the next save resynchronises (knowing what this one tried to store).
                reg.unsure.add(key)
                if tried is not None:
                    reg.attempted.setdefault(key, []).append(tried)
            raise
        attempt.committing = False
        # No await from here on: the bookkeeping changes at once, after the commit.
        if state is None or whole:
            reg.states[key] = whole_state
            reg.unsure.discard(key)
            reg.attempted.pop(key, None)
        elif builder.changed or builder.journal_moved:
            reg.states[key] = builder.merge_into(reg.states.get(key))
    return True


async def _save(
    experiment: Experiment,
    encoder: Encoder,
    experiment_level: bool = True,
    trial_indices: Sequence[int] | None = None,
) -> None:
    """Save in one transaction, run again after transient errors (see ``retry``)."""
    # A whole save would store the experiment without that data: refuse, as the JSON store does.
    if trial_indices is None and (orphans := experiment.data_without_trial()):
        raise SQAEncodeError(data_without_trial_message(experiment.name, orphans))
    key = database_key()
    indices = None if trial_indices is None else sorted(set(trial_indices))
    policy = get_retry_policy()
    failures = 0
    attempt = _Attempt()
    while True:
        try:
            if await _save_once(experiment, encoder, key, experiment_level, indices, attempt):
                return
            continue
        except Exception as err:
            if attempt.committing or not is_transient(err):
                raise
            failures += 1
            if failures > policy.max_retries:
                exhausted = retries_exhausted(err, failures, experiment.name)
                if exhausted is err:
                    raise
                raise exhausted from err
        await asyncio.sleep(policy.delay(failures))


def _encoder(config: SQAConfig | None) -> Encoder:
    return Encoder(config or SQAConfig())


async def save_experiment(experiment: Experiment, config: SQAConfig | None = None) -> None:
    """Save an experiment (and its data); a later call writes only what changed.

    Example:
        >>> # init_engine_and_session_factory(url="sqlite+aiosqlite:///exp.db")
        >>> # await save_experiment(experiment)
    """
    await _save(experiment, _encoder(config))


async def save_experiment_with_encoder(experiment: Experiment, encoder: Encoder) -> None:
    """Save an experiment with a custom :class:`Encoder`.

    Example:
        >>> # await save_experiment_with_encoder(experiment, Encoder(SQAConfig(...)))
    """
    await _save(experiment, encoder)


async def save_or_update_trials(
    experiment: Experiment, trials: Iterable[BaseTrial], config: SQAConfig | None = None
) -> None:
    """Save these trials (with their arms, generator runs and data) and nothing else.

    An experiment not stored yet in this database is saved whole. Concurrent calls on one
    experiment object are grouped into shared transactions (group commit, see
    :mod:`~aestore.storage.sqa_store.group_commit`): each call returns once its trials are
    committed, or raises its own error. Cancelled before its batch started: nothing written;
    after: written whole.

    Example:
        >>> # await save_or_update_trials(experiment, [experiment.trials[3]])
    """
    indices = []
    for trial in trials:
        if experiment.trials.get(trial.index) is not trial:
            raise SQAEncodeError(
                f"Trial {trial.index} is not a trial of experiment {experiment.name!r}."
            )
        indices.append(trial.index)
    encoder = _encoder(config)
    if not indices:
        await _save(experiment, encoder, experiment_level=False, trial_indices=indices)
        return

    async def write(batch_indices: list[int]) -> None:
        await _save(experiment, encoder, experiment_level=False, trial_indices=batch_indices)

    # Concurrent trial saves of this object share transactions (see ``group_commit``).
    batcher = trial_batcher(registration(experiment), database_key())
    await batcher.submit(indices, write, group=None if config is None else config.group_key())


async def save_or_update_trial(
    experiment: Experiment, trial: BaseTrial, config: SQAConfig | None = None
) -> None:
    """Save one trial (with its arms, generator runs and data).

    Runner coroutines may call it concurrently on one experiment object: their saves share
    transactions (see :func:`save_or_update_trials`).

    Example:
        >>> # trial.mark_completed(); await save_or_update_trial(experiment, trial)
    """
    await save_or_update_trials(experiment, [trial], config)


async def update_properties_on_experiment(
    experiment: Experiment, config: SQAConfig | None = None
) -> None:
    """Write the experiment's own row and settings (properties, description, ...), no trials.

    Example:
        >>> # experiment.properties["owner"] = "me"; await update_properties_on_experiment(exp)
    """
    await _save(experiment, _encoder(config), trial_indices=[])


async def update_runner_on_experiment(
    experiment: Experiment, runner: Runner, config: SQAConfig | None = None
) -> None:
    """Set the experiment's runner and store it.

    Example:
        >>> # await update_runner_on_experiment(experiment, MyRunner("https://..."))
    """
    experiment.runner = runner
    await _save(experiment, _encoder(config), trial_indices=[])
