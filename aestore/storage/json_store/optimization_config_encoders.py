"""Encoding of what an experiment optimizes: metrics, objectives, constraints, configs."""

from __future__ import annotations

from typing import Any

from aestore.core import (
    Metric,
    MultiObjective,
    MultiObjectiveOptimizationConfig,
    Objective,
    ObjectiveThreshold,
    OptimizationConfig,
    OutcomeConstraint,
    ScalarizedObjective,
)
from aestore.storage.json_store.format import to_json_safe

__all__ = [
    "metric_to_dict",
    "multi_objective_optimization_config_to_dict",
    "multi_objective_to_dict",
    "objective_threshold_to_dict",
    "objective_to_dict",
    "optimization_config_to_dict",
    "outcome_constraint_to_dict",
    "scalarized_objective_to_dict",
]


def metric_to_dict(metric: Metric) -> dict[str, Any]:
    """A plain metric (a subclass needs its own ``class_to_dict``; see :mod:`.registry`)."""
    return {
        "__type": "Metric",
        "name": metric.name,
        "lower_is_better": metric.lower_is_better,
        "properties": to_json_safe(metric.properties),
    }


def objective_to_dict(objective: Objective) -> dict[str, Any]:
    """One metric, maximised or minimised."""
    return {"__type": "Objective", "metric": objective.metric, "minimize": objective.minimize}


def multi_objective_to_dict(objective: MultiObjective) -> dict[str, Any]:
    """Several objectives."""
    return {"__type": "MultiObjective", "objectives": objective.objectives}


def scalarized_objective_to_dict(objective: ScalarizedObjective) -> dict[str, Any]:
    """A weighted sum of metrics."""
    return {
        "__type": "ScalarizedObjective",
        "metrics": objective.metrics,
        "weights": to_json_safe(objective.weights),
        "minimize": objective.minimize,
    }


def optimization_config_to_dict(config: OptimizationConfig) -> dict[str, Any]:
    """An objective and its outcome constraints."""
    return {
        "__type": "OptimizationConfig",
        "objective": config.objective,
        "outcome_constraints": config.outcome_constraints,
    }


def multi_objective_optimization_config_to_dict(
    config: MultiObjectiveOptimizationConfig,
) -> dict[str, Any]:
    """Objectives, outcome constraints and objective thresholds."""
    return {
        "__type": "MultiObjectiveOptimizationConfig",
        "objective": config.objective,
        "outcome_constraints": config.outcome_constraints,
        "objective_thresholds": config.objective_thresholds,
    }


def outcome_constraint_to_dict(constraint: OutcomeConstraint) -> dict[str, Any]:
    """``metric op bound``; ``op`` is a ComparisonOp name."""
    return {
        "__type": "OutcomeConstraint",
        "metric": constraint.metric,
        "op": constraint.op.name,
        "bound": to_json_safe(constraint.bound),
        "relative": constraint.relative,
    }


def objective_threshold_to_dict(threshold: ObjectiveThreshold) -> dict[str, Any]:
    """An objective threshold (same fields as an outcome constraint)."""
    out = outcome_constraint_to_dict(threshold)
    out["__type"] = "ObjectiveThreshold"
    return out
