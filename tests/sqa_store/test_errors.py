"""Errors: unreachable databases (password masked), missing tables, bad classes and types."""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from aestore.core import Metric, Objective, OptimizationConfig
from aestore.exceptions import (
    DatabaseConnectionError,
    EngineNotInitializedError,
    ExperimentNotFoundError,
    SQADecodeError,
    SQAEncodeError,
    TablesMissingError,
    UnregisteredClassError,
)
from aestore.metrics.registry import MetricRegistry
from aestore.samples import make_experiment, make_multi_objective_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.load import list_experiments, load_experiment
from aestore.storage.sqa_store.save import save_experiment
from aestore.storage.sqa_store.sqa_config import SQAConfig
from tests.fixtures import CustomMetric, make_custom_classes_experiment
from tests.servers import PASSWORD, Server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _broken_url(server: Server, failure: str) -> str:
    url = make_url(server.url)
    if failure == "wrong_port":
        url = url.set(port=_closed_port())
    elif failure == "wrong_password":
        url = url.set(password=PASSWORD + "-wrong")
    else:
        url = url.set(database="no_such_database")
    return url.render_as_string(hide_password=False)


FAILURES = ["wrong_port", "wrong_password", "wrong_database"]


@pytest.fixture(params=["mariadb", "postgresql"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
async def unreachable(server: Server, request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    db.init_engine_and_session_factory(url=_broken_url(server, request.param), force_init=True)
    yield server
    await db.dispose_engine()


async def _connection_error() -> DatabaseConnectionError:
    with pytest.raises(DatabaseConnectionError) as info:
        await list_experiments()
    return info.value


@pytest.mark.parametrize("unreachable", FAILURES, indirect=True)
async def test_unreachable_database_error_names_host_and_database(unreachable: Server) -> None:
    err = await _connection_error()
    assert (err.host, unreachable.host in str(err)) == (unreachable.host, True)


@pytest.mark.parametrize("unreachable", FAILURES, indirect=True)
async def test_unreachable_database_error_never_shows_the_password(unreachable: Server) -> None:
    err = await _connection_error()
    shown = "".join(traceback.format_exception(err)) + repr(err) + repr(db.get_engine())
    assert PASSWORD not in shown


async def test_unopenable_sqlite_file_is_a_connection_error(tmp_path: Path) -> None:
    db.init_engine_and_session_factory(
        url=f"sqlite+aiosqlite:///{tmp_path}/missing_dir/x.db", force_init=True
    )
    before = set(threading.enumerate())
    try:
        with pytest.raises(DatabaseConnectionError, match=r"x\.db"):
            await list_experiments()
    finally:
        await db.dispose_engine()
        # aiosqlite stops a connection that failed to open without waiting for its thread,
        # which then reports to this test's loop: let it finish before the loop is closed
        # (else it fails in a later test, "Event loop is closed").
        for thread in set(threading.enumerate()) - before:
            thread.join(timeout=5)


@pytest.fixture
async def no_tables(db_url: str) -> AsyncIterator[str]:
    db.init_engine_and_session_factory(url=db_url, force_init=True)
    yield db_url
    await db.dispose_engine()


async def test_load_without_tables_says_to_run_init_db(no_tables: str) -> None:
    with pytest.raises(TablesMissingError, match="aestore init-db"):
        await load_experiment("anything")


async def test_save_without_tables_says_to_run_init_db(no_tables: str) -> None:
    with pytest.raises(TablesMissingError, match="aestore init-db"):
        await save_experiment(make_experiment(num_trials=1))


async def test_save_before_init_raises() -> None:
    await db.dispose_engine()
    with pytest.raises(EngineNotInitializedError, match="init_engine_and_session_factory"):
        await save_experiment(make_experiment(num_trials=1))


async def test_missing_experiment_error_names_it(store: str) -> None:
    with pytest.raises(ExperimentNotFoundError, match="nope"):
        await load_experiment("nope")


async def test_unregistered_metric_class_is_an_error_at_save(store: str) -> None:
    with pytest.raises(UnregisteredClassError, match=r"CustomMetric.*MetricRegistry"):
        await save_experiment(make_custom_classes_experiment())


async def test_unknown_metric_type_on_load_names_id_and_experiment(
    store: str, config: SQAConfig
) -> None:
    await save_experiment(make_custom_classes_experiment(), config)
    other = SQAConfig(
        metric_registry=MetricRegistry(class_to_type={CustomMetric: 7}),
        runner_registry=config.runner_registry,
    )
    with pytest.raises(SQADecodeError, match=r"custom_classes.*type 0"):
        await load_experiment("custom_classes", other)


class UnreadableMetric(Metric):
    """Keeps its argument under another name: it could not be rebuilt on load."""

    def __init__(self, name: str, source: str) -> None:
        super().__init__(name)
        self._source = source


async def test_metric_field_that_cannot_be_read_back_is_an_error_at_save(store: str) -> None:
    experiment = make_experiment(num_trials=0)
    experiment.optimization_config = OptimizationConfig(Objective(UnreadableMetric("m", "db")))
    config = SQAConfig(metric_registry=MetricRegistry(class_to_type={UnreadableMetric: 1}))
    with pytest.raises(SQAEncodeError, match="source"):
        await save_experiment(experiment, config)


async def test_experiment_type_without_enum_is_an_error_at_save(store: str) -> None:
    with pytest.raises(SQAEncodeError, match="experiment_type_enum"):
        await save_experiment(make_multi_objective_experiment())


async def test_experiment_type_missing_from_enum_is_an_error_at_save(
    store: str, config: SQAConfig
) -> None:
    experiment = make_experiment(num_trials=0)
    experiment.experiment_type = "ONLINE"
    with pytest.raises(SQAEncodeError, match="ONLINE"):
        await save_experiment(experiment, config)


async def test_failed_save_writes_nothing(store: str) -> None:
    with pytest.raises(UnregisteredClassError):
        await save_experiment(make_custom_classes_experiment())
    assert await list_experiments() == []
