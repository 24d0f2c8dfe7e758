"""Encoding an unknown class and decoding a bad document raise aestore's own errors, with the
class, the path inside the document and the fix; no KeyError, TypeError or orjson error escapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from aestore.core import Experiment, Metric, Objective, OptimizationConfig
from aestore.exceptions import (
    AestoreError,
    JSONDecodeError,
    JSONEncodeError,
    UnsupportedFormatVersionError,
)
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.json_store.decoder import experiment_from_document, object_from_json
from aestore.storage.json_store.encoder import dumps, experiment_to_document, object_to_json
from aestore.storage.json_store.registry import DEFAULT_REGISTRY
from tests.fixtures import CustomMetric, CustomRunner, make_custom_classes_experiment

ENCODERS: dict[str, Callable[..., Any]] = {
    "reference": object_to_json,
    "fast": dumps,
    "document": experiment_to_document,
}


def experiment_with_custom_metric() -> Experiment:
    experiment = make_experiment(1)
    experiment.optimization_config = OptimizationConfig(
        Objective(CustomMetric("ctr", dataset="clicks"))
    )
    return experiment


# --- encoding --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_unregistered_class_raises_json_encode_error(encoder: str) -> None:
    with pytest.raises(JSONEncodeError) as caught:
        ENCODERS[encoder](experiment_with_custom_metric())
    assert caught.value.cls is CustomMetric


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_unregistered_class_error_says_how_to_register(encoder: str) -> None:
    with pytest.raises(JSONEncodeError) as caught:
        ENCODERS[encoder](experiment_with_custom_metric())
    message = str(caught.value)
    assert "tests.fixtures.CustomMetric" in message
    assert "ENCODER_REGISTRY[CustomMetric] = custom_metric_to_dict" in message
    assert 'DECODER_REGISTRY["CustomMetric"] = CustomMetric' in message
    assert "register_class(CustomMetric)" in message


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_unregistered_class_error_has_the_path(encoder: str) -> None:
    with pytest.raises(JSONEncodeError) as caught:
        ENCODERS[encoder](experiment_with_custom_metric())
    assert caught.value.path == "optimization_config.objective.metric"
    assert "optimization_config.objective.metric" in str(caught.value)


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_subclass_of_registered_class_is_not_encoded_as_its_base(encoder: str) -> None:
    with pytest.raises(JSONEncodeError, match="subclasses Metric, which is registered"):
        ENCODERS[encoder](experiment_with_custom_metric())


@pytest.mark.parametrize("encoder", ["reference", "fast"])
def test_unregistered_object_deep_in_a_trial_has_its_path(encoder: str) -> None:
    experiment = make_experiment(4)
    experiment.trials[3].generator_runs[0].arms[0].parameters["x"] = object()
    with pytest.raises(JSONEncodeError) as caught:
        ENCODERS[encoder](experiment)
    assert caught.value.path == "trials.3.generator_run.arms.0.parameters.x"
    assert caught.value.cls is object


@pytest.mark.parametrize("encoder", ["reference", "fast"])
def test_to_dict_returning_no_dict_is_an_encode_error(encoder: str) -> None:
    registry = DEFAULT_REGISTRY.copy()
    not_a_dict = lambda metric: ["not", "a", "dict"]  # noqa: E731
    registry.register_class(CustomMetric, to_dict=not_a_dict)  # type: ignore[arg-type]
    with pytest.raises(JSONEncodeError, match='must return a dict with a "__type"'):
        ENCODERS[encoder](CustomMetric("m", dataset="d"), registry.encoders)


@pytest.mark.parametrize("encoder", ["reference", "fast"])
def test_to_dict_that_fails_is_an_encode_error_naming_the_class(encoder: str) -> None:
    class Broken(Metric):
        pass

    def broken_to_dict(metric: Broken) -> dict[str, Any]:
        raise RuntimeError("boom")

    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(Broken, to_dict=broken_to_dict)
    with pytest.raises(JSONEncodeError, match=r"Broken.*boom") as caught:
        ENCODERS[encoder]({"m": Broken("m")}, registry.encoders)
    assert caught.value.path == "m"
    assert isinstance(caught.value.__cause__, RuntimeError)


@pytest.mark.parametrize("encoder", ["reference", "fast"])
def test_to_dict_failing_at_the_top_level_is_an_encode_error(encoder: str) -> None:
    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(CustomRunner, to_dict=lambda runner: 1 / 0)  # type: ignore[arg-type, return-value]
    with pytest.raises(JSONEncodeError, match=r"CustomRunner.*ZeroDivisionError"):
        ENCODERS[encoder](CustomRunner("e"), registry.encoders)


def test_document_of_a_non_experiment_is_an_encode_error() -> None:
    with pytest.raises(JSONEncodeError, match="needs an Experiment"):
        experiment_to_document(Metric("m"))  # type: ignore[arg-type]


def test_unencodable_string_is_an_encode_error_from_orjson() -> None:
    with pytest.raises(JSONEncodeError) as caught:
        dumps({"s": "\ud800"})
    assert isinstance(caught.value.__cause__, orjson.JSONEncodeError)


# --- decoding: input that is not a document --------------------------------------------------


@pytest.fixture(scope="module")
def document() -> bytes:
    return experiment_to_document(make_batch_experiment())


BAD_INPUTS = {
    "empty": b"",
    "whitespace": b"  \n",
    "not-json": b"this is not json",
    "list": b"[1, 2]",
    "number": b"5",
    "null": b"null",
    "object-without-type": b'{"name": "x"}',
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_input_that_is_no_document_raises_json_decode_error(name: str) -> None:
    with pytest.raises(JSONDecodeError) as caught:
        experiment_from_document(BAD_INPUTS[name], filepath="exp.json")
    assert caught.value.filepath == "exp.json"
    assert "exp.json" in str(caught.value)


def test_empty_input_says_it_is_empty() -> None:
    with pytest.raises(JSONDecodeError, match="empty"):
        experiment_from_document(b"")


def test_non_json_error_is_translated_from_orjson() -> None:
    with pytest.raises(JSONDecodeError) as caught:
        experiment_from_document(b"{nope")
    assert isinstance(caught.value.__cause__, orjson.JSONDecodeError)


@pytest.mark.parametrize("cut", [1, 10, 100, 1000, -1], ids=lambda n: f"cut-{n}")
def test_truncated_document_raises_json_decode_error(document: bytes, cut: int) -> None:
    with pytest.raises(JSONDecodeError, match="truncated"):
        experiment_from_document(document[:cut])


def test_document_of_another_object_is_not_an_experiment_document() -> None:
    arm_document = dumps(make_experiment(1).trials[0].generator_runs[0].arms[0])
    with pytest.raises(JSONDecodeError, match="not an Experiment"):
        experiment_from_document(arm_document)


# --- decoding: documents with wrong contents -------------------------------------------------


def mutated(document: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    parsed = orjson.loads(document)
    change(parsed)
    return orjson.dumps(parsed)


def test_newer_format_version_raises_unsupported_format_version_error(document: bytes) -> None:
    newer = mutated(document, lambda d: d.update(format_version=2))
    with pytest.raises(UnsupportedFormatVersionError, match="upgrade aestore") as caught:
        experiment_from_document(newer, filepath="new.json")
    assert (caught.value.path, caught.value.filepath) == ("format_version", "new.json")


def test_newer_format_version_is_refused_by_object_from_json_too(document: bytes) -> None:
    parsed = orjson.loads(document)
    parsed["format_version"] = 99
    with pytest.raises(UnsupportedFormatVersionError):
        object_from_json(parsed)


def test_newer_version_is_reported_before_unknown_types(document: bytes) -> None:
    def future(d: dict[str, Any]) -> None:
        d.update(format_version=3, __type="ExperimentV3")

    with pytest.raises(UnsupportedFormatVersionError):
        experiment_from_document(mutated(document, future))


def test_bare_experiment_type_is_missing_required_fields() -> None:
    with pytest.raises(JSONDecodeError, match="missing the required field 'format_version'"):
        experiment_from_document(b'{"__type": "Experiment"}')


WRONG_FIELDS: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    # name: (change, expected path, expected message part)
    "trials-number": (lambda d: d.update(trials=5), "trials", "expected a list"),
    "trials-item-number": (lambda d: d.update(trials=[5]), "trials.0", "expected a trial"),
    "name-number": (lambda d: d.update(name=5), "name", "expected a string"),
    "format-version-text": (
        lambda d: d.update(format_version="1"),
        "format_version",
        "not a format version",
    ),
    "properties-list": (lambda d: d.update(properties=[1]), "properties", "expected an object"),
    "search-space-null": (lambda d: d.update(search_space=None), "search_space", "SearchSpace"),
    "trial-index-text": (
        lambda d: d["trials"][1].update(index="1"),
        "trials.1.index",
        "expected an integer",
    ),
    "trial-status-unknown": (
        lambda d: d["trials"][1].update(status="DONE"),
        "trials.1.status",
        "not a TrialStatus",
    ),
    "trial-time-garbage": (
        lambda d: d["trials"][1].update(time_created="yesterday"),
        "trials.1",
        "yesterday",
    ),
    "arm-parameters-list": (
        lambda d: d["trials"][2]["generator_run"]["arms"][0].update(parameters=[1]),
        "trials.2.generator_run.arms.0.parameters",
        "expected an object",
    ),
    "arm-name-number": (
        lambda d: d["trials"][2]["generator_run"]["arms"][0].update(name=3),
        "trials.2.generator_run.arms.0.name",
        "expected a string",
    ),
    "weights-too-few": (
        lambda d: d["trials"][2]["generator_run"].update(weights=[]),
        "trials.2.generator_run.weights",
        "1 arms but 0 weights",
    ),
    "float-tag-bad": (
        lambda d: d["properties"].update(x={"__type": "float", "value": "big"}),
        "properties.x.value",
        "nan",
    ),
    "data-column-short": (
        lambda d: d["data_by_trial"]["columns"]["mean"].pop(),
        "data_by_trial.columns.mean",
        "as many values",
    ),
    "data-unknown-trial": (
        lambda d: d["data_by_trial"]["trial_index"].__setitem__(0, 42),
        "data_by_trial.trial_index",
        "no trial with index 42",
    ),
    "type-not-a-string": (
        lambda d: d["trials"][0].update(__type=["Trial"]),
        "trials.0.__type",
        "must be a string",
    ),
}


@pytest.mark.parametrize("name", list(WRONG_FIELDS))
def test_wrong_field_raises_json_decode_error_with_path(document: bytes, name: str) -> None:
    change, path, message = WRONG_FIELDS[name]
    with pytest.raises(JSONDecodeError) as caught:
        experiment_from_document(mutated(document, change))
    assert caught.value.path == path
    assert message.lower() in str(caught.value).lower()


TRIAL_FIELDS = [
    "index",
    "status",
    "run_metadata",
    "time_created",
    "time_completed",
    "generator_run_structs",
    "status_quo_weight",
]


@pytest.mark.parametrize("field", TRIAL_FIELDS)
def test_missing_trial_field_raises_json_decode_error(document: bytes, field: str) -> None:
    with pytest.raises(JSONDecodeError, match=f"missing the required field '{field}'") as caught:
        experiment_from_document(mutated(document, lambda d: d["trials"][0].pop(field)))
    assert caught.value.path == "trials.0"
    assert isinstance(caught.value.__cause__, KeyError)


@pytest.mark.parametrize(
    "field", ["name", "trials", "search_space", "data_by_trial", "time_created"]
)
def test_missing_experiment_field_raises_json_decode_error(document: bytes, field: str) -> None:
    with pytest.raises(JSONDecodeError, match=f"missing the required field '{field}'"):
        experiment_from_document(mutated(document, lambda d: d.pop(field)))


def test_decode_errors_are_aestore_errors_and_value_errors(document: bytes) -> None:
    with pytest.raises(AestoreError) as caught:
        experiment_from_document(document[:50])
    assert isinstance(caught.value, ValueError)


# --- decoding: unknown __type ----------------------------------------------------------------


def test_unknown_type_names_the_type_the_path_and_the_fix() -> None:
    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(CustomMetric)
    registry.register_class(CustomRunner)
    document = experiment_to_document(make_custom_classes_experiment(), registry.encoders)
    with pytest.raises(JSONDecodeError) as caught:
        experiment_from_document(document, filepath="custom.json")
    message = str(caught.value)
    assert "'CustomMetric'" in message
    assert "register_class(CustomMetric)" in message
    assert 'DECODER_REGISTRY["CustomMetric"] = CustomMetric' in message
    assert caught.value.path == "optimization_config.objective.metric"


def test_unknown_type_deep_in_a_trial_has_its_path(document: bytes) -> None:
    def rename(d: dict[str, Any]) -> None:
        d["trials"][2]["generator_run"]["arms"][0]["__type"] = "Bogus"

    parsed = orjson.loads(document)
    parsed["trials"].extend(orjson.loads(experiment_to_document(make_experiment(4)))["trials"])
    with pytest.raises(JSONDecodeError, match="Unknown __type 'Bogus'") as caught:
        experiment_from_document(mutated(orjson.dumps(parsed), rename))
    assert caught.value.path == "trials.2.generator_run.arms.0"


def test_unknown_type_in_free_form_value_has_its_path() -> None:
    with pytest.raises(JSONDecodeError) as caught:
        object_from_json({"a": [1, {"b": {"__type": "Nope"}}]})
    assert caught.value.path == "a.1.b"
