"""Values the JSON codec must keep exactly: non-finite floats, numpy scalars, datetimes,
int vs float, tuples, dicts JSON cannot hold directly, enums and classes."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import numpy as np
import orjson
import pytest

from aestore.core import (
    Arm,
    BatchTrial,
    ChoiceParameter,
    Experiment,
    FixedParameter,
    GeneratorRun,
    Metric,
    ParameterType,
    SearchSpace,
    TrialStatus,
)
from aestore.core.base import values_equal
from aestore.exceptions import JSONEncodeError
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.json_store.decoder import experiment_from_document, object_from_json
from aestore.storage.json_store.encoder import dumps, experiment_to_document, object_to_json
from aestore.storage.json_store.registry import DEFAULT_REGISTRY, JSONRegistry
from tests.fixtures import CustomMetric, CustomRunner

NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def round_trip(experiment: Experiment, registry: JSONRegistry = DEFAULT_REGISTRY) -> Experiment:
    document = experiment_to_document(experiment, registry.encoders, registry.class_encoders)
    return experiment_from_document(document, registry.decoders, registry.class_decoders)


def value_round_trip(value: Any) -> Any:
    return object_from_json(orjson.loads(dumps(value)))


# --- non-finite floats in every place a float can be ------------------------------------------


def _trial(experiment: Experiment) -> Any:
    return experiment.trials[0]


def _run(experiment: Experiment) -> GeneratorRun:
    return experiment.trials[0].generator_runs[0]


def _batch(experiment: Experiment) -> BatchTrial:
    batch = experiment.trials[0]
    assert isinstance(batch, BatchTrial)
    return batch


def _constraint(experiment: Experiment) -> Any:
    assert experiment.optimization_config is not None
    return experiment.optimization_config.outcome_constraints[0]


def _data(experiment: Experiment) -> Any:
    return next(iter(experiment.data_by_trial[0].values()))


PLACES: dict[str, Callable[[Experiment, float], None]] = {
    "experiment.properties": lambda e, x: e.properties.update(deep={"xs": [1.0, x]}),
    "trial.run_metadata": lambda e, x: _trial(e).run_metadata.update(loss=x),
    "trial.stop_metadata": lambda e, x: _trial(e).stop_metadata.update(loss=[x]),
    "trial.properties": lambda e, x: _trial(e).properties.update(a={"b": x}),
    "arm.parameters": lambda e, x: _run(e).arms[0].parameters.update(x1=x),
    "generator_run.weights": lambda e, x: _run(e).weights.__setitem__(0, x),
    "generator_run.fit_time": lambda e, x: setattr(_run(e), "fit_time", x),
    "generator_run.gen_time": lambda e, x: setattr(_run(e), "gen_time", x),
    "generator_run.model_kwargs": lambda e, x: setattr(_run(e), "model_kwargs", {"beta": x}),
    "generator_run.bridge_kwargs": lambda e, x: setattr(_run(e), "bridge_kwargs", {"t": [x]}),
    "generator_run.gen_metadata": lambda e, x: setattr(_run(e), "gen_metadata", {"ei": x}),
    "generator_run.model_state_after_gen": lambda e, x: setattr(
        _run(e), "model_state_after_gen", {"state": (x, 1)}
    ),
    "generator_run.model_predictions": lambda e, x: setattr(
        _run(e), "model_predictions", ({"m": [x]}, {"m": {"m": [x]}})
    ),
    "generator_run.best_arm_predictions": lambda e, x: setattr(
        _run(e), "best_arm_predictions", (Arm({"x1": x}), ({"m": x}, None))
    ),
    "batch.status_quo_weight": lambda e, x: setattr(_batch(e), "_status_quo_weight", x),
    "generator_run_struct.weight": lambda e, x: setattr(
        _batch(e).generator_run_structs[0], "weight", x
    ),
    "data.mean": lambda e, x: _data(e).columns["mean"].__setitem__(0, x),
    "data.sem": lambda e, x: _data(e).columns["sem"].__setitem__(0, x),
    "metric.properties": lambda e, x: e.tracking_metrics["memory_mb"].properties.update(p=x),
    "outcome_constraint.bound": lambda e, x: setattr(_constraint(e), "bound", x),
    "fixed_parameter.value": lambda e, x: setattr(e.search_space.parameters["seed"], "value", x),
    "parameter.target_value": lambda e, x: setattr(
        e.search_space.parameters["x1"], "target_value", x
    ),
    "parameter_constraint.bound": lambda e, x: setattr(
        e.search_space.parameter_constraints[2], "bound", x
    ),
}


@pytest.mark.parametrize("value", list(NONFINITE), ids=list(NONFINITE))
@pytest.mark.parametrize("place", list(PLACES))
def test_nonfinite_float_round_trips(place: str, value: str) -> None:
    experiment = make_batch_experiment()
    PLACES[place](experiment, NONFINITE[value])
    assert round_trip(experiment) == experiment


@pytest.mark.parametrize("value", list(NONFINITE), ids=list(NONFINITE))
@pytest.mark.parametrize("place", list(PLACES))
def test_nonfinite_float_fast_path_matches_reference(place: str, value: str) -> None:
    experiment = make_batch_experiment()
    PLACES[place](experiment, NONFINITE[value])
    assert experiment_to_document(experiment) == orjson.dumps(object_to_json(experiment))


@pytest.mark.parametrize("value", list(NONFINITE), ids=list(NONFINITE))
def test_nonfinite_float_is_tagged_not_null(value: str) -> None:
    assert orjson.loads(dumps([NONFINITE[value]])) == [{"__type": "float", "value": value}]


def test_batch_samples_cover_batch_places() -> None:
    """The places above that need a BatchTrial find one in trial 0 of the batch sample."""
    assert isinstance(make_batch_experiment().trials[0], BatchTrial)


# --- numpy scalars ---------------------------------------------------------------------------

NUMPY_VALUES = {
    "float64": (np.float64(0.25), 0.25),
    "float32": (np.float32(0.5), 0.5),
    "int64": (np.int64(7), 7),
    "int32": (np.int32(-3), -3),
    "bool": (np.bool_(True), True),
}


@pytest.mark.parametrize("kind", list(NUMPY_VALUES))
def test_numpy_parameter_is_written_as_a_plain_number(kind: str) -> None:
    value, plain = NUMPY_VALUES[kind]
    arm = Arm({"x": value}, name="a")
    assert orjson.loads(dumps(arm))["parameters"] == {"x": plain}


@pytest.mark.parametrize("kind", list(NUMPY_VALUES))
def test_numpy_parameter_loads_as_a_plain_python_value(kind: str) -> None:
    value, plain = NUMPY_VALUES[kind]
    experiment = make_experiment(1)
    experiment.trials[0].arms[0].parameters["x1"] = value
    loaded = round_trip(experiment).trials[0].arms[0].parameters["x1"]
    assert type(loaded) is type(plain)
    assert loaded == plain


@pytest.mark.parametrize("kind", list(NUMPY_VALUES))
def test_numpy_parameter_fast_path_matches_reference(kind: str) -> None:
    arm = Arm({"x": NUMPY_VALUES[kind][0]}, name="a")
    assert dumps(arm) == orjson.dumps(object_to_json(arm))


def test_numpy_nan_is_tagged() -> None:
    assert orjson.loads(dumps({"x": np.float64("nan")})) == {
        "x": {"__type": "float", "value": "nan"}
    }


# --- datetimes -------------------------------------------------------------------------------

DATETIMES = {
    "naive": datetime(2026, 1, 2, 3, 4, 5, 123456),
    "naive-no-microseconds": datetime(2026, 1, 2, 3, 4, 5),
    "utc": datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=UTC),
    "utc-999999us": datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    "plus-0530": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    "minus-0300": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3))),
    "plus-30-seconds": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(seconds=30))),
    "year-1": datetime(1, 1, 1),
}


def same_datetime(a: Any, b: Any) -> bool:
    return (
        type(a) is type(b) is datetime
        and a == b
        and a.utcoffset() == b.utcoffset()
        and (a.tzinfo is None) == (b.tzinfo is None)
        and a.microsecond == b.microsecond
    )


@pytest.mark.parametrize("kind", list(DATETIMES))
def test_typed_datetime_field_round_trips_exactly(kind: str) -> None:
    experiment = make_experiment(1)
    experiment.trials[0].time_completed = DATETIMES[kind]
    loaded = round_trip(experiment)
    assert same_datetime(loaded.trials[0].time_completed, DATETIMES[kind])


@pytest.mark.parametrize("kind", list(DATETIMES))
def test_experiment_time_created_round_trips_exactly(kind: str) -> None:
    experiment = make_experiment(0)
    experiment.time_created = DATETIMES[kind]
    assert same_datetime(round_trip(experiment).time_created, DATETIMES[kind])


@pytest.mark.parametrize("kind", list(DATETIMES))
def test_free_form_datetime_round_trips_exactly(kind: str) -> None:
    assert same_datetime(value_round_trip({"t": DATETIMES[kind]})["t"], DATETIMES[kind])


@pytest.mark.parametrize("kind", list(DATETIMES))
def test_data_times_round_trip_exactly(kind: str) -> None:
    experiment = make_experiment(1)
    data = next(iter(experiment.data_by_trial[0].values()))
    data.columns["start_time"][1] = DATETIMES[kind]
    loaded = next(iter(round_trip(experiment).data_by_trial[0].values()))
    assert same_datetime(loaded.columns["start_time"][1], DATETIMES[kind])
    assert loaded.columns["start_time"][0] is None


@pytest.mark.parametrize("kind", list(DATETIMES))
def test_datetime_fast_path_matches_reference(kind: str) -> None:
    experiment = make_experiment(1)
    experiment.trials[0].time_staged = DATETIMES[kind]
    experiment.properties["when"] = DATETIMES[kind]
    assert experiment_to_document(experiment) == orjson.dumps(object_to_json(experiment))


def test_free_form_datetime_is_tagged_not_a_bare_string() -> None:
    document = orjson.loads(dumps({"t": DATETIMES["utc"], "s": "2026-01-02T03:04:05"}))
    assert document["t"] == {"__type": "datetime", "value": "2026-01-02T03:04:05.000001+00:00"}
    assert value_round_trip({"s": "2026-01-02T03:04:05"}) == {"s": "2026-01-02T03:04:05"}


def test_free_form_date_round_trips() -> None:
    assert value_round_trip({"d": date(2026, 2, 28)}) == {"d": date(2026, 2, 28)}


# --- numbers and containers ------------------------------------------------------------------


def test_int_and_float_stay_apart() -> None:
    experiment = make_experiment(1)
    experiment.properties.update(i=1, f=1.0, big=2**63 - 1, neg=-(2**63), zero=-0.0)
    experiment.trials[0].arms[0].parameters.update(layers=3, lr=3.0)
    loaded = round_trip(experiment)
    assert [type(loaded.properties[k]) for k in ("i", "f", "big", "neg", "zero")] == [
        int, float, int, int, float
    ]  # fmt: skip
    parameters = loaded.trials[0].arms[0].parameters
    assert (type(parameters["layers"]), type(parameters["lr"])) == (int, float)


def test_bool_stays_bool() -> None:
    assert value_round_trip({"b": True, "i": 1}) == {"b": True, "i": 1}
    assert type(value_round_trip({"b": True})["b"]) is bool


@pytest.mark.parametrize(
    "value",
    [(), (1, 2.5), ((1,), [2, (3,)]), [(1, 2)]],
    ids=["empty", "flat", "nested", "in-list"],
)
def test_free_form_tuples_come_back_as_tuples(value: Any) -> None:
    loaded = value_round_trip({"v": value})["v"]
    assert values_equal(loaded, value)
    assert type(loaded) is type(value)


@pytest.mark.parametrize(
    "value",
    [
        {1: "a", 2: "b"},
        {"__type": "Experiment", "name": "not an experiment"},
        {(1, 2): "tuple key", 1.5: "float key", None: "none key"},
        {"outer": {3: {"__type": 4}}},
    ],
    ids=["int-keys", "type-key", "odd-keys", "nested"],
)
def test_dicts_json_cannot_hold_directly_round_trip(value: dict[Any, Any]) -> None:
    assert values_equal(value_round_trip(value), value)
    assert dumps(value) == orjson.dumps(object_to_json(value))


def test_users_type_key_stays_data_in_properties() -> None:
    experiment = make_experiment(1)
    experiment.properties["blob"] = {"__type": "Trial", "index": 99}
    loaded = round_trip(experiment)
    assert loaded.properties["blob"] == {"__type": "Trial", "index": 99}


def test_choice_values_and_fixed_value_keep_their_types() -> None:
    experiment = Experiment(
        SearchSpace(
            [
                ChoiceParameter("c", ParameterType.FLOAT, [1.0, 2.5, math.inf]),
                ChoiceParameter("k", ParameterType.INT, [1, 2, 3], is_ordered=True),
                FixedParameter("f", ParameterType.BOOL, True),
            ]
        ),
        name="choices",
    )
    assert round_trip(experiment) == experiment


def test_integer_beyond_64_bits_is_an_encode_error_in_both_paths() -> None:
    with pytest.raises(JSONEncodeError, match="64 bits") as reference_error:
        object_to_json({"n": 2**64})
    with pytest.raises(JSONEncodeError, match="64 bits") as fast_error:
        dumps({"n": 2**64})
    assert reference_error.value.path == fast_error.value.path == "n"


# --- enums and classes in free-form values ---------------------------------------------------


def test_model_enum_in_free_form_value_round_trips() -> None:
    value = {"status": TrialStatus.COMPLETED, "kind": ParameterType.INT}
    assert value_round_trip(value) == value
    assert orjson.loads(dumps(value))["status"] == {"__type": "TrialStatus", "name": "COMPLETED"}


class Color(Enum):
    RED = 1
    BLUE = 2


def test_unregistered_enum_is_an_encode_error_in_both_paths() -> None:
    with pytest.raises(JSONEncodeError, match="Color"):
        object_to_json({"c": Color.RED})
    with pytest.raises(JSONEncodeError, match="Color"):
        dumps({"c": Color.RED})


def test_registered_enum_round_trips_by_name() -> None:
    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(Color)
    document = dumps([Color.BLUE], registry.encoders)
    assert orjson.loads(document) == [{"__type": "Color", "name": "BLUE"}]
    assert object_from_json(orjson.loads(document), registry.decoders) == [Color.BLUE]


def test_registered_metric_class_in_model_kwargs_round_trips() -> None:
    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(CustomMetric)
    registry.register_class(CustomRunner)
    experiment = make_experiment(1)
    experiment.trials[0].generator_runs[0].model_kwargs = {"metric_class": CustomMetric}
    loaded = round_trip(experiment, registry)
    assert loaded.trials[0].generator_runs[0].model_kwargs == {"metric_class": CustomMetric}


def test_class_is_stored_by_name() -> None:
    document = orjson.loads(dumps({"cls": Metric}))
    assert document == {"cls": {"__type": "Type[Metric]", "name": "Metric"}}
    assert object_from_json(document) == {"cls": Metric}


def test_unregistered_metric_class_is_an_encode_error() -> None:
    with pytest.raises(JSONEncodeError, match="CustomMetric"):
        dumps({"cls": CustomMetric})


def test_class_without_a_class_encoder_is_an_encode_error() -> None:
    with pytest.raises(JSONEncodeError, match="Arm"):
        object_to_json({"cls": Arm})


def test_status_quo_with_nan_parameter_shared_by_trials_round_trips() -> None:
    """The same arm object held by the experiment and a batch (and a clone in a trial) decodes
    to arms that the model still sees as equal, although NaN != NaN."""
    experiment = Experiment(
        SearchSpace([ChoiceParameter("c", ParameterType.STRING, ["a", "b"])]),
        name="nan_status_quo",
        status_quo=Arm({"c": "a", "x": math.nan}),
    )
    batch = experiment.new_batch_trial(GeneratorRun([Arm({"c": "b"})]))
    batch.set_status_quo_with_weight(experiment.status_quo, 0.5)
    experiment.new_trial(GeneratorRun([experiment.status_quo.clone()]))  # type: ignore[union-attr]
    assert round_trip(experiment) == experiment
