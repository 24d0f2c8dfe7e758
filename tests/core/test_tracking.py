"""Change tracking of the model (``aestore.core.tracking``), without any store.

What is pinned here: tracked copies of assigned containers, every container mutator and
attribute set of an armed trial's object noting the trial in its experiment's journal (and
nothing for unarmed objects), shared objects noting every trial holding them, the cases
``arm`` must call untracked, the journal's mark/note/since rules (repeats, compaction),
copies and pickles carrying no tracking state, and short reprs of huge tracked containers.
"""

from __future__ import annotations

import copy
import pickle
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from aestore.core import Arm, Data, Experiment, GeneratorRun, Metric, Runner
from aestore.core.base_trial import BaseTrial, TrialStatus
from aestore.core.batch_trial import AbandonedArm, BatchTrial
from aestore.core.tracking import (
    Journal,
    TrackedDict,
    TrackedList,
    TrialsDict,
    adopt,
    arm,
    arm_trial,
    journal_of,
)
from aestore.samples import make_batch_experiment, make_experiment
from tests.fixtures import ALL_SAMPLES, CustomRunner


def _armed(num_trials: int = 3) -> tuple[Experiment, Journal, int]:
    """An experiment whose trials are all armed, its journal and a mark taken after arming."""
    experiment = make_experiment(num_trials)
    for trial in experiment.trials.values():
        assert arm_trial(trial)
    journal = journal_of(experiment)
    return experiment, journal, journal.mark()


def _is_plain(value: Any) -> bool:
    """No tracked container anywhere in ``value`` (dicts, lists, tuples walked)."""
    if type(value) in (TrackedDict, TrackedList):
        return False
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_is_plain(v) for v in value)
    return True


# --- adopt -------------------------------------------------------------------------------------


def test_adopt_wraps_dicts_and_lists_with_the_owner_all_the_way_down() -> None:
    owner = Arm({"x": 1.0})
    value = {"a": {"b": [1, {"c": [2]}]}, "t": ({"d": 1}, [3], 4), "n": 5}
    out = adopt(value, owner)
    assert out == value and out is not value
    containers = [out, out["a"], out["a"]["b"], out["a"]["b"][1], out["a"]["b"][1]["c"]]
    containers += [out["t"][0], out["t"][1]]
    kinds = [type(c).__name__ for c in containers]
    dicts_and_lists = ["TrackedDict", "TrackedDict", "TrackedList", "TrackedDict", "TrackedList"]
    assert kinds == [*dicts_and_lists, "TrackedDict", "TrackedList"]
    assert all(c._ae_owner is owner for c in containers)
    assert type(out["t"]) is tuple and out["t"][2] == 4
    # The input is copied, not changed.
    assert type(value["a"]) is dict and type(value["t"][1]) is list


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        2.5,
        1j,
        "s",
        b"b",
        datetime(2026, 1, 2, tzinfo=UTC),
        timedelta(seconds=3),
        TrialStatus.RUNNING,
        Metric,
        len,
        (1, "a", None),
        frozenset({1}),
    ],
    ids=lambda v: type(v).__name__,
)
def test_adopt_leaves_atomic_values_and_tuples_without_containers_as_they_are(value: Any) -> None:
    assert adopt(value, Arm({"x": 1.0})) is value


def test_adopt_copies_a_tracked_container_of_another_owner_and_keeps_its_own() -> None:
    first, second = Arm({"x": 1.0}), Arm({"x": 2.0})
    mine = adopt({"a": [1]}, first)
    assert adopt(mine, first) is mine
    theirs = adopt(mine, second)
    assert theirs == mine and theirs is not mine and theirs["a"] is not mine["a"]
    assert theirs._ae_owner is second and theirs["a"]._ae_owner is second


def test_assigning_a_dict_stores_a_tracked_copy_not_an_alias() -> None:
    # Alias semantics: the model keeps a copy, as Arm(parameters) always did. Changing the
    # dict that was assigned changes nothing in the model (and nothing is noted).
    trial = make_experiment(1).trials[0]
    given = {"job": {"id": 1}, "tags": ["a"]}
    trial.run_metadata = given
    assert type(trial.run_metadata) is TrackedDict and trial.run_metadata == given
    assert trial.run_metadata is not given and trial.run_metadata["job"] is not given["job"]
    assert type(trial.run_metadata["tags"]) is TrackedList
    given["job"]["id"] = 2
    given["tags"].append("b")
    given["new"] = 1
    assert trial.run_metadata == {"job": {"id": 1}, "tags": ["a"]}
    # Reading back gives the model's own (tracked) containers: changes through them stick.
    trial.run_metadata["job"]["id"] = 3
    assert trial.run_metadata["job"] == {"id": 3}


def test_constructor_arguments_are_tracked_copies() -> None:
    kwargs = {"acq": {"restarts": 10}}
    gr = GeneratorRun([Arm({"x": 1.0})], model_kwargs=kwargs)
    assert type(gr.model_kwargs) is TrackedDict and type(gr.model_kwargs["acq"]) is TrackedDict
    assert type(gr.arms) is TrackedList and type(gr.weights) is TrackedList
    kwargs["acq"]["restarts"] = 20
    assert gr.model_kwargs == {"acq": {"restarts": 10}}


def test_experiment_and_data_keep_plain_containers() -> None:
    experiment = make_experiment(2)
    experiment.properties = {"a": {"b": [1]}}
    assert type(experiment.properties) is dict and type(experiment.properties["a"]) is dict
    assert type(experiment.trials) is TrialsDict and type(experiment.data_by_trial) is dict
    data = Data([{"trial_index": 0, "arm_name": "0_0", "metric_name": "m", "mean": 1.0, "sem": 0}])
    assert type(data.columns) is dict and type(data.columns["mean"]) is list


# --- container mutators ------------------------------------------------------------------------


Mutator = Callable[[Any], Any]


def _ior(c: Any) -> Any:
    c |= {"z": {"deep": 1}}
    return c


def _iadd(c: Any) -> Any:
    c += [{"deep": 1}]
    return c


def _imul(c: Any) -> Any:
    c *= 2
    return c


DICT_MUTATORS: dict[str, Mutator] = {
    "setitem": lambda d: d.__setitem__("z", {"deep": 1}),
    "setitem_existing": lambda d: d.__setitem__("a", 2),
    "delitem": lambda d: d.__delitem__("a"),
    "update": lambda d: d.update({"z": {"deep": 1}}, y=2),
    "setdefault_new": lambda d: d.setdefault("z", {"deep": 1}),
    "pop": lambda d: d.pop("a"),
    "pop_default": lambda d: d.pop("missing", None),
    "popitem": lambda d: d.popitem(),
    "clear": lambda d: d.clear(),
    "ior": _ior,
}

LIST_MUTATORS: dict[str, Mutator] = {
    "setitem": lambda lst: lst.__setitem__(0, {"deep": 1}),
    "delitem": lambda lst: lst.__delitem__(0),
    "del_slice": lambda lst: lst.__delitem__(slice(0, 2)),
    "append": lambda lst: lst.append({"deep": 1}),
    "extend": lambda lst: lst.extend([{"deep": 1}, 7]),
    "insert": lambda lst: lst.insert(1, {"deep": 1}),
    "pop": lambda lst: lst.pop(),
    "pop_index": lambda lst: lst.pop(0),
    "remove": lambda lst: lst.remove(1),
    "clear": lambda lst: lst.clear(),
    "sort": lambda lst: lst.sort(),
    "sort_key_reverse": lambda lst: lst.sort(key=lambda v: -v, reverse=True),
    "reverse": lambda lst: lst.reverse(),
    "slice_assignment": lambda lst: lst.__setitem__(slice(0, 2), [{"deep": 1}, 9, 8]),
    "iadd": _iadd,
    "imul": _imul,
}

DICT_START = {"a": 1, "b": [1, 2]}
LIST_START = [3, 1, 2]

# Where the mutated container sits below a trial: (prepare it, get it), for dicts and lists.
# Each is owned by a different object: the trial, an arm, a generator run, a runner.
DICT_PLACES: dict[str, tuple[Callable[[BaseTrial], None], Callable[[BaseTrial], Any]]] = {
    "trial.run_metadata": (
        lambda t: setattr(t, "run_metadata", dict(DICT_START)),
        lambda t: t.run_metadata,
    ),
    "arm.parameters": (
        lambda t: setattr(t.arm, "parameters", dict(DICT_START)),
        lambda t: t.arm.parameters,
    ),
    "gen_metadata nested": (
        lambda t: setattr(t.generator_run, "gen_metadata", {"n": {"m": dict(DICT_START)}}),
        lambda t: t.generator_run.gen_metadata["n"]["m"],
    ),
    "runner field": (
        lambda t: setattr(t, "runner", CustomRunner("e", retries=dict(DICT_START))),  # type: ignore[arg-type]
        lambda t: t.runner.retries,
    ),
}
LIST_PLACES: dict[str, tuple[Callable[[BaseTrial], None], Callable[[BaseTrial], Any]]] = {
    "trial.properties nested": (
        lambda t: setattr(t, "properties", {"l": list(LIST_START)}),
        lambda t: t.properties["l"],
    ),
    "model_kwargs in a tuple": (
        lambda t: setattr(t.generator_run, "model_kwargs", {"t": (list(LIST_START),)}),
        lambda t: t.generator_run.model_kwargs["t"][0],
    ),
    "arm parameter value": (
        lambda t: t.arm.parameters.__setitem__("xs", list(LIST_START)),
        lambda t: t.arm.parameters["xs"],
    ),
}


def _mutation_cases() -> list[Any]:
    cases = []
    for place, (prepare, get) in DICT_PLACES.items():
        for name, mutate in DICT_MUTATORS.items():
            cases.append(pytest.param(prepare, get, mutate, DICT_START, id=f"{place}-{name}"))
    for place, (prepare, get) in LIST_PLACES.items():
        for name, mutate in LIST_MUTATORS.items():
            cases.append(pytest.param(prepare, get, mutate, LIST_START, id=f"{place}-{name}"))
    return cases


def _plain_result(mutate: Mutator, start: Any) -> tuple[Any, Any]:
    plain = copy.deepcopy(start)
    returned = mutate(plain)
    return plain, returned


@pytest.mark.parametrize(("prepare", "get", "mutate", "start"), _mutation_cases())
def test_every_mutator_of_an_armed_trial_s_container_notes_the_trial(
    prepare: Callable[[BaseTrial], None],
    get: Callable[[BaseTrial], Any],
    mutate: Mutator,
    start: Any,
) -> None:
    experiment = make_experiment(3)
    trial = experiment.trials[1]
    prepare(trial)
    assert arm_trial(trial)
    container = get(trial)
    assert type(container) in (TrackedDict, TrackedList)
    journal = journal_of(experiment)
    before = journal.mark()
    returned = mutate(container)
    assert journal.since(before) == {1}
    # Same effect and return value as on a plain dict/list ...
    expected, expected_returned = _plain_result(mutate, start)
    assert get(trial) == expected
    if returned is not container:
        assert returned == expected_returned
    # ... and whatever the mutator put in is a tracked copy owned like the container.
    for value in container.values() if isinstance(container, dict) else container:
        if isinstance(value, dict | list):
            assert type(value) in (TrackedDict, TrackedList)
            assert value._ae_owner is container._ae_owner
    # A change below a value put in by the mutator is noted as well.
    inner = [v for v in (container.values() if isinstance(container, dict) else container)]
    inner_dicts = [v for v in inner if isinstance(v, dict) and "deep" in v]
    if inner_dicts:
        again = journal.mark()
        inner_dicts[0]["deep"] = 2
        assert journal.since(again) == {1}


@pytest.mark.parametrize(("prepare", "get", "mutate", "start"), _mutation_cases())
def test_mutators_of_an_unarmed_trial_s_container_note_nothing(
    prepare: Callable[[BaseTrial], None],
    get: Callable[[BaseTrial], Any],
    mutate: Mutator,
    start: Any,
) -> None:
    experiment = make_experiment(3)
    trial = experiment.trials[1]
    prepare(trial)
    journal = journal_of(experiment)
    before = journal.mark()
    mutate(get(trial))
    assert journal.since(before) == set()
    assert get(trial) == _plain_result(mutate, start)[0]


def test_reads_and_a_setdefault_of_a_present_key_note_nothing() -> None:
    experiment, journal, before = _armed()
    metadata = experiment.trials[0].run_metadata
    _ = (metadata.get("job_id"), list(metadata.items()), metadata.copy(), dict(metadata))
    _ = experiment.trials[0].arm.parameters | {"x": 1}
    assert journal.since(before) == set()
    assert metadata.setdefault("job_id", "other") == "job-0"  # present: no change
    assert journal.since(before) == set()


def test_copies_of_tracked_containers_are_plain_and_unowned() -> None:
    experiment, journal, before = _armed()
    metadata = experiment.trials[0].run_metadata
    for out in (metadata.copy(), copy.copy(metadata), dict(metadata), metadata | {}):
        assert type(out) is dict
        out["changed"] = 1
    arms = list(experiment.trials[0].generator_run.arms)
    assert type(arms) is list
    arms.append(None)
    assert journal.since(before) == set()
    assert "changed" not in metadata and len(experiment.trials[0].generator_run.arms) == 1


# --- attribute sets ------------------------------------------------------------------------------

ATTRIBUTE_CHANGES: dict[str, Callable[[BaseTrial], Any]] = {
    "trial ttl_seconds": lambda t: setattr(t, "ttl_seconds", 60),
    "trial time other utc offset": lambda t: setattr(
        t, "time_completed", t.time_completed.astimezone(timezone(timedelta(hours=5)))
    ),
    "trial run_metadata replaced": lambda t: setattr(t, "run_metadata", {}),
    "generator run model_key": lambda t: setattr(t.generator_run, "model_key", "BO"),
    "generator run type property": lambda t: setattr(
        t.generator_run, "generator_run_type", "MANUAL"
    ),
    "arm parameters replaced": lambda t: setattr(t.arm, "parameters", {"x1": 1.0}),
    "search space parameter field": lambda t: setattr(
        t.generator_run.search_space.parameters["x1"], "is_fidelity", True
    ),
    "optimization config metric field": lambda t: setattr(
        t.generator_run.optimization_config.objective.metric, "lower_is_better", True
    ),
    "trial runner set": lambda t: setattr(t, "runner", Runner()),
}


def _with_search_space_and_config() -> Experiment:
    experiment = make_experiment(3)
    gr = experiment.trials[1].generator_run
    gr.search_space = experiment.search_space
    gr.optimization_config = experiment.optimization_config
    return experiment


@pytest.mark.parametrize("change", list(ATTRIBUTE_CHANGES.values()), ids=list(ATTRIBUTE_CHANGES))
def test_an_attribute_set_below_an_armed_trial_notes_it(
    change: Callable[[BaseTrial], Any],
) -> None:
    experiment = _with_search_space_and_config()
    for trial in experiment.trials.values():
        assert arm_trial(trial)
    journal = journal_of(experiment)
    before = journal.mark()
    change(experiment.trials[1])
    assert journal.since(before) == {1}


@pytest.mark.parametrize("change", list(ATTRIBUTE_CHANGES.values()), ids=list(ATTRIBUTE_CHANGES))
def test_an_attribute_set_below_an_unarmed_trial_notes_nothing(
    change: Callable[[BaseTrial], Any],
) -> None:
    experiment = _with_search_space_and_config()
    journal = journal_of(experiment)
    before = journal.mark()
    change(experiment.trials[1])
    assert journal.since(before) == set()


def test_status_changes_of_an_armed_trial_are_noted() -> None:
    experiment = make_experiment(0)
    trial = experiment.new_trial(GeneratorRun([Arm({"x1": 0.1})]))
    assert arm_trial(trial)
    journal = journal_of(experiment)
    for step in (trial.mark_staged, trial.mark_running, trial.mark_early_stopped):
        before = journal.mark()
        step()
        assert journal.since(before) == {trial.index}


def test_batch_trial_changes_are_noted() -> None:
    experiment = make_batch_experiment()
    batch = experiment.trials[1]
    assert isinstance(batch, BatchTrial) and arm_trial(batch)
    journal = journal_of(experiment)
    before = journal.mark()
    batch.abandoned_arms_metadata.append(AbandonedArm("status_quo", reason="gone"))
    assert journal.since(before) == {1}
    first = experiment.trials[0]
    assert isinstance(first, BatchTrial) and arm_trial(first)
    before = journal.mark()
    first.mark_arm_abandoned(first.arms[0].name or "", reason="late")
    assert journal.since(before) == {0}
    before = journal.mark()
    first.generator_run_structs[1].weight = 0.75
    assert journal.since(before) == {0}
    before = journal.mark()
    first.abandoned_arms_metadata[0].reason = "changed"
    assert journal.since(before) == {0}


def test_a_model_object_put_into_an_armed_trial_later_reports_its_changes() -> None:
    experiment, journal, _ = _armed()
    trial = experiment.trials[2]
    runner = CustomRunner("https://a", retries=1)
    trial.runner = runner
    arm_in_metadata = Arm({"x": 1.0})
    trial.run_metadata["best"] = [arm_in_metadata]
    trial.properties["pair"] = (Arm({"y": 2.0}),)
    for change in (
        lambda: setattr(runner, "retries", 2),
        lambda: arm_in_metadata.parameters.update(x=2.0),
        lambda: trial.properties["pair"][0].parameters.pop("y"),
    ):
        before = journal.mark()
        change()
        assert journal.since(before) == {2}


def test_a_runner_shared_by_two_trials_notes_both() -> None:
    experiment = make_experiment(4)
    runner = CustomRunner("https://shared", retries=1)
    experiment.trials[0].runner = runner
    experiment.trials[2].runner = runner
    for trial in experiment.trials.values():
        assert arm_trial(trial)
    journal = journal_of(experiment)
    before = journal.mark()
    runner.retries = 2
    assert journal.since(before) == {0, 2}


def test_a_runner_shared_after_arming_notes_both() -> None:
    experiment, journal, _ = _armed(4)
    runner = CustomRunner("https://shared", retries=1)
    experiment.trials[1].runner = runner
    experiment.trials[3].runner = runner
    before = journal.mark()
    runner.endpoint = "https://moved"
    assert journal.since(before) == {1, 3}


def test_a_search_space_shared_by_two_generator_runs_notes_both_trials() -> None:
    experiment = make_experiment(3)
    space = experiment.search_space
    experiment.trials[0].generator_run.search_space = space
    experiment.trials[2].generator_run.search_space = space
    for trial in experiment.trials.values():
        assert arm_trial(trial)
    journal = journal_of(experiment)
    before = journal.mark()
    space.parameters["x1"].is_fidelity = True
    assert journal.since(before) == {0, 2}
    before = journal.mark()
    space.parameter_constraints.pop()
    assert journal.since(before) == {0, 2}


def test_an_arm_shared_by_two_batch_trials_notes_both() -> None:
    experiment = make_batch_experiment()
    sq = experiment.status_quo
    assert sq is not None
    second = experiment.trials[1]
    assert isinstance(second, BatchTrial)
    second.set_status_quo_with_weight(sq, 0.5)
    for trial in experiment.trials.values():
        assert arm_trial(trial)
    journal = journal_of(experiment)
    before = journal.mark()
    sq.parameters["x1"] = 0.3
    assert journal.since(before) == {0, 1}


def test_new_trials_and_attached_data_are_noted() -> None:
    experiment = make_experiment(2)
    journal = journal_of(experiment)
    before = journal.mark()
    trial = experiment.new_trial(GeneratorRun([Arm({"x1": 0.1})]))
    assert journal.since(before) == {2}
    before = journal.mark()
    experiment.attach_data(
        Data(
            [
                {"trial_index": 0, "arm_name": "0_0", "metric_name": "m", "mean": 1.0, "sem": 0},
                {"trial_index": 2, "arm_name": trial.arm.name, "metric_name": "m", "mean": 1.0}
                | {"sem": 0.0},
            ]
        )
    )
    assert journal.since(before) == {0, 2}


# --- arm: tracked or not -----------------------------------------------------------------------


class _Opaque:
    """A user object that is not a model class: its changes can't be seen."""

    def __init__(self) -> None:
        self.value = 1


class _OwnSetattrRunner(Runner):
    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)


class _SlottedRunner(Runner):
    __slots__ = ("queue",)


def _put_by_hand(trial: BaseTrial, name: str, value: Any) -> None:
    trial.__dict__[name] = value


UNTRACKED: dict[str, Callable[[Experiment], Any]] = {
    "set in run_metadata": lambda e: e.trials[1].run_metadata.update(s={1, 2}),
    "frozenset nested": lambda e: e.trials[1].run_metadata.update(n={"f": [frozenset({1})]}),
    "numpy array in gen_metadata": lambda e: e.trials[1].generator_run.gen_metadata.update(
        a=np.array([1.0, 2.0])
    ),
    "non-model user object": lambda e: e.trials[1].properties.update(o=_Opaque()),
    "user object in a tuple": lambda e: setattr(
        e.trials[1].generator_run, "model_predictions", ({"m": [1.0]}, _Opaque())
    ),
    "plain dict via __dict__": lambda e: _put_by_hand(e.trials[1], "run_metadata", {"a": 1}),
    "plain list via an arm's __dict__": lambda e: e.trials[1].generator_run.__dict__.update(
        weights=[1.0]
    ),
    "another object's tracked dict via __dict__": lambda e: _put_by_hand(
        e.trials[1], "properties", e.trials[0].properties
    ),
    "runner with its own __setattr__": lambda e: setattr(
        e.trials[1], "runner", _OwnSetattrRunner()
    ),
    "runner with __slots__": lambda e: setattr(e.trials[1], "runner", _SlottedRunner()),
    "data object in run_metadata": lambda e: e.trials[1].run_metadata.update(d=Data()),
}


@pytest.mark.parametrize("make_untracked", list(UNTRACKED.values()), ids=list(UNTRACKED))
def test_arm_is_false_when_something_below_cannot_report_its_changes(
    make_untracked: Callable[[Experiment], Any],
) -> None:
    experiment = make_experiment(3)
    assert arm_trial(experiment.trials[1])
    make_untracked(experiment)
    assert arm_trial(experiment.trials[1]) is False
    # The others are not affected.
    assert arm_trial(experiment.trials[2]) is True


def test_arm_is_true_for_atomic_values_of_every_kind() -> None:
    experiment = make_experiment(2)
    experiment.trials[1].run_metadata.update(
        when=datetime(2026, 1, 2, tzinfo=timezone(timedelta(hours=-3))),
        tz=UTC,
        status=TrialStatus.RUNNING,
        cls=Metric,
        fn=len,
        numbers=(1, 2.0, 3j, None, b"x", np.float64(1.5), np.str_("s")),
    )
    assert arm_trial(experiment.trials[1]) is True


def test_arm_is_true_again_once_the_untracked_value_is_gone() -> None:
    experiment = make_experiment(2)
    experiment.trials[1].run_metadata["s"] = {1}
    assert arm_trial(experiment.trials[1]) is False
    del experiment.trials[1].run_metadata["s"]
    assert arm_trial(experiment.trials[1]) is True


def test_arm_of_an_object_directly() -> None:
    assert arm(Arm({"x": 1.0, "nested": {"l": [1, (2, [3])]}})) is True
    assert arm(Arm({"x": {1, 2}})) is False


@pytest.mark.parametrize("make", list(ALL_SAMPLES.values()), ids=list(ALL_SAMPLES))
def test_every_sample_experiment_s_trials_are_tracked(make: Callable[[], Experiment]) -> None:
    experiment = make()
    journal = journal_of(experiment)
    for trial in experiment.trials.values():
        assert arm_trial(trial) is True
    for index, trial in experiment.trials.items():
        before = journal.mark()
        trial.run_metadata["probe"] = index
        assert journal.since(before) == {index}
        before = journal.mark()
        for gr in trial.generator_runs:
            for a in gr.arms:
                a.parameters["probe"] = 1.0
        assert journal.since(before) == ({index} if trial.arms else set())


# --- the journal -------------------------------------------------------------------------------


def test_journal_notes_since_a_mark() -> None:
    journal = Journal()
    start = journal.mark()
    assert journal.since(start) == set()
    journal.note(3)
    journal.note(5)
    middle = journal.mark()
    journal.note(7)
    assert journal.since(start) == {3, 5, 7}
    assert journal.since(middle) == {7}
    assert journal.since(journal.position) == set()
    assert journal.since(journal.position + 1) is None  # never taken: unknown


def test_journal_skips_a_repeat_only_without_a_mark_in_between() -> None:
    journal = Journal()
    journal.note(3)
    journal.note(3)
    journal.note(3)
    assert journal.position == 1
    mark = journal.mark()
    journal.note(3)  # a reader marked after the last 3: this one must be kept
    assert journal.position == 2 and journal.since(mark) == {3}
    journal.note(3)
    assert journal.position == 2
    journal.note(4)
    journal.note(3)
    assert journal.position == 4


def test_journal_since_never_misses_a_note_after_its_mark() -> None:
    rng = random.Random(7)
    for _ in range(200):
        journal = Journal()
        marks: list[tuple[int, int]] = []  # (mark, how many notes were made before it)
        notes: list[int] = []
        for _ in range(rng.randint(1, 40)):
            if rng.random() < 0.3:
                marks.append((journal.mark(), len(notes)))
            else:
                index = rng.choice([1, 2, 3])
                notes.append(index)
                journal.note(index, size_hint=10)
        for mark, made in marks:
            assert journal.since(mark) == set(notes[made:])


def test_journal_compaction_drops_entries_and_since_says_unknown() -> None:
    journal = Journal()
    start = journal.mark()
    for i in range(4095):
        journal.note(i % 2, size_hint=10)
    before_cut = journal.mark()
    journal.note(7, size_hint=10)  # the 4096th entry
    at_cut = journal.mark()
    assert journal.base == 0 and journal.since(before_cut) == {7}
    journal.note(8, size_hint=10)  # past 4096 entries and twice the trials: cut
    assert journal.base == 4096 and journal.entries == [8]
    assert journal.position == 4097
    assert journal.since(start) is None
    assert journal.since(before_cut) is None  # its 7 was dropped
    assert journal.since(at_cut) == {8}
    assert journal.since(journal.position) == set()


def test_journal_keeps_its_entries_while_the_experiment_is_big() -> None:
    journal = Journal()
    start = journal.mark()
    for i in range(5000):
        journal.note(i % 3, size_hint=3000)
    assert journal.base == 0 and journal.since(start) == {0, 1, 2}


def test_journal_of_an_experiment_is_made_once_and_not_compared() -> None:
    experiment = make_experiment(2)
    other = copy.deepcopy(experiment)
    journal = journal_of(experiment)
    assert journal_of(experiment) is journal
    journal.note(1)
    assert experiment == other
    assert journal_of(other) is not journal


def test_many_notes_of_a_small_experiment_are_cut_back() -> None:
    experiment, journal, start = _armed(3)
    for i in range(5000):
        experiment.trials[i % 2].run_metadata["i"] = i
    assert journal.since(start) is None  # cut: a reader must compare every trial
    assert len(journal.entries) < 4096


# --- copies and pickles --------------------------------------------------------------------------


def _reachable_models(obj: Any, seen: set[int] | None = None) -> list[Any]:
    seen = set() if seen is None else seen
    found: list[Any] = []
    todo = [obj]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, dict):
            todo.extend(current.values())
        elif isinstance(current, list | tuple):
            todo.extend(current)
        elif hasattr(current, "__dict__") and hasattr(type(current), "_ae_track"):
            found.append(current)
            todo.extend(v for k, v in vars(current).items() if k != "_experiment")
    return found


def _deepcopy(obj: Any) -> Any:
    return copy.deepcopy(obj)


def _pickled(obj: Any) -> Any:
    return pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize("how", [_deepcopy, _pickled], ids=["deepcopy", "pickle"])
@pytest.mark.parametrize("what", ["trial", "batch_trial", "arm", "experiment"])
def test_deep_copies_and_pickles_carry_no_tracking_state(
    how: Callable[[Any], Any], what: str
) -> None:
    experiment = make_batch_experiment()
    experiment.new_trial(GeneratorRun([Arm({"x1": 0.5, "nested": {"l": [1, [2]]}})]))
    for trial in experiment.trials.values():
        assert arm_trial(trial)
    journal = journal_of(experiment)
    journal.note(0)
    original = {
        "trial": experiment.trials[2],
        "batch_trial": experiment.trials[0],
        "arm": experiment.trials[2].arm,
        "experiment": experiment,
    }[what]
    out = how(original)
    assert out == original and out is not original
    models = _reachable_models(out)
    assert models
    for model in models:
        assert not [k for k in vars(model) if k.startswith("_ae_")], model
        assert _is_plain(vars(model))
    # Changing the copy notes nothing in the original's journal.
    before = journal.mark()
    for model in models:
        for value in list(vars(model).values()):
            if isinstance(value, dict):
                value["changed"] = 1
        if isinstance(model, Arm):
            model.parameters = {"other": 1.0}
    assert journal.since(before) == set()
    assert out != original


def test_a_shallow_copy_of_an_armed_trial_is_unarmed_and_equal() -> None:
    experiment, journal, _ = _armed()
    trial = experiment.trials[1]
    out = copy.copy(trial)
    assert out == trial and "_ae_armed" not in vars(out) and "_ae_owners" not in vars(out)
    before = journal.mark()
    out.status = TrialStatus.FAILED  # the copy's own attribute: nothing noted
    assert journal.since(before) == set() and trial.status is TrialStatus.COMPLETED


def test_a_pickled_experiment_has_no_journal_and_equals_the_original() -> None:
    experiment, journal, _ = _armed()
    journal.note(1)
    out = _pickled(experiment)
    assert "_ae_journal" not in vars(out) and out == experiment
    assert all(t.experiment is out for t in out.trials.values())


def test_equality_ignores_tracking_state() -> None:
    experiment = make_experiment(2)
    other = copy.deepcopy(experiment)
    for trial in experiment.trials.values():
        assert arm_trial(trial)
    journal_of(experiment).note(0)
    assert experiment == other and experiment.trials[0] == other.trials[0]
    assert experiment.trials[0].arm == other.trials[0].arm


# --- repr --------------------------------------------------------------------------------------


class _CountingRepr:
    calls = 0

    def __repr__(self) -> str:
        _CountingRepr.calls += 1
        return "C"


@pytest.mark.parametrize("size", [10**3, 10**5])
def test_repr_of_huge_tracked_containers_is_short(size: int) -> None:
    parameters = {f"p{i}": float(i) for i in range(size)}
    a = Arm(parameters, name="big")
    assert type(a.parameters) is TrackedDict
    text = repr(a)
    assert len(text) < 120 and text.startswith("Arm(name='big', parameters={'p0': 0.0")
    gr = GeneratorRun([Arm({"x": float(i)}, name=f"a{i}") for i in range(size // 10)])
    assert type(gr.arms) is TrackedList
    assert len(repr(gr)) < 160


def test_repr_of_a_huge_tracked_container_has_a_fixed_size() -> None:
    small = Arm({f"p{i}": float(i) for i in range(100)}, name="a")
    big = Arm({f"p{i}": float(i) for i in range(100_000)}, name="a")
    assert repr(small) == repr(big)
    # Tracked containers show like plain ones.
    plain = Arm({}, name="a")
    plain.__dict__["parameters"] = {f"p{i}": float(i) for i in range(100)}
    assert repr(plain) == repr(small)


def test_repr_of_a_huge_tracked_list_reads_only_its_start() -> None:
    _CountingRepr.calls = 0
    trial = make_experiment(1).trials[0]
    trial.generator_run.arms[0].parameters = {"values": [_CountingRepr() for _ in range(50_000)]}
    assert type(trial.generator_run.arms[0].parameters["values"]) is TrackedList
    text = repr(trial.generator_run.arms[0])
    assert len(text) < 120
    assert _CountingRepr.calls < 100
