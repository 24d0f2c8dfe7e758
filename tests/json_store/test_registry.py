"""The JSON registries: plain dicts backed by one copyable JSONRegistry, and register_class."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from enum import Enum
from typing import Any

import orjson
import pytest

import aestore.core
from aestore.core import BaseTrial, Experiment, Metric, Objective, OptimizationConfig, Runner
from aestore.exceptions import JSONDecodeError, JSONEncodeError, RegistryError
from aestore.samples import make_experiment
from aestore.storage.json_store import registry as registry_module
from aestore.storage.json_store.decoder import experiment_from_document, object_from_json
from aestore.storage.json_store.encoder import dumps, experiment_to_document, object_to_json
from aestore.storage.json_store.registry import (
    CLASS_DECODER_REGISTRY,
    CLASS_ENCODER_REGISTRY,
    DECODER_REGISTRY,
    DEFAULT_REGISTRY,
    ENCODER_REGISTRY,
    JSONRegistry,
    constructor_to_dict,
    register_class,
    unregister_class,
)
from tests.fixtures import CustomMetric, CustomRunner

CORE_CLASSES = sorted(
    (
        cls
        for cls in (getattr(aestore.core, name) for name in aestore.core.__all__)
        if isinstance(cls, type) and not inspect.isabstract(cls) and cls is not BaseTrial
    ),
    key=lambda cls: cls.__name__,
)


def round_trip(obj: Any, registry: JSONRegistry) -> Any:
    document = dumps(obj, registry.encoders, registry.class_encoders)
    return object_from_json(orjson.loads(document), registry.decoders, registry.class_decoders)


@pytest.fixture
def registry() -> JSONRegistry:
    return DEFAULT_REGISTRY.copy()


@pytest.fixture
def globals_unchanged() -> Iterator[None]:
    """Fail a test that leaves the global registries changed (and restore them)."""
    encoders, decoders = dict(ENCODER_REGISTRY), dict(DECODER_REGISTRY)
    yield
    changed = (encoders, decoders) != (ENCODER_REGISTRY, DECODER_REGISTRY)
    ENCODER_REGISTRY.clear()
    ENCODER_REGISTRY.update(encoders)
    DECODER_REGISTRY.clear()
    DECODER_REGISTRY.update(decoders)
    assert not changed, "the test changed the global registries"


# --- the globals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["ENCODER_REGISTRY", "DECODER_REGISTRY", "CLASS_ENCODER_REGISTRY", "CLASS_DECODER_REGISTRY"],
)
def test_global_registries_are_plain_dicts(name: str) -> None:
    assert type(getattr(registry_module, name)) is dict


def test_global_registries_are_the_default_registrys_dicts() -> None:
    assert ENCODER_REGISTRY is DEFAULT_REGISTRY.encoders
    assert DECODER_REGISTRY is DEFAULT_REGISTRY.decoders
    assert CLASS_ENCODER_REGISTRY is DEFAULT_REGISTRY.class_encoders
    assert CLASS_DECODER_REGISTRY is DEFAULT_REGISTRY.class_decoders


@pytest.mark.parametrize("cls", CORE_CLASSES, ids=lambda cls: cls.__name__)
def test_every_model_class_is_registered_both_ways(cls: type) -> None:
    assert cls in ENCODER_REGISTRY
    assert DECODER_REGISTRY[cls.__name__] is cls


def test_the_model_classes_cover_the_spec_names() -> None:
    names = {cls.__name__ for cls in CORE_CLASSES}
    assert {"Experiment", "Trial", "BatchTrial", "AbandonedArm", "GeneratorRunStruct"} <= names
    assert {"TrialStatus", "ParameterType", "ComparisonOp", "GeneratorRunType"} <= names


@pytest.mark.parametrize("cls", [Metric, Runner], ids=lambda cls: cls.__name__)
def test_metric_and_runner_classes_can_be_stored_by_name(cls: type) -> None:
    assert cls in CLASS_ENCODER_REGISTRY
    assert f"Type[{cls.__name__}]" in CLASS_DECODER_REGISTRY


# --- copies ----------------------------------------------------------------------------------


def test_copy_has_new_dicts_with_the_same_entries(registry: JSONRegistry) -> None:
    assert registry.encoders is not ENCODER_REGISTRY
    assert registry.decoders is not DECODER_REGISTRY
    assert (registry.encoders, registry.decoders) == (ENCODER_REGISTRY, DECODER_REGISTRY)


def test_registering_in_a_copy_leaves_the_globals_alone(
    registry: JSONRegistry, globals_unchanged: None
) -> None:
    registry.register_class(CustomMetric)
    assert CustomMetric in registry.encoders
    assert CustomMetric not in ENCODER_REGISTRY
    assert "CustomMetric" not in DECODER_REGISTRY


def test_copy_of_a_copy_is_independent(registry: JSONRegistry) -> None:
    registry.register_class(CustomMetric)
    second = registry.copy()
    second.unregister_class(CustomMetric)
    assert CustomMetric in registry.encoders
    assert CustomMetric not in second.encoders


# --- register_class --------------------------------------------------------------------------


def test_register_class_as_a_function_returns_the_class(registry: JSONRegistry) -> None:
    result = register_class(
        CustomRunner, encoder_registry=registry.encoders, decoder_registry=registry.decoders
    )
    assert result is CustomRunner
    assert registry.decoders["CustomRunner"] is CustomRunner


def test_register_class_as_a_decorator(registry: JSONRegistry, globals_unchanged: None) -> None:
    @register_class(encoder_registry=registry.encoders, decoder_registry=registry.decoders)
    class QueueRunner(Runner):
        def __init__(self, queue: str, priority: int = 0) -> None:
            self.queue = queue
            self.priority = priority

    loaded = round_trip(QueueRunner("gpu", priority=2), registry)
    assert (type(loaded), loaded.queue, loaded.priority) == (QueueRunner, "gpu", 2)


def test_registry_method_works_as_a_decorator(registry: JSONRegistry) -> None:
    @registry.register_class
    class Tiny(Runner):
        def __init__(self, size: int) -> None:
            self.size = size

    assert round_trip(Tiny(3), registry).size == 3


def test_bare_decorator_registers_globally_and_unregisters(globals_unchanged: None) -> None:
    @register_class
    class GlobalRunner(Runner):
        def __init__(self, host: str) -> None:
            self.host = host

    try:
        assert DECODER_REGISTRY["GlobalRunner"] is GlobalRunner
        loaded = object_from_json(orjson.loads(dumps(GlobalRunner("h"))))
        assert loaded.host == "h"
    finally:
        unregister_class(GlobalRunner)
    assert GlobalRunner not in ENCODER_REGISTRY and "GlobalRunner" not in DECODER_REGISTRY


def test_constructor_to_dict_reads_constructor_arguments() -> None:
    to_dict = constructor_to_dict(CustomMetric)
    metric = CustomMetric("ctr", dataset="clicks", window_days=3, properties={"a": 1})
    assert to_dict(metric) == {
        "__type": "CustomMetric",
        "name": "ctr",
        "dataset": "clicks",
        "window_days": 3,
        "lower_is_better": None,
        "properties": {"a": 1},
    }


def test_constructor_to_dict_falls_back_to_the_private_attribute() -> None:
    class Named(Runner):
        def __init__(self, label: str) -> None:
            self._label = label

        @property
        def label(self) -> str:
            raise AttributeError("write-only")

    assert constructor_to_dict(Named)(Named("x")) == {"__type": "Named", "label": "x"}


def test_constructor_to_dict_without_the_attribute_fails_clearly(registry: JSONRegistry) -> None:
    class Forgetful(Runner):
        def __init__(self, secret: str) -> None:
            self.other = secret

    registry.register_class(Forgetful)
    with pytest.raises(JSONEncodeError, match="'secret'") as caught:
        object_to_json(Forgetful("s"), registry.encoders)
    assert caught.value.cls is Forgetful


def test_registered_custom_metric_round_trips_with_its_fields(registry: JSONRegistry) -> None:
    registry.register_class(CustomMetric)
    metric = CustomMetric("ctr", dataset="clicks", window_days=9, properties={"x": [1.0]})
    loaded = round_trip(metric, registry)
    assert type(loaded) is CustomMetric
    assert loaded == metric


def test_custom_to_dict_and_factory_function(registry: JSONRegistry) -> None:
    def to_dict(metric: CustomMetric) -> dict[str, Any]:
        return {"__type": "CustomMetric", "n": metric.name, "d": metric.dataset}

    def from_fields(n: str, d: str) -> CustomMetric:
        return CustomMetric(n, dataset=d, window_days=1)

    registry.register_class(CustomMetric, to_dict=to_dict, from_dict=from_fields)
    loaded = round_trip(CustomMetric("m", dataset="ds", window_days=1), registry)
    assert (type(loaded), loaded.name, loaded.dataset) == (CustomMetric, "m", "ds")


def test_stored_fields_beyond_the_constructor_are_restored(registry: JSONRegistry) -> None:
    class Counter(Runner):
        def __init__(self, start: int) -> None:
            self.start = start
            self.count = start

    registry.register_class(
        Counter, to_dict=lambda c: {"__type": "Counter", "start": c.start, "count": c.count}
    )
    counter = Counter(1)
    counter.count = 5
    loaded = round_trip(counter, registry)
    assert (loaded.start, loaded.count) == (1, 5)


def test_constructor_error_becomes_a_decode_error(registry: JSONRegistry) -> None:
    registry.register_class(CustomMetric)
    document = {"__type": "CustomMetric", "name": "m"}  # dataset is missing
    with pytest.raises(JSONDecodeError, match="Could not rebuild CustomMetric"):
        object_from_json({"metric": document}, registry.decoders)


def test_registered_enum_is_stored_by_name(registry: JSONRegistry) -> None:
    class Mode(Enum):
        FAST = "f"
        SLOW = "s"

    registry.register_class(Mode)
    assert orjson.loads(dumps(Mode.SLOW, registry.encoders)) == {"__type": "Mode", "name": "SLOW"}
    assert round_trip([Mode.FAST], registry) == [Mode.FAST]


def test_name_taken_by_another_class_is_refused(registry: JSONRegistry) -> None:
    class Metric(aestore.core.Metric):  # same name as the model's Metric
        pass

    with pytest.raises(RegistryError, match="already registered"):
        registry.register_class(Metric)


@pytest.mark.parametrize("name", ["float", "tuple", "dict", "datetime", "date"])
def test_format_tag_names_are_refused(registry: JSONRegistry, name: str) -> None:
    cls = type(name, (Runner,), {})
    with pytest.raises(RegistryError, match="tag of the JSON format"):
        registry.register_class(cls)


def test_registering_a_non_class_is_refused(registry: JSONRegistry) -> None:
    with pytest.raises(RegistryError, match="needs a class"):
        registry.register_class(CustomMetric("m", dataset="d"))  # type: ignore[call-overload]


def test_registering_the_same_class_twice_is_allowed(registry: JSONRegistry) -> None:
    registry.register_class(CustomRunner)
    registry.register_class(CustomRunner)
    assert registry.decoders["CustomRunner"] is CustomRunner


def test_unregister_class_removes_both_entries(registry: JSONRegistry) -> None:
    registry.register_class(CustomRunner)
    registry.unregister_class(CustomRunner)
    assert CustomRunner not in registry.encoders
    assert "CustomRunner" not in registry.decoders


def test_unregistered_class_cannot_be_encoded_again(registry: JSONRegistry) -> None:
    registry.register_class(CustomRunner)
    registry.unregister_class(CustomRunner)
    with pytest.raises(JSONEncodeError, match="CustomRunner"):
        dumps(CustomRunner("e"), registry.encoders)


# --- registries passed to the document functions ---------------------------------------------


def test_experiment_with_user_classes_round_trips_through_a_copy(
    registry: JSONRegistry, globals_unchanged: None
) -> None:
    registry.register_class(CustomMetric)
    registry.register_class(CustomRunner)
    experiment = make_experiment(2)
    experiment.optimization_config = OptimizationConfig(Objective(CustomMetric("ctr", dataset="c")))
    experiment.runner = CustomRunner("https://x")
    document = experiment_to_document(experiment, registry.encoders, registry.class_encoders)
    loaded = experiment_from_document(document, registry.decoders, registry.class_decoders)
    assert loaded == experiment


def test_users_experiment_encoder_still_gets_a_format_version(registry: JSONRegistry) -> None:
    def experiment_without_version(experiment: Experiment) -> dict[str, Any]:
        fields = ENCODER_REGISTRY[Experiment](experiment)
        del fields["format_version"]
        return fields

    registry.encoders[Experiment] = experiment_without_version
    experiment = make_experiment(1)
    document = experiment_to_document(experiment, registry.encoders)
    assert orjson.loads(document)["format_version"] == 1
    assert experiment_from_document(document) == experiment


def test_runner_that_is_no_runner_subclass_round_trips(registry: JSONRegistry) -> None:
    """The model takes any object as a runner, so the decoder does too."""

    class Deployer:
        def __init__(self, cluster: str) -> None:
            self.cluster = cluster

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Deployer) and other.cluster == self.cluster

        __hash__ = None  # type: ignore[assignment]

    registry.register_class(Deployer)
    experiment = make_experiment(1)
    experiment.runner = Deployer("eu")  # type: ignore[assignment]
    experiment.trials[0].runner = Deployer("us")  # type: ignore[assignment]
    document = experiment_to_document(experiment, registry.encoders)
    assert experiment_from_document(document, registry.decoders) == experiment
