"""The SQL store's check that every arm name stands for one set of parameters.

A stored experiment has one arm per name, and ``load_experiment`` refuses rows in which a name
stands for two parameter sets. Such an experiment arises when an arm's parameters are changed
in place, or an arm is replaced in a generator run, after it was named, while an equal copy of
it sits in another trial (every load makes such copies): a save must refuse it before writing
anything. The check costs what the save writes: each arm a save writes that is not the object
its name stands for is compared with that object, and only a change of stored arms (or of the
status quo) makes the save scan every trial for that name
(:meth:`~aestore.core.experiment.Experiment.arm_name_conflict`).

Example:
    >>> from aestore.samples import make_experiment
    >>> experiment = make_experiment(2)
    >>> suspects = arm_suspects(experiment, status_quo_changed=False)
    >>> note_arm_suspects(suspects, experiment, experiment.trials[1], changed=True)
    >>> check_arm_names(experiment, suspects)  # consistent: nothing raised
    >>> sorted(suspects)
    ['1_0']
"""

from __future__ import annotations

from aestore.core.arm import Arm
from aestore.core.base import values_equal
from aestore.core.base_trial import BaseTrial
from aestore.core.experiment import Experiment, held_arms
from aestore.exceptions import (
    SQAEncodeError,
    arm_conflict_message,
    arm_name_conflict_message,
    unnamed_arm_message,
)

__all__ = ["arm_suspects", "check_arm_names", "note_arm_suspects"]


def arm_suspects(
    experiment: Experiment, status_quo_changed: bool, check_status_quo: bool = True
) -> set[str | None]:
    """The set of arm names to check across the experiment (see :func:`check_arm_names`):
    the status quo's when it changed. Checks the status quo (unless ``check_status_quo`` is
    false: a save that does not write it) against the arm its name stands for, as
    :func:`note_arm_suspects` checks a trial's arms."""
    suspects: set[str | None] = set()
    status_quo = experiment.status_quo
    if status_quo is not None and check_status_quo:
        if status_quo_changed:
            suspects.add(status_quo._name)
        _check_copy(experiment, status_quo, "the experiment's status quo", suspects)
    return suspects


def note_arm_suspects(
    suspects: set[str | None], experiment: Experiment, trial: BaseTrial, changed: bool
) -> None:
    """Check the trial's arms that are not the arm their name stands for (an equal copy,
    usually: a load makes them, and so does adding an arm equal to a known one) against that
    arm; with ``changed`` (its stored arms changed), add all their names to ``suspects``: an
    arm changed in place, even the one its name stands for, may now clash with a copy
    anywhere in the experiment."""
    for arm in held_arms(trial):
        if changed:
            suspects.add(arm._name)
        _check_copy(experiment, arm, f"trial {trial.index}", suspects)


def _check_copy(experiment: Experiment, arm: Arm, where: str, suspects: set[str | None]) -> None:
    name = arm._name
    known = experiment.arms_by_name.get(name)  # type: ignore[arg-type]
    if known is arm:
        return
    if name is None:
        raise SQAEncodeError(unnamed_arm_message(experiment.name, where))
    if known is None:
        suspects.add(name)  # a name the experiment lost track of: compared with the others
    elif not values_equal(known.parameters, arm.parameters):
        raise SQAEncodeError(
            arm_name_conflict_message(experiment.name, name, where, "experiment.arms_by_name")
        )


def check_arm_names(experiment: Experiment, suspects: set[str | None]) -> None:
    """Raise SQAEncodeError (before anything of this save is written or committed) when one
    of the ``suspects`` stands for two sets of parameters in the experiment: stored, its
    trials could not be loaded back. Scans the trials, but only after a change of arms that
    were stored (rare: arms are seldom changed once named)."""
    if not suspects:
        return
    conflict = experiment.arm_name_conflict(suspects)
    if conflict is not None:
        raise SQAEncodeError(arm_conflict_message(experiment.name, conflict))
