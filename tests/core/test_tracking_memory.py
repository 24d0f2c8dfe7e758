"""Change tracking must not keep objects alive: owners are weak references."""

from __future__ import annotations

import gc
import weakref

from aestore.core.runner import Runner
from aestore.core.tracking import arm_trial, journal_of
from aestore.samples import make_experiment


def test_a_shared_runner_does_not_keep_discarded_experiments_alive() -> None:
    runner = Runner()  # one long-lived object set on the trials of many experiments
    refs = []
    for seed in range(3):
        experiment = make_experiment(4, seed=seed)
        for trial in experiment.trials.values():
            trial.runner = runner
            arm_trial(trial)
        refs.append(weakref.ref(experiment))
    del experiment, trial
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_a_shared_runner_still_reports_to_the_live_experiment() -> None:
    runner = Runner()
    live = make_experiment(2, name="live")
    dead = make_experiment(2, name="dead")
    for trial in [*live.trials.values(), *dead.trials.values()]:
        trial.runner = runner
        arm_trial(trial)
    del dead, trial
    gc.collect()
    start = journal_of(live).mark()
    runner.endpoint = "https://new.example"  # type: ignore[attr-defined]
    assert journal_of(live).since(start) == {0, 1}


def test_dead_owners_are_pruned_from_a_long_lived_shared_object() -> None:
    runner = Runner()
    for seed in range(40):
        experiment = make_experiment(5, seed=seed)
        for trial in experiment.trials.values():
            trial.runner = runner
            arm_trial(trial)
    del experiment, trial
    gc.collect()
    owners = runner.__dict__["_ae_owners"]
    live = [ref for ref in owners.values() if ref() is not None]
    # 200 trials held the runner and all are gone: dead entries were pruned along the way.
    assert len(live) == 0
    assert len(owners) <= 128


def test_assigning_an_instance_dict_does_not_wrap_it() -> None:
    # Decoders build objects with ``obj.__dict__ = fields``: that must stay the instance dict.
    from aestore.core.arm import Arm

    arm = Arm.__new__(Arm)
    arm.__dict__ = {"parameters": {"x": 1.0}, "_name": "0_0"}
    assert type(arm.__dict__) is dict
    assert arm.name == "0_0"
