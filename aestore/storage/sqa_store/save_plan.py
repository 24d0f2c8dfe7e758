"""The statements of one save: collected first, then run in bulk in foreign-key order.

A :class:`SavePlan` gathers the rows to insert (one list per table, written with one
``insert(table)`` executemany each), the keys to delete, and the trial UPDATEs, each guarded by
the trial's ``version`` (0 rows matched -> :class:`ConcurrentModificationError`). Order: deletes,
trial updates, inserts (trials before their generator runs, arms, abandoned arms, runners and
data), then UPDATEs of the changed columns of stored generator runs.

Trial UPDATEs set only the columns that differ from the stored row (the version guard
ensures the others are stored as we know them). Several trials (a group commit of concurrent
saves) are updated in ascending index order (the global lock order) by: one multi-row
``UPDATE ... CASE`` on MySQL/MariaDB (aiomysql would send an executemany as one round trip
per row), one executemany on SQLite (its rowcount is the total of rows matched), one
statement per trial on PostgreSQL (asyncpg's executemany rowcount is not reliable). A total
below the number of trials means one is stale: the save fails as a whole, and a group commit
then reruns its members one by one to find which.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, Update, and_, bindparam, case, delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aestore.core.base_trial import BaseTrial
from aestore.exceptions import ConcurrentModificationError
from aestore.storage.sqa_store.encoder import Encoder, Row, TrialRows
from aestore.storage.sqa_store.snapshot import RUN_KEYS, TRIAL_KEYS, Children
from aestore.storage.sqa_store.sqa_classes import (
    SQAAbandonedArm,
    SQAArm,
    SQAData,
    SQAExperiment,
    SQAGeneratorRun,
    SQAMetric,
    SQAParameter,
    SQAParameterConstraint,
    SQARunner,
    SQATrial,
)

__all__ = [
    "ABANDONED_ARMS",
    "ARMS",
    "DATA",
    "EXPERIMENTS",
    "EXPERIMENT_TABLES",
    "GENERATOR_RUNS",
    "INSERT_SLICE",
    "RUNNERS",
    "TABLES_IN_ORDER",
    "TRIALS",
    "SavePlan",
    "execute_plan",
    "plan_children",
    "plan_data",
]

EXPERIMENTS: Table = SQAExperiment.__table__  # type: ignore[assignment]
TRIALS: Table = SQATrial.__table__  # type: ignore[assignment]
GENERATOR_RUNS: Table = SQAGeneratorRun.__table__  # type: ignore[assignment]
ARMS: Table = SQAArm.__table__  # type: ignore[assignment]
ABANDONED_ARMS: Table = SQAAbandonedArm.__table__  # type: ignore[assignment]
RUNNERS: Table = SQARunner.__table__  # type: ignore[assignment]
DATA: Table = SQAData.__table__  # type: ignore[assignment]
EXPERIMENT_TABLES: dict[str, Table] = {
    "parameters": SQAParameter.__table__,  # type: ignore[dict-item]
    "parameter_constraints": SQAParameterConstraint.__table__,  # type: ignore[dict-item]
    "metrics": SQAMetric.__table__,  # type: ignore[dict-item]
    "runners": RUNNERS,
}
# The tables a trial's rows go to, in foreign-key order (keys of ``SavePlan.inserts``).
TABLES_IN_ORDER: dict[str, Table] = {
    "trials": TRIALS,
    "generator_runs": GENERATOR_RUNS,
    "arms": ARMS,
    "abandoned_arms": ABANDONED_ARMS,
    "runners": RUNNERS,
    "data": DATA,
}
# Rows per INSERT statement of a bulk insert.
INSERT_SLICE = 500
_UPDATED_TRIAL_COLUMNS = [k for k in TRIAL_KEYS if k not in ("experiment_id", "trial_index")]
# Statements built once: building one costs ~50 us of SQLAlchemy coercions per save, and
# the compiled form is cached by the engine either way.
_INSERTS = {table: insert(table) for table in TABLES_IN_ORDER.values()}
_KEY_POSITIONS = {k: p for p, k in enumerate(TRIAL_KEYS)}
# MySQL/MariaDB: the trials of one save are UPDATEd by one statement (aiomysql runs an
# UPDATE executemany as one round trip per row); at most this many rows per statement.
UPDATE_ROWS_MAX = 64


@functools.lru_cache(maxsize=256)
def _update_statement(columns: tuple[str, ...]) -> Update:
    """UPDATE of these columns of one trial, guarded by its version (built once per shape)."""
    c = TRIALS.c
    return (
        update(TRIALS)
        .where(
            c.experiment_id == bindparam("b_e"),
            c.trial_index == bindparam("b_t"),
            c.version == bindparam("b_v"),
        )
        .values({col: bindparam(f"v_{col}") for col in columns})
        .values(version=bindparam("b_nv"))
    )


@functools.lru_cache(maxsize=256)
def _multi_row_update(n: int, columns: tuple[str, ...]) -> Update:
    """``UPDATE trials SET col = CASE WHEN trial_index = :t0 THEN :col_0 ... END, ...,
    version = version + 1 WHERE experiment_id = :e AND trial_index IN (:t0, ...) AND
    ((trial_index = :t0 AND version = :v0) OR ...)``: the IN list makes it a primary-key
    range (only these rows are read and locked, in key order), the OR keeps each row's
    version guard; a rowcount below ``n`` means one of the trials is stale."""
    c = TRIALS.c
    keys: list[Any] = [bindparam(f"t{k}") for k in range(n)]
    values: dict[str, Any] = {
        col: case(
            *[
                (c.trial_index == key, bindparam(f"{col}_{k}", type_=c[col].type))
                for k, key in enumerate(keys)
            ]
        )
        for col in columns
    }
    values["version"] = c.version + 1
    guard = or_(
        *[and_(c.trial_index == key, c.version == bindparam(f"v{k}")) for k, key in enumerate(keys)]
    )
    return (
        update(TRIALS)
        .where(c.experiment_id == bindparam("e"), c.trial_index.in_(keys), guard)
        .values(values)
    )


def _changed_columns(updates: list[tuple[Row, int, tuple[Any, ...]]]) -> tuple[str, ...]:
    """The columns that differ from the stored row in any of these updates.

    The others are written as they are stored (the version guard makes sure of that), so
    the UPDATE leaves them out: fewer values to encode, escape and send.
    """
    changed = tuple(
        col
        for col in _UPDATED_TRIAL_COLUMNS
        if any(
            (new := row[col]) is not (stored := old[_KEY_POSITIONS[col]])
            and (new != stored or type(new) is not type(stored))
            for row, _, old in updates
        )
    )
    return changed or tuple(_UPDATED_TRIAL_COLUMNS)


@dataclass
class SavePlan:
    """The statements of one save, collected first and then run in bulk, in FK order."""

    deleted_trials: list[int] = field(default_factory=list)
    run_deletes: list[dict[str, int]] = field(default_factory=list)
    abandoned_deletes: list[int] = field(default_factory=list)
    runner_deletes: list[int] = field(default_factory=list)
    data_deletes: list[dict[str, int]] = field(default_factory=list)
    # (new row, version read, image of the row stored at that version)
    trial_updates: list[tuple[Row, int, tuple[Any, ...]]] = field(default_factory=list)
    # (trial index, run position, {column: value}): generator-run columns that changed
    run_updates: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    arm_deletes: list[dict[str, int]] = field(default_factory=list)
    inserts: dict[str, list[Row]] = field(
        default_factory=lambda: {
            "trials": [],
            "generator_runs": [],
            "arms": [],
            "abandoned_arms": [],
            "runners": [],
            "data": [],
        }
    )

    def add_trial(self, encoder: Encoder, trial: BaseTrial, eid: int, data: dict[int, Any]) -> Row:
        """Plan the insert of every row of a new trial and its data; returns its row."""
        rows = encoder.trial_rows(trial, eid)
        self.add_trial_rows(encoder, rows, eid, data)
        return rows.trial

    def add_trial_rows(
        self, encoder: Encoder, rows: TrialRows, eid: int, data: dict[int, Any]
    ) -> None:
        """Plan the insert of every row of a new trial (encoded as ``rows``) and its data."""
        index = rows.trial["trial_index"]
        self.inserts["trials"].append(rows.trial)
        self.inserts["generator_runs"].extend(rows.generator_runs)
        self.inserts["arms"].extend(rows.arms)
        self.inserts["abandoned_arms"].extend(rows.abandoned_arms)
        if rows.runner is not None:
            self.inserts["runners"].append(rows.runner)
        for stamp, part in data.items():
            self.inserts["data"].extend(encoder.data_rows(eid, index, stamp, part))

    @property
    def empty(self) -> bool:
        return not (
            self.deleted_trials
            or self.run_deletes
            or self.abandoned_deletes
            or self.runner_deletes
            or self.data_deletes
            or self.trial_updates
            or self.run_updates
            or self.arm_deletes
            or any(self.inserts.values())
        )


async def execute_plan(conn: AsyncConnection, plan: SavePlan, eid: int, name: str) -> None:
    e: Any = bindparam("e")
    t: Any = bindparam("t")
    if plan.deleted_trials:
        plan.deleted_trials.sort()
        await conn.execute(
            delete(TRIALS).where(
                TRIALS.c.experiment_id == eid, TRIALS.c.trial_index.in_(plan.deleted_trials)
            )
        )
        await conn.execute(
            delete(RUNNERS).where(
                RUNNERS.c.experiment_id == eid, RUNNERS.c.trial_index.in_(plan.deleted_trials)
            )
        )
    if plan.run_deletes:
        g = GENERATOR_RUNS.c
        stmt = delete(GENERATOR_RUNS).where(
            g.experiment_id == e, g.trial_index == t, g.position == bindparam("p")
        )
        await conn.execute(stmt, plan.run_deletes)
    if plan.arm_deletes:
        a = ARMS.c
        stmt = delete(ARMS).where(
            a.experiment_id == e, a.trial_index == t, a.generator_run_position == bindparam("p")
        )
        await conn.execute(stmt, plan.arm_deletes)
    for table, indices in (
        (ABANDONED_ARMS, plan.abandoned_deletes),
        (RUNNERS, plan.runner_deletes),
    ):
        if indices:
            await conn.execute(
                delete(table).where(table.c.experiment_id == eid, table.c.trial_index.in_(indices))
            )
    if plan.data_deletes:
        d = DATA.c
        stmt = delete(DATA).where(
            d.experiment_id == e, d.trial_index == t, d.attach_stamp == bindparam("s")
        )
        await conn.execute(stmt, plan.data_deletes)
    if plan.trial_updates:
        await _update_trials(conn, plan.trial_updates, eid, name)
    new_trials = sorted({r["trial_index"] for r in plan.inserts["trials"]})
    for key, table in TABLES_IN_ORDER.items():
        rows = plan.inserts[key]
        if not rows:
            continue
        try:
            # In slices: the driver and SQLAlchemy turn parameters into SQL on the event loop
            # (aiomysql builds one multi-row INSERT string), so one statement per slice keeps
            # each stretch without a loop turn short. A slice written is dropped at once:
            # freeing 50,000 rows at the end would stop the loop for ~50 ms.
            while rows:
                await conn.execute(_INSERTS[table], rows[:INSERT_SLICE])
                del rows[:INSERT_SLICE]
        except IntegrityError as err:
            indices = new_trials
            raise ConcurrentModificationError(
                name,
                f"another writer stored rows for trials {indices[:10]} first.",
                trial_index=indices[0] if len(indices) == 1 else None,
            ) from err
    for index, position, values in plan.run_updates:
        g = GENERATOR_RUNS.c
        await conn.execute(
            update(GENERATOR_RUNS)
            .where(g.experiment_id == eid, g.trial_index == index, g.position == position)
            .values(values)
        )


async def _update_trials(
    conn: AsyncConnection,
    updates: list[tuple[Row, int, tuple[Any, ...]]],
    eid: int,
    name: str,
) -> None:
    """UPDATE changed trials, each only if its stored version is the one we last wrote."""
    # Ascending trial index: every writer takes the trials' row locks in one order.
    updates = sorted(updates, key=lambda u: u[0]["trial_index"])
    columns = _changed_columns(updates)
    result: Any
    dialect = conn.dialect
    if len(updates) > 1 and dialect.name in ("mysql", "mariadb"):
        for start in range(0, len(updates), UPDATE_ROWS_MAX):
            part = updates[start : start + UPDATE_ROWS_MAX]
            bound: dict[str, Any] = {"e": eid}
            for k, (row, version, _) in enumerate(part):
                bound[f"t{k}"], bound[f"v{k}"] = row["trial_index"], version
                for col in columns:
                    bound[f"{col}_{k}"] = row[col]
            result = await conn.execute(_multi_row_update(len(part), columns), bound)
            if result.rowcount != len(part):
                indices = [row["trial_index"] for row, _, _ in part]
                raise ConcurrentModificationError(
                    name, f"one of trials {indices[:10]} was changed by another writer."
                )
        return
    stmt = _update_statement(columns)
    params = [
        {
            "b_e": eid,
            "b_t": row["trial_index"],
            "b_v": version,
            "b_nv": version + 1,
            **{f"v_{col}": row[col] for col in columns},
        }
        for row, version, _ in updates
    ]
    if len(params) > 1 and dialect.supports_sane_multi_rowcount:
        result = await conn.execute(stmt, params)
        if result.rowcount != len(params):
            indices = [p["b_t"] for p in params]
            raise ConcurrentModificationError(
                name, f"one of trials {indices[:10]} was changed by another writer."
            )
        return
    for p in params:
        result = await conn.execute(stmt, p)
        if result.rowcount != 1:
            raise ConcurrentModificationError(
                name, "the trial was changed (or deleted) by another writer.", trial_index=p["b_t"]
            )


def plan_children(plan: SavePlan, rows: TrialRows, eid: int, old: Children, new: Children) -> None:
    """Rewrite the child rows of a trial (encoded as ``rows``, image ``new``) that differ
    from the stored ones (image ``old``).

    A stored generator run is UPDATEd in the columns that differ (so columns this copy
    never loaded, see ``load_experiment(reduced_state=True)``, stay as stored) and its arms
    are rewritten if they differ.
    """
    index = rows.trial["trial_index"]
    old_runs, new_runs = old[0], new[0]
    for position, (run, arms) in enumerate(new_runs):
        arm_rows = [a for a in rows.arms if a["generator_run_position"] == position]
        if position >= len(old_runs):
            plan.inserts["generator_runs"].append(rows.generator_runs[position])
            plan.inserts["arms"].extend(arm_rows)
            continue
        stored_run, stored_arms = old_runs[position]
        if stored_run != run:
            row = rows.generator_runs[position]
            changed = {
                k: row[k] for k, a, b in zip(RUN_KEYS, stored_run, run, strict=True) if a != b
            }
            plan.run_updates.append((index, position, changed))
        if stored_arms != arms:
            if stored_arms:
                plan.arm_deletes.append({"e": eid, "t": index, "p": position})
            plan.inserts["arms"].extend(arm_rows)
    for position in range(len(new_runs), len(old_runs)):
        plan.run_deletes.append({"e": eid, "t": index, "p": position})  # arms cascade
    if new[1] != old[1]:
        if old[1]:
            plan.abandoned_deletes.append(index)
        plan.inserts["abandoned_arms"].extend(rows.abandoned_arms)
    if new[2] != old[2]:
        if old[2] is not None:
            plan.runner_deletes.append(index)
        if rows.runner is not None:
            plan.inserts["runners"].append(rows.runner)


def plan_data(
    plan: SavePlan,
    encoder: Encoder,
    eid: int,
    index: int,
    history: dict[int, Any],
    old: dict[int, Any],
) -> None:
    for stamp, part in history.items():
        stored = old.get(stamp)
        if stored is part:
            continue
        if stored is not None:
            if stored == part:
                continue
            plan.data_deletes.append({"e": eid, "t": index, "s": stamp})
        plan.inserts["data"].extend(encoder.data_rows(eid, index, stamp, part))
    for stamp in old.keys() - history.keys():
        plan.data_deletes.append({"e": eid, "t": index, "s": stamp})
