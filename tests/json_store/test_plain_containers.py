"""The JSON encoder checks a tracked container once and skips the check while it stays
unchanged; every change through its methods makes it check again, so nothing is written
lossily."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aestore.core.tracking import adopt, is_plain
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
    assert not is_plain(d)  # unknown until the encoder checks it
    assert to_json_safe(d) is d and is_plain(d)
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
