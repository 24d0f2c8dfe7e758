"""The decoder's trial fast path gives the objects (and errors) of the field-by-field one."""

from __future__ import annotations

import gc
import math
from typing import Any

import orjson
import pytest

from aestore.core import Arm, Experiment, GeneratorRun, Trial
from aestore.exceptions import JSONDecodeError
from aestore.samples import make_big_experiment, make_experiment
from aestore.storage import json_store
from aestore.storage.json_store import decoder as decoder_module
from aestore.storage.json_store import decoders as decoders_module
from aestore.storage.json_store import experiment_decoders, trial_decoders
from aestore.storage.json_store.decoder import (
    DecodeContext,
    experiment_from_document,
    object_from_json,
)
from aestore.storage.json_store.encoder import experiment_to_document, object_to_json
from aestore.storage.json_store.registry import DEFAULT_REGISTRY, JSONRegistry
from aestore.storage.json_store.trial_decoders import trial_from_json, trial_tree_from_json
from tests.fixtures import ALL_SAMPLES


def _state(trial: Trial, registry: JSONRegistry) -> list[dict[str, Any]]:
    """The instance dicts of a trial, its generator run and arms, NaN-safe and comparable."""
    run = trial.generator_run
    states = [dict(vars(trial), generator_run=None)]
    if run is not None:
        states.append(dict(vars(run), arms=None))
        states.extend(vars(arm) for arm in run.arms)
    return [
        orjson.loads(orjson.dumps(object_to_json(s, registry.encoders, registry.class_encoders)))
        for s in states
    ]


def _single_arm_trials(registry: JSONRegistry) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for sample, make in sorted(ALL_SAMPLES.items()):
        document = object_to_json(make(), registry.encoders, registry.class_encoders)
        out += [(sample, raw) for raw in document["trials"] if raw["__type"] == "Trial"]
    return out


def test_every_sample_trial_decodes_to_the_same_state_both_ways(registry: JSONRegistry) -> None:
    trials = _single_arm_trials(registry)
    assert len({sample for sample, _ in trials}) >= 5  # the samples hold single-arm trials
    for sample, raw in trials:
        ctx = DecodeContext(registry.decoders, registry.class_decoders)
        slow, fast = trial_from_json(raw, ctx), trial_tree_from_json(raw, ctx)
        assert type(fast) is Trial, sample
        assert [list(state) for state in _state(fast, registry)] == [
            list(state) for state in _state(slow, registry)
        ], sample  # the same attributes, in the same order
        assert _state(fast, registry) == _state(slow, registry), sample


def test_plain_trials_are_decoded_without_the_field_by_field_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = experiment_to_document(make_big_experiment(20))
    fallbacks: list[int] = []

    def spy(d: dict[str, Any], ctx: DecodeContext) -> Trial:
        fallbacks.append(d["index"])
        return trial_from_json(d, ctx)

    monkeypatch.setattr(trial_decoders, "trial_from_json", spy)
    loaded = experiment_from_document(document)
    assert (loaded.num_trials, fallbacks) == (20, [])
    broken = orjson.loads(document)
    broken["trials"][5]["generator_run"]["arms"][0]["parameters"]["x1"] = [1, 2]
    assert experiment_from_document(orjson.dumps(broken)).trials[5].arm.parameters["x1"] == [1, 2]
    assert fallbacks == [5]


def test_arms_with_tagged_parameters_take_the_field_by_field_path() -> None:
    experiment = make_experiment(2)
    experiment.new_trial().add_arm(Arm({"x1": math.nan, "x2": (1, 2)}))
    loaded = experiment_from_document(experiment_to_document(experiment))
    parameters = loaded.trials[2].arm.parameters
    assert math.isnan(parameters["x1"]) and parameters["x2"] == (1, 2)
    assert loaded == experiment


def _document_with(change: Any) -> bytes:
    document = orjson.loads(experiment_to_document(make_experiment(4)))
    change(document["trials"][3]["generator_run"])
    return orjson.dumps(document)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda run: run["arms"][0].update(__type="Nope"), "trials.3.generator_run.arms.0", "Nope"),
        (
            lambda run: run["arms"][0].pop("parameters"),
            "trials.3.generator_run.arms.0",
            "parameters",
        ),
        (lambda run: run["arms"][0].update(name=7), "trials.3.generator_run.arms.0.name", "string"),
        (lambda run: run.update(weights=[1.0, 2.0]), "trials.3.generator_run.weights", "weights"),
        (lambda run: run.update(weights={"a": 1}), "trials.3.generator_run.weights", "list"),
        (lambda run: run.pop("model_key"), "trials.3.generator_run", "model_key"),
        (lambda run: run.update(arms=3), "trials.3.generator_run.arms", "list"),
        (lambda run: run.update(arms={}, weights=[]), "trials.3.generator_run.arms", "list"),
        (lambda run: run.update(arms="", weights=[]), "trials.3.generator_run.arms", "list"),
        (
            lambda run: run["arms"][0].update(parameters={"__type": "float", "value": "nan"}),
            "trials.3.generator_run.arms.0.parameters",
            "Expected an object, got a float",
        ),
    ],
    ids=[
        "unknown-arm-type",
        "arm-without-parameters",
        "arm-name-not-str",
        "weights-count",
        "weights-not-list",
        "missing-field",
        "arms-not-list",
        "arms-empty-object",
        "arms-empty-string",
        "parameters-a-tagged-float",
    ],
)
def test_a_bad_trial_fails_where_the_field_by_field_path_says(
    change: Any, path: str, message: str
) -> None:
    _fails_at(_document_with(change), path, message)


def _fails_at(document: bytes, path: str, message: str) -> None:
    with pytest.raises(JSONDecodeError, match=message) as caught:
        experiment_from_document(document)
    assert caught.value.path == path


def _document_with_trial(change: Any) -> bytes:
    document = orjson.loads(experiment_to_document(make_experiment(4)))
    change(document["trials"][3])
    return orjson.dumps(document)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda t: t.update(time_created="garbage"), "trials.3", "isoformat"),
        (lambda t: t.update(status="NOPE"), "trials.3.status", "not a TrialStatus"),
        (lambda t: t.update(index="3"), "trials.3.index", "integer"),
        (lambda t: t.update(run_metadata=[1]), "trials.3.run_metadata", "object"),
        (lambda t: t.update(runner={"__type": "Nope"}), "trials.3.runner", "Nope"),
        (
            lambda t: (t.pop("generator_run"), t.update(status="NOPE")),
            "trials.3.status",
            "not a TrialStatus",
        ),
        (
            lambda t: t["generator_run"].update(gen_metadata={"a": {"__type": "Nope"}}),
            "trials.3.generator_run.gen_metadata.a",
            "Nope",
        ),
        (
            lambda t: t["generator_run"].update(time_created="garbage"),
            "trials.3.generator_run",
            "isoformat",
        ),
    ],
    ids=[
        "time",
        "status",
        "index",
        "metadata",
        "runner",
        "status-before-missing-generator-run",
        "tag-in-gen-metadata",
        "run-time",
    ],
)
def test_a_bad_trial_field_fails_where_the_field_by_field_path_says(
    change: Any, path: str, message: str
) -> None:
    _fails_at(_document_with_trial(change), path, message)


def test_fields_the_encoder_does_not_write_are_ignored_as_before() -> None:
    document = orjson.loads(experiment_to_document(make_experiment(4)))
    plain = experiment_from_document(orjson.dumps(document))
    document["trials"][3]["extra"] = 1
    document["trials"][3]["generator_run"]["more"] = 2
    loaded = experiment_from_document(orjson.dumps(document))
    assert "extra" not in vars(loaded.trials[3])
    assert "more" not in vars(loaded.trials[3].generator_run)
    assert loaded == plain


def test_nested_metadata_round_trips_through_the_trial_fast_path() -> None:
    experiment = make_experiment(2)
    experiment.trials[1].update_run_metadata({"job": {"id": 7, "when": (1, 2)}})
    loaded = experiment_from_document(experiment_to_document(experiment))
    assert loaded.trials[1].run_metadata["job"] == {"id": 7, "when": (1, 2)}
    assert loaded == experiment


def test_object_from_json_leaves_its_input_as_it_was() -> None:
    raw = object_to_json(make_big_experiment(5))
    before = orjson.dumps(raw)
    loaded = object_from_json(raw)
    assert loaded.num_trials == 5 and orjson.dumps(raw) == before


def test_a_user_arm_decoder_is_used_for_every_arm() -> None:
    registry = DEFAULT_REGISTRY.copy()
    seen: list[str] = []

    class MyArm(Arm):
        pass

    def my_arm(parameters: dict[str, Any], name: str | None) -> Arm:
        seen.append(name or "")
        return MyArm(parameters, name=name)

    registry.decoders["Arm"] = my_arm
    experiment = make_experiment(3)
    loaded = experiment_from_document(
        experiment_to_document(experiment), registry.decoders, registry.class_decoders
    )
    assert seen == [trial.arm.name for trial in experiment.trials.values()]
    assert all(type(trial.arm) is MyArm for trial in loaded.trials.values())


def test_a_user_generator_run_decoder_is_used_for_every_run() -> None:
    registry = DEFAULT_REGISTRY.copy()
    seen: list[int] = []

    def my_run(**fields: Any) -> GeneratorRun:
        seen.append(len(fields["arms"]))
        return GeneratorRun(fields["arms"], weights=fields["weights"])

    registry.decoders["GeneratorRun"] = my_run
    loaded = experiment_from_document(
        experiment_to_document(make_experiment(3)), registry.decoders, registry.class_decoders
    )
    assert seen == [1, 1, 1] and all(t.generator_run is not None for t in loaded.trials.values())


def test_another_trial_decoder_is_used_for_every_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    """The experiment's decoder calls the trial fast path directly only when it is the one
    the context would dispatch to."""
    seen: list[int] = []

    def my_trial(d: dict[str, Any], ctx: DecodeContext) -> Trial:
        seen.append(d["index"])
        return trial_from_json(d, ctx)

    monkeypatch.setitem(decoders_module.CORE_DECODERS, Trial, my_trial)
    experiment = make_experiment(3)
    loaded = experiment_from_document(experiment_to_document(experiment))
    assert (seen, loaded == experiment) == ([0, 1, 2], True)


def test_small_chunked_documents_are_parsed_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = decoder_module.parse_chunked_steps

    def spy(data: Any) -> Any:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(decoder_module, "parse_chunked_steps", spy)
    experiment: Experiment = make_big_experiment(json_store.chunks.CHUNK_TRIALS + 1)
    document = experiment_to_document(experiment)
    assert document.count(b"\n") == 3  # chunked layout
    assert len(document) < decoder_module.WHOLE_PARSE_MAX_BYTES
    assert experiment_from_document(document) == experiment
    assert calls == []
    monkeypatch.setattr(decoder_module, "WHOLE_PARSE_MAX_BYTES", len(document))
    assert experiment_from_document(document) == experiment
    assert calls == [len(document)]


def test_decoding_collects_the_young_generations_as_it_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Left to the first collection after the pause, they would be walked in one long call."""
    monkeypatch.setattr(experiment_decoders, "GC_STEP_OBJECTS", 100)
    document = experiment_to_document(make_big_experiment(1_000))
    collections: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        loaded = experiment_from_document(document)
    finally:
        gc.callbacks.remove(record)
    assert loaded.num_trials == 1_000
    # 9 steps in the trials and 9 in the data log (none after the last of each).
    assert collections.count(1) == 18, collections
