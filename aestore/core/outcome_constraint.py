"""Constraints on outcomes, and thresholds for multi-objective optimisation."""

from __future__ import annotations

from typing import ClassVar

from aestore.core.base import Base
from aestore.core.metric import Metric
from aestore.core.types import ComparisonOp
from aestore.exceptions import ModelError

__all__ = ["ObjectiveThreshold", "OutcomeConstraint"]


class OutcomeConstraint(Base):
    """``metric op bound``, relative to the status quo when ``relative``.

    Example:
        >>> OutcomeConstraint(Metric("cost"), ComparisonOp.LEQ, 5.0).op
        <ComparisonOp.LEQ: 1>
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("metric", "op", "bound", "relative")

    def __init__(
        self, metric: Metric, op: ComparisonOp, bound: float, relative: bool = True
    ) -> None:
        if not isinstance(metric, Metric):
            raise ModelError(f"OutcomeConstraint needs a Metric, got {type(metric).__name__}.")
        if not isinstance(op, ComparisonOp):
            raise ModelError(f"OutcomeConstraint op must be a ComparisonOp, got {op!r}.")
        self.metric = metric
        self.op = op
        self.bound = bound
        self.relative = relative


class ObjectiveThreshold(OutcomeConstraint):
    """The worst acceptable value of an objective in multi-objective optimisation.

    ``op`` may be left out; it is then inferred from the metric's ``lower_is_better`` when set.

    Example:
        >>> ObjectiveThreshold(Metric("loss", lower_is_better=True), 1.0).op
        <ComparisonOp.LEQ: 1>
    """

    def __init__(
        self,
        metric: Metric,
        bound: float,
        relative: bool = True,
        op: ComparisonOp | None = None,
    ) -> None:
        if not isinstance(metric, Metric):
            raise ModelError(f"ObjectiveThreshold needs a Metric, got {type(metric).__name__}.")
        if op is None and metric.lower_is_better is not None:
            op = ComparisonOp.LEQ if metric.lower_is_better else ComparisonOp.GEQ
        if op is None:
            raise ModelError(
                f"ObjectiveThreshold on {metric.name!r}: give op, or set lower_is_better "
                "on the metric."
            )
        super().__init__(metric, op, bound, relative)
