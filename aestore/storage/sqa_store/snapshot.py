"""Bookkeeping: what this process last committed for an experiment object, per database.

The incremental save compares an experiment with its :class:`ExperimentState` (what the last
successful commit stored) instead of re-reading the database. Rules:

- The bookkeeping lives on the experiment as ``_sqa_bookkeeping`` (listed in
  ``Experiment._eq_exclude``, so it takes no part in equality, and collected with the
  experiment), with one state per database (the engine URL, password masked), since one
  experiment may be saved to two databases.
- A state is replaced only after a successful commit (bookkeeping never runs ahead of the
  commit). A save whose commit outcome is unknown (the commit raised or was cancelled) marks
  the database *unsure* (and keeps the state that commit would have stored); the next save
  then resynchronises: it re-reads what is stored and writes the difference, never deleting
  or re-inserting the experiment and never resetting versions (see ``save._resync``).
- Change detection is by *row images*: per trial the state keeps the tuple of the trial
  row's column values and the images of its child rows (generator runs, arms, abandoned
  arms, runner; see :func:`children_image`), exactly as encoded (JSON columns as their
  tagged JSON text, so ``1`` vs ``1.0``, ``True`` vs ``1`` and UTC offsets all differ). A
  save encodes the trials it looks at again and writes the rows whose images differ: no
  shortcut by object identity or ``==`` (which would miss in-place changes and the model's
  stricter equality). A loaded trial's child images are not known until the first save that
  compares it reads them (``TrialEntry.children`` None).
- Which trials a whole-experiment save looks at comes from the model's change tracking
  (:mod:`aestore.core.tracking`): the state keeps the experiment's journal and the position
  marked when the last such save started encoding; trials noted after it, new trials and
  untracked ones are compared (:meth:`ExperimentState.trials_to_compare`), the rest are known
  to encode as stored. When the journal can't tell, every trial is compared.
- Per-trial data histories are compared by attach stamp: attached ``Data`` objects are
  treated as immutable (the model copies Data on attach; ``attach_data`` always adds a new
  time stamp), so an in-place edit of an attached Data object is not detected.
"""

from __future__ import annotations

import operator
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from aestore.core.base_trial import BaseTrial
from aestore.core.data import Data
from aestore.core.experiment import Experiment
from aestore.core.journal import JOURNAL, Journal, TrialsDict
from aestore.storage.sqa_store.sqa_classes import (
    SQAAbandonedArm,
    SQAArm,
    SQAGeneratorRun,
    SQARunner,
    SQATrial,
)

__all__ = [
    "NO_CHILDREN",
    "TRIAL_KEYS",
    "Children",
    "ExperimentState",
    "Registration",
    "StateBuilder",
    "TrialEntry",
    "children_image",
    "forget_stored_experiment",
    "image",
    "images",
    "registration",
    "trial_image",
]

# A trial's child rows as images (see ``children_image``).
Children = tuple[Any, ...]

BOOKKEEPING_ATTRIBUTE = "_sqa_bookkeeping"
# The columns of a trial row that the state compares (all but the version).
TRIAL_KEYS = tuple(c.name for c in SQATrial.__table__.columns if c.name != "version")

# The columns of the child tables, in the order of their row images.
RUN_KEYS = tuple(c.name for c in SQAGeneratorRun.__table__.columns)
ARM_KEYS = tuple(c.name for c in SQAArm.__table__.columns)
ABANDONED_KEYS = tuple(c.name for c in SQAAbandonedArm.__table__.columns)
RUNNER_KEYS = tuple(c.name for c in SQARunner.__table__.columns)
# The image of a trial without child rows.
NO_CHILDREN: Children = ((), (), None)


def image(row: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """A row's values as a tuple (what the state keeps to compare rows)."""
    return None if row is None else tuple(row.values())


def images(rows: list[dict[str, Any]]) -> tuple[tuple[Any, ...], ...]:
    """Images of several rows."""
    return tuple(tuple(r.values()) for r in rows)


_TRIAL_VALUES = operator.itemgetter(*TRIAL_KEYS)


def trial_image(row: Any) -> tuple[Any, ...]:
    """A trial row's compared values, from an encoded dict or a row read back.

    Example:
        >>> trial_image(dict.fromkeys(TRIAL_KEYS, 0)) == (0,) * len(TRIAL_KEYS)
        True
    """
    values: tuple[Any, ...] = _TRIAL_VALUES(row)
    return values


def children_image(
    runs: Iterable[Any], arms: Iterable[Any], abandoned: Iterable[Any], runner: Any
) -> Children:
    """The image of a trial's child rows, from encoded dicts or rows read back (same values).

    ``(((run image, (arm images...)), ...), (abandoned arm images...), runner image or None)``,
    runs in position order; ``arms`` are those of all the runs, in key order.

    Example:
        >>> children_image([], [], [], None) == NO_CHILDREN
        True
    """
    by_run: dict[int, list[tuple[Any, ...]]] = {}
    for arm in arms:
        by_run.setdefault(arm["generator_run_position"], []).append(tuple(arm[k] for k in ARM_KEYS))
    return (
        tuple(
            (tuple(run[k] for k in RUN_KEYS), tuple(by_run.get(run["position"], ())))
            for run in runs
        ),
        tuple(tuple(a[k] for k in ABANDONED_KEYS) for a in abandoned),
        None if runner is None else tuple(runner[k] for k in RUNNER_KEYS),
    )


@dataclass
class TrialEntry:
    """What was committed for one trial: the images of its rows and its version."""

    trial: BaseTrial  # the object saved
    row: tuple[Any, ...]
    # Images of the child rows; None: not known yet (a loaded trial, see ``save``).
    children: Children | None
    version: int
    data: dict[int, Data] | None  # attach stamp -> the Data object stored

    @classmethod
    def of(
        cls,
        trial: BaseTrial,
        row: Any,
        version: int,
        data: dict[int, Data] | None,
        children: Children | None = None,
    ) -> TrialEntry:
        """The entry of a trial just encoded (or read back) as ``row``."""
        return cls(
            trial,
            trial_image(row),
            children,
            version,
            None if data is None else dict(data),
        )


@dataclass
class ExperimentState:
    """What was committed for one experiment in one database.

    Trials are kept in parallel lists (position = order of the last save).
    """

    experiment_id: int
    version: int
    experiment_row: tuple[Any, ...]
    tables: dict[str, tuple[Any, ...]]  # experiment-level child tables: row images
    positions: dict[int, int] = field(default_factory=dict)  # trial index -> position
    order: list[int] = field(default_factory=list)
    objects: list[BaseTrial] = field(default_factory=list)
    datas: list[dict[int, Data] | None] = field(default_factory=list)
    entries: list[TrialEntry] = field(default_factory=list)
    # Change tracking (see ``aestore.core.tracking``): the experiment's journal and the
    # position marked before the last whole-experiment save encoded its trials; trials
    # noted after it may have changed. None: unknown, the next save compares every trial.
    journal: Journal | None = None
    journal_position: int = 0
    # What decided the rows of the trials compared then (see ``save.encoder_key``): trials
    # encode differently under another config, so a save under another key compares all.
    encoder_key: Any = None
    # Trials that hold something that can't report its changes: compared on every save.
    untracked: set[int] = field(default_factory=set)

    def trials_to_compare(self, experiment: Experiment, encoder_key: Any) -> list[int] | None:
        """The trials a whole-experiment save must encode and compare, in index order:
        those the journal noted since the last such save, the new ones and the untracked
        ones. None: every trial (no journal known, entries dropped from it, or trials
        replaced, removed or reordered by hand).

        Must be called with :meth:`Journal.mark` in the same step (no await between), so
        that no change falls between the two.

        Example:
            >>> # state.trials_to_compare(experiment, key) == [10_000]  # one trial added
        """
        journal = self.journal
        live: Any = experiment.__dict__.get(JOURNAL)
        if journal is None or live is not journal or encoder_key != self.encoder_key:
            return None
        changed = journal.since(self.journal_position)
        if changed is None:
            return None
        trials = experiment.trials
        if type(trials) is TrialsDict and trials._ae_experiment is experiment:
            # Every trial put in, replaced or removed is in the journal: no scan needed.
            if any(i not in trials and i in self.positions for i in changed):
                return None  # a stored trial was removed: the full path deletes it
            changed.update(self.untracked)
            return sorted(i for i in changed if i in trials)
        k = len(self.order)
        keys = list(experiment.trials)
        if keys[:k] != self.order or not all(
            map(operator.is_, islice(experiment.trials.values(), k), self.objects)
        ):
            return None
        changed.update(keys[k:])
        changed.update(self.untracked)
        return sorted(i for i in changed if i in trials)

    def changed_positions(self, experiment: Experiment) -> list[int] | None:
        """Positions of stored trials replaced by another object or with other data attached;
        None if trials were removed or reordered.

        Only a check that the bookkeeping covers the live objects (saves decide what to
        compare with :meth:`trials_to_compare`).

        Example:
            >>> # state.changed_positions(experiment) == []  # the same objects and data
        """
        k = len(self.order)
        live_order = list(experiment.trials)
        if live_order[:k] != self.order:
            return None
        live = list(experiment.trials.values())[:k]
        datas = list(map(experiment.data_by_trial.get, self.order))
        return [p for p in range(k) if live[p] is not self.objects[p] or datas[p] != self.datas[p]]


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
        self._journal: tuple[Journal, int, Any] | None = None
        self._tracked: dict[int, bool] = {}

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
                list(o.datas),
                list(o.entries),
                o.journal,
                o.journal_position,
                o.encoder_key,
                set(o.untracked),
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

    def set_journal(self, journal: Journal, position: int, encoder_key: Any) -> None:
        """Record the journal position marked before this whole-experiment save and the
        encoder's key (applied by :meth:`merge_into`: moving them alone copies no list)."""
        self._journal = (journal, position, encoder_key)

    @property
    def journal_moved(self) -> bool:
        """Whether this save recorded a journal position."""
        return self._journal is not None

    def set_tracked(self, index: int, tracked: bool) -> None:
        """Record whether trial ``index`` reports its changes (untracked: always compared)."""
        if tracked == (index not in self.state.untracked):
            return
        state = self._copy()
        self._tracked[index] = tracked
        if tracked:
            state.untracked.discard(index)
        else:
            state.untracked.add(index)

    def put(self, index: int, entry: TrialEntry) -> None:
        """Record a trial's entry (replacing the one at its position, or appending)."""
        state = self._copy()
        self._puts[index] = entry
        position = state.positions.get(index)
        if position is None:
            state.positions[index] = len(state.order)
            state.order.append(index)
            state.objects.append(entry.trial)
            state.datas.append(entry.data)
            state.entries.append(entry)
        else:
            state.objects[position] = entry.trial
            state.datas[position] = entry.data
            state.entries[position] = entry

    def remove(self, indices: list[int]) -> None:
        """Forget removed trials (rare: the lists are rebuilt)."""
        state = self._copy()
        self._removed.extend(indices)
        gone = set(indices)
        state.untracked -= gone
        keep = [p for p, i in enumerate(state.order) if i not in gone]
        state.order = [state.order[p] for p in keep]
        state.objects = [state.objects[p] for p in keep]
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
        state = self._merged(current)
        if self._journal is not None and state.experiment_id == self.old.experiment_id:
            # (a shallow copy: states' lists are never changed in place)
            journal, position, key = self._journal
            state = replace(state, journal=journal, journal_position=position, encoder_key=key)
        return state

    def _merged(self, current: ExperimentState | None) -> ExperimentState:
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
        for index, tracked in self._tracked.items():
            merged.set_tracked(index, tracked)
        state = merged.state
        if appended and state.order != sorted(state.order):
            # Concurrent saves of new trials committed out of index order: keep the lists in
            # trial order, so that the unchanged-trials check stays on its fast path.
            ranked = sorted(range(len(state.order)), key=state.order.__getitem__)
            state.order = [state.order[p] for p in ranked]
            state.objects = [state.objects[p] for p in ranked]
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
    journal: Journal | None = None,
    journal_position: int = 0,
    encoder_key: Any = None,
    untracked: set[int] | None = None,
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
        [e.data for e in values],
        values,
        journal,
        journal_position,
        encoder_key,
        set() if untracked is None else untracked,
    )


@dataclass(eq=False)
class Registration:
    """Per experiment object: its token and a state per database key."""

    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    states: dict[str, ExperimentState] = field(default_factory=dict)
    unsure: set[str] = field(default_factory=set)
    # Per unsure database: the states the commits of unknown outcome would have stored.
    attempted: dict[str, list[ExperimentState]] = field(default_factory=dict)


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
            reg.attempted.pop(database, None)
