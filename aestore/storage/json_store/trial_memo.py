"""The trial memo: a re-save reuses what the JSON store encoded of an unchanged trial.

Saving an experiment again (the spec's way to update a JSON file) used to build every
trial's dicts again: ~2 µs a trial, most of a 1,000-trial save. From an experiment's second
save on (see ``save_experiment``), what was encoded of a single-arm trial is kept on the
trial (under ``_ae_json_memo``, which copies, pickles and equality ignore) and written again
as long as the trial, its generator run and that run's arm are unchanged: the trial's JSON
bytes (an ``orjson.Fragment``, which orjson copies as they are: ~1 KB a trial), or, when the
trial holds an object orjson hands to the encoder's ``default`` (a runner, a search space),
the dict :func:`.trial_encoders.trial_tree_to_dict` made, so that the object is encoded as
it is at each save.

"Unchanged" is decided by the model's version tokens (:data:`aestore.core.tracking.VERSION`):
every attribute set or delete on a model object, and every change through the methods of a
container it owns, replaces the object's token. The memo records the three tokens, taken
*before* the fields are read, so a change made while a save encodes (from another thread, or
between the pieces of a big save) always leaves a stale token behind and the next save
encodes the trial again. A trial is memoised only when every change to what its dict holds
is seen that way:

- its fields, its run's and its arm's are atomic values (str, numbers, datetimes, enums...),
  containers they own (tracked, nested ones too: checked all the way down), or objects that
  orjson hands to ``default`` (a runner, a search space, a numpy array: the memo then keeps
  the dict, which holds them, and they are written as they are now);
- not a plain ``dict``/``list`` (objects built by a decoder hold those: their changes are not
  reported, so such trials are encoded every time, as before: the JSON decoder marks its
  trials :data:`UNFIT`, which skips the bookkeeping), nor a container owned by another object
  (a shallow copy's).

The memo's bookkeeping lives in the objects' ``__dict__`` (``_ae_version``,
``_ae_json_memo``). Keys are added only by :func:`prepare`, which ``save_experiment`` calls on
the event loop's thread before a big experiment is encoded in a worker thread: the worker only
replaces values, so code reading the experiment meanwhile (``==``, ``copy.deepcopy``) never
sees a dict change size under it. An object the worker finds unprepared is encoded without
a memo.

Writes that go around the model are not seen, as for the SQL store's change tracking:
``obj.__dict__[name] = ...``, ``object.__setattr__(obj, ...)``, ``dict.__setitem__(tracked,
...)``, and C functions that change a list in place without its methods (``heapq``'s). Such a
write to a saved trial is not stored by later JSON saves; to use them, set
``aestore.storage.json_store.save.MEMO_TRIALS = False`` (a save with it off also drops every
memo made before, see :func:`forget_all`).

Example:
    >>> from aestore.samples import make_experiment
    >>> trial = make_experiment(1).trials[0]
    >>> _ = prepare([trial])
    >>> first = memo_trial_tree(trial)
    >>> memo_trial_tree(trial) is first
    True
    >>> trial.run_metadata["retries"] = 1
    >>> memo_trial_tree(trial) is first, b'"retries":1' in orjson.dumps(memo_trial_tree(trial))
    (False, True)
"""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum
from itertools import compress
from operator import not_
from typing import Any, Final

import orjson

from aestore.core import Arm, Experiment, GeneratorRun, Trial, TrialStatus
from aestore.core.tracking import (
    ATOMIC_TYPES,
    OWNERS,
    VERSION,
    TrackedDict,
    TrackedList,
    version_of,
)
from aestore.storage.json_store.format import DUMPS_OPTIONS
from aestore.storage.json_store.trial_encoders import trial_tree_to_dict

__all__ = ["MEMO", "UNFIT", "forget_all", "memo_trial_tree", "prepare"]

MEMO = "_ae_json_memo"
# The memo of a trial the JSON decoder made: it holds plain dicts and lists, whose changes are
# not reported, so it is encoded each time, without the memo's bookkeeping.
UNFIT: Final = ("unfit",)
_LISTS = (list, TrackedList)
# Memos made before the last forget_all() are not used.
_epoch = 0


# A save prepares at most a quarter of the trials that never had a memo (and at least 256):
# building a memo costs a few plain encodes of the trial, so the second save of a big
# experiment would otherwise cost ~2.5x a plain one; this way no save costs much more than
# ~1.4x, and the memo is complete by the fifth save.
PREPARE_SHARE = 4
PREPARE_MIN = 256
_NEW = object()


def prepare(trials: Collection[Any]) -> bool:
    """Give single-arm trials without a current memo (and their runs and arms) the keys the
    memo needs: every trial whose memo is out of date, and a share of those that never had
    one (:data:`PREPARE_SHARE`). Call it in the thread that changes the experiment (the event
    loop's) before encoding with the memo, possibly in another thread. False when no trial
    may use a memo (none is a single-arm Trial, or all were made by the JSON decoder).

    Example:
        >>> from aestore.samples import make_experiment
        >>> trial = make_experiment(1).trials[0]
        >>> prepare([trial]), MEMO in trial.__dict__, trial.__dict__[MEMO]
        (True, True, None)
    """
    budget = max(PREPARE_MIN, len(trials) // PREPARE_SHARE)
    useful = False
    for trial in trials:
        if type(trial) is not Trial:
            continue
        state = trial.__dict__
        memo = state.get(MEMO, _NEW)
        if memo is UNFIT:
            continue
        useful = True
        if memo is _NEW:
            if budget <= 0:
                continue  # next time
            budget -= 1
            state[MEMO] = None
        elif memo is not None and _current(memo, state):
            continue
        version_of(trial)
        run = state.get("generator_run")
        if type(run) is GeneratorRun:
            version_of(run)
            arms: Any = run.__dict__.get("arms")
            if type(arms) in _LISTS and len(arms) == 1 and type(arms[0]) is Arm:
                version_of(arms[0])
    return useful


def forget_all() -> None:
    """Stop using every memo made so far (each trial's next memoised save encodes it again).

    Example:
        >>> from aestore.samples import make_experiment
        >>> trial = make_experiment(1).trials[0]
        >>> _ = prepare([trial]); first = memo_trial_tree(trial)
        >>> forget_all(); memo_trial_tree(trial) is first
        False
    """
    global _epoch
    _epoch += 1


def memo_trial_tree(trial: Trial) -> Any:
    """What the encoder writes for ``trial``: :func:`.trial_encoders.trial_tree_to_dict`, or
    what was kept of it while the trial is unchanged (once :func:`prepare` has run for it):
    the trial's JSON itself (an ``orjson.Fragment``) when it holds nothing orjson's
    ``default`` must encode, else the dict.

    The result is shared with later saves: read it, never change it.

    Example:
        >>> from aestore.samples import make_experiment
        >>> from aestore.storage.json_store.encoder import dumps
        >>> trial = make_experiment(1).trials[0]
        >>> _ = prepare([trial])
        >>> memo_trial_tree(trial) is memo_trial_tree(trial)
        True
        >>> orjson.dumps(memo_trial_tree(trial)) == dumps(trial)
        True
    """
    state = trial.__dict__
    memo = state.get(MEMO)
    if memo is UNFIT:
        return trial_tree_to_dict(trial)
    if memo is not None and _current(memo, state):
        out = memo[1]
        # (None: unchanged since it was found unfit for a memo; not looked at again)
        return out if out is not None else trial_tree_to_dict(trial)
    return _encode_and_keep(trial, state, memo)


# A memo: (trial's version, its encoded dict or None, run, run's version, arm, arm's version,
# epoch). The dict is None when the trial, run or arm holds what can change unseen: it is then
# encoded each time, without looking again until one of them changes.


def _current(memo: tuple[Any, ...], state: dict[str, Any]) -> bool:
    return (
        memo[0] is state.get(VERSION)
        and memo[2].__dict__.get(VERSION) is memo[3]
        and memo[4].__dict__.get(VERSION) is memo[5]
        and memo[6] == _epoch
    )


def _encode_and_keep(trial: Trial, state: dict[str, Any], old: tuple[Any, ...] | None) -> Any:
    # The tokens first, then the fields (see the module doc); no key is added here.
    version = state.get(VERSION)
    run = state.get("generator_run")
    if version is None or MEMO not in state or type(run) is not GeneratorRun:
        return trial_tree_to_dict(trial)
    run_version = run.__dict__.get(VERSION)
    arms: Any = run.__dict__.get("arms")
    if (
        run_version is None
        or type(arms) not in _LISTS
        or len(arms) != 1
        or type(arm := arms[0]) is not Arm
        or (arm_version := arm.__dict__.get(VERSION)) is None
    ):
        state[MEMO] = None
        return trial_tree_to_dict(trial)
    # A run or arm unchanged since the last memo found it fit needs no new look (the usual
    # miss: only the trial's status, times or metadata changed).
    known = old is not None and old[1] is not None and old[6] == _epoch
    fit = (
        _changes_seen(trial)
        and ((known and old[2] is run and old[3] is run_version) or _changes_seen(run))  # type: ignore[index]
        and ((known and old[4] is arm and old[5] is arm_version) or _changes_seen(arm))  # type: ignore[index]
    )
    out = trial_tree_to_dict(trial)
    kept = (_as_json(out) or out) if fit else None
    state[MEMO] = (version, kept, run, run_version, arm, arm_version, _epoch)
    return out if kept is None else kept


def _refuse(obj: Any) -> Any:
    raise TypeError


def _as_json(out: dict[str, Any]) -> orjson.Fragment | None:
    """``out`` written once for all, or None when it holds an object orjson hands to the
    encoder's ``default`` (a runner, a search space...): that one must be written as it is
    at each save, so the memo keeps the dict, which holds the object itself."""
    try:
        return orjson.Fragment(orjson.dumps(out, default=_refuse, option=DUMPS_OPTIONS))
    except TypeError:
        return None


def _changes_seen(obj: Any) -> bool:
    """Whether every change of what ``obj``'s encoded dict holds replaces its version."""
    state = obj.__dict__
    # (list(...) copies in one C call: another thread can't change the dict in between)
    values = list(state.values())
    bookkeeping = (state.get(MEMO), state.get(OWNERS))  # the memo's and tracking's own
    # Atoms can't change, the other model objects report to their own versions (or are
    # written as they are at each save): the rest, picked out in C, needs a look.
    for value in compress(values, map(not_, map(_SKIP.__contains__, map(type, values)))):
        t = type(value)
        if t is TrackedDict or t is TrackedList:
            if value._ae_owner is not obj:
                return False  # a shallow copy's container: its changes reach the other object
            if not value._ae_plain and not _owned(value, obj):
                return False
        elif value is bookkeeping[0] or value is bookkeeping[1]:
            continue
        elif not _owned(value, obj):
            return False
    return True


def _owned(value: Any, owner: Any) -> bool:
    t = type(value)
    if t in ATOMIC_TYPES:
        return True
    if t is TrackedDict or t is TrackedList:
        if value._ae_owner is not owner:
            return False  # a shallow copy's container: its changes reach the other object
        if value._ae_plain:
            return True  # atoms only
        return all([_owned(v, owner) for v in list(value.values() if t is TrackedDict else value)])
    if t is tuple:
        return all([_owned(v, owner) for v in value])
    if isinstance(value, Enum):  # orjson writes it by value, itself: the value must be fit
        return _owned(value.value, owner)
    # A plain dict or list (or a subclass: orjson writes those itself, so the memo's bytes
    # would keep them as they were) changes unseen. Anything else is immutable (a UUID) or
    # handed to orjson's ``default`` (a model object, a numpy array), which makes
    # the memo keep the dict, holding the object itself, written as it is at each save.
    return not isinstance(value, dict | list)


# Types _changes_seen skips: atoms, the version token, and the model objects a trial, run or
# arm holds that are no dict or list (the others are looked at).
_SKIP = ATOMIC_TYPES | {object, TrialStatus, Experiment, GeneratorRun, Arm, Trial}
