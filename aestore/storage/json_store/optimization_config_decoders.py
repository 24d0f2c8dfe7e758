"""Decoding of what an experiment optimizes: metrics, objectives, constraints, configs.

Each is rebuilt through its constructor, which validates it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from aestore.storage.json_store.decode_fields import (
    dict_field,
    enum_member,
    list_field,
    object_field,
    objects_field,
)

if TYPE_CHECKING:
    from aestore.storage.json_store.decoder import DecodeContext

__all__ = [
    "metric_from_json",
    "multi_objective_from_json",
    "multi_objective_optimization_config_from_json",
    "objective_from_json",
    "objective_threshold_from_json",
    "optimization_config_from_json",
    "outcome_constraint_from_json",
    "scalarized_objective_from_json",
]


def metric_from_json(d: dict[str, Any], ctx: DecodeContext) -> Metric:
    """A plain metric."""
    return Metric(
        d["name"], lower_is_better=d["lower_is_better"], properties=dict_field(d, "properties", ctx)
    )


def objective_from_json(d: dict[str, Any], ctx: DecodeContext) -> Objective:
    """A single objective."""
    return Objective(object_field(d, "metric", Metric, ctx), minimize=d["minimize"])


def multi_objective_from_json(d: dict[str, Any], ctx: DecodeContext) -> MultiObjective:
    """Several objectives."""
    return MultiObjective(objects_field(d, "objectives", Objective, ctx))


def scalarized_objective_from_json(d: dict[str, Any], ctx: DecodeContext) -> ScalarizedObjective:
    """A weighted sum of metrics."""
    return ScalarizedObjective(
        objects_field(d, "metrics", Metric, ctx),
        weights=ctx.value(list_field(d, "weights")),
        minimize=d["minimize"],
    )


def optimization_config_from_json(d: dict[str, Any], ctx: DecodeContext) -> OptimizationConfig:
    """An objective and outcome constraints."""
    return OptimizationConfig(
        object_field(d, "objective", Objective, ctx),
        objects_field(d, "outcome_constraints", OutcomeConstraint, ctx),
    )


def multi_objective_optimization_config_from_json(
    d: dict[str, Any], ctx: DecodeContext
) -> MultiObjectiveOptimizationConfig:
    """Objectives, outcome constraints and objective thresholds."""
    return MultiObjectiveOptimizationConfig(
        object_field(d, "objective", (MultiObjective, ScalarizedObjective), ctx),
        objects_field(d, "outcome_constraints", OutcomeConstraint, ctx),
        objects_field(d, "objective_thresholds", ObjectiveThreshold, ctx),
    )


def outcome_constraint_from_json(d: dict[str, Any], ctx: DecodeContext) -> OutcomeConstraint:
    """An outcome constraint."""
    return OutcomeConstraint(
        object_field(d, "metric", Metric, ctx),
        enum_member(ComparisonOp, d["op"], "op"),
        ctx.value(d["bound"]),
        relative=d["relative"],
    )


def objective_threshold_from_json(d: dict[str, Any], ctx: DecodeContext) -> ObjectiveThreshold:
    """An objective threshold."""
    return ObjectiveThreshold(
        object_field(d, "metric", Metric, ctx),
        ctx.value(d["bound"]),
        relative=d["relative"],
        op=enum_member(ComparisonOp, d["op"], "op"),
    )
