"""Generator runs: a batch of arms proposed together, with what the model knew then."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

from aestore.core.arm import Arm
from aestore.core.base import Base
from aestore.core.optimization_config import OptimizationConfig
from aestore.core.search_space import SearchSpace
from aestore.exceptions import ModelError

__all__ = ["GeneratorRun", "GeneratorRunType", "TModelPredict", "TModelPredictArm"]

# (means by metric, covariances by metric pair)
TModelPredict = tuple[dict[str, list[float]], dict[str, dict[str, list[float]]]]
TModelPredictArm = tuple[dict[str, float], dict[str, dict[str, float]] | None]


class GeneratorRunType(Enum):
    """Built-in generator run types. ``STATUS_QUO`` works without any storage config.

    Example:
        >>> GeneratorRunType.STATUS_QUO.name
        'STATUS_QUO'
    """

    STATUS_QUO = 0
    MANUAL = 1


def _type_name(value: str | Enum | None) -> str | None:
    """Generator run and experiment types are stored as names; enum members give theirs."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return value.name
    raise ModelError(f"A type must be a string or an Enum member, got {value!r}.")


class GeneratorRun(Base):
    """Arms proposed together, with weights, the model's predictions and its state.

    Example:
        >>> gr = GeneratorRun([Arm({"x": 1.0})], type=GeneratorRunType.STATUS_QUO)
        >>> gr.generator_run_type, gr.weights
        ('STATUS_QUO', [1.0])
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("generator_run_type", "arms")

    def __init__(
        self,
        arms: Sequence[Arm],
        weights: Sequence[float] | None = None,
        optimization_config: OptimizationConfig | None = None,
        search_space: SearchSpace | None = None,
        model_predictions: TModelPredict | None = None,
        best_arm_predictions: tuple[Arm, TModelPredictArm | None] | None = None,
        type: str | Enum | None = None,  # the platform's own keyword
        fit_time: float | None = None,
        gen_time: float | None = None,
        model_key: str | None = None,
        model_kwargs: dict[str, Any] | None = None,
        bridge_kwargs: dict[str, Any] | None = None,
        gen_metadata: dict[str, Any] | None = None,
        model_state_after_gen: dict[str, Any] | None = None,
    ) -> None:
        arms = list(arms)
        if weights is None:
            weights = [1.0] * len(arms)
        weights = list(weights)
        if len(weights) != len(arms):
            raise ModelError(f"GeneratorRun has {len(arms)} arms but {len(weights)} weights.")
        if any(not isinstance(a, Arm) for a in arms):
            raise ModelError("GeneratorRun arms must be Arm objects.")
        self.arms = arms
        self.weights = weights
        self.optimization_config = optimization_config
        self.search_space = search_space
        self.model_predictions = model_predictions
        self.best_arm_predictions = best_arm_predictions
        self._generator_run_type = _type_name(type)
        self.fit_time = fit_time
        self.gen_time = gen_time
        self.model_key = model_key
        self.model_kwargs = model_kwargs
        self.bridge_kwargs = bridge_kwargs
        self.gen_metadata = gen_metadata
        self.model_state_after_gen = model_state_after_gen
        self.time_created: datetime = datetime.now(UTC)
        self.index: int | None = None  # position within its trial, set when added to one

    @property
    def generator_run_type(self) -> str | None:
        """The run's type as a name (``"STATUS_QUO"``), or None."""
        return self._generator_run_type

    @generator_run_type.setter
    def generator_run_type(self, value: str | Enum | None) -> None:
        self._generator_run_type = _type_name(value)

    @property
    def arm_weights(self) -> dict[str, float]:
        """Weights by arm name (arms must be named)."""
        out: dict[str, float] = {}
        for arm, weight in zip(self.arms, self.weights, strict=True):
            if arm.name is None:
                raise ModelError("arm_weights needs named arms; add the run to a trial first.")
            out[arm.name] = out.get(arm.name, 0.0) + weight
        return out
