"""Fixtures of the SQL store tests: an initialised engine with tables, and a full config."""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import Enum

import pytest

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
