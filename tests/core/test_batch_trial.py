"""BatchTrial: many weighted arms from several generator runs, a status quo, abandoned arms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aestore.core import AbandonedArm, Arm, GeneratorRun, GeneratorRunStruct
from aestore.exceptions import ModelError
from tests.core.helpers import arm_run, assert_model_error, experiment


def test_add_arms_and_weights_names_arms_in_order() -> None:
    exp = experiment()
    exp.new_trial(arm_run(0.9))
    batch = exp.new_batch_trial()
    batch.add_arms_and_weights([Arm({"x": 0.1}), Arm({"x": 0.2})], [0.4, 0.6])
    assert [a.name for a in batch.arms] == ["1_0", "1_1"]
    assert batch.weights == [0.4, 0.6]


def test_weights_default_to_one() -> None:
    batch = experiment().new_batch_trial()
    batch.add_arms_and_weights([Arm({"x": 0.1}), Arm({"x": 0.2})])
    assert batch.weights == [1.0, 1.0]


def test_multiplier_scales_the_weights() -> None:
    batch = experiment().new_batch_trial()
    batch.add_arms_and_weights([Arm({"x": 0.1})], [2.0], multiplier=0.25)
    assert batch.weights == [0.5]
    assert batch.generator_run_structs[0].weight == 0.25


def test_add_generator_run_with_multiplier() -> None:
    batch = experiment().new_batch_trial()
    gr = GeneratorRun([Arm({"x": 0.1})], weights=[4.0])
    batch.add_generator_run(gr, multiplier=0.5)
    assert batch.generator_runs == [gr]
    assert batch.generator_run_structs == [GeneratorRunStruct(gr, 0.5)]
    assert batch.weights == [2.0]


def test_arm_numbering_continues_across_generator_runs() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1, 0.2))
    batch.add_generator_run(arm_run(0.3))
    assert [a.name for a in batch.arms] == ["0_0", "0_1", "0_2"]
    assert [gr.index for gr in batch.generator_runs] == [0, 1]


def test_new_batch_trial_takes_a_generator_run() -> None:
    gr = arm_run(0.1, 0.2)
    batch = experiment().new_batch_trial(gr, trial_type="t", ttl_seconds=5)
    assert (batch.generator_runs, batch.num_arms, batch.trial_type) == ([gr], 2, "t")


def test_an_arm_in_two_generator_runs_is_one_arm_with_the_summed_weight() -> None:
    batch = experiment().new_batch_trial()
    batch.add_arms_and_weights([Arm({"x": 0.1})], [1.0])
    batch.add_arms_and_weights([Arm({"x": 0.1})], [2.0])
    assert [a.name for a in batch.arms] == ["0_0"]
    assert batch.weights == [3.0]


def test_an_arm_already_in_the_experiment_keeps_its_name() -> None:
    exp = experiment()
    exp.new_trial(arm_run(0.5))
    batch = exp.new_batch_trial(arm_run(0.5, 0.6))
    assert [a.name for a in batch.arms] == ["0_0", "1_1"]


def test_add_arm_with_a_weight() -> None:
    batch = experiment().new_batch_trial()
    batch.add_arm(Arm({"x": 0.1}), weight=3.0)
    assert (batch.num_arms, batch.weights) == (1, [3.0])


def test_arms_cannot_be_added_after_staging() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1))
    batch.mark_staged()
    with pytest.raises(ModelError) as excinfo:
        batch.add_arms_and_weights([Arm({"x": 0.2})])
    assert_model_error(excinfo, "Trial 0", "STAGED")
    assert batch.num_arms == 1


def test_a_failed_add_leaves_no_trace() -> None:
    # A default name ("1_1") clashes with an arm the user named so: the whole add fails, and
    # used to leave "1_0" taken by an arm of a trial that was never created.
    exp = experiment()
    exp.new_trial(GeneratorRun([Arm({"x": 0.9}, name="1_1")]))
    first, second = Arm({"x": 0.2}), Arm({"x": 0.3})
    with pytest.raises(ModelError) as excinfo:
        exp.new_batch_trial(GeneratorRun([first, second]))
    assert_model_error(excinfo, "'1_1'")
    assert (list(exp.arms_by_name), list(exp.trials)) == (["1_1"], [0])
    assert (first.name, second.name) == (None, None)


def test_after_a_failed_add_the_next_trial_gets_the_free_names() -> None:
    exp = experiment()
    exp.new_trial(GeneratorRun([Arm({"x": 0.9}, name="1_1")]))
    with pytest.raises(ModelError):
        exp.new_batch_trial(arm_run(0.2, 0.3))
    batch = exp.new_batch_trial(arm_run(0.4))
    assert (batch.index, [a.name for a in batch.arms]) == (1, ["1_0"])


# --- status quo -----------------------------------------------------------------------------


def test_status_quo_defaults_to_none() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1))
    assert (batch.status_quo, batch.status_quo_weight) == (None, 1.0)


def test_status_quo_is_named_and_listed_last() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1))
    sq = Arm({"x": 0.5})
    batch.set_status_quo_with_weight(sq, 0.25)
    assert (batch.status_quo, sq.name, batch.status_quo_weight) == (sq, "status_quo", 0.25)
    assert [a.name for a in batch.arms] == ["0_0", "status_quo"]
    assert batch.weights == [1.0, 0.25]


def test_status_quo_setter_uses_weight_one() -> None:
    batch = experiment().new_batch_trial()
    batch.status_quo = Arm({"x": 0.5})
    assert (batch.status_quo_weight, batch.weights) == (1.0, [1.0])


def test_experiment_status_quo_keeps_its_name_in_the_batch() -> None:
    exp = experiment(status_quo=Arm({"x": 0.5}))
    batch = exp.new_batch_trial()
    batch.status_quo = exp.status_quo
    assert batch.status_quo is exp.status_quo and exp.status_quo is not None
    assert exp.status_quo.name == "status_quo"


def test_status_quo_can_be_cleared() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1))
    batch.status_quo = Arm({"x": 0.5})
    batch.status_quo = None
    assert (batch.status_quo, batch.num_arms) == (None, 1)


# --- abandoned arms -------------------------------------------------------------------------


def test_mark_arm_abandoned_records_name_reason_and_time() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1, 0.2))
    before = datetime.now(UTC)
    assert batch.mark_arm_abandoned("0_1", reason="crashed") is batch
    [abandoned] = batch.abandoned_arms_metadata
    assert (abandoned.name, abandoned.reason) == ("0_1", "crashed")
    assert before <= abandoned.time <= datetime.now(UTC)
    assert batch.abandoned_arm_names == {"0_1"}


def test_abandoned_arm_reason_defaults_to_none() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1))
    batch.mark_arm_abandoned("0_0")
    assert batch.abandoned_arms_metadata[0].reason is None


def test_abandoning_the_status_quo_arm() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1))
    batch.status_quo = Arm({"x": 0.5})
    batch.mark_arm_abandoned("status_quo")
    assert batch.abandoned_arm_names == {"status_quo"}


def test_abandoning_an_unknown_arm_is_rejected() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1))
    with pytest.raises(ModelError) as excinfo:
        batch.mark_arm_abandoned("9_9")
    assert_model_error(excinfo, "'9_9'", "trial 0")
    assert batch.abandoned_arms_metadata == []


def test_abandoning_an_arm_twice_is_rejected() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1))
    batch.mark_arm_abandoned("0_0")
    with pytest.raises(ModelError) as excinfo:
        batch.mark_arm_abandoned("0_0")
    assert_model_error(excinfo, "'0_0'", "already")
    assert len(batch.abandoned_arms_metadata) == 1


def test_abandoned_arm_keeps_a_given_time() -> None:
    when = datetime(2026, 1, 1, 12, 0, 0, 5)
    assert AbandonedArm("a", time=when).time == when


def test_abandoning_an_arm_does_not_remove_it() -> None:
    batch = experiment().new_batch_trial(arm_run(0.1, 0.2))
    batch.mark_arm_abandoned("0_0")
    assert batch.num_arms == 2
