"""Change tracking: a stored trial's objects tell the experiment when they change.

The SQL store writes only what changed. Re-encoding every trial on every save to find out
costs ~30 µs a trial; instead the model reports changes as they happen:

- Containers held by model objects (``run_metadata``, ``model_kwargs``, an arm's
  ``parameters``, a generator run's ``arms`` ...) are :class:`TrackedDict` /
  :class:`TrackedList`: ``dict`` / ``list`` subclasses, copied in on assignment (like
  ``Arm(parameters)`` always did), that report every mutation to the object holding them.
  Nested dicts and lists (and those inside tuples) are tracked too.
- A trial is *armed* by the store when it encodes it (:func:`arm_trial`): every model object
  reachable from it records its owner, so a change anywhere below the trial (an attribute
  set, a container mutated) walks up the owners and notes the trial's index in the
  experiment's :class:`Journal`. Unarmed objects report nothing (and cost nothing).
- What cannot report its changes (a numpy array, a set, a user object that is not a model
  class, a plain container put in by hand) makes the trial *untracked*: the store then
  compares that trial on every save, as before. Tracking only ever shortens the list of
  trials the store compares; it never decides alone that a trial is unchanged.

- ``experiment.trials`` is a :class:`TrialsDict`: trials put in, replaced or removed are noted
  too, so the store finds what changed without scanning every trial.
- Tracked containers also know whether they are *plain* (nothing the JSON encoder must tag),
  from when they are made and through each of their methods: the encoder skips its check
  for those (:func:`is_plain`).

Copies (``copy``, ``deepcopy``, ``pickle``) carry no tracking state: containers come back as
plain dicts and lists, objects unarmed.

What is seen: attribute assignment and deletion on model objects, and the methods of the
tracked containers. Writes that go around them are not seen once a trial is stored (and are
lost by the next saves): ``obj.__dict__[name] = ...``, ``object.__setattr__(obj, ...)``,
``dict.__setitem__(tracked, ...)``, and C functions that change a list in place without
calling its methods (``heapq.heappush`` and the rest of ``heapq``). Change model objects
from the event loop's thread (as with any asyncio state): a save takes the journal's changes
and its next mark in one step.

Example:
    >>> d = adopt({"a": {"b": [1]}}, None)
    >>> type(d["a"]).__name__, type(d["a"]["b"]).__name__, d == {"a": {"b": [1]}}
    ('TrackedDict', 'TrackedList', True)
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from types import BuiltinFunctionType, FunctionType
from typing import Any, SupportsIndex

# (The journal lives in aestore.core.journal; its names are re-exported here.)
from aestore.core.journal import JOURNAL, Journal, TrialsDict, journal_of, note_change

__all__ = [
    "ATOMIC_TYPES",
    "JOURNAL",
    "VERSION",
    "Journal",
    "TrackedDict",
    "TrackedList",
    "TrialsDict",
    "adopt",
    "arm_trial",
    "holds_plain_values",
    "is_plain",
    "journal_of",
    "note_change",
    "touch",
    "version_of",
]

# Values that cannot change in place: stored as they are.
ATOMIC_TYPES: frozenset[type] = frozenset(
    {type(None), bool, int, float, complex, str, bytes, Decimal, datetime, date, time, timedelta}
)
OWNERS = "_ae_owners"
ARMED = "_ae_armed"
# A model object's version: a token replaced by every change of the object (an attribute set
# or deleted, a change of a container it owns). Present only once someone asked for it (the
# JSON store's trial memo, which takes the token *before* it reads the fields and reuses what
# it encoded only while the token is the same); objects without it pay one dict lookup.
VERSION = "_ae_version"


def _is_atomic(value: Any) -> bool:
    t = type(value)
    return (
        t in ATOMIC_TYPES
        or isinstance(value, enum.Enum | type | FunctionType | BuiltinFunctionType | tzinfo)
        or (t is not bool and isinstance(value, int | float | str) and _plain_subclass(t))
    )


def _plain_subclass(t: type) -> bool:
    # A str/int/float subclass without an instance dict can't change in place.
    return not hasattr(t, "__dictoffset__") or t.__dictoffset__ == 0


# The JSON store's tag key (aestore.storage.json_store.format.TYPE_KEY): a dict holding it is
# written escaped.
_TYPE_KEY = "__type"
_PLAIN_ATOMS = frozenset({str, int, bool, type(None)})


def _plain_value(value: Any) -> bool:
    t = type(value)
    return t in _PLAIN_ATOMS or (t is float and value - value == 0.0)


def _plain_entry(key: Any, value: Any) -> bool:
    return type(key) is str and key != _TYPE_KEY and _plain_value(value)


class _Tracked:
    """What a tracked container does after each change through its methods.

    ``_ae_plain`` (see :func:`is_plain`) is kept up to date by each method: a container known
    plain stays so when what a method puts in is plain too, or when it only takes out.
    """

    __slots__ = ()
    _ae_owner: Any
    _ae_plain: bool

    def _changed(self, plain: bool = False) -> None:
        self._ae_plain = plain  # type: ignore[misc]  # (the subclasses hold the slots)
        owner = self._ae_owner
        if owner is not None:
            state = owner.__dict__
            if VERSION in state:
                state[VERSION] = object()  # see VERSION
            if state.get(ARMED):
                touch(owner)


class TrackedDict(_Tracked, dict[Any, Any]):
    """A dict that tells its owner (a model object) when it changes.

    Example:
        >>> TrackedDict({"x": 1}) == {"x": 1}
        True
    """

    __slots__ = ("_ae_owner", "_ae_plain")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ae_owner: Any = None
        self._ae_plain = False  # see ``is_plain``

    def __reduce__(self) -> Any:  # copies and pickles are plain dicts
        return (dict, (dict(self),))

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)

    def __setitem__(self, key: Any, value: Any) -> None:
        plain = self._ae_plain and _plain_entry(key, value)
        super().__setitem__(key, adopt(value, self._ae_owner))
        self._changed(plain)

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed(self._ae_plain)

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[misc]
        self.update(other)
        return self

    def clear(self) -> None:
        super().clear()
        self._changed(True)

    def pop(self, *args: Any) -> Any:
        value = super().pop(*args)
        self._changed(self._ae_plain)
        return value

    def popitem(self) -> tuple[Any, Any]:
        item = super().popitem()
        self._changed(self._ae_plain)
        return item

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        owner = self._ae_owner
        plain = self._ae_plain
        for key, value in dict(*args, **kwargs).items():
            plain = plain and _plain_entry(key, value)
            super().__setitem__(key, adopt(value, owner))
        self._changed(plain)


class TrackedList(_Tracked, list[Any]):
    """A list that tells its owner (a model object) when it changes.

    Example:
        >>> TrackedList([1, 2]) == [1, 2]
        True
    """

    __slots__ = ("_ae_owner", "_ae_plain")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._ae_owner: Any = None
        self._ae_plain = False  # see ``is_plain``

    def __reduce__(self) -> Any:  # copies and pickles are plain lists
        return (list, (list(self),))

    def __copy__(self) -> list[Any]:
        return list(self)

    def _adopt_all(self, values: Iterable[Any]) -> list[Any]:
        owner = self._ae_owner
        return [adopt(v, owner) for v in values]

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            items = self._adopt_all(value)
            plain = self._ae_plain and all(map(_plain_value, items))
            super().__setitem__(index, items)
        else:
            plain = self._ae_plain and _plain_value(value)
            super().__setitem__(index, adopt(value, self._ae_owner))
        self._changed(plain)

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed(self._ae_plain)

    def __iadd__(self, other: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(other)
        return self

    def __imul__(self, n: SupportsIndex) -> TrackedList:
        super().__imul__(n)
        self._changed(self._ae_plain)
        return self

    def append(self, value: Any) -> None:
        plain = self._ae_plain and _plain_value(value)
        super().append(adopt(value, self._ae_owner))
        self._changed(plain)

    def extend(self, values: Iterable[Any]) -> None:
        items = self._adopt_all(values)
        plain = self._ae_plain and all(map(_plain_value, items))
        super().extend(items)
        self._changed(plain)

    def insert(self, index: SupportsIndex, value: Any) -> None:
        plain = self._ae_plain and _plain_value(value)
        super().insert(index, adopt(value, self._ae_owner))
        self._changed(plain)

    def pop(self, index: SupportsIndex = -1) -> Any:
        value = super().pop(index)
        self._changed(self._ae_plain)
        return value

    def remove(self, value: Any) -> None:
        super().remove(value)
        self._changed(self._ae_plain)

    def clear(self) -> None:
        super().clear()
        self._changed(True)

    def sort(self, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        try:
            super().sort(key=key, reverse=reverse)
        finally:
            # A sort that raises half-way (a key that can't be compared) has reordered some
            # items: a change too.
            self._changed(self._ae_plain)

    def reverse(self) -> None:
        super().reverse()
        self._changed(self._ae_plain)


def _new_dict(value: dict[Any, Any], owner: Any) -> TrackedDict:
    # (no ``__init__`` call: this runs for every container of every object built or loaded)
    out = _new_tracked_dict(TrackedDict)
    _dict_update(out, value)
    out._ae_owner = owner
    # Known now, while the values are at hand: the JSON encoder then skips its check (once
    # per container and save, ~0.3 µs each, most of a first save's extra time).
    out._ae_plain = holds_plain_values(value)
    for key, item in value.items():
        if type(item) not in ATOMIC_TYPES:
            _dict_set(out, key, adopt(item, owner))
    return out


def _new_list(value: list[Any], owner: Any) -> TrackedList:
    out = _new_tracked_list(TrackedList)
    _list_extend(out, value)
    out._ae_owner = owner
    out._ae_plain = holds_plain_values(value)
    for position, item in enumerate(value):
        if type(item) not in ATOMIC_TYPES:
            _list_set(out, position, adopt(item, owner))
    return out


_new_tracked_dict = dict.__new__
_new_tracked_list = list.__new__
_dict_update = dict.update
_dict_set = dict.__setitem__
_list_extend = list.extend
_list_set = list.__setitem__


def is_plain(container: TrackedDict | TrackedList) -> bool:
    """Whether a tracked container is known to hold only values JSON writes as they are (see
    :func:`holds_plain_values`): found when the model made it and kept up to date by its
    methods, only ever in the thread that changes it. Once lost it stays lost (the JSON
    encoder then checks the container at each save, without setting the flag: it may run in
    another thread, where a flag set after its check could hide a change made meanwhile).

    Example:
        >>> d, nan = adopt({"x": 1.5}, None), adopt({"x": float("nan")}, None)
        >>> is_plain(d), is_plain(nan)
        (True, False)
        >>> d["y"] = 2.0; is_plain(d)  # a plain value put in: still plain
        True
        >>> d["z"] = [1]; is_plain(d)
        False
        >>> del d["z"]; is_plain(d)  # plain again, but not known to be
        False
    """
    return container._ae_plain


def holds_plain_values(value: dict[Any, Any] | list[Any]) -> bool:
    """Whether a dict or list holds only what JSON writes as it is, with nothing nested: str
    keys (no ``"__type"``), and str, int, bool, None or finite float values.

    Example:
        >>> holds_plain_values({"x": 1.5, "s": "a"}), holds_plain_values([1, float("inf")])
        (True, False)
        >>> holds_plain_values({1: "a"}), holds_plain_values({"x": [1]})
        (False, False)
    """
    plain = _PLAIN_ATOMS
    if isinstance(value, dict):
        if _TYPE_KEY in value:
            return False
        for key, item in value.items():
            t = type(item)
            if type(key) is not str or (t not in plain and (t is not float or item - item != 0.0)):
                return False
        return True
    for item in value:
        t = type(item)
        if t not in plain and (t is not float or item - item != 0.0):
            return False
    return True


def adopt(value: Any, owner: Any) -> Any:
    """What a model object ``owner`` stores for ``value``: dicts and lists (nested ones, and
    those in tuples) as tracked copies owned by ``owner``; anything else as it is. When
    ``owner`` is armed, a model object put in records ``owner`` as one of its owners (and is
    armed). A value that can't report its changes is stored as it is: the change that put it
    there is noted, and arming the trial again at its next save finds it (untracked).

    Example:
        >>> type(adopt({"a": 1}, None)).__name__, adopt(3, None)
        ('TrackedDict', 3)
    """
    t = type(value)
    if t in ATOMIC_TYPES:
        return value
    if t is dict or (t is TrackedDict and value._ae_owner is not owner):
        return _new_dict(value, owner)
    if t is list or (t is TrackedList and value._ae_owner is not owner):
        return _new_list(value, owner)
    if t is tuple:
        items = tuple(adopt(v, owner) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if owner is not None and owner.__dict__.get(ARMED) and _is_model(value):
        _link(value, owner)
        arm(value)
    return value


def _is_model(value: Any) -> bool:
    # A model object (a ``Base`` subclass) that takes part in tracking.
    return getattr(type(value), "_ae_track", None) is True


def _link(child: Any, owner: Any) -> None:
    # Weak: a long-lived object (one Runner set on the trials of many experiments) must not
    # keep every trial that ever held it alive.
    owners = child.__dict__.get(OWNERS)
    if owners is None:
        owners = {}
        child.__dict__[OWNERS] = owners
    key = id(owner)
    found = owners.get(key)
    if found is None or found() is not owner:
        if len(owners) >= 64 and len(owners) & (len(owners) - 1) == 0:
            # Owners that are gone (their experiments discarded): pruned now and then.
            for dead in [k for k, ref in owners.items() if ref() is None]:
                del owners[dead]
        owners[key] = weakref.ref(owner)


def touch(obj: Any) -> None:
    """Report a change of ``obj`` up its owners to the trials (and their experiment's journal).

    Example:
        >>> from aestore.core.arm import Arm
        >>> touch(Arm({"x": 1.0}))  # an object with no owners: nothing to report
    """
    seen: set[int] = set()
    todo = [obj]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        reached = getattr(current, "_ae_reached", None)
        if reached is not None:
            reached()  # a trial: notes its index
            continue
        owners = getattr(current, "__dict__", {}).get(OWNERS)
        if owners:
            for key, ref in list(owners.items()):
                owner = ref()
                if owner is None:
                    del owners[key]
                else:
                    todo.append(owner)


def arm(obj: Any, seen: set[int] | None = None) -> bool:
    """Arm ``obj`` and every model object below it; False if something below can't report
    its changes (the trial must then be compared on every save).

    Example:
        >>> from aestore.core.arm import Arm
        >>> arm(Arm({"x": 1.0})), arm(Arm({"x": {1, 2}}))
        (True, False)
    """
    if seen is None:
        seen = set()
    if id(obj) in seen:
        return True
    seen.add(id(obj))
    obj.__dict__[ARMED] = True
    excluded = obj._eq_exclude
    tracked = _reports_all_sets(type(obj))
    atomic = ATOMIC_TYPES
    for name, value in obj.__dict__.items():
        if type(value) in atomic or name in excluded or name[:4] == "_ae_":
            continue
        if not _check(value, obj, seen):
            tracked = False
    return tracked


_REPORTS: dict[type, bool] = {}
# Types found to be immutable by ``_is_atomic`` (enum classes, classes, functions...).
_IMMUTABLE: set[type] = set()


def _reports_all_sets(cls: type) -> bool:
    """Whether every attribute set of a ``cls`` instance goes through ``Base.__setattr__``
    into the instance dict (no ``__setattr__`` of its own, no slots): else untracked."""
    found = _REPORTS.get(cls)
    if found is None:
        from aestore.core.base import Base

        found = cls.__setattr__ is Base.__setattr__ and not any(
            getattr(k, "__slots__", ()) for k in cls.__mro__ if k is not object
        )
        _REPORTS[cls] = found
    return found


def _check(value: Any, owner: Any, seen: set[int]) -> bool:
    t = type(value)
    if t in ATOMIC_TYPES:
        return True
    if t is TrackedDict or t is TrackedList:
        if value._ae_owner is not owner:
            return False  # shared with another object: its changes would not reach us
        items = value.values() if t is TrackedDict else value
        return all([_check(v, owner, seen) for v in items])
    if t is tuple:
        return all([_check(v, owner, seen) for v in value])
    if t in _IMMUTABLE:
        return True
    if _is_model(value):
        _link(value, owner)
        return arm(value, seen)
    if _is_atomic(value):
        _IMMUTABLE.add(t)  # decided by the type alone
        return True
    return False


def arm_trial(trial: Any, experiment: Any = None) -> bool:
    """Arm a trial for change tracking (see the module doc); False: untracked.

    A trial of another experiment object (put into ``experiment.trials`` by hand) reports
    to that one's journal: untracked for ``experiment``.

    Example:
        >>> from aestore.samples import make_experiment
        >>> exp = make_experiment(1)
        >>> arm_trial(exp.trials[0], exp), arm_trial(exp.trials[0], make_experiment(1))
        (True, False)
    """
    tracked = arm(trial)
    return tracked and (experiment is None or trial.__dict__.get("_experiment") is experiment)


def version_of(obj: Any) -> object:
    """``obj``'s version token (see :data:`VERSION`), made on first use: any later change of
    ``obj`` through the model replaces it.

    Example:
        >>> from aestore.core.arm import Arm
        >>> arm = Arm({"x": 1.0})
        >>> before = version_of(arm)
        >>> same = version_of(arm) is before
        >>> arm.parameters["x"] = 2.0
        >>> same, version_of(arm) is before
        (True, False)
    """
    return obj.__dict__.setdefault(VERSION, object())
