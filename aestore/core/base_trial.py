"""What every trial has: an index, a status with its time stamps, metadata and a runner."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from aestore.core.base import Base
from aestore.core.journal import note_change
from aestore.core.runner import Runner
from aestore.exceptions import IllegalStatusTransitionError, ModelError

if TYPE_CHECKING:
    from aestore.core.arm import Arm
    from aestore.core.experiment import Experiment
    from aestore.core.generator_run import GeneratorRun

__all__ = ["BaseTrial", "TrialStatus"]


class TrialStatus(Enum):
    """The life cycle of a trial.

    Example:
        >>> TrialStatus.COMPLETED.is_terminal, TrialStatus.RUNNING.is_terminal
        (True, False)
    """

    CANDIDATE = 0
    STAGED = 1
    FAILED = 2
    COMPLETED = 3
    RUNNING = 4
    ABANDONED = 5
    EARLY_STOPPED = 6

    @property
    def is_terminal(self) -> bool:
        """A finished trial's status never changes again."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {TrialStatus.FAILED, TrialStatus.COMPLETED, TrialStatus.ABANDONED, TrialStatus.EARLY_STOPPED}
)
_NOT_TERMINAL = (TrialStatus.CANDIDATE, TrialStatus.STAGED, TrialStatus.RUNNING)


def _now() -> datetime:
    return datetime.now(UTC)


class BaseTrial(Base, ABC):
    """Shared state and status transitions of :class:`Trial` and :class:`BatchTrial`.

    Trials are made by the experiment (``experiment.new_trial()``), never directly.
    """

    # Equality must not recurse back into the experiment that holds the trial.
    _eq_exclude: ClassVar[frozenset[str]] = frozenset({"_experiment"})
    _repr_fields: ClassVar[tuple[str, ...]] = ("index", "status")

    def __init__(
        self,
        experiment: Experiment,
        index: int,
        trial_type: str | None = None,
        ttl_seconds: int | None = None,
    ) -> None:
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise ModelError(f"ttl_seconds must be positive, got {ttl_seconds}.")
        self._experiment = experiment
        self.index = index
        self.trial_type = trial_type
        self.ttl_seconds = ttl_seconds
        self.status = TrialStatus.CANDIDATE
        self.run_metadata: dict[str, Any] = {}
        self.stop_metadata: dict[str, Any] = {}
        self.properties: dict[str, Any] = {}
        self.runner: Runner | None = None
        self.time_created: datetime = _now()
        self.time_staged: datetime | None = None
        self.time_run_started: datetime | None = None
        self.time_completed: datetime | None = None
        self.failed_reason: str | None = None
        self.abandoned_reason: str | None = None

    def _ae_reached(self) -> None:
        """A change of this armed trial (or below it) was reported: journal it."""
        note_change(self._experiment, self.index)

    @property
    def experiment(self) -> Experiment:
        """The experiment the trial belongs to."""
        return self._experiment

    @property
    @abstractmethod
    def arms(self) -> list[Arm]:
        """The trial's arms."""

    @property
    @abstractmethod
    def generator_runs(self) -> list[GeneratorRun]:
        """The trial's generator runs."""

    @property
    def is_terminal(self) -> bool:
        """Whether the trial has finished (its status can no longer change)."""
        return self.status.is_terminal

    def update_run_metadata(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Merge ``metadata`` into the run metadata and return it.

        Example:
            >>> # trial.update_run_metadata({"job_id": 17})
        """
        self.run_metadata.update(metadata)
        return self.run_metadata

    def update_stop_metadata(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Merge ``metadata`` into the stop metadata and return it."""
        self.stop_metadata.update(metadata)
        return self.stop_metadata

    # --- status transitions ------------------------------------------------------------------

    def _move(self, target: TrialStatus, allowed: tuple[TrialStatus, ...]) -> None:
        if self.status not in allowed:
            raise IllegalStatusTransitionError(
                self.index, self.status.name, target.name, "/".join(s.name for s in allowed)
            )
        self.status = target

    def mark_staged(self) -> BaseTrial:
        """CANDIDATE -> STAGED; stamps ``time_staged``."""
        self._move(TrialStatus.STAGED, (TrialStatus.CANDIDATE,))
        self.time_staged = _now()
        return self

    def mark_running(self, no_runner_required: bool = False) -> BaseTrial:
        """CANDIDATE/STAGED -> RUNNING; stamps ``time_run_started``.

        A runner (the trial's or the experiment's) is required unless ``no_runner_required``.
        """
        allowed = (TrialStatus.CANDIDATE, TrialStatus.STAGED)
        if self.status not in allowed:  # an illegal transition is reported as one, runner or not
            self._move(TrialStatus.RUNNING, allowed)
        if not no_runner_required and self.runner is None and self._experiment.runner is None:
            raise ModelError(
                f"Trial {self.index} has no runner and neither has its experiment; set one or "
                "call mark_running(no_runner_required=True)."
            )
        self._move(TrialStatus.RUNNING, allowed)
        self.time_run_started = _now()
        return self

    def mark_completed(self) -> BaseTrial:
        """RUNNING -> COMPLETED; stamps ``time_completed``."""
        self._move(TrialStatus.COMPLETED, (TrialStatus.RUNNING,))
        self.time_completed = _now()
        return self

    def mark_early_stopped(self) -> BaseTrial:
        """RUNNING -> EARLY_STOPPED; stamps ``time_completed``."""
        self._move(TrialStatus.EARLY_STOPPED, (TrialStatus.RUNNING,))
        self.time_completed = _now()
        return self

    def mark_failed(self, reason: str | None = None) -> BaseTrial:
        """CANDIDATE/STAGED/RUNNING -> FAILED; stamps ``time_completed``."""
        self._move(TrialStatus.FAILED, _NOT_TERMINAL)
        self.failed_reason = reason
        self.time_completed = _now()
        return self

    def mark_abandoned(self, reason: str | None = None) -> BaseTrial:
        """CANDIDATE/STAGED/RUNNING -> ABANDONED; stamps ``time_completed``."""
        self._move(TrialStatus.ABANDONED, _NOT_TERMINAL)
        self.abandoned_reason = reason
        self.time_completed = _now()
        return self

    def mark_as(self, status: TrialStatus, **kwargs: Any) -> BaseTrial:
        """Move to ``status`` through the matching ``mark_*`` method."""
        method = {
            TrialStatus.STAGED: self.mark_staged,
            TrialStatus.RUNNING: self.mark_running,
            TrialStatus.COMPLETED: self.mark_completed,
            TrialStatus.EARLY_STOPPED: self.mark_early_stopped,
            TrialStatus.FAILED: self.mark_failed,
            TrialStatus.ABANDONED: self.mark_abandoned,
        }.get(status)
        if method is None:
            raise IllegalStatusTransitionError(self.index, self.status.name, status.name, "nowhere")
        return method(**kwargs)

    def lookup_data(self) -> Any:
        """The latest data attached for this trial (a :class:`~aestore.core.data.Data`)."""
        return self._experiment.lookup_data(trial_indices=[self.index])
