"""Bookkeeping: what this process last committed for an experiment object, per database.

The incremental save compares an experiment with its :class:`ExperimentState` (what the last
successful commit stored) instead of re-reading the database. Rules:

- States live in a registry keyed by ``id(experiment)`` (removed by ``weakref.finalize`` when
  the experiment is collected), so they take no part in model equality, and per database
  (the engine URL, password masked), since one experiment may be saved to two databases.
- A state is replaced only after a successful commit (``bookkeeping never runs ahead of the
  commit``). A save whose commit outcome is unknown (the commit raised or was cancelled) marks
  the database *unsure*; the next save then resynchronises: it replaces the stored experiment
  whole if the stored row carries this object's ``instance_token``.
- Change detection per trial is cheap, so an unchanged 10,000-trial experiment costs little:
  ``tuple(trial.__dict__.values())`` is compared with a frozen copy made at the last commit,
  in which plain dicts are deep-copied and lists shallow-copied, and objects are kept by
  reference. Only trials that differ are encoded again.

Assumptions (as on the experimentation platform): generator runs, their arms, runners and
attached ``Data`` objects are not mutated in place once saved -- replace them instead (a
replaced object is detected; ``attach_data`` always adds a new time stamp).
"""

from __future__ import annotations

import copy
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from aestore.core.base_trial import BaseTrial
from aestore.core.data import Data
from aestore.core.experiment import Experiment
from aestore.storage.sqa_store.encoder import Row, generator_runs_of
from aestore.storage.sqa_store.sqa_classes import SQATrial

__all__ = [
    "ExperimentState",
    "Registration",
    "TrialState",
    "children_signature",
    "frozen_signature",
    "image",
    "images",
    "live_signature",
    "registration",
    "trial_image",
]

# The columns of a trial row that the state compares (all but the version).
TRIAL_KEYS = tuple(c.name for c in SQATrial.__table__.columns if c.name != "version")

_ATOMIC = (str, int, float, bool, type(None))


def _freeze(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        if all(type(v) in _ATOMIC for v in value.values()):
            return dict(value)
        return copy.deepcopy(value)
    if kind is list:
        return list(value)
    return value


def live_signature(trial: BaseTrial) -> tuple[Any, ...]:
    """The trial's attribute values as they are now (compare with :func:`frozen_signature`)."""
    return tuple(trial.__dict__.values())


def frozen_signature(trial: BaseTrial) -> tuple[Any, ...]:
    """The trial's attribute values, with containers copied so later mutations show.

    Example:
        >>> from aestore.samples import make_experiment
        >>> trial = make_experiment(1).trials[0]
        >>> frozen = frozen_signature(trial)
        >>> trial.run_metadata["k"] = 1
        >>> live_signature(trial) == frozen
        False
    """
    return tuple(_freeze(v) for v in trial.__dict__.values())


def children_signature(trial: BaseTrial) -> tuple[Any, ...]:
    """What the trial's child rows depend on: generator runs, multipliers, abandoned arms."""
    return (
        tuple(generator_runs_of(trial)),
        tuple(getattr(trial, "abandoned_arms_metadata", ())),
        trial.runner,
    )


def image(row: Row | None) -> tuple[Any, ...] | None:
    """A row's values as a tuple (what the state keeps to compare rows)."""
    return None if row is None else tuple(row.values())


def trial_image(row: Any) -> tuple[Any, ...]:
    """A trial row's compared values, from an encoded dict or a row read back."""
    return tuple(row[k] for k in TRIAL_KEYS)


def images(rows: list[Row]) -> tuple[tuple[Any, ...], ...]:
    """Images of several rows."""
    return tuple(tuple(r.values()) for r in rows)


@dataclass
class TrialState:
    """What was committed for one trial."""

    trial: BaseTrial  # the object saved (a replaced trial object is a change)
    signature: tuple[Any, ...]
    row: tuple[Any, ...]
    children: tuple[Any, ...]
    version: int
    data: dict[int, Data]  # attach stamp -> the Data object stored


@dataclass
class ExperimentState:
    """What was committed for one experiment in one database."""

    experiment_id: int
    version: int
    experiment_row: tuple[Any, ...]
    tables: dict[str, tuple[Any, ...]]  # experiment-level child tables: row images
    trials: dict[int, TrialState] = field(default_factory=dict)


@dataclass
class Registration:
    """Per experiment object: its token and a state per database key."""

    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    states: dict[str, ExperimentState] = field(default_factory=dict)
    unsure: set[str] = field(default_factory=set)


_registry: dict[int, Registration] = {}


def registration(experiment: Experiment, token: str | None = None) -> Registration:
    """The bookkeeping of ``experiment`` (created on first use; ``token`` when loaded).

    Example:
        >>> from aestore.samples import make_empty_experiment
        >>> exp = make_empty_experiment()
        >>> registration(exp) is registration(exp)
        True
    """
    key = id(experiment)
    found = _registry.get(key)
    if found is None:
        found = Registration() if token is None else Registration(token=token)
        _registry[key] = found
        weakref.finalize(experiment, _registry.pop, key, None)
    elif token is not None and not found.states:
        found.token = token
    return found


def trial_state(
    trial: BaseTrial,
    row: Any,
    version: int,
    data: dict[int, Data] | None,
) -> TrialState:
    """The state of a trial just encoded as ``row``."""
    return TrialState(
        trial=trial,
        signature=frozen_signature(trial),
        row=trial_image(row),
        children=children_signature(trial),
        version=version,
        data=dict(data or {}),
    )


def forget_stored_experiment(database: str, experiment_id: int) -> None:
    """Drop every state of a deleted experiment: its objects' next save inserts it whole.

    Example:
        >>> forget_stored_experiment("sqlite+aiosqlite:///x.db", 1)
    """
    for reg in _registry.values():
        state = reg.states.get(database)
        if state is not None and state.experiment_id == experiment_id:
            del reg.states[database]
            reg.unsure.discard(database)
