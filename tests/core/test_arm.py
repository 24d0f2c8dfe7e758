"""Arms: parameterizations with a name once they join an experiment."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from aestore.core import Arm
from aestore.exceptions import ModelError
from tests.core.helpers import assert_model_error


def test_arm_is_unnamed_by_default() -> None:
    arm = Arm({"x": 0.5})
    assert (arm.name, arm.has_name, arm.parameters) == (None, False, {"x": 0.5})


def test_arm_keeps_a_given_name() -> None:
    arm = Arm({"x": 0.5}, name="0_0")
    assert (arm.name, arm.has_name) == ("0_0", True)


def test_arm_copies_parameters_into_a_dict() -> None:
    params = {"x": 0.5}
    arm = Arm(MappingProxyType(params))
    params["x"] = 0.9
    assert arm.parameters == {"x": 0.5} and isinstance(arm.parameters, dict)


@pytest.mark.parametrize("parameters", [[("x", 1.0)], None, "x"], ids=["list", "None", "str"])
def test_arm_parameters_must_be_a_mapping(parameters: object) -> None:
    with pytest.raises(ModelError) as excinfo:
        Arm(parameters)  # type: ignore[arg-type]
    assert_model_error(excinfo, "mapping", type(parameters).__name__)


def test_unnamed_arm_can_be_named_once() -> None:
    arm = Arm({"x": 0.5})
    arm.name = "3_1"
    assert arm.name == "3_1"


def test_setting_the_same_name_again_is_allowed() -> None:
    arm = Arm({"x": 0.5}, name="a")
    arm.name = "a"
    assert arm.name == "a"


def test_named_arm_cannot_be_renamed() -> None:
    arm = Arm({"x": 0.5}, name="a")
    with pytest.raises(ModelError) as excinfo:
        arm.name = "b"
    assert_model_error(excinfo, "'a'", "'b'")
    assert arm.name == "a"


def test_signature_ignores_key_order() -> None:
    assert Arm({"x": 1.0, "y": "a"}).signature == Arm({"y": "a", "x": 1.0}).signature


def test_signature_ignores_the_name() -> None:
    assert Arm({"x": 1.0}, name="a").signature == Arm({"x": 1.0}).signature


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"x": 1}, {"x": 1.0}),
        ({"x": True}, {"x": 1}),
        ({"x": 0.1}, {"x": 0.2}),
        ({"x": 1}, {"y": 1}),
    ],
    ids=["int-vs-float", "bool-vs-int", "value", "key"],
)
def test_signature_differs_for_different_parameters(left: dict, right: dict) -> None:
    assert Arm(left).signature != Arm(right).signature


def test_clone_copies_parameters_and_name() -> None:
    arm = Arm({"x": [1, 2]}, name="a")
    clone = arm.clone()
    assert clone == arm and clone is not arm
    clone.parameters["y"] = 3
    assert "y" not in arm.parameters


def test_clone_can_drop_the_name() -> None:
    clone = Arm({"x": 1.0}, name="a").clone(clear_name=True)
    assert (clone.name, clone.parameters) == (None, {"x": 1.0})


def test_arms_equal_by_parameters_and_name() -> None:
    assert Arm({"x": 1.0}, name="a") == Arm({"x": 1.0}, name="a")
    assert Arm({"x": 1.0}, name="a") != Arm({"x": 1.0}, name="b")
    assert Arm({"x": 1.0}) != Arm({"x": 1})
