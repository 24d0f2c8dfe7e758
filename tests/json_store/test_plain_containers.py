"""The JSON encoder checks a tracked container once and skips the check while it stays
unchanged; every change through its methods makes it check again, so nothing is written
lossily."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aestore.core.tracking import TrackedDict, adopt, holds_plain_values, is_plain
from aestore.samples import make_experiment
from aestore.storage.json_store.format import to_json_safe
from aestore.storage.json_store.load import load_experiment
from aestore.storage.json_store.save import save_experiment


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.__setitem__("bad", math.nan),
        lambda d: d.update(bad=math.inf),
        lambda d: d.setdefault("bad", (1, 2)),
        lambda d: d.__ior__({1: "int key"}),
        lambda d: d.__setitem__("__type", "looks like a tag"),
    ],
    ids=["nan", "inf", "tuple", "int_key", "type_key"],
)
def test_a_change_through_the_methods_makes_a_plain_dict_checked_again(mutate: object) -> None:
    d = adopt({"x": 1.5, "y": "a"}, None)
    assert is_plain(d)  # found when the model made it
    assert to_json_safe(d) is d
    mutate(d)  # type: ignore[operator]
    assert not is_plain(d)
    assert to_json_safe(d) is not d  # replaced by a tagged/escaped copy


def test_a_plain_list_that_gets_a_nan_is_checked_again() -> None:
    values = adopt([1.0, 2.0], None)
    assert to_json_safe(values) is values and is_plain(values)
    values.append(math.nan)
    assert not is_plain(values)
    assert to_json_safe(values) != [1.0, 2.0, math.nan]  # the NaN is tagged


# Each container the trial encoder writes as it is once known plain: a NaN put in after a
# save must be tagged by the next save.
def _set_run_metadata(trial: Any) -> None:
    trial.run_metadata["loss"] = math.nan


def _set_stop_metadata(trial: Any) -> None:
    trial.stop_metadata["why"] = math.inf


def _set_properties(trial: Any) -> None:
    trial.properties["score"] = -math.inf


def _set_arm_parameter(trial: Any) -> None:
    trial.arm.parameters["x1"] = math.inf


def _set_weight(trial: Any) -> None:
    trial.generator_run.weights[0] = math.nan


def _set_gen_metadata(trial: Any) -> None:
    trial.generator_run.gen_metadata["acq"] = math.nan


@pytest.mark.parametrize(
    "mutate",
    [
        _set_run_metadata,
        _set_stop_metadata,
        _set_properties,
        _set_arm_parameter,
        _set_weight,
        _set_gen_metadata,
    ],
    ids=[
        "run_metadata",
        "stop_metadata",
        "properties",
        "arm_parameters",
        "weights",
        "gen_metadata",
    ],
)
async def test_a_non_finite_float_put_in_after_a_save_round_trips(
    tmp_path: Path, mutate: Callable[[Any], None]
) -> None:
    experiment = make_experiment(3)
    path = tmp_path / "e.json"
    await save_experiment(experiment, path)  # the encoder marks the containers plain
    mutate(experiment.trials[1])
    await save_experiment(experiment, path)
    loaded = await load_experiment(path)
    assert loaded == experiment


def test_a_container_that_is_not_plain_is_never_marked_plain() -> None:
    for value in ({"x": math.nan}, {1: "a"}, {"__type": "x"}, [math.inf], {"x": (1,)}):
        container = adopt(value, None)
        assert to_json_safe(container) is not container
        assert not is_plain(container)


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ({"x": 1.5, "s": "a", "b": True, "n": None, "i": 3}, True),
        ({}, True),
        ({"x": math.nan}, False),
        ({"x": -math.inf}, False),
        ({1: "int key"}, False),
        ({"__type": "Arm"}, False),
        ({"x": [1]}, False),
        ({"x": (1,)}, False),
        ({"x": {"y": 1}}, False),
        ([1, 2.5, "a", None], True),
        ([math.inf], False),
        ([[1]], False),
    ],
    ids=str,
)
def test_a_container_is_known_plain_when_made_exactly_when_the_encoder_would_find_it(
    value: Any, plain: bool
) -> None:
    # The model's check (tracking.holds_plain_values) and the encoder's (to_json_safe of a
    # plain dict or list returns it as it is only when it needs nothing replaced) agree.
    assert (holds_plain_values(value), to_json_safe(value) is value) == (plain, plain)
    made = adopt(value, None)
    assert is_plain(made) == plain
    assert (to_json_safe(made) is made) == plain


def test_a_container_not_known_plain_is_checked_at_each_encode_and_never_flagged() -> None:
    d = TrackedDict({"x": 1.0})  # made by hand, not by the model: not known plain
    assert to_json_safe(d) is d and not is_plain(d)  # the encoder does not set the flag
    d["y"] = math.nan
    assert to_json_safe(d) is not d  # checked again: the NaN is tagged


async def test_a_nan_put_in_while_a_save_checks_the_container_is_tagged_by_the_next_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The encoder may run in a worker thread while the loop's thread changes the experiment
    # (which the docs advise against). A flag set after the check would hide the NaN for
    # good; the next save must write it tagged.
    from aestore.storage.json_store import format as format_module

    experiment = make_experiment(2)
    metadata = experiment.trials[1].run_metadata
    metadata["x"] = [1]
    del metadata["x"]  # plain again, but no longer known to be: the encoder checks it
    original = format_module.holds_plain_values

    def check_then_change(value: Any) -> bool:
        found = original(value)
        if value is metadata and "k" not in metadata:
            metadata["k"] = math.nan  # as another thread could, right after the check
        return found

    monkeypatch.setattr(format_module, "holds_plain_values", check_then_change)
    path = tmp_path / "e.json"
    await save_experiment(experiment, path)
    monkeypatch.undo()
    await save_experiment(experiment, path)
    loaded = await load_experiment(path)
    assert math.isnan(loaded.trials[1].run_metadata["k"])


# --- the plain flag is kept up to date by every method ------------------------------------

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
    st.tuples(st.integers()),
)
_KEYS = st.one_of(st.sampled_from(["a", "b", "__type"]), st.integers(0, 2))

_DICT_OPS = st.one_of(
    st.tuples(st.just("setitem"), _KEYS, _VALUES),
    st.tuples(st.just("update"), st.dictionaries(_KEYS, _VALUES, max_size=3)),
    st.tuples(st.just("ior"), st.dictionaries(_KEYS, _VALUES, max_size=3)),
    st.tuples(st.just("setdefault"), _KEYS, _VALUES),
    st.tuples(st.just("pop"), _KEYS),
    st.tuples(st.just("delitem"), _KEYS),
    st.tuples(st.just("popitem")),
    st.tuples(st.just("clear")),
)


def _apply_dict_op(d: Any, op: tuple[Any, ...]) -> None:
    name, *args = op
    if name == "setitem":
        d[args[0]] = args[1]
    elif name == "update":
        d.update(args[0])
    elif name == "ior":
        d |= args[0]
    elif name == "setdefault":
        d.setdefault(args[0], args[1])
    elif name == "pop":
        d.pop(args[0], None)
    elif name == "delitem":
        if args[0] in d:
            del d[args[0]]
    elif name == "popitem":
        if d:
            d.popitem()
    else:
        d.clear()


_LIST_OPS = st.one_of(
    st.tuples(st.just("append"), _VALUES),
    st.tuples(st.just("extend"), st.lists(_VALUES, max_size=3)),
    st.tuples(st.just("iadd"), st.lists(_VALUES, max_size=3)),
    st.tuples(st.just("insert"), st.integers(-2, 2), _VALUES),
    st.tuples(st.just("setitem"), st.integers(-2, 2), _VALUES),
    st.tuples(st.just("setslice"), st.lists(_VALUES, max_size=3)),
    st.tuples(st.just("delitem"), st.integers(-2, 2)),
    st.tuples(st.just("pop")),
    st.tuples(st.just("remove"), _VALUES),
    st.tuples(st.just("imul"), st.integers(0, 2)),
    st.tuples(st.just("reverse")),
    st.tuples(st.just("clear")),
)


def _apply_list_op(values: Any, op: tuple[Any, ...]) -> None:
    name, *args = op
    if name == "append":
        values.append(args[0])
    elif name == "extend":
        values.extend(iter(args[0]))  # an iterator: read once
    elif name == "iadd":
        values += args[0]
    elif name == "insert":
        values.insert(args[0], args[1])
    elif name == "setitem":
        if values:
            values[args[0] % len(values)] = args[1]
    elif name == "setslice":
        values[0:1] = iter(args[0])
    elif name == "delitem":
        if values:
            del values[args[0] % len(values)]
    elif name == "pop":
        if values:
            values.pop()
    elif name == "remove":
        if args[0] in values:
            values.remove(args[0])
    elif name == "imul":
        values *= args[0]
    elif name == "reverse":
        values.reverse()
    else:
        values.clear()


@given(
    start=st.dictionaries(_KEYS, _VALUES, max_size=3),
    ops=st.lists(_DICT_OPS, max_size=8),
    checked=st.booleans(),
)
def test_a_dict_known_plain_is_plain_after_any_changes(
    start: dict[Any, Any], ops: list[tuple[Any, ...]], checked: bool
) -> None:
    d = adopt(start, None)
    for op in ops:
        if checked:
            to_json_safe(d)  # the encoder's check, between changes
        _apply_dict_op(d, op)
        if is_plain(d):  # never claimed wrongly: the encoder would write a NaN as null
            assert holds_plain_values(d), (op, d)


@given(
    start=st.lists(_VALUES, max_size=3),
    ops=st.lists(_LIST_OPS, max_size=8),
    checked=st.booleans(),
)
def test_a_list_known_plain_is_plain_after_any_changes(
    start: list[Any], ops: list[tuple[Any, ...]], checked: bool
) -> None:
    values = adopt(start, None)
    for op in ops:
        if checked:
            to_json_safe(values)
        _apply_list_op(values, op)
        if is_plain(values):
            assert holds_plain_values(values), (op, values)


@pytest.mark.parametrize(
    ("change", "plain"),
    [
        (lambda d: d.__setitem__("y", 2), True),
        (lambda d: d.update(y="s", z=None), True),
        (lambda d: d.pop("x"), True),
        (lambda d: d.clear(), True),
        (lambda d: d.__setitem__("y", math.nan), False),
        (lambda d: d.update(y=[1]), False),
        (lambda d: d.__setitem__(1, "a"), False),
        (lambda d: d.__setitem__("__type", "Arm"), False),
    ],
    ids=["plain-in", "plain-update", "pop", "clear", "nan", "list", "int-key", "type-key"],
)
def test_a_change_keeps_a_dict_known_plain_only_if_it_stays_plain(
    change: Callable[[Any], Any], plain: bool
) -> None:
    d = adopt({"x": 1.0}, None)
    change(d)
    assert is_plain(d) == plain == holds_plain_values(d)


@pytest.mark.parametrize(
    ("change", "plain"),
    [
        (lambda v: v.append(2), True),
        (lambda v: v.extend(iter([2, "a"])), True),
        (lambda v: v.__setitem__(slice(0, 1), iter([3, 4])), True),
        (lambda v: v.insert(0, None), True),
        (lambda v: v.pop(), True),
        (lambda v: v.sort(), True),
        (lambda v: v.append(math.inf), False),
        (lambda v: v.extend(iter([2, math.nan])), False),
        (lambda v: v.__setitem__(slice(0, 1), iter([math.nan])), False),
        (lambda v: v.__setitem__(0, [1]), False),
        (lambda v: v.insert(0, (1,)), False),
    ],
    ids=[
        "append",
        "extend",
        "slice",
        "insert",
        "pop",
        "sort",
        "inf",
        "extend-nan",
        "slice-nan",
        "nested",
        "tuple",
    ],
)
def test_a_change_keeps_a_list_known_plain_only_if_it_stays_plain(
    change: Callable[[Any], Any], plain: bool
) -> None:
    values = adopt([1.0, 0], None)
    change(values)
    assert is_plain(values) == plain == holds_plain_values(values)
