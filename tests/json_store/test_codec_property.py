"""Property tests: for generated experiments and values, decode(encode(x)) == x, and the
fast path writes the reference document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aestore.core import (
    Arm,
    BaseTrial,
    BatchTrial,
    Data,
    Experiment,
    GeneratorRun,
    Metric,
    ParameterType,
    RangeParameter,
    Runner,
    SearchSpace,
    TrialStatus,
)
from aestore.core.base import values_equal
from aestore.storage.json_store.decoder import experiment_from_document, object_from_json
from aestore.storage.json_store.encoder import dumps, experiment_to_document, object_to_json

SETTINGS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])

offsets = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
    st.integers(-86_399, 86_399).map(lambda s: timezone(timedelta(seconds=s))),
)
datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=offsets
)
floats = st.floats()  # NaN and infinities included
ints = st.integers(-(2**63), 2**63 - 1)
texts = st.text(max_size=8)  # unicode, no lone surrogates
leaves = st.one_of(st.none(), st.booleans(), ints, floats, texts, datetimes)
keys = st.one_of(texts, st.just("__type"))
free_form = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(keys, children, max_size=3),
        st.dictionaries(st.integers(-3, 3), children, max_size=2),
        st.tuples(children, children),
    ),
    max_leaves=8,
)
free_dicts = st.dictionaries(keys, free_form, max_size=3)
# Arm.signature (orjson with sorted keys) needs string keys all the way down.
parameter_values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(keys, children, max_size=3),
        st.tuples(children, children),
    ),
    max_leaves=6,
)
predictions = st.tuples(
    st.dictionaries(texts, st.lists(floats, max_size=2), max_size=2),
    st.dictionaries(texts, st.dictionaries(texts, st.lists(floats, max_size=2)), max_size=2),
)


def move_to(trial: BaseTrial, status: TrialStatus, reason: str) -> None:
    """Reach ``status`` through legal transitions only."""
    if status is TrialStatus.STAGED:
        trial.mark_staged()
    elif status is TrialStatus.RUNNING:
        trial.mark_running(no_runner_required=True)
    elif status in (TrialStatus.COMPLETED, TrialStatus.EARLY_STOPPED):
        trial.mark_running(no_runner_required=True)
        trial.mark_as(status)
    elif status is TrialStatus.FAILED:
        trial.mark_failed(reason)
    elif status is TrialStatus.ABANDONED:
        trial.mark_abandoned(reason)


@st.composite
def arms(draw: st.DrawFn) -> Arm:
    return Arm({"x": draw(floats), "i": draw(ints), "s": draw(texts), "v": draw(parameter_values)})


@st.composite
def experiments(draw: st.DrawFn) -> Experiment:
    experiment = Experiment(
        SearchSpace([RangeParameter("x", ParameterType.FLOAT, 0.0, 1.0)]),
        name=draw(st.none() | texts),
        tracking_metrics=[Metric(draw(texts.filter(bool)), properties=draw(free_dicts))],
        runner=Runner(),
        status_quo=draw(st.none() | arms()),
        description=draw(st.none() | texts),
        is_test=draw(st.booleans()),
        experiment_type=draw(st.none() | texts),
        properties=draw(free_dicts),
    )
    experiment.time_created = draw(datetimes)
    for _ in range(draw(st.integers(0, 4))):
        batch = draw(st.booleans())
        new_arms = draw(st.lists(arms(), min_size=1, max_size=3 if batch else 1))
        run = GeneratorRun(
            new_arms,
            weights=draw(st.lists(floats, min_size=len(new_arms), max_size=len(new_arms))),
            model_predictions=draw(st.none() | predictions),
            fit_time=draw(st.none() | floats),
            gen_metadata=draw(st.none() | free_dicts),
        )
        ttl = draw(st.none() | st.integers(1, 10**6))
        trial = (
            experiment.new_batch_trial(run, ttl_seconds=ttl)
            if batch
            else experiment.new_trial(run, trial_type=draw(st.none() | texts))
        )
        trial.update_run_metadata(draw(free_dicts))
        trial.properties.update(draw(free_dicts))
        if isinstance(trial, BatchTrial):
            if experiment.status_quo is not None and draw(st.booleans()):
                trial.set_status_quo_with_weight(experiment.status_quo, draw(floats))
            if draw(st.booleans()):
                trial.mark_arm_abandoned(trial.arms[0].name or "", reason=draw(texts))
        move_to(trial, draw(st.sampled_from(TrialStatus)), draw(texts))
        trial.update_stop_metadata(draw(free_dicts))
        for _ in range(draw(st.integers(0, 2))):
            rows = [
                {
                    "trial_index": trial.index,
                    "arm_name": arm.name,
                    "metric_name": draw(texts),
                    "mean": draw(floats),
                    "sem": draw(floats),
                    "n": draw(st.none() | st.integers(0, 10**6)),
                    "start_time": draw(st.none() | datetimes),
                }
                for arm in trial.arms
            ]
            experiment.attach_data(Data(rows))
    return experiment


@SETTINGS
@given(experiments())
def test_document_round_trip(experiment: Experiment) -> None:
    assert experiment_from_document(experiment_to_document(experiment)) == experiment


@SETTINGS
@given(experiments())
def test_reference_round_trip(experiment: Experiment) -> None:
    assert object_from_json(object_to_json(experiment)) == experiment


@SETTINGS
@given(experiments())
def test_fast_path_writes_the_reference_document(experiment: Experiment) -> None:
    assert experiment_to_document(experiment) == orjson.dumps(object_to_json(experiment))


@SETTINGS
@given(free_form)
def test_free_form_value_round_trip(value: Any) -> None:
    assert values_equal(object_from_json(orjson.loads(dumps(value))), value)


@SETTINGS
@given(free_form)
def test_free_form_value_fast_path_matches_reference(value: Any) -> None:
    assert dumps(value) == orjson.dumps(object_to_json(value))
