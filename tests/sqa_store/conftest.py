"""Fixtures of the SQL store tests: an initialised engine with tables, and a full config."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

import pytest
from sqlalchemy import event

from aestore.metrics.registry import MetricRegistry
from aestore.runners.registry import RunnerRegistry
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.sqa_config import SQAConfig
from tests.fixtures import CustomMetric, CustomRunner


class ExperimentType(Enum):
    DEFAULT = 0
    OFFLINE = 1


def full_config() -> SQAConfig:
    """A config that stores every sample experiment (custom classes, experiment types)."""
    return SQAConfig(
        metric_registry=MetricRegistry(class_to_type={CustomMetric: 0}),
        runner_registry=RunnerRegistry(class_to_type={CustomRunner: 0}),
        experiment_type_enum=ExperimentType,
    )


@pytest.fixture
def config() -> SQAConfig:
    return full_config()


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[str]:
    """An initialised engine on an empty database with aestore's tables."""
    db.init_engine_and_session_factory(url=db_url, force_init=True)
    await db.create_all_tables()
    yield db_url
    await db.dispose_engine()


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """Collect the SQL statements run on the current engine (executemany counts once)."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def writes(statements: list[str]) -> list[str]:
    """The statements that change data."""
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [s for s in statements if s.lstrip().upper().startswith(verbs)]


Builder = Callable[[], Any]
