"""Experiment: construction, trials, arms, metrics, and attached data with its history."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import Enum

import pytest

from aestore.core import (
    Arm,
    BatchTrial,
    ComparisonOp,
    Data,
    Experiment,
    GeneratorRun,
    Metric,
    Objective,
    OptimizationConfig,
    OutcomeConstraint,
    Runner,
    SearchSpace,
    Trial,
    TrialStatus,
)
from aestore.core.experiment import held_arms
from aestore.exceptions import DuplicateNameError, ModelError, UnknownTrialError
from aestore.samples import make_batch_experiment, make_experiment
from tests.core.helpers import arm_run, assert_model_error, experiment, row, search_space


class ExpType(Enum):
    OFFLINE = 1


# --- construction ------------------------------------------------------------------------------


def test_experiment_defaults() -> None:
    ss = search_space()
    exp = Experiment(ss)
    assert (exp.search_space, exp.name, exp.optimization_config, exp.runner) == (
        ss,
        None,
        None,
        None,
    )
    assert (exp.status_quo, exp.description, exp.is_test, exp.experiment_type) == (
        None,
        None,
        False,
        None,
    )
    assert (exp.properties, exp.tracking_metrics, exp.trials, exp.arms_by_name) == ({}, {}, {}, {})


def test_experiment_keeps_every_argument() -> None:
    cfg = OptimizationConfig(Objective(Metric("acc")))
    runner, sq, memory = Runner(), Arm({"x": 0.5}), Metric("memory")
    exp = Experiment(
        search_space(),
        name="e",
        optimization_config=cfg,
        tracking_metrics=[memory],
        runner=runner,
        status_quo=sq,
        description="d",
        is_test=True,
        experiment_type="AB",
        properties={"owner": "me"},
    )
    assert (exp.name, exp.optimization_config, exp.runner, exp.status_quo) == ("e", cfg, runner, sq)
    assert (exp.tracking_metrics, exp.description, exp.is_test) == ({"memory": memory}, "d", True)
    assert (exp.experiment_type, exp.properties) == ("AB", {"owner": "me"})


def test_time_created_is_aware_and_now() -> None:
    before = datetime.now(UTC)
    exp = experiment()
    assert exp.time_created.tzinfo is not None
    assert before <= exp.time_created <= datetime.now(UTC)


def test_experiment_needs_a_search_space() -> None:
    with pytest.raises(ModelError) as excinfo:
        Experiment([])  # type: ignore[arg-type]
    assert_model_error(excinfo, "SearchSpace", "list")


@pytest.mark.parametrize(
    ("given", "stored"),
    [(ExpType.OFFLINE, "OFFLINE"), ("AB", "AB"), (None, None)],
    ids=["enum", "str", "None"],
)
def test_experiment_type_is_stored_as_a_name(given: object, stored: str | None) -> None:
    exp = experiment(experiment_type=given)
    assert exp.experiment_type == stored


def test_experiment_type_setter_takes_an_enum_member() -> None:
    exp = experiment()
    exp.experiment_type = ExpType.OFFLINE
    assert exp.experiment_type == "OFFLINE"


def test_properties_are_copied() -> None:
    props = {"a": 1}
    exp = experiment(properties=props)
    props["b"] = 2
    assert exp.properties == {"a": 1}


def test_status_quo_is_named_status_quo() -> None:
    sq = Arm({"x": 0.5})
    exp = experiment(status_quo=sq)
    assert (sq.name, exp.arms_by_name) == ("status_quo", {"status_quo": sq})


def test_a_named_status_quo_keeps_its_name() -> None:
    exp = experiment(status_quo=Arm({"x": 0.5}, name="control"))
    assert exp.status_quo is not None and exp.status_quo.name == "control"


# --- metrics ------------------------------------------------------------------------------------


def test_metrics_are_the_configs_then_the_tracking_ones() -> None:
    acc, cost, memory = Metric("acc"), Metric("cost"), Metric("memory")
    cfg = OptimizationConfig(Objective(acc), [OutcomeConstraint(cost, ComparisonOp.LEQ, 1.0)])
    exp = experiment(optimization_config=cfg, tracking_metrics=[memory])
    assert exp.metrics == {"acc": acc, "cost": cost, "memory": memory}
    assert list(exp.metrics) == ["acc", "cost", "memory"]


def test_metrics_without_a_config_are_the_tracking_ones() -> None:
    memory = Metric("memory")
    assert experiment(tracking_metrics=[memory]).metrics == {"memory": memory}


def test_duplicate_tracking_metrics_are_rejected() -> None:
    with pytest.raises(DuplicateNameError) as excinfo:
        experiment(name="exp7", tracking_metrics=[Metric("m"), Metric("m")])
    assert_model_error(excinfo, "'m'", "'exp7'")


def test_add_tracking_metric_returns_the_experiment() -> None:
    exp = experiment()
    assert exp.add_tracking_metric(Metric("m")) is exp
    assert list(exp.tracking_metrics) == ["m"]


# --- trials -------------------------------------------------------------------------------------


def test_trials_are_keyed_by_consecutive_indices() -> None:
    exp = experiment()
    made = [exp.new_trial(), exp.new_batch_trial(), exp.new_trial()]
    assert list(exp.trials) == [0, 1, 2]
    assert [exp.trials[i] for i in range(3)] == made
    assert [type(t) for t in made] == [Trial, BatchTrial, Trial]
    assert exp.num_trials == 3


def test_new_trial_continues_after_the_highest_index() -> None:
    exp = experiment()
    exp.new_trial()
    exp.trials[7] = exp.trials.pop(0)  # e.g. a storage loader filling in trials
    exp.trials[7].index = 7
    assert exp.new_trial().index == 8


def test_new_trial_never_reuses_an_index_put_in_by_hand() -> None:
    exp = experiment()
    exp.new_trial()
    exp.trials[1] = exp.trials[0]  # same count as a trial made by new_trial
    del exp.trials[0]
    assert exp.new_trial().index == 2


def test_arms_by_name_collects_every_trials_arms() -> None:
    exp = experiment()
    t = exp.new_trial(arm_run(0.1))
    b = exp.new_batch_trial(arm_run(0.2, 0.3))
    assert exp.arms_by_name == {"0_0": t.arm, "1_0": b.arms[0], "1_1": b.arms[1]}


def test_equal_arm_in_a_later_trial_reuses_the_name() -> None:
    exp = experiment()
    exp.new_trial(arm_run(0.1))
    assert exp.new_trial(arm_run(0.1)).arm.name == "0_0"  # type: ignore[union-attr]


def test_int_and_float_parameters_are_different_arms() -> None:
    exp = experiment()
    exp.new_trial(GeneratorRun([Arm({"x": 1})]))
    assert exp.new_trial(GeneratorRun([Arm({"x": 1.0})])).arm.name == "1_0"  # type: ignore[union-attr]


def test_an_arm_name_with_other_parameters_is_rejected() -> None:
    exp = experiment(name="exp3")
    exp.new_trial(GeneratorRun([Arm({"x": 0.1}, name="a")]))
    with pytest.raises(ModelError) as excinfo:
        exp.new_trial(GeneratorRun([Arm({"x": 0.2}, name="a")]))
    assert_model_error(excinfo, "'a'", "'exp3'")
    assert list(exp.trials) == [0]


def test_an_arm_name_with_int_instead_of_float_parameters_is_rejected() -> None:
    exp = experiment()
    exp.new_trial(GeneratorRun([Arm({"x": 1.0}, name="a")]))
    with pytest.raises(ModelError) as excinfo:
        exp.new_trial(GeneratorRun([Arm({"x": 1}, name="a")]))
    assert_model_error(excinfo, "'a'")


def test_an_arm_name_with_equal_nan_parameters_is_accepted() -> None:
    # Parameters were compared with ==, where a NaN never equals another NaN object.
    exp = experiment()
    exp.new_trial(GeneratorRun([Arm({"x": float("nan")}, name="a")]))
    trial = exp.new_trial(GeneratorRun([Arm({"x": float("nan")}, name="a")]))
    assert trial.arm is not None and trial.arm.name == "a"


def test_trials_by_status() -> None:
    exp = experiment()
    a, b = exp.new_trial(), exp.new_trial()
    b.mark_staged()
    assert (
        exp.trials_by_status(TrialStatus.CANDIDATE),
        exp.trials_by_status(TrialStatus.STAGED),
    ) == ([a], [b])


# --- data -----------------------------------------------------------------------------------------


def _with_trials(n: int = 2) -> Experiment:
    exp = experiment(name="data_exp")
    for i in range(n):
        exp.new_trial(arm_run(0.1 * (i + 1)))
    return exp


def test_attach_data_returns_the_attach_time_in_microseconds() -> None:
    exp = _with_trials()
    before = time.time_ns() // 1000
    stamp = exp.attach_data(Data([row(0)]))
    assert type(stamp) is int
    assert before <= stamp <= time.time_ns() // 1000


def test_attach_data_keeps_the_history() -> None:
    exp = _with_trials()
    first, second = Data([row(0, mean=1.0)]), Data([row(0, mean=2.0)])
    s1, s2 = exp.attach_data(first), exp.attach_data(second)
    assert exp.data_by_trial[0] == {s1: first, s2: second}


def test_lookup_data_gives_the_latest_attach_per_trial() -> None:
    exp = _with_trials()
    exp.attach_data(Data([row(0, mean=1.0), row(1, "1_0", mean=10.0)]))
    exp.attach_data(Data([row(0, mean=2.0)]))
    assert exp.lookup_data() == Data([row(0, mean=2.0), row(1, "1_0", mean=10.0)])


def test_lookup_data_for_some_trials() -> None:
    exp = _with_trials(3)
    exp.attach_data(Data([row(i, f"{i}_0", mean=float(i)) for i in range(3)]))
    assert exp.lookup_data(trial_indices=[2, 0]).columns["mean"] == [2.0, 0.0]


def test_lookup_data_without_data_is_empty() -> None:
    assert len(_with_trials().lookup_data()) == 0


def test_lookup_data_for_one_trial_gives_its_stamp() -> None:
    exp = _with_trials()
    data = Data([row(1, "1_0")])
    stamp = exp.attach_data(data)
    assert exp.lookup_data_for_trial(1) == (data, stamp)
    assert exp.lookup_data_for_trial(0) == (Data(), None)


def test_attach_data_for_an_unknown_trial_is_rejected() -> None:
    exp = _with_trials(2)
    with pytest.raises(UnknownTrialError) as excinfo:
        exp.attach_data(Data([row(0), row(5, "5_0")]))
    assert_model_error(excinfo, "5", "'data_exp'")
    assert isinstance(excinfo.value, LookupError)
    assert (excinfo.value.trial_index, excinfo.value.experiment_name) == (5, "data_exp")


def test_a_rejected_attach_stores_nothing() -> None:
    exp = _with_trials(2)
    with pytest.raises(UnknownTrialError):
        exp.attach_data(Data([row(0), row(5, "5_0")]))
    assert exp.data_by_trial == {}


def test_attach_data_takes_data_only() -> None:
    with pytest.raises(ModelError) as excinfo:
        _with_trials().attach_data([row(0)])  # type: ignore[arg-type]
    assert_model_error(excinfo, "Data", "list")


def test_quick_attaches_get_increasing_stamps() -> None:
    exp = _with_trials()
    stamps = [exp.attach_data(Data([row(0, mean=float(i))])) for i in range(50)]
    assert stamps == sorted(set(stamps))
    assert exp.lookup_data().columns["mean"] == [49.0]


def test_one_attach_uses_one_stamp_for_every_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    # Used to bump the stamp of a colliding trial only and return that one, a stamp the other
    # trials of the attach were not stored under.
    monkeypatch.setattr(time, "time_ns", lambda: 1_700_000_000_000_000_000)  # a frozen clock
    exp = _with_trials()
    exp.attach_data(Data([row(1, "1_0")]))
    stamp = exp.attach_data(Data([row(0), row(1, "1_0")]))
    assert stamp in exp.data_by_trial[0] and stamp in exp.data_by_trial[1]


def test_attaches_within_one_microsecond_keep_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_700_000_000_000_000_000)
    exp = _with_trials()
    stamps = [exp.attach_data(Data([row(0, mean=float(i))])) for i in range(3)]
    assert len(set(stamps)) == 3 and stamps == sorted(stamps)
    assert exp.lookup_data().columns["mean"] == [2.0]


def test_latest_data_wins_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    exp = _with_trials()
    exp.attach_data(Data([row(0, mean=1.0)]))
    monkeypatch.setattr(time, "time_ns", lambda: 1_000_000_000)  # 1970: an NTP step back
    exp.attach_data(Data([row(0, mean=2.0)]))
    assert exp.lookup_data().columns["mean"] == [2.0]


def test_attaching_empty_data_changes_nothing() -> None:
    exp = _with_trials()
    exp.attach_data(Data())
    assert exp.data_by_trial == {}


def test_ten_thousand_trials_with_data_build_quickly() -> None:
    # Both new_trial() and attach_data() used to be quadratic in the number of trials.
    start = time.perf_counter()
    exp = Experiment(SearchSpace(search_space().parameters.values()), name="big")
    rows = []
    for i in range(10_000):
        trial = exp.new_trial(arm_run(i / 10_000))
        rows.append(row(i, trial.arm.name))  # type: ignore[union-attr]
    exp.attach_data(Data(rows))
    assert (exp.num_trials, len(exp.lookup_data())) == (10_000, 10_000)
    assert time.perf_counter() - start < 3.0


def test_signature_index_built_lazily_still_reuses_known_arm_names() -> None:
    from aestore.core import Arm, Experiment, GeneratorRun, ParameterType, RangeParameter
    from aestore.core import SearchSpace as _SearchSpace

    experiment = Experiment(
        _SearchSpace([RangeParameter("x", ParameterType.FLOAT, 0.0, 1.0)]), name="lazy"
    )
    first = experiment.new_trial(GeneratorRun([Arm({"x": 0.25})]))
    experiment._arms_by_signature = None  # as a decoder leaves it
    again = experiment.new_trial(GeneratorRun([Arm({"x": 0.25})]))
    other = experiment.new_trial(GeneratorRun([Arm({"x": 0.5})]))
    assert first.arm is not None and again.arm is not None and other.arm is not None
    assert again.arm.name == first.arm.name == "0_0"
    assert other.arm.name == "2_0"
    assert experiment._arms_by_signature is not None


# --- arm names that stand for two parameter sets --------------------------------------------


def test_a_consistent_experiment_has_no_arm_name_conflict() -> None:
    assert make_experiment(4).arm_name_conflict() is None
    assert make_batch_experiment().arm_name_conflict() is None  # equal copies are fine


def test_status_quo_changed_in_place_while_a_batch_holds_a_copy() -> None:
    experiment = make_batch_experiment()
    assert experiment.status_quo is not None
    experiment.status_quo.parameters["x1"] = 0.5
    assert experiment.arm_name_conflict() == ("status_quo", "trial 1", "experiment.arms_by_name")
    assert experiment.arm_name_conflict(["0_0"]) is None  # only the names asked about


def test_two_copies_under_a_name_the_experiment_does_not_know() -> None:
    experiment = make_experiment(3)
    for index in (1, 2):
        run = experiment.trials[index].generator_run
        assert run is not None
        run.arms[0] = Arm({"x1": float(index)}, name="shared")
    assert experiment.arm_name_conflict() == ("shared", "trial 2", "trial 1")


def test_an_unnamed_arm_held_by_a_trial_is_reported() -> None:
    experiment = make_experiment(2)
    run = experiment.trials[1].generator_run
    assert run is not None
    run.arms[0] = Arm({"x1": 0.5})
    assert experiment.arm_name_conflict() == (None, "trial 1", "")


def test_held_arms_lists_copies_that_trial_arms_merges_by_name() -> None:
    trial = make_batch_experiment().trials[1]
    names = [arm.name for arm in held_arms(trial)]
    assert sorted(set(names)) == sorted(arm.name for arm in trial.arms)
    assert len(names) >= len(trial.arms)
