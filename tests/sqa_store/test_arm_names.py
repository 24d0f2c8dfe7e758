"""The SQL store refuses arms whose names no longer say which parameters they stand for.

As in the JSON store (tests/json_store/test_arm_names.py): when an arm's parameters are
changed in place, or an arm is replaced, after it was named, while an equal copy of it sits in
another trial (every load makes such copies), the experiment holds two parameter sets under
one name. Stored, its trials could not be loaded back. The save raises SQAEncodeError and
nothing of it is stored; the check scans the trials only when a copy or a changed arm is in
what the save writes.
"""

from __future__ import annotations

import pytest

from aestore.core import Arm, Experiment, GeneratorRun
from aestore.exceptions import SQAEncodeError
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial


async def _refused(experiment: Experiment, stored: Experiment | None, match: str) -> str:
    with pytest.raises(SQAEncodeError, match=match) as caught:
        await save_experiment(experiment)
    if stored is not None:
        assert await load_experiment(experiment.name or "") == stored
    return str(caught.value)


@pytest.mark.parametrize("saved_before", [False, True], ids=["first-save", "re-save"])
async def test_status_quo_changed_in_place_while_a_batch_holds_a_copy(
    store: str, saved_before: bool
) -> None:
    experiment = make_batch_experiment()
    stored = None
    if saved_before:
        await save_experiment(experiment)
        stored = await load_experiment(experiment.name or "")
    assert experiment.status_quo is not None
    experiment.status_quo.parameters["x1"] = 0.123
    message = await _refused(experiment, stored, "arm name 'status_quo'")
    assert "'batch_experiment'" in message and "trial 1" in message
    experiment.status_quo.parameters["x1"] = 0.25  # put back: saved and loaded as before
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


async def test_a_loaded_experiment_whose_status_quo_is_changed_in_place(store: str) -> None:
    await save_experiment(make_batch_experiment())
    loaded = await load_experiment("batch_experiment")
    stored = await load_experiment("batch_experiment")
    assert loaded.status_quo is not None
    loaded.status_quo.parameters["x2"] = 0.5
    await _refused(loaded, stored, "arm name 'status_quo'.*different parameters")


async def test_an_arm_replaced_in_a_saved_trial(store: str) -> None:
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    stored = await load_experiment(experiment.name or "")
    run = experiment.trials[2].generator_run
    assert run is not None
    original = run.arms[0]
    run.arms[0] = Arm({"x1": 0.9, "x2": 0.1}, name=original.name)
    message = await _refused(experiment, stored, "arm name '2_0'")
    assert "trial 2" in message
    with pytest.raises(SQAEncodeError, match="arm name '2_0'"):
        await save_or_update_trial(experiment, experiment.trials[2])
    run.arms[0] = original
    await save_experiment(experiment)
    assert await load_experiment(experiment.name or "") == experiment


async def test_equal_copies_are_saved_and_load_back(store: str) -> None:
    """No false alarm: a load's copies of the status quo, saved again and changed elsewhere."""
    await save_experiment(make_batch_experiment())
    loaded = await load_experiment("batch_experiment")
    loaded.trials[0].update_run_metadata({"seen": True})
    await save_experiment(loaded)
    assert await load_experiment("batch_experiment") == loaded


async def test_copies_of_known_arms_in_new_trials_need_no_scan_of_the_trials(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check stays O(what is written): a new trial's copy is compared with the arm its
    name stands for; only a change of stored arms scans the experiment."""
    experiment = make_experiment(num_trials=3)
    await save_experiment(experiment)
    scans: list[object] = []
    real = Experiment.arm_name_conflict
    monkeypatch.setattr(
        Experiment,
        "arm_name_conflict",
        lambda self, names=None: scans.append(names) or real(self, names),
    )
    arm = experiment.trials[0].arm
    assert arm is not None
    trial = experiment.new_trial(GeneratorRun([Arm(dict(arm.parameters))]))
    assert trial.arm is not None and trial.arm.name == arm.name and trial.arm is not arm
    await save_experiment(experiment)
    assert scans == []
    assert await load_experiment(experiment.name or "") == experiment
    arm.parameters["x1"] = 0.5  # a stored arm changed: now the trials are scanned
    with pytest.raises(SQAEncodeError, match="arm name '0_0'"):
        await save_experiment(experiment)
    assert scans == [{"0_0"}]


_STATUS_QUO = {"x1": 0.25, "x2": 0.75, "lr": 0.01, "layers": 2, "optimizer": "adam", "seed": 42}


async def test_a_batch_trial_status_quo_changed_in_place_while_another_holds_a_copy(
    store: str,
) -> None:
    # The status quo of a batch trial is stored in its trial row, not with its arms.
    experiment = make_experiment(num_trials=0, name="batches")
    first = experiment.new_batch_trial(GeneratorRun([Arm({**_STATUS_QUO, "x1": 0.5})]))
    first.status_quo = Arm(dict(_STATUS_QUO))
    second = experiment.new_batch_trial(GeneratorRun([Arm({**_STATUS_QUO, "x1": 0.6})]))
    second.status_quo = Arm(dict(_STATUS_QUO))
    assert first.status_quo is not second.status_quo
    await save_experiment(experiment)
    stored = await load_experiment("batches")
    first.status_quo.parameters["x1"] = 0.9
    message = await _refused(experiment, stored, "arm name 'status_quo'")
    assert "trial 1" in message


async def test_saving_a_trial_does_not_check_a_status_quo_it_does_not_write(
    store: str,
) -> None:
    experiment = make_experiment(num_trials=1, name="unrelated")
    batch = experiment.new_batch_trial(GeneratorRun([Arm({**_STATUS_QUO, "x1": 0.5})]))
    batch.status_quo = Arm(dict(_STATUS_QUO))
    experiment.status_quo = Arm(dict(_STATUS_QUO))  # a copy of the batch's
    await save_experiment(experiment)
    experiment.status_quo.parameters["x1"] = 0.9
    experiment.trials[0].update_run_metadata({"k": 1})
    await save_or_update_trial(experiment, experiment.trials[0])  # writes trial 0 only
    stored = await load_experiment("unrelated")
    assert stored.trials[0].run_metadata["k"] == 1 and stored.status_quo is not None
    assert stored.status_quo.parameters["x1"] == 0.25
    with pytest.raises(SQAEncodeError, match="arm name 'status_quo'"):
        await save_experiment(experiment)  # writes the experiment row: refused
