"""Metrics, objectives, outcome constraints, thresholds and optimization configs."""

from __future__ import annotations

from typing import Any

import pytest

from aestore.core import (
    ComparisonOp,
    Metric,
    MultiObjective,
    MultiObjectiveOptimizationConfig,
    Objective,
    ObjectiveThreshold,
    OptimizationConfig,
    OutcomeConstraint,
    ScalarizedObjective,
)
from aestore.exceptions import ModelError
from tests.core.helpers import assert_model_error

GEQ, LEQ = ComparisonOp.GEQ, ComparisonOp.LEQ

# --- Metric --------------------------------------------------------------------------------


def test_metric_defaults() -> None:
    m = Metric("acc")
    assert (m.name, m.lower_is_better, m.properties) == ("acc", None, {})


def test_metric_copies_properties() -> None:
    props = {"unit": "ms"}
    m = Metric("latency", lower_is_better=True, properties=props)
    props["unit"] = "s"
    assert (m.lower_is_better, m.properties) == (True, {"unit": "ms"})


@pytest.mark.parametrize("name", ["", None], ids=["empty", "None"])
def test_metric_needs_a_name(name: Any) -> None:
    with pytest.raises(ModelError) as excinfo:
        Metric(name)
    assert_model_error(excinfo, "metric name")


# --- objectives ----------------------------------------------------------------------------


def test_objective_defaults_to_maximise() -> None:
    m = Metric("acc")
    o = Objective(m)
    assert (o.metric, o.minimize, o.metrics) == (m, False, [m])


def test_objective_needs_a_metric() -> None:
    with pytest.raises(ModelError) as excinfo:
        Objective("acc")  # type: ignore[arg-type]
    assert_model_error(excinfo, "Metric", "str")


def test_multi_objective_lists_metrics_in_order() -> None:
    a, b = Metric("a"), Metric("b")
    mo = MultiObjective([Objective(a), Objective(b, minimize=True)])
    assert mo.metrics == [a, b]
    assert [o.minimize for o in mo.objectives] == [False, True]


def test_multi_objective_needs_an_objective() -> None:
    with pytest.raises(ModelError) as excinfo:
        MultiObjective([])
    assert_model_error(excinfo, "MultiObjective")


def test_scalarized_objective_defaults_to_unit_weights() -> None:
    ms = [Metric("a"), Metric("b")]
    so = ScalarizedObjective(ms)
    assert (so.metrics, so.weights, so.minimize) == (ms, [1.0, 1.0], False)


def test_scalarized_objective_keeps_weights_and_direction() -> None:
    so = ScalarizedObjective([Metric("a"), Metric("b")], weights=(0.7, 0.3), minimize=True)
    assert (so.weights, so.minimize) == ([0.7, 0.3], True)


def test_scalarized_objective_needs_one_weight_per_metric() -> None:
    with pytest.raises(ModelError) as excinfo:
        ScalarizedObjective([Metric("a"), Metric("b")], weights=[1.0])
    assert_model_error(excinfo, "2 metrics", "1 weights")


def test_scalarized_objective_needs_a_metric() -> None:
    with pytest.raises(ModelError) as excinfo:
        ScalarizedObjective([])
    assert_model_error(excinfo, "ScalarizedObjective")


# --- outcome constraints and thresholds ---------------------------------------------------


def test_outcome_constraint_is_relative_by_default() -> None:
    m = Metric("cost")
    c = OutcomeConstraint(m, LEQ, 5.0)
    assert (c.metric, c.op, c.bound, c.relative) == (m, LEQ, 5.0, True)


def test_outcome_constraint_needs_a_comparison_op() -> None:
    with pytest.raises(ModelError) as excinfo:
        OutcomeConstraint(Metric("cost"), "<=", 5.0)  # type: ignore[arg-type]
    assert_model_error(excinfo, "ComparisonOp", "'<='")


def test_outcome_constraint_needs_a_metric() -> None:
    with pytest.raises(ModelError) as excinfo:
        OutcomeConstraint("cost", LEQ, 5.0)  # type: ignore[arg-type]
    assert_model_error(excinfo, "Metric")


@pytest.mark.parametrize(
    ("lower_is_better", "op"), [(True, LEQ), (False, GEQ)], ids=["lower-better", "higher-better"]
)
def test_objective_threshold_infers_op_from_the_metric(
    lower_is_better: bool, op: ComparisonOp
) -> None:
    t = ObjectiveThreshold(Metric("m", lower_is_better=lower_is_better), 1.0)
    assert (t.op, t.bound, t.relative) == (op, 1.0, True)


def test_objective_threshold_explicit_op_wins() -> None:
    t = ObjectiveThreshold(Metric("m", lower_is_better=True), 1.0, relative=False, op=GEQ)
    assert (t.op, t.relative) == (GEQ, False)


def test_objective_threshold_without_op_or_direction_is_rejected() -> None:
    with pytest.raises(ModelError) as excinfo:
        ObjectiveThreshold(Metric("latency"), 1.0)
    assert_model_error(excinfo, "'latency'", "lower_is_better")


def test_objective_threshold_needs_a_metric() -> None:
    # Used to fail with AttributeError on metric.lower_is_better.
    with pytest.raises(ModelError) as excinfo:
        ObjectiveThreshold("latency", 1.0)  # type: ignore[arg-type]
    assert_model_error(excinfo, "Metric", "str")


def test_objective_threshold_is_an_outcome_constraint() -> None:
    assert isinstance(ObjectiveThreshold(Metric("m"), 1.0, op=LEQ), OutcomeConstraint)


# --- optimization configs ------------------------------------------------------------------


def test_optimization_config_defaults_to_no_constraints() -> None:
    cfg = OptimizationConfig(Objective(Metric("acc")))
    assert cfg.outcome_constraints == []


def test_optimization_config_metrics_cover_objective_and_constraints() -> None:
    acc, cost = Metric("acc"), Metric("cost")
    cfg = OptimizationConfig(Objective(acc), [OutcomeConstraint(cost, LEQ, 1.0)])
    assert cfg.metrics == {"acc": acc, "cost": cost}


def test_optimization_config_rejects_a_multi_objective() -> None:
    with pytest.raises(ModelError) as excinfo:
        OptimizationConfig(MultiObjective([Objective(Metric("a"))]))
    assert_model_error(excinfo, "MultiObjectiveOptimizationConfig")


def test_optimization_config_needs_an_objective() -> None:
    with pytest.raises(ModelError) as excinfo:
        OptimizationConfig(Metric("acc"))  # type: ignore[arg-type]
    assert_model_error(excinfo, "Objective")


def test_optimization_config_accepts_a_scalarized_objective() -> None:
    cfg = OptimizationConfig(ScalarizedObjective([Metric("a"), Metric("b")]))
    assert list(cfg.metrics) == ["a", "b"]


def test_multi_objective_config_defaults() -> None:
    cfg = MultiObjectiveOptimizationConfig(MultiObjective([Objective(Metric("a"))]))
    assert (cfg.outcome_constraints, cfg.objective_thresholds) == ([], [])


def test_multi_objective_config_metrics_include_thresholds() -> None:
    a, b, c = Metric("a"), Metric("b"), Metric("c")
    cfg = MultiObjectiveOptimizationConfig(
        MultiObjective([Objective(a)]),
        outcome_constraints=[OutcomeConstraint(b, LEQ, 1.0)],
        objective_thresholds=[ObjectiveThreshold(c, 2.0, op=GEQ)],
    )
    assert cfg.metrics == {"a": a, "b": b, "c": c}


def test_multi_objective_config_rejects_a_single_objective() -> None:
    with pytest.raises(ModelError) as excinfo:
        MultiObjectiveOptimizationConfig(Objective(Metric("a")))  # type: ignore[arg-type]
    assert_model_error(excinfo, "MultiObjective")


def test_multi_objective_config_accepts_a_scalarized_objective() -> None:
    so = ScalarizedObjective([Metric("a"), Metric("b")], weights=[0.5, 0.5])
    assert MultiObjectiveOptimizationConfig(so).objective is so


def test_multi_objective_metric_is_a_clear_error_and_minimize_is_false() -> None:
    from aestore.core import Metric, MultiObjective, Objective, ScalarizedObjective
    from aestore.exceptions import ModelError

    mo = MultiObjective([Objective(Metric("a")), Objective(Metric("b"), minimize=True)])
    assert mo.minimize is False
    with pytest.raises(ModelError, match="several metrics"):
        _ = mo.metric
    with pytest.raises(ModelError, match="several metrics"):
        _ = ScalarizedObjective([Metric("a"), Metric("b")]).metric
