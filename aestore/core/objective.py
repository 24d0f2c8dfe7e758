"""Objectives: what an optimization maximises or minimises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from aestore.core.base import Base
from aestore.core.metric import Metric
from aestore.exceptions import ModelError

__all__ = ["MultiObjective", "Objective", "ScalarizedObjective"]


class Objective(Base):
    """Optimise one metric.

    Example:
        >>> Objective(Metric("loss"), minimize=True).metric.name
        'loss'
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("metric", "minimize")

    def __init__(self, metric: Metric, minimize: bool = False) -> None:
        if not isinstance(metric, Metric):
            raise ModelError(f"Objective needs a Metric, got {type(metric).__name__}.")
        self.metric = metric
        self.minimize = minimize

    @property
    def metrics(self) -> list[Metric]:
        """The metrics this objective uses."""
        return [self.metric]


class MultiObjective(Objective):
    """Optimise several objectives at once (a Pareto front).

    Example:
        >>> mo = MultiObjective([Objective(Metric("a")), Objective(Metric("b"), minimize=True)])
        >>> [m.name for m in mo.metrics]
        ['a', 'b']
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("objectives",)

    def __init__(self, objectives: Sequence[Objective]) -> None:
        objectives = list(objectives)
        if not objectives:
            raise ModelError("MultiObjective needs at least one objective.")
        self.objectives = objectives

    @property
    def metrics(self) -> list[Metric]:
        """The metrics of every objective, in order."""
        return [m for o in self.objectives for m in o.metrics]

    @property
    def metric(self) -> Metric:  # type: ignore[override]  # no single metric
        """Not defined for several objectives: raises a clear error (use ``metrics``)."""
        raise ModelError("A MultiObjective has several metrics; use .metrics or .objectives.")

    @property
    def minimize(self) -> bool:  # type: ignore[override]  # each objective carries its own direction
        """Always False: each objective carries its own direction."""
        return False


class ScalarizedObjective(Objective):
    """Optimise a weighted sum of metrics.

    Example:
        >>> ScalarizedObjective([Metric("a"), Metric("b")]).weights
        [1.0, 1.0]
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("metrics", "weights", "minimize")

    def __init__(
        self,
        metrics: Sequence[Metric],
        weights: Sequence[float] | None = None,
        minimize: bool = False,
    ) -> None:
        metrics = list(metrics)
        if not metrics:
            raise ModelError("ScalarizedObjective needs at least one metric.")
        weights = [1.0] * len(metrics) if weights is None else list(weights)
        if len(weights) != len(metrics):
            raise ModelError(
                f"ScalarizedObjective has {len(metrics)} metrics but {len(weights)} weights."
            )
        self._metrics = metrics
        self.weights = weights
        self.minimize = minimize

    @property
    def metrics(self) -> list[Metric]:
        """The metrics in the weighted sum."""
        return self._metrics

    @property
    def metric(self) -> Metric:  # type: ignore[override]  # no single metric
        """Not defined for a weighted sum: raises a clear error (use ``metrics``)."""
        raise ModelError("A ScalarizedObjective has several metrics; use .metrics.")
