"""Bookkeeping: what this process last committed for an experiment object, per database.

The incremental save compares an experiment with its :class:`ExperimentState` (what the last
successful commit stored) instead of re-reading the database. Rules:

- The bookkeeping lives on the experiment as ``_sqa_bookkeeping`` (listed in
  ``Experiment._eq_exclude``, so it takes no part in equality, and collected with the
  experiment), with one state per database (the engine URL, password masked), since one
  experiment may be saved to two databases.
- A state is replaced only after a successful commit (bookkeeping never runs ahead of the
  commit). A save whose commit outcome is unknown (the commit raised or was cancelled) marks
  the database *unsure*; the next save then resynchronises: it replaces the stored experiment
  whole if the stored row carries this object's ``instance_token``.
- Change detection must be cheap so that saving one new trial of a 10,000-trial experiment
  costs little. Per trial the state keeps a *frozen* copy of ``trial.__dict__`` (plain dicts
  copied, lists shallow-copied, other objects by reference), and the save compares the live
  ``__dict__`` objects with the frozen ones in one C-level list comparison (values compare by
  identity first), likewise the per-trial data histories. Only trials that differ are
  encoded again. The per-trial state is kept in parallel lists in the experiment's trial order.

Assumptions (as on the experimentation platform): generator runs, their arms, runners and
attached ``Data`` objects are not mutated in place once saved -- replace them instead (a
replaced object is detected; ``attach_data`` always adds a new time stamp).
"""

from __future__ import annotations

import copy
import operator
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from aestore.core.base_trial import BaseTrial
from aestore.core.data import Data
from aestore.core.experiment import Experiment
from aestore.storage.sqa_store.encoder import generator_runs_of
from aestore.storage.sqa_store.sqa_classes import SQATrial

__all__ = [
    "TRIAL_KEYS",
    "ExperimentState",
    "Registration",
    "StateBuilder",
    "TrialEntry",
    "children_signature",
    "forget_stored_experiment",
    "freeze",
    "image",
    "images",
    "registration",
    "trial_image",
]

BOOKKEEPING_ATTRIBUTE = "_sqa_bookkeeping"
# The columns of a trial row that the state compares (all but the version).
TRIAL_KEYS = tuple(c.name for c in SQATrial.__table__.columns if c.name != "version")

_ATOMIC = (str, int, float, bool, type(None))
_CONTAINERS = frozenset({dict, list})
_vars = operator.attrgetter("__dict__")


def _freeze_value(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        if all(type(v) in _ATOMIC for v in value.values()):
            return dict(value)
        return copy.deepcopy(value)
    if kind is list:
        return list(value)
    return value


def freeze(trial: BaseTrial) -> dict[str, Any]:
    """A copy of ``trial.__dict__`` that later in-place changes don't reach.

    Example:
        >>> from aestore.samples import make_experiment
        >>> trial = make_experiment(1).trials[0]
        >>> frozen = freeze(trial)
        >>> trial.run_metadata["k"] = 1
        >>> trial.__dict__ == frozen
        False
    """
    return {k: _freeze_value(v) if type(v) in _CONTAINERS else v for k, v in trial.__dict__.items()}


def children_signature(trial: BaseTrial) -> tuple[Any, ...]:
    """What the trial's child rows depend on: generator runs, multipliers, abandoned arms."""
    return (
        tuple(generator_runs_of(trial)),
        tuple(getattr(trial, "abandoned_arms_metadata", ())),
        trial.runner,
    )


def image(row: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """A row's values as a tuple (what the state keeps to compare rows)."""
    return None if row is None else tuple(row.values())


def images(rows: list[dict[str, Any]]) -> tuple[tuple[Any, ...], ...]:
    """Images of several rows."""
    return tuple(tuple(r.values()) for r in rows)


def trial_image(row: Any) -> tuple[Any, ...]:
    """A trial row's compared values, from an encoded dict or a row read back."""
    return tuple(row[k] for k in TRIAL_KEYS)


@dataclass
class TrialEntry:
    """What was committed for one trial."""

    trial: BaseTrial  # the object saved (a replaced trial object is a change)
    signature: dict[str, Any]  # freeze(trial)
    row: tuple[Any, ...]
    children: tuple[Any, ...]
    version: int
    data: dict[int, Data] | None  # attach stamp -> the Data object stored

    @classmethod
    def of(
        cls, trial: BaseTrial, row: Any, version: int, data: dict[int, Data] | None
    ) -> TrialEntry:
        """The entry of a trial just encoded (or read back) as ``row``."""
        return cls(
            trial,
            freeze(trial),
            trial_image(row),
            children_signature(trial),
            version,
            None if data is None else dict(data),
        )


@dataclass
class ExperimentState:
    """What was committed for one experiment in one database.

    Trials are kept in parallel lists (position = order of the last save), so that the
    unchanged-trial check runs as a handful of C-level list comparisons.
    """

    experiment_id: int
    version: int
    experiment_row: tuple[Any, ...]
    tables: dict[str, tuple[Any, ...]]  # experiment-level child tables: row images
    positions: dict[int, int] = field(default_factory=dict)  # trial index -> position
    order: list[int] = field(default_factory=list)
    objects: list[BaseTrial] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)
    datas: list[dict[int, Data] | None] = field(default_factory=list)
    entries: list[TrialEntry] = field(default_factory=list)

    def changed_positions(self, experiment: Experiment) -> list[int] | None:
        """Positions of stored trials that changed; None if trials were removed or reordered.

        Example:
            >>> # state.changed_positions(experiment) == []  # nothing changed
        """
        k = len(self.order)
        live_order = list(experiment.trials)
        if live_order[:k] != self.order:
            return None
        live = list(experiment.trials.values())[:k]
        dicts = list(map(_vars, live))
        datas = list(map(experiment.data_by_trial.get, self.order))
        if (
            dicts == self.signatures
            and datas == self.datas
            and all(map(operator.is_, live, self.objects))
        ):
            return []
        return [
            p
            for p in range(k)
            if live[p] is not self.objects[p]
            or dicts[p] != self.signatures[p]
            or datas[p] != self.datas[p]
        ]


class StateBuilder:
    """Builds the state after a save from the one before, copying its lists only once."""

    def __init__(self, old: ExperimentState) -> None:
        self.old = old
        self._copied = False
        self.state = old
        # What this save changed, to replay onto the state of the moment it commits.
        self._experiment: tuple[int, tuple[Any, ...]] | None = None
        self._tables: dict[str, tuple[Any, ...]] = {}
        self._puts: dict[int, TrialEntry] = {}
        self._removed: list[int] = []

    def _copy(self) -> ExperimentState:
        if not self._copied:
            o = self.old
            self.state = ExperimentState(
                o.experiment_id,
                o.version,
                o.experiment_row,
                dict(o.tables),
                dict(o.positions),
                list(o.order),
                list(o.objects),
                list(o.signatures),
                list(o.datas),
                list(o.entries),
            )
            self._copied = True
        return self.state

    def set_experiment(self, version: int, row: tuple[Any, ...]) -> None:
        """Record a new experiment row and its version."""
        state = self._copy()
        state.version, state.experiment_row = version, row
        self._experiment = (version, row)

    def set_table(self, key: str, rows: tuple[Any, ...]) -> None:
        """Record new rows of an experiment-level table."""
        self._copy().tables[key] = rows
        self._tables[key] = rows

    def put(self, index: int, entry: TrialEntry) -> None:
        """Record a trial's entry (replacing the one at its position, or appending)."""
        state = self._copy()
        self._puts[index] = entry
        position = state.positions.get(index)
        if position is None:
            state.positions[index] = len(state.order)
            state.order.append(index)
            state.objects.append(entry.trial)
            state.signatures.append(entry.signature)
            state.datas.append(entry.data)
            state.entries.append(entry)
        else:
            state.objects[position] = entry.trial
            state.signatures[position] = entry.signature
            state.datas[position] = entry.data
            state.entries[position] = entry

    def remove(self, indices: list[int]) -> None:
        """Forget removed trials (rare: the lists are rebuilt)."""
        state = self._copy()
        self._removed.extend(indices)
        gone = set(indices)
        keep = [p for p, i in enumerate(state.order) if i not in gone]
        state.order = [state.order[p] for p in keep]
        state.objects = [state.objects[p] for p in keep]
        state.signatures = [state.signatures[p] for p in keep]
        state.datas = [state.datas[p] for p in keep]
        state.entries = [state.entries[p] for p in keep]
        state.positions = {index: p for p, index in enumerate(state.order)}

    @property
    def changed(self) -> bool:
        """Whether anything was recorded."""
        return self._copied

    def merge_into(self, current: ExperimentState | None) -> ExperimentState:
        """The state after this save's commit, ``current`` being the state at that moment.

        Saves of other trials may have committed since this one started (they run
        concurrently): their entries are in ``current`` and must stay, so this save's changes
        are replayed onto ``current`` instead of replacing it with a copy of ``self.old``.

        Example:
            >>> # reg.states[key] = builder.merge_into(reg.states.get(key))
        """
        if current is None or current is self.old or not self._copied:
            return self.state if current is None or current is self.old else current
        if current.experiment_id != self.old.experiment_id:
            return current  # stored anew meanwhile: that state is the newer one
        merged = StateBuilder(current)
        if self._experiment is not None:
            merged.set_experiment(*self._experiment)
        for key, rows in self._tables.items():
            merged.set_table(key, rows)
        if self._removed:
            merged.remove(self._removed)
        appended = False
        for index, entry in self._puts.items():
            appended = appended or index not in merged.state.positions
            merged.put(index, entry)
        state = merged.state
        if appended and state.order != sorted(state.order):
            # Concurrent saves of new trials committed out of index order: keep the lists in
            # trial order, so that the unchanged-trials check stays on its fast path.
            ranked = sorted(range(len(state.order)), key=state.order.__getitem__)
            state.order = [state.order[p] for p in ranked]
            state.objects = [state.objects[p] for p in ranked]
            state.signatures = [state.signatures[p] for p in ranked]
            state.datas = [state.datas[p] for p in ranked]
            state.entries = [state.entries[p] for p in ranked]
            state.positions = {index: p for p, index in enumerate(state.order)}
        return state


def new_state(
    experiment_id: int,
    version: int,
    experiment_row: tuple[Any, ...],
    tables: dict[str, tuple[Any, ...]],
    entries: dict[int, TrialEntry],
) -> ExperimentState:
    """A state holding ``entries`` (trial index -> entry), in that order."""
    order = list(entries)
    values = list(entries.values())
    return ExperimentState(
        experiment_id,
        version,
        experiment_row,
        tables,
        {index: p for p, index in enumerate(order)},
        order,
        [e.trial for e in values],
        [e.signature for e in values],
        [e.data for e in values],
        values,
    )


@dataclass(eq=False)
class Registration:
    """Per experiment object: its token and a state per database key."""

    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    states: dict[str, ExperimentState] = field(default_factory=dict)
    unsure: set[str] = field(default_factory=set)


_live_registrations: weakref.WeakSet[Registration] = weakref.WeakSet()


def registration(experiment: Experiment, token: str | None = None) -> Registration:
    """The bookkeeping of ``experiment`` (created on first use; ``token`` when loaded).

    Example:
        >>> from aestore.samples import make_empty_experiment
        >>> exp = make_empty_experiment()
        >>> registration(exp) is registration(exp)
        True
    """
    found: Registration | None = experiment.__dict__.get(BOOKKEEPING_ATTRIBUTE)
    if found is None:
        found = Registration() if token is None else Registration(token=token)
        setattr(experiment, BOOKKEEPING_ATTRIBUTE, found)
        _live_registrations.add(found)
    elif token is not None and not found.states:
        found.token = token
    return found


def forget_stored_experiment(database: str, experiment_id: int) -> None:
    """Drop every state of a deleted experiment: its objects' next save inserts it whole.

    Example:
        >>> forget_stored_experiment("sqlite+aiosqlite:///x.db", 1)
    """
    for reg in list(_live_registrations):
        state = reg.states.get(database)
        if state is not None and state.experiment_id == experiment_id:
            del reg.states[database]
            reg.unsure.discard(database)
