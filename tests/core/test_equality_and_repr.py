"""Deep value equality (values_equal, Base.__eq__) and short, fixed-size reprs of the model."""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aestore.core import (
    AbandonedArm,
    Arm,
    BatchTrial,
    ChoiceParameter,
    ComparisonOp,
    Data,
    Experiment,
    FixedParameter,
    GeneratorRun,
    GeneratorRunStruct,
    Metric,
    MultiObjective,
    MultiObjectiveOptimizationConfig,
    Objective,
    ObjectiveThreshold,
    OptimizationConfig,
    OrderConstraint,
    OutcomeConstraint,
    ParameterConstraint,
    ParameterType,
    RangeParameter,
    Runner,
    ScalarizedObjective,
    SearchSpace,
    SumConstraint,
    TrialStatus,
)
from aestore.core.base import Base, values_equal
from aestore.samples import make_batch_experiment, make_experiment, make_nonfinite_experiment
from tests.core.helpers import EqOnlyMetric, EqOnlyRunner, arm_run, experiment, row

FLOAT = ParameterType.FLOAT
NAN = math.nan
NAIVE = datetime(2026, 1, 2, 3, 4, 5, 6)
AWARE = NAIVE.replace(tzinfo=UTC)

# --- values_equal --------------------------------------------------------------------------------

VALUES_EQUAL = [
    ("nan-nan", NAN, float("nan"), True),
    ("nan-in-list", [1, NAN], [1, float("nan")], True),
    ("nan-in-dict", {"a": {"b": NAN}}, {"a": {"b": float("nan")}}, True),
    ("nan-vs-number", NAN, 0.0, False),
    ("nan-vs-None", NAN, None, False),
    ("int-vs-float", 1, 1.0, False),
    ("float-vs-int", 1.0, 1, False),
    ("int-vs-float-nested", {"x": [1]}, {"x": [1.0]}, False),
    ("bool-vs-int", True, 1, False),
    ("int-vs-bool", 0, False, False),
    ("inf-inf", math.inf, float("inf"), True),
    ("inf-vs-minus-inf", math.inf, -math.inf, False),
    ("zero-vs-minus-zero", 0.0, -0.0, True),
    ("list-vs-tuple", [1, 2], (1, 2), False),
    ("tuple-vs-list", (1, 2), [1, 2], False),
    ("tuples", (1, (2.0, "a")), (1, (2.0, "a")), True),
    ("lengths", [1, 2], [1, 2, 3], False),
    ("dict-keys", {"a": 1}, {"b": 1}, False),
    ("dict-sizes", {"a": 1}, {"a": 1, "b": 2}, False),
    ("dict-vs-list", {"a": 1}, ["a"], False),
    ("naive-vs-aware", NAIVE, AWARE, False),
    ("aware-vs-naive", AWARE, NAIVE, False),
    ("naive-naive", NAIVE, datetime(2026, 1, 2, 3, 4, 5, 6), True),
    ("microseconds", NAIVE, NAIVE.replace(microsecond=7), False),
    ("strings", "a", "a", True),
    ("str-vs-bytes", "a", b"a", False),
    ("None-None", None, None, True),
    ("numpy-nan", np.float64("nan"), np.float64("nan"), True),
    ("numpy-float32-nan", np.float32("nan"), np.float32("nan"), True),
    ("numpy-nan-vs-nan", np.float64("nan"), float("nan"), True),
    ("numpy-int-vs-int", np.int64(3), 3, True),
    ("int-vs-numpy-int", 3, np.int64(3), True),
    ("numpy-float-vs-int", np.float64(3.0), 3, False),
    ("arrays", np.array([1.0, NAN]), np.array([1.0, NAN]), True),
    ("arrays-differ", np.array([1.0, 2.0]), np.array([1.0, 3.0]), False),
    ("array-shapes", np.array([1.0, 2.0]), np.array([[1.0, 2.0]]), False),
    ("float-vs-array", 1.0, np.array([1.0, 2.0]), False),
    ("array-vs-list", np.array([1, 2]), [1, 2], False),
]


@pytest.mark.parametrize(
    ("a", "b", "expected"), [c[1:] for c in VALUES_EQUAL], ids=[c[0] for c in VALUES_EQUAL]
)
def test_values_equal(a: Any, b: Any, expected: bool) -> None:
    assert values_equal(a, b) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"), [c[1:] for c in VALUES_EQUAL], ids=[c[0] for c in VALUES_EQUAL]
)
def test_values_equal_is_symmetric(a: Any, b: Any, expected: bool) -> None:
    assert values_equal(b, a) is expected


def test_values_equal_survives_an_eq_that_raises() -> None:
    class Grumpy:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no")

    assert values_equal(Grumpy(), Grumpy()) is False


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=25,
)


def _fresh_copy(value: Any) -> Any:
    """An equal value made of new objects (new NaNs too), so ``is`` can't short-circuit."""
    return json.loads(json.dumps(value))


@given(_json)
def test_values_equal_is_reflexive(value: Any) -> None:
    assert values_equal(value, value)
    assert values_equal(value, _fresh_copy(value))


@given(_json, _json)
def test_values_equal_is_symmetric_on_json_values(a: Any, b: Any) -> None:
    assert values_equal(a, b) is values_equal(b, a)


@given(_json)
def test_values_equal_tells_an_int_from_a_float(value: Any) -> None:
    as_float = {"v": value, "n": 1.0}
    as_int = {"v": _fresh_copy(value), "n": 1}
    assert not values_equal(as_float, as_int)


# --- equality of every model object --------------------------------------------------------------


def _ss() -> SearchSpace:
    a = RangeParameter("a", FLOAT, 0.0, 1.0)
    b = RangeParameter("b", FLOAT, 0.0, 1.0)
    return SearchSpace(
        [a, b, ChoiceParameter("c", ParameterType.STRING, ["u", "v"])],
        [
            OrderConstraint(a, b),
            SumConstraint([a, b], True, 1.5),
            ParameterConstraint({"a": 2.0}, 1.0),
        ],
    )


def _mo_config() -> MultiObjectiveOptimizationConfig:
    a, b = Metric("a", lower_is_better=False), Metric("b", lower_is_better=True)
    return MultiObjectiveOptimizationConfig(
        MultiObjective([Objective(a), Objective(b, minimize=True)]),
        [OutcomeConstraint(Metric("c"), ComparisonOp.LEQ, 3.0)],
        [ObjectiveThreshold(a, 0.5), ObjectiveThreshold(b, 2.0, relative=False)],
    )


def _batch() -> BatchTrial:
    exp = experiment(runner=Runner())
    batch = exp.new_batch_trial(arm_run(0.1, 0.2))
    batch.set_status_quo_with_weight(Arm({"x": 0.5}), 0.3)
    batch.mark_arm_abandoned("0_1", reason="r")
    batch.mark_running()
    return batch


# Builders of one object of each model class; building twice gives equal objects unless the
# object stamps the time it was made.
BUILDERS: dict[str, Callable[[], Any]] = {
    "RangeParameter": lambda: RangeParameter("x", FLOAT, 0.0, 1.0, log_scale=False, digits=3),
    "ChoiceParameter": lambda: ChoiceParameter("c", ParameterType.INT, [1, 2, 3], is_ordered=True),
    "FixedParameter": lambda: FixedParameter("f", ParameterType.STRING, "v"),
    "ParameterConstraint": lambda: ParameterConstraint({"a": 1.0, "b": 2.0}, 3.0),
    "OrderConstraint": lambda: OrderConstraint(
        RangeParameter("a", FLOAT, 0, 1), RangeParameter("b", FLOAT, 0, 1)
    ),
    "SumConstraint": lambda: SumConstraint([RangeParameter("a", FLOAT, 0, 1)], False, 0.5),
    "SearchSpace": _ss,
    "Metric": lambda: Metric("m", lower_is_better=True, properties={"u": [1, 2.0]}),
    "Objective": lambda: Objective(Metric("m"), minimize=True),
    "MultiObjective": lambda: MultiObjective([Objective(Metric("a")), Objective(Metric("b"))]),
    "ScalarizedObjective": lambda: ScalarizedObjective([Metric("a"), Metric("b")], [0.3, 0.7]),
    "OutcomeConstraint": lambda: OutcomeConstraint(Metric("m"), ComparisonOp.GEQ, 1.0),
    "ObjectiveThreshold": lambda: ObjectiveThreshold(Metric("m", lower_is_better=True), 1.0),
    "OptimizationConfig": lambda: OptimizationConfig(Objective(Metric("m"))),
    "MultiObjectiveOptimizationConfig": _mo_config,
    "Arm": lambda: Arm({"x": 0.5, "opt": "adam"}, name="0_0"),
    "Data": lambda: Data([row(0, n=3, start_time=NAIVE), row(1, sem=NAN)]),
    "Runner": Runner,
}
TIME_STAMPED: dict[str, Callable[[], Any]] = {
    "GeneratorRun": lambda: GeneratorRun([Arm({"x": 0.1})], fit_time=NAN, model_kwargs={"k": [1]}),
    "GeneratorRunStruct": lambda: GeneratorRunStruct(arm_run(0.1), 0.5),
    "AbandonedArm": lambda: AbandonedArm("0_1", reason="r"),
    "Trial": lambda: experiment(runner=Runner()).new_trial(arm_run(0.1)).mark_running(),
    "BatchTrial": _batch,
    "Experiment": make_batch_experiment,
    "Experiment-nonfinite": make_nonfinite_experiment,
}
ALL_BUILDERS = {**BUILDERS, **TIME_STAMPED}


@pytest.mark.parametrize("build", list(BUILDERS.values()), ids=list(BUILDERS))
def test_objects_built_alike_are_equal(build: Callable[[], Any]) -> None:
    a, b = build(), build()
    assert a == b
    assert (a != b) is False


@pytest.mark.parametrize("build", list(ALL_BUILDERS.values()), ids=list(ALL_BUILDERS))
def test_a_deep_copy_is_equal(build: Callable[[], Any]) -> None:
    obj = build()
    assert copy.deepcopy(obj) == obj


@pytest.mark.parametrize("build", list(ALL_BUILDERS.values()), ids=list(ALL_BUILDERS))
def test_an_object_is_not_equal_to_another_type(build: Callable[[], Any]) -> None:
    assert build() != "something else"
    assert build() != None  # noqa: E711 - __eq__ itself is under test


@pytest.mark.parametrize("build", list(ALL_BUILDERS.values()), ids=list(ALL_BUILDERS))
def test_model_objects_are_unhashable_mutable_values(build: Callable[[], Any]) -> None:
    with pytest.raises(TypeError):
        hash(build())


@pytest.mark.parametrize("build", list(TIME_STAMPED.values()), ids=list(TIME_STAMPED))
def test_a_microsecond_in_a_stamp_makes_objects_unequal(build: Callable[[], Any]) -> None:
    obj = build()
    other = copy.deepcopy(obj)
    if isinstance(obj, AbandonedArm):
        other.time = obj.time + timedelta(microseconds=1)
    elif isinstance(obj, GeneratorRunStruct):
        other.generator_run.time_created += timedelta(microseconds=1)
    else:
        other.time_created = obj.time_created + timedelta(microseconds=1)
    assert obj != other


def _changed(build: Callable[[], Any], change: Callable[[Any], None]) -> tuple[Any, Any]:
    obj = build()
    other = copy.deepcopy(obj)
    change(other)
    return obj, other


UNEQUAL: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {
    "range-bound-int-vs-float": (BUILDERS["RangeParameter"], lambda p: setattr(p, "upper", 1)),
    "range-digits": (BUILDERS["RangeParameter"], lambda p: setattr(p, "digits", 4)),
    "choice-value-order": (BUILDERS["ChoiceParameter"], lambda p: p.values.reverse()),
    "choice-value-int-vs-float": (
        BUILDERS["ChoiceParameter"],
        lambda p: p.values.__setitem__(0, 1.0),
    ),
    "fixed-value": (BUILDERS["FixedParameter"], lambda p: setattr(p, "value", "w")),
    "constraint-weight": (
        BUILDERS["ParameterConstraint"],
        lambda c: c.constraint_dict.__setitem__("a", 1),
    ),
    "sum-direction": (BUILDERS["SumConstraint"], lambda c: setattr(c, "is_upper_bound", True)),
    "search-space-constraint-dropped": (
        BUILDERS["SearchSpace"],
        lambda s: s.parameter_constraints.pop(),
    ),
    "metric-property-int-vs-float": (
        BUILDERS["Metric"],
        lambda m: m.properties["u"].__setitem__(1, 2),
    ),
    "metric-direction": (BUILDERS["Metric"], lambda m: setattr(m, "lower_is_better", None)),
    "objective-direction": (BUILDERS["Objective"], lambda o: setattr(o, "minimize", False)),
    "objective-metric-name": (BUILDERS["Objective"], lambda o: setattr(o.metric, "name", "n")),
    "scalarized-weight": (BUILDERS["ScalarizedObjective"], lambda o: o.weights.__setitem__(0, 0.4)),
    "constraint-op": (BUILDERS["OutcomeConstraint"], lambda c: setattr(c, "op", ComparisonOp.LEQ)),
    "constraint-relative": (BUILDERS["OutcomeConstraint"], lambda c: setattr(c, "relative", False)),
    "config-threshold": (
        BUILDERS["MultiObjectiveOptimizationConfig"],
        lambda c: c.objective_thresholds.pop(),
    ),
    "arm-name": (BUILDERS["Arm"], lambda a: setattr(a, "_name", "0_1")),
    "arm-parameter-int-vs-float": (
        lambda: Arm({"x": 1.0}),
        lambda a: a.parameters.__setitem__("x", 1),
    ),
    "data-mean": (BUILDERS["Data"], lambda d: d.columns["mean"].__setitem__(0, 1.25)),
    "data-naive-vs-aware": (
        BUILDERS["Data"],
        lambda d: d.columns["start_time"].__setitem__(0, AWARE),
    ),
    "generator-run-weight": (TIME_STAMPED["GeneratorRun"], lambda g: g.weights.__setitem__(0, 2.0)),
    "generator-run-type": (
        TIME_STAMPED["GeneratorRun"],
        lambda g: setattr(g, "generator_run_type", "MANUAL"),
    ),
    "generator-run-kwargs-int-vs-float": (
        TIME_STAMPED["GeneratorRun"],
        lambda g: g.model_kwargs.__setitem__("k", [1.0]),
    ),
    "trial-status": (TIME_STAMPED["Trial"], lambda t: t.mark_completed()),
    "trial-run-metadata": (TIME_STAMPED["Trial"], lambda t: t.update_run_metadata({"job": 1})),
    "trial-runner": (TIME_STAMPED["Trial"], lambda t: setattr(t, "runner", Runner())),
    "trial-naive-vs-aware-stamp": (
        TIME_STAMPED["Trial"],
        lambda t: setattr(t, "time_run_started", t.time_run_started.replace(tzinfo=None)),
    ),
    "batch-abandoned-arm": (
        TIME_STAMPED["BatchTrial"],
        lambda b: b.abandoned_arms_metadata.clear(),
    ),
    "batch-status-quo-weight": (
        TIME_STAMPED["BatchTrial"],
        lambda b: setattr(b, "_status_quo_weight", 0.4),
    ),
    "experiment-description": (
        TIME_STAMPED["Experiment"],
        lambda e: setattr(e, "description", "other"),
    ),
    "experiment-property-int-vs-float": (
        TIME_STAMPED["Experiment"],
        lambda e: e.properties["budget"].__setitem__("trials", 100.0),
    ),
    "experiment-trial-reason": (
        TIME_STAMPED["Experiment"],
        lambda e: setattr(e.trials[2], "failed_reason", "other"),
    ),
    "experiment-new-data": (
        TIME_STAMPED["Experiment"],
        lambda e: e.attach_data(Data([row(2, e.trials[2].arm.name)])),
    ),
    "experiment-new-trial": (TIME_STAMPED["Experiment"], lambda e: e.new_trial()),
    "experiment-tracking-metric": (
        TIME_STAMPED["Experiment"],
        lambda e: e.add_tracking_metric(Metric("new")),
    ),
    "experiment-tz-offset-to-naive": (
        lambda: make_experiment(0),
        lambda e: setattr(e, "time_created", e.time_created.replace(tzinfo=None)),
    ),
}


@pytest.mark.parametrize(("build", "change"), list(UNEQUAL.values()), ids=list(UNEQUAL))
def test_a_change_in_one_value_makes_objects_unequal(
    build: Callable[[], Any], change: Callable[[Any], None]
) -> None:
    obj, other = _changed(build, change)
    assert obj != other
    assert (obj == other) is False


NAN_EQUAL: dict[str, Callable[[float], Any]] = {
    "fixed-value": lambda nan: FixedParameter("f", FLOAT, nan),
    "constraint-bound": lambda nan: ParameterConstraint({"a": 1.0}, nan),
    "metric-properties": lambda nan: Metric("m", properties={"x": [nan]}),
    "outcome-bound": lambda nan: OutcomeConstraint(Metric("m"), ComparisonOp.LEQ, nan),
    "arm-parameters": lambda nan: Arm({"x": nan}, name="a"),
    "scalarized-weights": lambda nan: ScalarizedObjective([Metric("a")], [nan]),
}


@pytest.mark.parametrize("build", list(NAN_EQUAL.values()), ids=list(NAN_EQUAL))
def test_objects_holding_nan_are_equal(build: Callable[[float], Any]) -> None:
    assert build(float("nan")) == build(float("nan"))


def test_subclasses_are_not_equal_to_their_base() -> None:
    assert Metric("m") != EqOnlyMetric("m", source="s")
    assert EqOnlyMetric("m", source="s") != Metric("m")


def test_trial_and_batch_trial_are_never_equal() -> None:
    exp = experiment()
    trial, batch = exp.new_trial(), exp.new_batch_trial()
    batch.index, batch.time_created = trial.index, trial.time_created
    assert trial != batch


# --- trials do not recurse into their experiment -------------------------------------------------


def test_trials_compare_without_their_experiment() -> None:
    exp = make_experiment(3)
    other = copy.deepcopy(exp)
    other.description = "a different experiment"
    assert exp != other
    assert all(exp.trials[i] == other.trials[i] for i in exp.trials)


def test_trial_equality_never_calls_experiment_equality(monkeypatch: pytest.MonkeyPatch) -> None:
    exp = make_experiment(2)
    other = copy.deepcopy(exp)

    def explode(self: Experiment, other: object) -> bool:
        raise AssertionError("a trial compared its experiment")

    monkeypatch.setattr(Experiment, "__eq__", explode)
    assert exp.trials[1] == other.trials[1]


def test_experiment_equality_is_not_fooled_by_caches() -> None:
    exp = make_experiment(3)
    other = copy.deepcopy(exp)
    other._arms_by_signature.clear()
    other._next_index_hint = None
    assert exp == other


# --- user classes with __eq__ but no __hash__ ----------------------------------------------------


def _user_class_experiment() -> Experiment:
    ctr = EqOnlyMetric("ctr", source="clicks")
    exp = Experiment(
        SearchSpace([RangeParameter("x", FLOAT, 0.0, 1.0)]),
        name="user_classes",
        optimization_config=OptimizationConfig(
            Objective(ctr), [OutcomeConstraint(EqOnlyMetric("cost", "bill"), ComparisonOp.LEQ, 1.0)]
        ),
        tracking_metrics=[EqOnlyMetric("revenue", source="billing")],
        runner=EqOnlyRunner("https://a.example"),
    )
    trial = exp.new_trial(arm_run(0.1))
    trial.runner = EqOnlyRunner("https://b.example")
    trial.mark_running()
    batch = exp.new_batch_trial(arm_run(0.2, 0.3))
    batch.mark_running()
    exp.attach_data(Data([row(0, "0_0", metric_name="ctr")]))
    return exp


def test_user_runner_and_metric_with_eq_only_are_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(EqOnlyRunner("x"))
    with pytest.raises(TypeError):
        hash(EqOnlyMetric("m", "s"))


def test_an_experiment_works_with_eq_only_user_classes() -> None:
    exp = _user_class_experiment()
    assert list(exp.metrics) == ["ctr", "cost", "revenue"]
    assert [t.status for t in exp.trials.values()] == [TrialStatus.RUNNING, TrialStatus.RUNNING]
    assert exp.trials[0].runner == EqOnlyRunner("https://b.example")


def test_eq_only_user_classes_compare_by_their_own_eq() -> None:
    exp = _user_class_experiment()
    other = copy.deepcopy(exp)
    assert exp == other and exp.trials[0] == other.trials[0]
    other.runner = EqOnlyRunner("https://changed.example")
    other.trials[0].runner = EqOnlyRunner("https://changed.example")
    assert exp != other and exp.trials[0] != other.trials[0]


def test_eq_only_user_classes_have_short_reprs() -> None:
    exp = _user_class_experiment()
    assert repr(exp) == "Experiment(name='user_classes', num_trials=2)"
    assert repr(exp.runner) == "EqOnlyRunner()"
    assert repr(exp.tracking_metrics["revenue"]) == "EqOnlyMetric(name='revenue')"


# --- repr ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", list(ALL_BUILDERS.values()), ids=list(ALL_BUILDERS))
def test_repr_is_short_and_names_the_class(build: Callable[[], Any]) -> None:
    obj = build()
    text = repr(obj)
    assert text.startswith(type(obj).__name__ + "(") and text.endswith(")")
    assert len(text) <= 400


def test_repr_examples() -> None:
    assert repr(Arm({"x": 0.5}, name="0_0")) == "Arm(name='0_0', parameters={'x': 0.5})"
    assert repr(RangeParameter("x", FLOAT, 0, 1)) == (
        "RangeParameter(name='x', parameter_type=<ParameterType.FLOAT: 2>, lower=0, upper=1)"
    )
    assert repr(make_experiment(2)) == "Experiment(name='demo_experiment', num_trials=2)"


@pytest.fixture(scope="module")
def big_experiment() -> Experiment:
    return make_experiment(10_000)


def _fastest(func: Callable[[], object], runs: int = 5) -> float:
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def test_repr_of_a_10000_trial_experiment_is_short(big_experiment: Experiment) -> None:
    assert big_experiment.num_trials == 10_000
    assert repr(big_experiment) == "Experiment(name='demo_experiment', num_trials=10000)"


def test_repr_of_a_10000_trial_experiment_is_fast(big_experiment: Experiment) -> None:
    assert _fastest(lambda: repr(big_experiment)) < 0.005


HUGE: dict[str, Callable[[], Any]] = {
    "arm-1M-parameters": lambda: Arm({f"p{i}": i for i in range(1_000_000)}, name="0_0"),
    "trial-1M-parameters": lambda: experiment().new_trial(
        GeneratorRun([Arm({f"p{i}": float(i) for i in range(1_000_000)})])
    ),
    "arm-1MB-string": lambda: Arm({"blob": "x" * 1_000_000}),
    "arm-deep-list": lambda: Arm({"xs": [list(range(100_000))] * 10}),
    "experiment-1MB-name": lambda: experiment(name="n" * 1_000_000),
    "generator-run-100k-arms": lambda: GeneratorRun([Arm({"x": float(i)}) for i in range(100_000)]),
    "choice-1M-values": lambda: ChoiceParameter("c", ParameterType.INT, list(range(1_000_000))),
    "scalarized-100k-metrics": lambda: ScalarizedObjective(
        [Metric(f"m{i}") for i in range(100_000)]
    ),
    "multi-objective-100k": lambda: MultiObjective(
        [Objective(Metric(f"m{i}")) for i in range(100_000)]
    ),
    "constraint-1M-terms": lambda: ParameterConstraint(
        {f"p{i}": 1.0 for i in range(1_000_000)}, 1.0
    ),
    "tuple-1M": lambda: FixedParameter("f", ParameterType.INT, tuple(range(1_000_000))),  # type: ignore[arg-type]
}


@pytest.fixture(scope="module", params=list(HUGE.values()), ids=list(HUGE))
def huge(request: pytest.FixtureRequest) -> Any:
    return request.param()


def test_repr_of_a_huge_object_stays_small(huge: Any) -> None:
    assert len(repr(huge)) <= 400


def test_repr_of_a_huge_object_is_fast(huge: Any) -> None:
    # A full repr() of these takes 10-100 ms; the short repr looks only at what it shows.
    assert _fastest(lambda: repr(huge)) < 0.005


def test_repr_of_big_data_stays_small() -> None:
    data = Data([row(i, f"{i}_0") for i in range(50_000)])
    assert len(repr(data)) <= 200


class Holder(Base):
    _repr_fields: ClassVar[tuple[str, ...]] = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@given(st.tuples(_json) | _json)
def test_short_repr_is_the_full_repr_when_that_is_short(value: Any) -> None:
    full = repr(value)
    text = repr(Holder(value))
    if len(full) <= 60:
        assert text == f"Holder(value={full})"
    else:
        shown = text[len("Holder(value=") : -1]
        assert len(shown) == 60 and shown.endswith("...")


def test_values_equal_tells_apart_utc_offsets_of_the_same_instant() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from aestore.core.base import values_equal

    utc = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    india = utc.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert utc == india  # Python compares instants
    assert not values_equal(utc, india)
    assert values_equal(india, india.replace())
