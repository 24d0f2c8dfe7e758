"""Transient database errors (deadlocks, lock timeouts, dropped connections) are retried.

Errors are injected where the transaction runs: a ``before_cursor_execute`` hook raises the
driver's own exception (pymysql ``OperationalError(1213, ...)``, asyncpg
``DeadlockDetectedError`` as the asyncpg dialect wraps it, sqlite3 "database is locked"),
which SQLAlchemy turns into its ``OperationalError``/``DBAPIError`` like a real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pymysql
import pytest
from sqlalchemy import event, func, select

from aestore.core import Arm, Data, GeneratorRun
from aestore.exceptions import ConcurrentModificationError, DatabaseConnectionError
from aestore.samples import make_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.delete import delete_experiment
from aestore.storage.sqa_store.load import list_experiments, load_experiment
from aestore.storage.sqa_store.retry import (
    RetryPolicy,
    configure_retries,
    get_retry_policy,
    is_transient,
)
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial
from aestore.storage.sqa_store.save_plan import DATA, TRIALS

KINDS = ["deadlock", "lock_wait_timeout", "connection_lost", "serialization"]
MYSQL_CODES = {"deadlock": 1213, "lock_wait_timeout": 1205, "connection_lost": 2013}
PG_ERRORS = {
    "deadlock": asyncpg.exceptions.DeadlockDetectedError,  # 40P01
    "serialization": asyncpg.exceptions.SerializationError,  # 40001
    "lock_wait_timeout": asyncpg.exceptions.DeadlockDetectedError,
    "connection_lost": asyncpg.exceptions.ConnectionDoesNotExistError,  # 08003
}


@pytest.fixture(autouse=True)
def quick_retries() -> Iterator[RetryPolicy]:
    saved = get_retry_policy()
    yield configure_retries(max_retries=4, base_delay=0.001, max_delay=0.005)
    configure_retries(saved.max_retries, saved.base_delay, saved.max_delay)


def driver_error(dialect: Any, kind: str) -> Exception:
    """The exception the dialect's driver raises for ``kind`` (its nearest equivalent)."""
    dbapi = dialect.loaded_dbapi
    if dialect.name in ("mysql", "mariadb"):
        code = MYSQL_CODES.get(kind, 1213)
        if code == 2013:
            return pymysql.err.OperationalError(code, "Lost connection to server during query")
        return pymysql.err.OperationalError(code, f"injected {kind}; try restarting transaction")
    if dialect.name == "postgresql":
        cause = PG_ERRORS[kind](f"injected {kind}")
        if kind == "connection_lost":
            return dbapi.InterfaceError("connection was closed in the middle of operation", cause)
        return dbapi.Error(f"injected {kind}", cause)
    # SQLite has one transient error: the lock (busy timeout) on the database file.
    return dbapi.OperationalError("database is locked")


@contextmanager
def failing(statement_start: str, times: int, kind: str) -> Iterator[list[str]]:
    """Raise a transient ``kind`` driver error on the first ``times`` statements starting so.

    Yields the list of statements that failed.
    """
    raised: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if len(raised) < times and statement.lstrip().startswith(statement_start):
            raised.append(statement)
            raise driver_error(conn.dialect, kind)

    engine = db.get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield raised
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def count_rows(table: Any) -> int:
    async with db.session_scope() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


def add_trial_with_data(experiment: Any) -> Any:
    arm = Arm({"x1": 0.1, "x2": 0.9, "lr": 0.01, "layers": 3, "optimizer": "sgd", "seed": 42})
    trial = experiment.new_trial(GeneratorRun([arm]))
    trial.mark_running()
    experiment.attach_data(
        Data(
            [
                {
                    "trial_index": trial.index,
                    "arm_name": arm.name,
                    "metric_name": "accuracy",
                    "mean": 0.5,
                    "sem": 0.1,
                }
            ]
        )
    )
    return trial


@pytest.mark.parametrize("times", [1, 3], ids=["once", "three_times"])
@pytest.mark.parametrize("kind", KINDS)
async def test_new_trial_save_survives_transient_errors_exactly_once(
    store: str, kind: str, times: int
) -> None:
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment)
    trial = add_trial_with_data(experiment)
    with failing("INSERT INTO ae_data", times, kind) as raised:
        await save_or_update_trial(experiment, trial)
    counts = (await count_rows(TRIALS), await count_rows(DATA), len(raised))
    assert counts == (3, 5, times)
    assert await load_experiment(experiment.name or "") == experiment


@pytest.mark.parametrize("kind", KINDS)
async def test_status_update_survives_transient_errors(store: str, kind: str) -> None:
    experiment = make_experiment(num_trials=2)
    trial = add_trial_with_data(experiment)
    await save_experiment(experiment)
    trial.mark_completed()
    with failing("UPDATE ae_trials", 2, kind) as raised:
        await save_or_update_trial(experiment, trial)
    loaded = await load_experiment(experiment.name or "")
    status = loaded.trials[trial.index].status.name
    assert (len(raised), loaded == experiment, status) == (2, True, "COMPLETED")


@pytest.mark.parametrize("kind", KINDS)
async def test_load_and_delete_survive_transient_errors(store: str, kind: str) -> None:
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment)
    with failing("SELECT", 1, kind) as failed_reads:
        loaded = await load_experiment(experiment.name or "")
    with failing("DELETE", 1, kind) as failed_deletes:
        await delete_experiment(experiment.name or "")
    failures = (len(failed_reads), len(failed_deletes))
    assert (failures, loaded == experiment, await list_experiments()) == ((1, 1), True, [])


@pytest.mark.parametrize("kind", KINDS)
async def test_exhausted_retries_raise_a_typed_error_and_store_nothing(
    store: str, kind: str
) -> None:
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment)
    before = await load_experiment(experiment.name or "")
    trial = add_trial_with_data(experiment)
    configure_retries(max_retries=2, base_delay=0.001, max_delay=0.002)
    expected = ConcurrentModificationError
    if kind == "connection_lost" and not store.startswith("sqlite"):
        expected = DatabaseConnectionError  # type: ignore[assignment]
    with pytest.raises(expected) as info, failing("INSERT INTO ae_data", 100, kind) as raised:
        await save_or_update_trial(experiment, trial)
    stored = await load_experiment(experiment.name or "")
    assert (len(raised), is_transient(info.value), stored == before) == (3, True, True)
    await save_or_update_trial(experiment, trial)
    assert await load_experiment(experiment.name or "") == experiment


def test_backoff_is_bounded_and_jittered() -> None:
    policy = RetryPolicy(max_retries=10, base_delay=0.01, max_delay=0.08)
    delays = [policy.delay(attempt) for attempt in range(1, 11) for _ in range(20)]
    assert (max(delays) <= 0.08, len(set(delays)) > 100, min(delays) >= 0) == (True, True, True)


def test_non_transient_errors_are_not_retried() -> None:
    errors = [ValueError("x"), pymysql.err.OperationalError(1045, "Access denied")]
    assert [is_transient(e) for e in errors] == [False, False]


@pytest.mark.parametrize("kind", ["connection_lost"])
async def test_delete_whose_commit_landed_before_the_connection_dropped_succeeds(
    store: str, kind: str
) -> None:
    from sqlalchemy.orm import Session

    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment)
    raised: list[int] = []

    def after_commit(session: Any) -> None:
        if not raised:
            raised.append(1)
            raise driver_error(db.get_engine().sync_engine.dialect, kind)

    event.listen(Session, "after_commit", after_commit)
    try:
        await delete_experiment(experiment.name or "")
    finally:
        event.remove(Session, "after_commit", after_commit)
    assert (raised, await list_experiments()) == ([1], [])
    await save_experiment(experiment)  # the object stores itself whole again
    assert await load_experiment(experiment.name or "") == experiment
