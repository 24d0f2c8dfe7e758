"""A save refuses arms whose names no longer say which parameters they stand for.

An experiment knows each arm by name; a document stores one arm per name. When an arm's
parameters are changed in place (or an arm is replaced) after it was named, while an equal
copy of it sits in another trial (every load makes such copies), the experiment holds two
parameter sets under one name: a document of it would not load, or would load other arms.
The save raises JSONEncodeError instead, and the file on disk stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aestore.core import Arm, Experiment
from aestore.exceptions import JSONEncodeError
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.json_store.encoder import experiment_to_document
from aestore.storage.json_store.load import load_experiment
from aestore.storage.json_store.save import save_experiment
from tests.json_store.conftest import junk_files


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "experiment.json"
    path.write_bytes(experiment_to_document(make_experiment(num_trials=3)))
    return path, path.read_bytes()


async def _refused(experiment: Experiment, saved: tuple[Path, bytes], match: str) -> str:
    path, before = saved
    with pytest.raises(JSONEncodeError, match=match) as caught:
        await save_experiment(experiment, path)
    assert (path.read_bytes() == before, junk_files(path.parent, {path.name})) == (True, [])
    return str(caught.value)


def _batch_with_status_quo_copy() -> Experiment:
    """The sample's second batch trial holds an equal copy of the experiment's status quo."""
    experiment = make_batch_experiment()
    copy = next(arm for arm in experiment.trials[1].arms if arm.name == "status_quo")
    assert copy is not experiment.status_quo and copy == experiment.status_quo
    return experiment


async def test_status_quo_changed_in_place_while_a_trial_holds_a_copy(
    saved: tuple[Path, bytes],
) -> None:
    experiment = _batch_with_status_quo_copy()
    assert experiment.status_quo is not None
    experiment.status_quo.parameters["x1"] = 0.123
    message = await _refused(experiment, saved, "arm name 'status_quo'")
    assert "'batch_experiment'" in message and "trial 1" in message
    experiment.status_quo.parameters["x1"] = 0.25  # put back: saved and loaded as before
    await save_experiment(experiment, saved[0])
    assert await load_experiment(saved[0]) == experiment


async def test_a_loaded_experiment_whose_status_quo_is_changed_in_place(
    saved: tuple[Path, bytes],
) -> None:
    # Loading makes each trial's copy of the status quo an object of its own.
    await save_experiment(make_batch_experiment(), saved[0])
    loaded = await load_experiment(saved[0])
    saved = (saved[0], saved[0].read_bytes())
    assert loaded.status_quo is not None
    loaded.status_quo.parameters["x2"] = 0.5
    await _refused(loaded, saved, "arm name 'status_quo'.*different parameters")


@pytest.mark.parametrize("num_trials", [3, 400], ids=["encoded-inline", "encoded-off-loop"])
async def test_an_arm_replaced_in_a_trial_generator_run(
    saved: tuple[Path, bytes], num_trials: int
) -> None:
    experiment = make_experiment(num_trials=num_trials)
    run = experiment.trials[2].generator_run
    assert run is not None
    original = run.arms[0]
    run.arms[0] = Arm({"x1": 0.9, "x2": 0.1}, name=original.name)
    message = await _refused(experiment, saved, "arm name '2_0'")
    assert "trial 2" in message and "experiment.arms_by_name" in message
    run.arms[0] = original
    await save_experiment(experiment, saved[0])
    assert await load_experiment(saved[0]) == experiment


async def test_an_unnamed_arm_put_into_a_trial(saved: tuple[Path, bytes]) -> None:
    experiment = make_experiment(num_trials=3)
    run = experiment.trials[1].generator_run
    assert run is not None
    run.arms[0] = Arm({"x1": 0.9, "x2": 0.1})
    await _refused(experiment, saved, "trial 1 holds an arm without a name")


@pytest.mark.parametrize(
    "make",
    [make_batch_experiment, lambda: make_experiment(num_trials=5)],
    ids=["batch", "single-arm"],
)
async def test_equal_copies_under_one_name_are_saved_and_load_back(
    tmp_path: Path, make: Callable[[], Experiment]
) -> None:
    """No false alarm: a load's copies, and arms equal to known ones, are fine."""
    path = tmp_path / "e.json"
    experiment = make()
    await save_experiment(experiment, path)
    loaded = await load_experiment(path)
    await save_experiment(loaded, path)
    assert await load_experiment(path) == loaded == experiment
    trial = loaded.new_trial()
    known = next(iter(loaded.arms_by_name.values()))
    trial.add_arm(Arm(dict(known.parameters)))  # named after the equal known arm
    await save_experiment(loaded, path)
    assert await load_experiment(path) == loaded
