"""Trial: one arm from one generator run."""

from __future__ import annotations

import pytest

from aestore.core import Arm, Data, GeneratorRun
from aestore.exceptions import ModelError
from tests.core.helpers import arm_run, assert_model_error, experiment, row


def test_new_trial_names_its_arm_after_the_trial() -> None:
    exp = experiment()
    exp.new_trial(arm_run(0.1))
    trial = exp.new_trial(arm_run(0.2))
    assert trial.arm is not None
    assert (trial.index, trial.arm.name) == (1, "1_0")


def test_trial_exposes_its_generator_run() -> None:
    gr = arm_run(0.1)
    trial = experiment().new_trial(gr)
    assert (trial.generator_run, trial.generator_runs, gr.index) == (gr, [gr], 0)
    assert trial.arms == [gr.arms[0]] and trial.arm is gr.arms[0]


def test_trial_without_a_generator_run_has_no_arm() -> None:
    trial = experiment().new_trial()
    assert (trial.arm, trial.arms, trial.generator_run, trial.generator_runs) == (
        None,
        [],
        None,
        [],
    )


def test_add_arm_wraps_it_in_a_generator_run() -> None:
    trial = experiment().new_trial()
    arm = Arm({"x": 0.3})
    trial.add_arm(arm)
    assert trial.arm is arm and arm.name == "0_0"
    assert trial.generator_run is not None and trial.generator_run.arms == [arm]


def test_a_named_arm_keeps_its_name() -> None:
    trial = experiment().new_trial(GeneratorRun([Arm({"x": 0.3}, name="custom")]))
    assert trial.arm is not None and trial.arm.name == "custom"


@pytest.mark.parametrize("num_arms", [0, 2], ids=["no-arm", "two-arms"])
def test_trial_takes_exactly_one_arm(num_arms: int) -> None:
    exp = experiment()
    with pytest.raises(ModelError) as excinfo:
        exp.new_trial(arm_run(*[0.1 * (i + 1) for i in range(num_arms)]))
    assert_model_error(excinfo, f"got {num_arms}", "new_batch_trial")
    assert exp.trials == {}


def test_trial_takes_one_generator_run_only() -> None:
    trial = experiment().new_trial(arm_run(0.1))
    with pytest.raises(ModelError) as excinfo:
        trial.add_generator_run(arm_run(0.2))
    assert_model_error(excinfo, "Trial 0", "already")


def test_arms_cannot_be_added_once_the_trial_left_candidate() -> None:
    trial = experiment().new_trial()
    trial.mark_staged()
    with pytest.raises(ModelError) as excinfo:
        trial.add_arm(Arm({"x": 0.1}))
    assert_model_error(excinfo, "Trial 0", "STAGED")
    assert trial.arm is None


def test_trial_lookup_data_returns_its_latest_data() -> None:
    exp = experiment()
    t0, t1 = exp.new_trial(arm_run(0.1)), exp.new_trial(arm_run(0.2))
    exp.attach_data(Data([row(0, "0_0", mean=1.0), row(1, "1_0", mean=2.0)]))
    exp.attach_data(Data([row(0, "0_0", mean=3.0)]))
    assert [r["mean"] for r in t0.lookup_data().to_records()] == [3.0]
    assert [r["mean"] for r in t1.lookup_data().to_records()] == [2.0]
