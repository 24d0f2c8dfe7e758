"""``experiment.trials`` notes every trial index put in, replaced or removed."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from aestore.core.tracking import TrialsDict, journal_of
from aestore.samples import make_experiment


def _other(index: int) -> Any:
    return make_experiment(3, name="other").trials[index]


MUTATIONS: dict[str, tuple[Callable[[Any], Any], set[int]]] = {
    "setitem": (lambda t: t.__setitem__(1, _other(1)), {1}),
    "delitem": (lambda t: t.__delitem__(2), {2}),
    "pop": (lambda t: t.pop(0), {0}),
    "popitem": (lambda t: t.popitem(), {2}),
    "clear": (lambda t: t.clear(), {0, 1, 2}),
    "update": (lambda t: t.update({1: _other(1), 7: _other(2)}), {1, 7}),
    "ior": (lambda t: t.__ior__({5: _other(0)}), {5}),
    "setdefault_new": (lambda t: t.setdefault(9, _other(0)), {9}),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_every_change_of_experiment_trials_is_noted(name: str) -> None:
    mutate, expected = MUTATIONS[name]
    experiment = make_experiment(3)
    assert type(experiment.trials) is TrialsDict
    start = journal_of(experiment).mark()
    mutate(experiment.trials)
    assert journal_of(experiment).since(start) == expected


def test_reading_and_setdefault_of_a_present_index_note_nothing() -> None:
    experiment = make_experiment(3)
    start = journal_of(experiment).mark()
    assert experiment.trials.setdefault(1, None) is experiment.trials[1]
    assert list(experiment.trials) == [0, 1, 2] and len(experiment.trials.values()) == 3
    assert journal_of(experiment).since(start) == set()


def test_copies_of_experiment_trials_are_plain_dicts_equal_to_it() -> None:
    experiment = make_experiment(2)
    for copied in (copy.copy(experiment.trials), pickle.loads(pickle.dumps(experiment.trials))):
        assert type(copied) is dict
        assert list(copied) == [0, 1]
    assert copy.copy(experiment.trials) == experiment.trials
