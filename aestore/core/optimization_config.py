"""Optimization configs: an objective plus constraints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from aestore.core.base import Base
from aestore.core.metric import Metric
from aestore.core.objective import MultiObjective, Objective, ScalarizedObjective
from aestore.core.outcome_constraint import ObjectiveThreshold, OutcomeConstraint
from aestore.exceptions import ModelError

__all__ = ["MultiObjectiveOptimizationConfig", "OptimizationConfig"]


class OptimizationConfig(Base):
    """What to optimise, and the outcome constraints that must hold.

    Example:
        >>> cfg = OptimizationConfig(Objective(Metric("acc")))
        >>> sorted(cfg.metrics)
        ['acc']
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("objective", "outcome_constraints")

    def __init__(
        self,
        objective: Objective,
        outcome_constraints: Sequence[OutcomeConstraint] | None = None,
    ) -> None:
        if not isinstance(objective, Objective):
            raise ModelError(f"OptimizationConfig needs an Objective, got {objective!r}.")
        if isinstance(objective, MultiObjective) and type(self) is OptimizationConfig:
            raise ModelError("Use MultiObjectiveOptimizationConfig for a MultiObjective.")
        self.objective = objective
        self.outcome_constraints = list(outcome_constraints or [])

    @property
    def metrics(self) -> dict[str, Metric]:
        """Every metric the config uses, by name."""
        found: dict[str, Metric] = {m.name: m for m in self.objective.metrics}
        for constraint in self.outcome_constraints:
            found.setdefault(constraint.metric.name, constraint.metric)
        return found


class MultiObjectiveOptimizationConfig(OptimizationConfig):
    """Several objectives, optional outcome constraints and objective thresholds.

    Example:
        >>> mo = MultiObjective([Objective(Metric("a")), Objective(Metric("b"))])
        >>> len(MultiObjectiveOptimizationConfig(mo).metrics)
        2
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("objective", "objective_thresholds")

    def __init__(
        self,
        objective: MultiObjective | ScalarizedObjective,
        outcome_constraints: Sequence[OutcomeConstraint] | None = None,
        objective_thresholds: Sequence[ObjectiveThreshold] | None = None,
    ) -> None:
        if not isinstance(objective, MultiObjective | ScalarizedObjective):
            raise ModelError(
                "MultiObjectiveOptimizationConfig needs a MultiObjective or ScalarizedObjective."
            )
        super().__init__(objective, outcome_constraints)
        self.objective_thresholds = list(objective_thresholds or [])

    @property
    def metrics(self) -> dict[str, Metric]:
        """Every metric the config uses, by name, thresholds included."""
        found = super().metrics
        for threshold in self.objective_thresholds:
            found.setdefault(threshold.metric.name, threshold.metric)
        return found
