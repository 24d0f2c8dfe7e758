"""The journal of an experiment: which of its trials changed, for a save to find them fast.

``experiment.trials`` is a :class:`TrialsDict`, which notes trials put in, replaced or removed;
an armed trial (see :mod:`aestore.core.tracking`) notes its own index when anything below it
changes. The SQL store reads the journal from a mark it took at its last save.

Example:
    >>> from aestore.samples import make_experiment
    >>> exp = make_experiment(2)
    >>> start = journal_of(exp).mark()
    >>> note_change(exp, 1)
    >>> journal_of(exp).since(start)
    {1}
"""

from __future__ import annotations

from typing import Any

__all__ = ["JOURNAL", "Journal", "TrialsDict", "journal_of", "note_change"]


class TrialsDict(dict[int, Any]):
    """``experiment.trials``: a dict that notes every trial index put in, replaced or removed
    in the experiment's journal, so a save needs no scan of all trials to find those.

    Example:
        >>> from aestore.samples import make_experiment
        >>> exp = make_experiment(2)
        >>> start = journal_of(exp).mark()
        >>> del exp.trials[1]
        >>> type(exp.trials).__name__, journal_of(exp).since(start)
        ('TrialsDict', {1})
    """

    __slots__ = ("_ae_experiment",)

    def __init__(self, experiment: Any, *args: Any) -> None:
        super().__init__(*args)
        self._ae_experiment = experiment

    def __reduce__(self) -> Any:  # copies and pickles are plain dicts
        return (dict, (dict(self),))

    def __copy__(self) -> dict[int, Any]:
        return dict(self)

    def _noted(self, *indices: Any) -> None:
        for index in indices:
            note_change(self._ae_experiment, index)

    def __setitem__(self, index: int, trial: Any) -> None:
        super().__setitem__(index, trial)
        self._noted(index)

    def __delitem__(self, index: int) -> None:
        super().__delitem__(index)
        self._noted(index)

    def __ior__(self, other: Any) -> TrialsDict:  # type: ignore[misc,override]
        self.update(other)
        return self

    def pop(self, index: int, *default: Any) -> Any:
        trial = super().pop(index, *default)
        self._noted(index)
        return trial

    def popitem(self) -> tuple[int, Any]:
        item = super().popitem()
        self._noted(item[0])
        return item

    def clear(self) -> None:
        indices = list(self)
        super().clear()
        self._noted(*indices)

    def setdefault(self, index: int, trial: Any = None) -> Any:
        if index not in self:
            self[index] = trial
        return self[index]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for index, trial in dict(*args, **kwargs).items():
            self[index] = trial


class Journal:
    """The indices of an experiment's trials that changed, in order.

    A reader takes :meth:`mark` (a position) and later asks :meth:`since` it for the indices
    noted after it: None once those entries were dropped (the journal is cut back when it
    grows past twice the number of trials, and a reader then compares every trial). A repeat
    of the last entry is skipped unless a reader marked the journal in between.

    Example:
        >>> j = Journal()
        >>> start = j.mark()
        >>> j.note(3); j.note(3); j.note(5)
        >>> sorted(j.since(start))
        [3, 5]
    """

    __slots__ = ("__weakref__", "base", "entries", "marked")

    def __init__(self) -> None:
        self.base = 0
        self.entries: list[int] = []
        self.marked = 0

    @property
    def position(self) -> int:
        """How many entries were ever added."""
        return self.base + len(self.entries)

    def mark(self) -> int:
        """The position now, for a later :meth:`since` (later notes are never skipped)."""
        self.marked = self.position
        return self.marked

    def note(self, index: int, size_hint: int = 0) -> None:
        """Note that trial ``index`` changed."""
        entries = self.entries
        if entries and entries[-1] == index and self.position > self.marked:
            return
        if len(entries) >= 4096 and len(entries) > 2 * size_hint:
            self.base += len(entries)
            entries.clear()
        entries.append(index)

    def since(self, position: int) -> set[int] | None:
        """Indices noted after ``position``; None if they are no longer known."""
        if position < self.base or position > self.position:
            return None
        return set(self.entries[position - self.base :])


JOURNAL = "_ae_journal"


def journal_of(experiment: Any) -> Journal:
    """The experiment's journal (made on first use).

    Example:
        >>> from aestore.samples import make_experiment
        >>> exp = make_experiment(1)
        >>> journal_of(exp) is journal_of(exp)
        True
    """
    found: Journal | None = experiment.__dict__.get(JOURNAL)
    if found is None:
        found = Journal()
        experiment.__dict__[JOURNAL] = found
    return found


def note_change(experiment: Any, index: int) -> None:
    """Note in ``experiment``'s journal that its trial ``index`` changed.

    Example:
        >>> from aestore.samples import make_experiment
        >>> exp = make_experiment(1)
        >>> start = journal_of(exp).mark()
        >>> note_change(exp, 0)
        >>> journal_of(exp).since(start)
        {0}
    """
    journal_of(experiment).note(index, len(experiment.trials))
