"""A trial that evaluates many weighted arms together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from aestore.core.arm import Arm
from aestore.core.base import Base
from aestore.core.base_trial import BaseTrial, TrialStatus
from aestore.core.generator_run import GeneratorRun
from aestore.exceptions import ModelError

if TYPE_CHECKING:
    from aestore.core.experiment import Experiment

__all__ = ["AbandonedArm", "BatchTrial", "GeneratorRunStruct"]


class AbandonedArm(Base):
    """An arm of a batch trial that was given up, with when and why.

    Example:
        >>> AbandonedArm("0_1", reason="crashed").name
        '0_1'
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("name", "reason")

    def __init__(self, name: str, time: datetime | None = None, reason: str | None = None):
        self.name = name
        self.time = time if time is not None else datetime.now(UTC)
        self.reason = reason


@dataclass(eq=False, repr=False)  # Base gives the value equality and the short repr
class GeneratorRunStruct(Base):
    """A generator run in a batch trial, with the multiplier applied to its weights."""

    generator_run: GeneratorRun
    weight: float = 1.0

    _repr_fields: ClassVar[tuple[str, ...]] = ("generator_run", "weight")


class BatchTrial(BaseTrial):
    """A trial of many arms, each with a weight, from one or more generator runs.

    Example:
        >>> # batch = experiment.new_batch_trial()
        >>> # batch.add_arms_and_weights([Arm({"x": 0.1}), Arm({"x": 0.9})], [0.5, 0.5])
        >>> # [a.name for a in batch.arms] == ["0_0", "0_1"]
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("index", "status", "num_arms")

    def __init__(
        self,
        experiment: Experiment,
        index: int,
        generator_run: GeneratorRun | None = None,
        trial_type: str | None = None,
        ttl_seconds: int | None = None,
    ) -> None:
        super().__init__(experiment, index, trial_type, ttl_seconds)
        self.generator_run_structs: list[GeneratorRunStruct] = []
        self.abandoned_arms_metadata: list[AbandonedArm] = []
        self._status_quo: Arm | None = None
        self._status_quo_weight: float = 1.0
        if generator_run is not None:
            self.add_generator_run(generator_run)

    def add_generator_run(self, generator_run: GeneratorRun, multiplier: float = 1.0) -> BatchTrial:
        """Add a generator run's arms, its weights scaled by ``multiplier``; names the arms."""
        if self.status is not TrialStatus.CANDIDATE:
            raise ModelError(f"Trial {self.index} is {self.status.name}; arms can't be added.")
        self._experiment._name_and_store_arms(
            generator_run.arms, self.index, first_number=self._next_arm_number()
        )
        generator_run.index = len(self.generator_run_structs)
        self.generator_run_structs.append(GeneratorRunStruct(generator_run, multiplier))
        return self

    def add_arms_and_weights(
        self, arms: Sequence[Arm], weights: Sequence[float] | None = None, multiplier: float = 1.0
    ) -> BatchTrial:
        """Add arms (with optional weights) as one manual generator run.

        Example:
            >>> # batch.add_arms_and_weights([Arm({"x": 1.0})], weights=[2.0])
        """
        return self.add_generator_run(GeneratorRun(arms=arms, weights=weights), multiplier)

    def add_arm(self, arm: Arm, weight: float = 1.0) -> BatchTrial:
        """Add a single arm with a weight."""
        return self.add_arms_and_weights([arm], [weight])

    def _next_arm_number(self) -> int:
        return sum(len(s.generator_run.arms) for s in self.generator_run_structs)

    @property
    def generator_runs(self) -> list[GeneratorRun]:
        """The batch's generator runs, in the order they were added."""
        return [s.generator_run for s in self.generator_run_structs]

    @property
    def arm_weights(self) -> dict[str, tuple[Arm, float]]:
        """Arms by name with their total weight (status quo last, when set)."""
        out: dict[str, tuple[Arm, float]] = {}
        for struct in self.generator_run_structs:
            gr = struct.generator_run
            for arm, weight in zip(gr.arms, gr.weights, strict=True):
                name = arm.name or ""
                previous = out[name][1] if name in out else 0.0
                out[name] = (arm, previous + weight * struct.weight)
        if self._status_quo is not None and self._status_quo.name is not None:
            out[self._status_quo.name] = (self._status_quo, self._status_quo_weight)
        return out

    @property
    def arms(self) -> list[Arm]:
        """Distinct arms of the batch, status quo included."""
        return [arm for arm, _ in self.arm_weights.values()]

    @property
    def weights(self) -> list[float]:
        """Weights matching :attr:`arms`."""
        return [weight for _, weight in self.arm_weights.values()]

    @property
    def num_arms(self) -> int:
        """How many distinct arms the batch has."""
        return len(self.arm_weights)

    @property
    def status_quo(self) -> Arm | None:
        """The batch's control arm, if any."""
        return self._status_quo

    @status_quo.setter
    def status_quo(self, arm: Arm | None) -> None:
        self.set_status_quo_with_weight(arm, 1.0)

    @property
    def status_quo_weight(self) -> float:
        """The weight the status quo arm gets."""
        return self._status_quo_weight

    def set_status_quo_with_weight(self, status_quo: Arm | None, weight: float = 1.0) -> BatchTrial:
        """Set the batch's control arm and its weight (named like the experiment's)."""
        if status_quo is not None:
            self._experiment._name_and_store_arms(
                [status_quo], self.index, default_name="status_quo"
            )
        self._status_quo = status_quo
        self._status_quo_weight = weight
        return self

    @property
    def abandoned_arm_names(self) -> set[str]:
        """Names of the arms given up in this batch."""
        return {a.name for a in self.abandoned_arms_metadata}

    def mark_arm_abandoned(self, arm_name: str, reason: str | None = None) -> BatchTrial:
        """Record that one arm of the batch was given up.

        Example:
            >>> # batch.mark_arm_abandoned("0_1", reason="out of budget")
        """
        if arm_name not in self.arm_weights:
            raise ModelError(f"Batch trial {self.index} has no arm named {arm_name!r}.")
        if arm_name in self.abandoned_arm_names:
            raise ModelError(f"Arm {arm_name!r} of trial {self.index} is already abandoned.")
        self.abandoned_arms_metadata.append(AbandonedArm(arm_name, reason=reason))
        return self
