"""The JSON codec round-trips every sample experiment, and both encoders write one document."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from aestore.core import (
    Arm,
    BatchTrial,
    Data,
    Experiment,
    GeneratorRun,
    Metric,
    Objective,
    OptimizationConfig,
)
from aestore.exceptions import JSONDecodeError
from aestore.samples import make_batch_experiment, make_experiment, make_nonfinite_experiment
from aestore.storage.json_store.decoder import experiment_from_document, object_from_json
from aestore.storage.json_store.encoder import dumps, experiment_to_document, object_to_json
from aestore.storage.json_store.format import FORMAT_VERSION
from aestore.storage.json_store.registry import (
    DECODER_REGISTRY,
    ENCODER_REGISTRY,
    JSONRegistry,
)
from tests.fixtures import ALL_SAMPLES, CustomMetric

SAMPLE_IDS = sorted(ALL_SAMPLES)


def encode(experiment: Experiment, registry: JSONRegistry) -> bytes:
    return experiment_to_document(experiment, registry.encoders, registry.class_encoders)


def decode(document: bytes, registry: JSONRegistry) -> Experiment:
    return experiment_from_document(document, registry.decoders, registry.class_decoders)


def reference(obj: Any, registry: JSONRegistry) -> Any:
    return object_to_json(obj, registry.encoders, registry.class_encoders)


@pytest.mark.parametrize("sample", SAMPLE_IDS)
def test_document_round_trip_equals_original(sample: str, registry: JSONRegistry) -> None:
    experiment = ALL_SAMPLES[sample]()
    assert decode(encode(experiment, registry), registry) == experiment


@pytest.mark.parametrize("sample", SAMPLE_IDS)
def test_reference_round_trip_equals_original(sample: str, registry: JSONRegistry) -> None:
    experiment = ALL_SAMPLES[sample]()
    loaded = object_from_json(
        reference(experiment, registry), registry.decoders, registry.class_decoders
    )
    assert loaded == experiment


@pytest.mark.parametrize("sample", SAMPLE_IDS)
def test_fast_path_writes_the_reference_document(sample: str, registry: JSONRegistry) -> None:
    experiment = ALL_SAMPLES[sample]()
    expected = orjson.dumps(reference(experiment, registry))
    assert dumps(experiment, registry.encoders, registry.class_encoders) == expected


@pytest.mark.parametrize("sample", SAMPLE_IDS)
def test_document_is_the_fast_path_output(sample: str, registry: JSONRegistry) -> None:
    experiment = ALL_SAMPLES[sample]()
    assert encode(experiment, registry) == dumps(
        experiment, registry.encoders, registry.class_encoders
    )


@pytest.mark.parametrize("sample", SAMPLE_IDS)
def test_document_starts_with_type_and_format_version(sample: str, registry: JSONRegistry) -> None:
    document = orjson.loads(encode(ALL_SAMPLES[sample](), registry))
    assert list(document)[:2] == ["__type", "format_version"]
    assert (document["__type"], document["format_version"]) == ("Experiment", FORMAT_VERSION)


@pytest.mark.parametrize("sample", SAMPLE_IDS)
def test_loaded_trials_belong_to_the_loaded_experiment(sample: str, registry: JSONRegistry) -> None:
    loaded = decode(encode(ALL_SAMPLES[sample](), registry), registry)
    assert all(trial.experiment is loaded for trial in loaded.trials.values())


@pytest.mark.parametrize("sample", SAMPLE_IDS)
def test_loaded_trials_are_keyed_by_their_index(sample: str, registry: JSONRegistry) -> None:
    experiment = ALL_SAMPLES[sample]()
    loaded = decode(encode(experiment, registry), registry)
    assert [(key, trial.index) for key, trial in loaded.trials.items()] == [
        (key, trial.index) for key, trial in experiment.trials.items()
    ]


@pytest.mark.parametrize("sample", SAMPLE_IDS)
def test_loaded_arm_indexes_are_rebuilt(sample: str, registry: JSONRegistry) -> None:
    experiment = ALL_SAMPLES[sample]()
    loaded = decode(encode(experiment, registry), registry)
    assert loaded.arms_by_name == experiment.arms_by_name
    index = loaded._signature_index()
    assert index.keys() == experiment._signature_index().keys()
    for signature, arm in index.items():
        assert arm.signature == signature
        assert loaded.arms_by_name[arm.name or ""] is arm


def test_loaded_arms_by_name_hold_the_trial_arm_objects(registry: JSONRegistry) -> None:
    loaded = decode(encode(make_experiment(3), registry), registry)
    for trial in loaded.trials.values():
        arm = trial.arms[0]
        assert loaded.arms_by_name[arm.name or ""] is arm


def _second_trial_arm_renamed(parameters_of_first: bool) -> bytes:
    """A 2-trial document whose second trial's arm takes the first one's name."""
    document = orjson.loads(experiment_to_document(make_experiment(2)))
    first, second = (trial["generator_run"]["arms"][0] for trial in document["trials"])
    second["name"] = first["name"]
    if parameters_of_first:
        second["parameters"] = first["parameters"]
    return orjson.dumps(document)


def test_two_trials_sharing_an_arm_name_and_parameters_load_as_one_known_arm() -> None:
    loaded = experiment_from_document(_second_trial_arm_renamed(parameters_of_first=True))
    first, second = (trial.arms[0] for trial in loaded.trials.values())
    assert (first.name == second.name, list(loaded.arms_by_name)) == (True, [first.name])
    assert loaded.arms_by_name[first.name or ""] is first


def test_two_trials_sharing_an_arm_name_with_other_parameters_is_a_decode_error() -> None:
    with pytest.raises(JSONDecodeError, match="already used by an arm") as caught:
        experiment_from_document(_second_trial_arm_renamed(parameters_of_first=False))
    assert caught.value.path == "trials.1"


def test_arm_known_by_name_but_held_by_no_trial_round_trips(registry: JSONRegistry) -> None:
    experiment = make_experiment(1)
    experiment.status_quo = Arm({"x1": 0.1}, name="old_control")
    experiment.status_quo = Arm({"x1": 0.2}, name="control")
    loaded = decode(encode(experiment, registry), registry)
    assert loaded.arms_by_name["old_control"] == Arm({"x1": 0.1}, name="old_control")
    assert loaded == experiment


def test_new_trial_after_load_takes_the_next_index(registry: JSONRegistry) -> None:
    loaded = decode(encode(make_experiment(4), registry), registry)
    assert loaded.new_trial().index == 4


def test_arm_equal_to_a_loaded_one_reuses_its_name(registry: JSONRegistry) -> None:
    experiment = make_experiment(2)
    loaded = decode(encode(experiment, registry), registry)
    same = Arm(dict(experiment.trials[1].arms[0].parameters))
    trial = loaded.new_trial(GeneratorRun([same]))
    assert trial.arms[0].name == experiment.trials[1].arms[0].name


def test_creation_times_are_the_stored_ones(registry: JSONRegistry) -> None:
    experiment = make_batch_experiment()
    loaded = decode(encode(experiment, registry), registry)
    batch = loaded.trials[0]
    assert isinstance(batch, BatchTrial)
    assert loaded.time_created == experiment.time_created
    assert batch.time_created == experiment.trials[0].time_created
    assert (
        batch.generator_runs[0].time_created == experiment.trials[0].generator_runs[0].time_created
    )
    assert batch.abandoned_arms_metadata[0].time == (
        experiment.trials[0].abandoned_arms_metadata[0].time  # type: ignore[attr-defined]
    )


def test_batch_trial_keeps_status_quo_weights_and_abandoned_arms(registry: JSONRegistry) -> None:
    experiment = make_batch_experiment()
    batch = decode(encode(experiment, registry), registry).trials[0]
    original = experiment.trials[0]
    assert isinstance(batch, BatchTrial) and isinstance(original, BatchTrial)
    assert batch.status_quo == original.status_quo
    assert batch.status_quo_weight == 0.25
    assert batch.arm_weights == original.arm_weights
    assert [s.weight for s in batch.generator_run_structs] == [1.0, 0.5]
    assert batch.abandoned_arm_names == original.abandoned_arm_names
    assert batch.abandoned_arms_metadata[0].reason == "crashed on start"


def test_model_predictions_come_back_as_tuples(registry: JSONRegistry) -> None:
    experiment = make_nonfinite_experiment()
    run = decode(encode(experiment, registry), registry).trials[0].generator_runs[0]
    assert type(run.model_predictions) is tuple
    assert type(run.best_arm_predictions) is tuple
    assert type(run.best_arm_predictions[1]) is tuple
    assert isinstance(run.best_arm_predictions[0], Arm)


def test_every_data_attachment_is_kept(registry: JSONRegistry) -> None:
    experiment = make_nonfinite_experiment()
    loaded = decode(encode(experiment, registry), registry)
    assert list(loaded.data_by_trial[0]) == list(experiment.data_by_trial[0])
    assert len(loaded.data_by_trial[0]) == 2
    assert loaded.lookup_data() == experiment.lookup_data()


def test_loaded_data_columns_are_independent_lists(registry: JSONRegistry) -> None:
    loaded = decode(encode(make_nonfinite_experiment(), registry), registry)
    first, second = loaded.data_by_trial[0].values()
    first.columns["n"].append(7)
    assert second.columns["n"] == [None]
    assert len(first.columns["start_time"]) == len(first.columns["end_time"]) == 2


def test_data_of_a_subclass_is_written_object_by_object(registry: JSONRegistry) -> None:
    class TaggedData(Data):
        pass

    mine = registry.copy()
    mine.register_class(TaggedData, to_dict=lambda d: {"__type": "TaggedData"})
    experiment = make_experiment(2)
    experiment.data_by_trial[1] = {123: TaggedData()}
    document = orjson.loads(experiment_to_document(experiment, mine.encoders, mine.class_encoders))
    assert type(document["data_by_trial"]) is list
    assert experiment_from_document(orjson.dumps(document), mine.decoders) == experiment


def test_data_with_a_column_of_its_own_round_trips(registry: JSONRegistry) -> None:
    experiment = make_experiment(2)
    data = experiment.data_by_trial[0][next(iter(experiment.data_by_trial[0]))]
    data.columns["fidelity"] = [0.5, float("nan")]
    assert decode(encode(experiment, registry), registry) == experiment


def test_unicode_survives(registry: JSONRegistry) -> None:
    experiment = make_experiment(1, name="ünïcødé 🧪 日本語")
    experiment.properties["名前"] = "値 ✓"
    loaded = decode(encode(experiment, registry), registry)
    assert (loaded.name, loaded.properties["名前"]) == ("ünïcødé 🧪 日本語", "値 ✓")


# --- the spec's "Customizing" flow, on the global registries ---------------------------------


def custom_metric_to_dict(metric: CustomMetric) -> dict[str, Any]:
    """What a user writes, as the spec says: the fields to save, with ``__type``."""
    return {
        "__type": metric.__class__.__name__,
        "name": metric.name,
        "dataset": metric.dataset,
        "window_days": metric.window_days,
        "lower_is_better": metric.lower_is_better,
        "properties": metric.properties,
    }


@pytest.fixture
def spec_registration() -> Iterator[None]:
    """``ENCODER_REGISTRY[CustomMetric] = ...; DECODER_REGISTRY[...] = CustomMetric``, undone."""
    ENCODER_REGISTRY[CustomMetric] = custom_metric_to_dict
    DECODER_REGISTRY["CustomMetric"] = CustomMetric
    try:
        yield
    finally:
        del ENCODER_REGISTRY[CustomMetric]
        del DECODER_REGISTRY["CustomMetric"]


def experiment_with_custom_metric() -> Experiment:
    experiment = make_experiment(2)
    experiment.optimization_config = OptimizationConfig(
        Objective(
            CustomMetric("ctr", dataset="clicks", window_days=14, properties={"x": float("nan")})
        )
    )
    return experiment


def test_spec_customizing_flow_round_trips(spec_registration: None) -> None:
    experiment = experiment_with_custom_metric()
    loaded = experiment_from_document(experiment_to_document(experiment))
    assert loaded == experiment


def test_spec_customizing_flow_keeps_the_subclass_fields(spec_registration: None) -> None:
    loaded = experiment_from_document(experiment_to_document(experiment_with_custom_metric()))
    metric = loaded.optimization_config.objective.metric  # type: ignore[union-attr]
    assert type(metric) is CustomMetric
    assert (metric.dataset, metric.window_days) == ("clicks", 14)


def test_spec_customizing_flow_fast_path_matches_reference(spec_registration: None) -> None:
    experiment = experiment_with_custom_metric()
    assert experiment_to_document(experiment) == orjson.dumps(object_to_json(experiment))


def test_plain_metric_still_decodes_as_metric(spec_registration: None) -> None:
    loaded = experiment_from_document(experiment_to_document(experiment_with_custom_metric()))
    assert type(loaded.tracking_metrics["memory_mb"]) is Metric


# --- a big experiment --------------------------------------------------------------------------


def make_many_trials(num_trials: int) -> Experiment:
    """The benchmark's shape (make_big_experiment), attaching data trial by trial."""
    rng = random.Random(7)
    experiment = make_experiment(0, name=f"big_{num_trials}")
    for _ in range(num_trials):
        parameters: dict[str, Any] = {
            "x1": rng.random() / 2,
            "x2": 0.5 + rng.random() / 2,
            "lr": 0.01,
        }
        parameters |= {"layers": rng.randint(1, 8), "optimizer": "adam", "seed": 42}
        trial = experiment.new_trial(GeneratorRun([Arm(parameters)], gen_metadata={"seed": 0}))
        trial.mark_running()
        name = trial.arms[0].name
        rows = [
            {"trial_index": trial.index, "arm_name": name, "metric_name": "accuracy",
             "mean": rng.random(), "sem": rng.random() / 100, "n": 100},
            {"trial_index": trial.index, "arm_name": name, "metric_name": "latency_ms",
             "mean": 10 + 50 * rng.random(), "sem": float("nan")},
        ]  # fmt: skip
        experiment.attach_data(Data(rows))
        trial.mark_completed()
    return experiment


@pytest.fixture(scope="module")
def big_experiment() -> Experiment:
    return make_many_trials(10_000)


@pytest.mark.slow
def test_ten_thousand_trials_round_trip(big_experiment: Experiment) -> None:
    loaded = experiment_from_document(experiment_to_document(big_experiment))
    assert loaded.num_trials == 10_000
    assert loaded == big_experiment


@pytest.mark.slow
def test_ten_thousand_trials_fast_path_matches_reference(big_experiment: Experiment) -> None:
    # A big document's trials are written in newline-separated chunks (see json_store.chunks);
    # the newlines are the only bytes the fast path adds.
    document = experiment_to_document(big_experiment)
    assert document.count(b"\n") > 2
    assert document.replace(b"\n", b"") == orjson.dumps(object_to_json(big_experiment))
