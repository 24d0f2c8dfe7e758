"""A trial with a single arm."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from aestore.core.arm import Arm
from aestore.core.base_trial import BaseTrial, TrialStatus
from aestore.core.generator_run import GeneratorRun
from aestore.exceptions import ModelError

if TYPE_CHECKING:
    from aestore.core.experiment import Experiment

__all__ = ["Trial"]


class Trial(BaseTrial):
    """A trial that evaluates one arm, from one generator run.

    Example:
        >>> # trial = experiment.new_trial(generator_run=GeneratorRun([Arm({"x": 0.1})]))
        >>> # trial.arm.name == "0_0"
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("index", "status", "arm")

    def __init__(
        self,
        experiment: Experiment,
        index: int,
        generator_run: GeneratorRun | None = None,
        trial_type: str | None = None,
        ttl_seconds: int | None = None,
    ) -> None:
        super().__init__(experiment, index, trial_type, ttl_seconds)
        self.generator_run: GeneratorRun | None = None
        if generator_run is not None:
            self.add_generator_run(generator_run)

    def add_generator_run(self, generator_run: GeneratorRun) -> Trial:
        """Give the trial its (single-arm) generator run; names the arm."""
        if self.generator_run is not None:
            raise ModelError(f"Trial {self.index} already has a generator run.")
        if self.status is not TrialStatus.CANDIDATE:
            raise ModelError(f"Trial {self.index} is {self.status.name}; arms can't be added.")
        if len(generator_run.arms) != 1:
            raise ModelError(
                f"A Trial takes a generator run with exactly one arm, got "
                f"{len(generator_run.arms)}; use new_batch_trial() for several."
            )
        self._experiment._name_and_store_arms(generator_run.arms, self.index)
        generator_run.index = 0
        self.generator_run = generator_run
        return self

    def add_arm(self, arm: Arm) -> Trial:
        """Give the trial a single arm (wrapped in a generator run)."""
        return self.add_generator_run(GeneratorRun(arms=[arm]))

    @property
    def arm(self) -> Arm | None:
        """The trial's arm, or None before one is added."""
        return None if self.generator_run is None else self.generator_run.arms[0]

    @property
    def arms(self) -> list[Arm]:
        """The trial's arm as a list (empty before one is added)."""
        return [] if self.generator_run is None else list(self.generator_run.arms)

    @property
    def generator_runs(self) -> list[GeneratorRun]:
        """The trial's generator run as a list."""
        return [] if self.generator_run is None else [self.generator_run]
