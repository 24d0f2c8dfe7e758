"""Generator runs: arms proposed together, with weights and the model's state."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import pytest

from aestore.core import (
    Arm,
    GeneratorRun,
    GeneratorRunType,
    Metric,
    Objective,
    OptimizationConfig,
)
from aestore.exceptions import ModelError
from tests.core.helpers import assert_model_error, search_space


class MyRunType(Enum):
    BAYES = 7


def test_weights_default_to_one_per_arm() -> None:
    gr = GeneratorRun([Arm({"x": 0.1}), Arm({"x": 0.2})])
    assert gr.weights == [1.0, 1.0]


def test_arms_and_weights_are_kept_as_lists() -> None:
    arms = (Arm({"x": 0.1}),)
    gr = GeneratorRun(arms, weights=(2.5,))
    assert (gr.arms, gr.weights) == ([arms[0]], [2.5])


def test_every_argument_is_kept() -> None:
    best = Arm({"x": 0.3})
    kwargs = {
        "optimization_config": OptimizationConfig(Objective(Metric("m"))),
        "search_space": search_space(),
        "model_predictions": ({"m": [0.5]}, {"m": {"m": [0.01]}}),
        "best_arm_predictions": (best, ({"m": 0.5}, None)),
        "fit_time": 1.5,
        "gen_time": 0.25,
        "model_key": "GPEI",
        "model_kwargs": {"a": 1},
        "bridge_kwargs": {"b": 2},
        "gen_metadata": {"c": 3},
        "model_state_after_gen": {"d": 4},
    }
    gr = GeneratorRun([Arm({"x": 0.1})], **kwargs)  # type: ignore[arg-type]
    assert {k: getattr(gr, k) for k in kwargs} == kwargs


def test_time_created_is_set_on_creation_and_aware() -> None:
    before = datetime.now(UTC)
    gr = GeneratorRun([])
    after = datetime.now(UTC)
    assert gr.time_created.tzinfo is not None
    assert before <= gr.time_created <= after


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (None, None),
        ("MANUAL", "MANUAL"),
        (GeneratorRunType.STATUS_QUO, "STATUS_QUO"),
        (MyRunType.BAYES, "BAYES"),
    ],
    ids=["None", "string", "builtin-enum", "user-enum"],
)
def test_generator_run_type_is_stored_as_a_name(given: object, stored: str | None) -> None:
    gr = GeneratorRun([], type=given)  # type: ignore[arg-type]
    assert gr.generator_run_type == stored


def test_generator_run_type_setter_takes_an_enum_member() -> None:
    gr = GeneratorRun([])
    gr.generator_run_type = GeneratorRunType.STATUS_QUO
    assert gr.generator_run_type == "STATUS_QUO"


def test_generator_run_type_must_be_a_string_or_enum() -> None:
    with pytest.raises(ModelError) as excinfo:
        GeneratorRun([], type=3)  # type: ignore[arg-type]
    assert_model_error(excinfo, "3")


def test_weights_must_match_the_arms() -> None:
    with pytest.raises(ModelError) as excinfo:
        GeneratorRun([Arm({"x": 0.1})], weights=[1.0, 2.0])
    assert_model_error(excinfo, "1 arms", "2 weights")


def test_arms_must_be_arm_objects() -> None:
    with pytest.raises(ModelError) as excinfo:
        GeneratorRun([{"x": 0.1}])  # type: ignore[list-item]
    assert_model_error(excinfo, "Arm")


def test_index_is_unset_until_added_to_a_trial() -> None:
    assert GeneratorRun([]).index is None


def test_arm_weights_sum_weights_by_arm_name() -> None:
    gr = GeneratorRun(
        [Arm({"x": 0.1}, name="a"), Arm({"x": 0.2}, name="b"), Arm({"x": 0.1}, name="a")],
        weights=[1.0, 2.0, 0.5],
    )
    assert gr.arm_weights == {"a": 1.5, "b": 2.0}


def test_arm_weights_need_named_arms() -> None:
    with pytest.raises(ModelError) as excinfo:
        _ = GeneratorRun([Arm({"x": 0.1})]).arm_weights
    assert_model_error(excinfo, "named")
