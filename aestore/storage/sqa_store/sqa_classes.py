"""The SQL schema: one table per kind of stored object, as SQLAlchemy 2.0 typed mappings.

Keys are generated client-side wherever possible so that child rows can be inserted in bulk
without ``RETURNING``: only ``ae_experiments.id`` is database-generated; every other table's
primary key is composite and starts with ``experiment_id`` (then ``trial_index``, the generator
run's position in its trial, the arm's position in its run, ...).

Column conventions (decoded in :mod:`aestore.storage.sqa_store.column_values`):

- JSON goes into TEXT columns (``LONGTEXT`` on MySQL; wide VARCHARs break MySQL's 65,535-byte
  row limit), written by the shared JSON encoder, which tags NaN/inf and datetimes.
- Numbers that may be an int or a float (bounds, weights, fit times) are ``NumberText``: their
  ``repr`` in a short VARCHAR, so ``1`` and ``1.0`` and NaN/inf all come back as they were.
- Observed means and sems are DOUBLEs (queryable); a non-finite value is stored as NULL plus a
  code in ``*_nonfinite`` (1 NaN, 2 +inf, 3 -inf), because SQLite stores NaN as NULL and
  MariaDB rejects non-finite DOUBLEs.
- A timestamp is two columns: ``<name>`` (naive, UTC-normalised for aware values; DATETIME(6) on
  MySQL to keep microseconds) and ``<name>_tz`` (UTC offset in seconds, NULL when naive).
- Metric and runner types: NULL is the built-in ``Metric`` / ``Runner``; a user's registered
  subclass stores the user's own integer, so user ids never collide with built-ins.
- Trials and experiments carry a ``version`` for optimistic concurrency (bumped on UPDATE).
- On MySQL every table is InnoDB, utf8mb4 with the binary collation (names compare exactly:
  ``"Exp"`` and ``"exp"``, or ``"é"`` and ``"e"``, are different experiments).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "EXPERIMENT_RUNNER_INDEX",
    "NAME_LENGTH",
    "SQAAbandonedArm",
    "SQAArm",
    "SQABase",
    "SQAData",
    "SQAExperiment",
    "SQAGeneratorRun",
    "SQAMetric",
    "SQAParameter",
    "SQAParameterConstraint",
    "SQARunner",
    "SQATrial",
]

NAME_LENGTH = 255
# ae_runners.trial_index of the experiment's own runner (trial runners use their index).
EXPERIMENT_RUNNER_INDEX = -1

JSONText = Text().with_variant(mysql.LONGTEXT(), "mysql")
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
NumberText = String(40)
Name = String(NAME_LENGTH)

MYSQL_TABLE_ARGS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

_NAMING = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ix": "ix_%(table_name)s_%(column_0_name)s",
}


class SQABase(DeclarativeBase):
    """Declarative base of aestore's tables (their shared ``MetaData``)."""

    metadata = MetaData(naming_convention=_NAMING)


def _experiment_fk() -> ForeignKey:
    return ForeignKey("ae_experiments.id", ondelete="CASCADE")


class SQAExperiment(SQABase):
    """One row per experiment; everything else hangs off ``id``."""

    __tablename__ = "ae_experiments"
    # AUTOINCREMENT: SQLite must never hand a deleted experiment's id to a new one, or a stale
    # copy of the old experiment (in another process) would pass the version guards of the new.
    __table_args__ = {**MYSQL_TABLE_ARGS, "sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Name, unique=True)
    # Identifies the Python object that created the row (see save.py): lets that object
    # resynchronise after a save whose commit outcome it never learnt.
    instance_token: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str | None] = mapped_column(LongText)
    experiment_type: Mapped[int | None] = mapped_column(Integer)
    is_test: Mapped[bool] = mapped_column(Boolean)
    time_created: Mapped[datetime] = mapped_column(Timestamp)
    time_created_tz: Mapped[int | None] = mapped_column(Integer)
    properties: Mapped[str | None] = mapped_column(JSONText)
    # 0 OptimizationConfig, 1 MultiObjectiveOptimizationConfig; NULL: none.
    optimization_config_kind: Mapped[int | None] = mapped_column(SmallInteger)
    # 0 Objective, 1 MultiObjective, 2 ScalarizedObjective.
    objective_kind: Mapped[int | None] = mapped_column(SmallInteger)
    objective_minimize: Mapped[bool | None] = mapped_column(Boolean)
    status_quo_name: Mapped[str | None] = mapped_column(Name)
    status_quo_parameters: Mapped[str | None] = mapped_column(JSONText)


class SQAParameter(SQABase):
    """A search-space parameter; the typed values (bounds, choices) are JSON in ``domain``."""

    __tablename__ = "ae_parameters"
    __table_args__ = MYSQL_TABLE_ARGS

    experiment_id: Mapped[int] = mapped_column(_experiment_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Name)
    kind: Mapped[int] = mapped_column(SmallInteger)  # 0 range, 1 choice, 2 fixed
    parameter_type: Mapped[int] = mapped_column(SmallInteger)
    is_fidelity: Mapped[bool] = mapped_column(Boolean)
    log_scale: Mapped[bool | None] = mapped_column(Boolean)
    digits: Mapped[int | None] = mapped_column(Integer)
    is_ordered: Mapped[bool | None] = mapped_column(Boolean)
    is_task: Mapped[bool | None] = mapped_column(Boolean)
    domain: Mapped[str] = mapped_column(JSONText)  # lower/upper, values, value, target_value


class SQAParameterConstraint(SQABase):
    """A linear, order or sum constraint between parameters."""

    __tablename__ = "ae_parameter_constraints"
    __table_args__ = MYSQL_TABLE_ARGS

    experiment_id: Mapped[int] = mapped_column(_experiment_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger)  # 0 linear, 1 order, 2 sum
    constraint_dict: Mapped[str] = mapped_column(JSONText)
    bound: Mapped[str] = mapped_column(NumberText)
    parameter_names: Mapped[str | None] = mapped_column(JSONText)  # order and sum constraints
    is_upper_bound: Mapped[bool | None] = mapped_column(Boolean)


class SQAMetric(SQABase):
    """A metric in one role: objective, outcome constraint, objective threshold or tracking."""

    __tablename__ = "ae_metrics"
    __table_args__ = MYSQL_TABLE_ARGS

    experiment_id: Mapped[int] = mapped_column(_experiment_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    role: Mapped[int] = mapped_column(SmallInteger)  # see encoder.MetricRole
    name: Mapped[str] = mapped_column(Name)
    metric_type: Mapped[int | None] = mapped_column(Integer)  # NULL: the built-in Metric
    lower_is_better: Mapped[bool | None] = mapped_column(Boolean)
    properties: Mapped[str | None] = mapped_column(JSONText)
    fields: Mapped[str | None] = mapped_column(JSONText)  # a registered subclass's own fields
    minimize: Mapped[bool | None] = mapped_column(Boolean)
    op: Mapped[int | None] = mapped_column(SmallInteger)
    bound: Mapped[str | None] = mapped_column(NumberText)
    relative: Mapped[bool | None] = mapped_column(Boolean)
    weight: Mapped[str | None] = mapped_column(NumberText)


class SQARunner(SQABase):
    """The experiment's runner (``trial_index`` -1) or a trial's own runner."""

    __tablename__ = "ae_runners"
    __table_args__ = MYSQL_TABLE_ARGS

    experiment_id: Mapped[int] = mapped_column(_experiment_fk(), primary_key=True)
    trial_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    runner_type: Mapped[int | None] = mapped_column(Integer)  # NULL: the built-in Runner
    fields: Mapped[str | None] = mapped_column(JSONText)


class SQATrial(SQABase):
    """A trial; ``(experiment_id, trial_index)`` is its key, so an index is stored once."""

    __tablename__ = "ae_trials"
    __table_args__ = MYSQL_TABLE_ARGS

    experiment_id: Mapped[int] = mapped_column(_experiment_fk(), primary_key=True)
    trial_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_batch: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int] = mapped_column(SmallInteger)
    trial_type: Mapped[str | None] = mapped_column(Name)
    ttl_seconds: Mapped[int | None] = mapped_column(Integer)
    time_created: Mapped[datetime] = mapped_column(Timestamp)
    time_created_tz: Mapped[int | None] = mapped_column(Integer)
    time_staged: Mapped[datetime | None] = mapped_column(Timestamp)
    time_staged_tz: Mapped[int | None] = mapped_column(Integer)
    time_run_started: Mapped[datetime | None] = mapped_column(Timestamp)
    time_run_started_tz: Mapped[int | None] = mapped_column(Integer)
    time_completed: Mapped[datetime | None] = mapped_column(Timestamp)
    time_completed_tz: Mapped[int | None] = mapped_column(Integer)
    failed_reason: Mapped[str | None] = mapped_column(LongText)
    abandoned_reason: Mapped[str | None] = mapped_column(LongText)
    run_metadata: Mapped[str | None] = mapped_column(JSONText)
    stop_metadata: Mapped[str | None] = mapped_column(JSONText)
    properties: Mapped[str | None] = mapped_column(JSONText)
    status_quo_name: Mapped[str | None] = mapped_column(Name)  # batch trials
    status_quo_parameters: Mapped[str | None] = mapped_column(JSONText)
    status_quo_weight: Mapped[str | None] = mapped_column(NumberText)


def _trial_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["experiment_id", "trial_index"],
        ["ae_trials.experiment_id", "ae_trials.trial_index"],
        ondelete="CASCADE",
    )


class SQAGeneratorRun(SQABase):
    """A generator run of a trial, at ``position`` in the trial's list of runs."""

    __tablename__ = "ae_generator_runs"
    __table_args__ = (_trial_fk(), MYSQL_TABLE_ARGS)

    experiment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ae_experiments.id", ondelete="CASCADE"), primary_key=True
    )
    trial_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generator_run_type: Mapped[int | None] = mapped_column(Integer)
    multiplier: Mapped[str | None] = mapped_column(NumberText)  # a batch's struct weight
    model_key: Mapped[str | None] = mapped_column(Name)
    fit_time: Mapped[str | None] = mapped_column(NumberText)
    gen_time: Mapped[str | None] = mapped_column(NumberText)
    time_created: Mapped[datetime] = mapped_column(Timestamp)
    time_created_tz: Mapped[int | None] = mapped_column(Integer)
    optimization_config: Mapped[str | None] = mapped_column(JSONText)
    search_space: Mapped[str | None] = mapped_column(JSONText)
    model_predictions: Mapped[str | None] = mapped_column(JSONText)
    best_arm_predictions: Mapped[str | None] = mapped_column(JSONText)
    # The large blobs that load_experiment(reduced_state=True) skips:
    model_kwargs: Mapped[str | None] = mapped_column(JSONText)
    bridge_kwargs: Mapped[str | None] = mapped_column(JSONText)
    gen_metadata: Mapped[str | None] = mapped_column(JSONText)
    model_state_after_gen: Mapped[str | None] = mapped_column(JSONText)


class SQAArm(SQABase):
    """An arm of a generator run, with its weight in that run."""

    __tablename__ = "ae_arms"
    __table_args__ = (
        ForeignKeyConstraint(
            ["experiment_id", "trial_index", "generator_run_position"],
            [
                "ae_generator_runs.experiment_id",
                "ae_generator_runs.trial_index",
                "ae_generator_runs.position",
            ],
            ondelete="CASCADE",
        ),
        MYSQL_TABLE_ARGS,
    )

    experiment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ae_experiments.id", ondelete="CASCADE"), primary_key=True
    )
    trial_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generator_run_position: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Name)
    parameters: Mapped[str] = mapped_column(JSONText)
    weight: Mapped[str] = mapped_column(NumberText)


class SQAAbandonedArm(SQABase):
    """An arm given up in a batch trial."""

    __tablename__ = "ae_abandoned_arms"
    __table_args__ = (_trial_fk(), MYSQL_TABLE_ARGS)

    experiment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ae_experiments.id", ondelete="CASCADE"), primary_key=True
    )
    trial_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Name)
    time: Mapped[datetime] = mapped_column(Timestamp)
    time_tz: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(LongText)


class SQAData(SQABase):
    """One observation: (trial, attach time stamp, row) -> arm, metric, mean, sem, ..."""

    __tablename__ = "ae_data"
    __table_args__ = (_trial_fk(), MYSQL_TABLE_ARGS)

    experiment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ae_experiments.id", ondelete="CASCADE"), primary_key=True
    )
    trial_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # When the data was attached (µs since the epoch): a trial keeps its attach history.
    attach_stamp: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    row_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    arm_name: Mapped[str] = mapped_column(Name)
    metric_name: Mapped[str] = mapped_column(Name)
    mean: Mapped[float | None] = mapped_column(Double)
    mean_nonfinite: Mapped[int | None] = mapped_column(SmallInteger)
    sem: Mapped[float | None] = mapped_column(Double)
    sem_nonfinite: Mapped[int | None] = mapped_column(SmallInteger)
    n: Mapped[int | None] = mapped_column(BigInteger)
    start_time: Mapped[datetime | None] = mapped_column(Timestamp)
    start_time_tz: Mapped[int | None] = mapped_column(Integer)
    end_time: Mapped[datetime | None] = mapped_column(Timestamp)
    end_time_tz: Mapped[int | None] = mapped_column(Integer)
