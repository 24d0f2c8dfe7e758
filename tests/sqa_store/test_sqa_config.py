"""SQAConfig, its enums and the Metric/Runner registries: mistakes are caught at construction."""

from __future__ import annotations

from enum import Enum

import pytest

from aestore.core import Metric, Runner
from aestore.exceptions import SQAConfigError, UnregisteredClassError
from aestore.metrics.registry import MetricRegistry
from aestore.runners.registry import RunnerRegistry
from aestore.storage.sqa_store.sqa_config import SQAConfig


class MyMetric(Metric): ...


class OtherMetric(Metric): ...


class MyRunner(Runner): ...


def test_spec_metric_registry_example_builds_a_config() -> None:
    config = SQAConfig(metric_registry=MetricRegistry(class_to_type={MyMetric: 0}))
    assert config.metric_registry.type_of(MyMetric("m")) == 0


def test_builtin_metric_is_stored_without_a_type_id() -> None:
    registry = MetricRegistry(class_to_type={MyMetric: 0})
    assert registry.type_of(Metric("m")) is None


def test_runner_registry_maps_user_id_back_to_class() -> None:
    assert RunnerRegistry(class_to_type={MyRunner: 5}).class_for(5) is MyRunner


def test_two_classes_on_one_id_is_an_error() -> None:
    with pytest.raises(SQAConfigError, match="both given type 0"):
        MetricRegistry(class_to_type={MyMetric: 0, OtherMetric: 0})


def test_registering_the_builtin_class_is_an_error() -> None:
    with pytest.raises(SQAConfigError, match="built-in"):
        MetricRegistry(class_to_type={Metric: 0})


@pytest.mark.parametrize("type_id", ["0", 1.0, True], ids=["str", "float", "bool"])
def test_non_int_type_id_is_an_error(type_id: object) -> None:
    with pytest.raises(SQAConfigError, match="must be an int"):
        MetricRegistry(class_to_type={MyMetric: type_id})  # type: ignore[dict-item]


def test_unregistered_subclass_error_says_how_to_register() -> None:
    with pytest.raises(UnregisteredClassError, match="metric_registry"):
        MetricRegistry().type_of(MyMetric("m"))


def test_enum_without_members_is_an_error_at_config() -> None:
    class ExperimentType(Enum):
        DEFAULT: 0  # the spec's slip: an annotation, not a member

    with pytest.raises(SQAConfigError, match="DEFAULT = 0"):
        SQAConfig(experiment_type_enum=ExperimentType)


def test_generator_run_enum_without_members_is_an_error_at_config() -> None:
    class GeneratorRunType(Enum):
        DEFAULT: 0
        STATUS_QUO: 1

    with pytest.raises(SQAConfigError, match="no members"):
        SQAConfig(generator_run_type_enum=GeneratorRunType)


def test_enum_with_non_int_values_is_an_error_at_config() -> None:
    class ExperimentType(Enum):
        DEFAULT = "default"

    with pytest.raises(SQAConfigError, match="must be ints"):
        SQAConfig(experiment_type_enum=ExperimentType)


def test_default_generator_run_types_include_status_quo() -> None:
    assert SQAConfig().generator_run_types.to_int("STATUS_QUO", "run") == 0
