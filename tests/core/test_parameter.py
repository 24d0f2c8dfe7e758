"""Parameters: ParameterType, RangeParameter, ChoiceParameter, FixedParameter."""

from __future__ import annotations

import math
from typing import Any

import pytest

from aestore.core import ChoiceParameter, FixedParameter, ParameterType, RangeParameter
from aestore.exceptions import ModelError
from tests.core.helpers import assert_model_error

FLOAT, INT, STRING, BOOL = (
    ParameterType.FLOAT,
    ParameterType.INT,
    ParameterType.STRING,
    ParameterType.BOOL,
)


@pytest.mark.parametrize(
    ("ptype", "python_type"),
    [(BOOL, bool), (INT, int), (FLOAT, float), (STRING, str)],
    ids=["BOOL", "INT", "FLOAT", "STRING"],
)
def test_parameter_type_python_type(ptype: ParameterType, python_type: type) -> None:
    assert ptype.python_type is python_type


@pytest.mark.parametrize(
    ("ptype", "numeric"),
    [(BOOL, False), (INT, True), (FLOAT, True), (STRING, False)],
    ids=["BOOL", "INT", "FLOAT", "STRING"],
)
def test_parameter_type_is_numeric(ptype: ParameterType, numeric: bool) -> None:
    assert ptype.is_numeric is numeric


# --- RangeParameter ------------------------------------------------------------------------


def test_range_parameter_defaults() -> None:
    p = RangeParameter("lr", FLOAT, 0.1, 1.0)
    assert (p.name, p.parameter_type, p.lower, p.upper) == ("lr", FLOAT, 0.1, 1.0)
    assert (p.log_scale, p.digits, p.is_fidelity, p.target_value) == (False, None, False, None)


def test_range_parameter_keeps_every_argument_positionally() -> None:
    p = RangeParameter("lr", FLOAT, 0.1, 1.0, True, 4, True, 1.0)
    assert (p.log_scale, p.digits, p.is_fidelity, p.target_value) == (True, 4, True, 1.0)


def test_range_parameter_keeps_int_bounds_as_ints() -> None:
    p = RangeParameter("layers", INT, 1, 8)
    assert type(p.lower) is int and type(p.upper) is int


@pytest.mark.parametrize(
    ("lower", "upper"),
    [(1.0, 1.0), (2.0, 1.0), (0, 0), (5, -5)],
    ids=["equal-floats", "lower-above-upper", "equal-ints", "lower-above-upper-ints"],
)
def test_range_parameter_rejects_lower_not_below_upper(lower: float, upper: float) -> None:
    with pytest.raises(ModelError) as excinfo:
        RangeParameter("speed", FLOAT, lower, upper)
    assert_model_error(excinfo, "speed", "lower", "upper")


@pytest.mark.parametrize(
    "bound",
    [math.nan, math.inf, -math.inf, "0", None, True],
    ids=["nan", "inf", "-inf", "string", "None", "bool"],
)
def test_range_parameter_rejects_non_finite_or_non_numeric_bounds(bound: Any) -> None:
    with pytest.raises(ModelError) as excinfo:
        RangeParameter("speed", FLOAT, bound, 10.0)
    assert_model_error(excinfo, "speed", "finite")


@pytest.mark.parametrize("ptype", [STRING, BOOL], ids=["STRING", "BOOL"])
def test_range_parameter_must_be_numeric(ptype: ParameterType) -> None:
    with pytest.raises(ModelError) as excinfo:
        RangeParameter("speed", ptype, 0, 1)
    assert_model_error(excinfo, "speed", ptype.name)


@pytest.mark.parametrize("lower", [0.0, -1.0], ids=["zero", "negative"])
def test_log_scale_range_needs_positive_lower(lower: float) -> None:
    with pytest.raises(ModelError) as excinfo:
        RangeParameter("lr", FLOAT, lower, 1.0, log_scale=True)
    assert_model_error(excinfo, "lr", "log")


@pytest.mark.parametrize("name", ["", None, 3], ids=["empty", "None", "int"])
def test_parameter_name_must_be_a_non_empty_string(name: Any) -> None:
    with pytest.raises(ModelError) as excinfo:
        RangeParameter(name, FLOAT, 0.0, 1.0)
    assert_model_error(excinfo, repr(name))


def test_parameter_type_must_be_a_parameter_type() -> None:
    with pytest.raises(ModelError) as excinfo:
        RangeParameter("x", "FLOAT", 0.0, 1.0)  # type: ignore[arg-type]
    assert_model_error(excinfo, "'x'", "ParameterType")


def test_fidelity_parameter_needs_a_target_value() -> None:
    with pytest.raises(ModelError) as excinfo:
        RangeParameter("epochs", INT, 1, 100, is_fidelity=True)
    assert_model_error(excinfo, "epochs", "target_value")


# --- ChoiceParameter -----------------------------------------------------------------------


def test_choice_parameter_defaults() -> None:
    p = ChoiceParameter("opt", STRING, ["adam", "sgd"])
    assert (p.values, p.is_ordered, p.is_task, p.is_fidelity, p.target_value) == (
        ["adam", "sgd"],
        False,
        False,
        False,
        None,
    )


def test_choice_parameter_keeps_every_argument_positionally() -> None:
    p = ChoiceParameter("n", INT, [1, 2, 4], True, True, True, 4)
    assert (p.is_ordered, p.is_task, p.is_fidelity, p.target_value) == (True, True, True, 4)


def test_choice_parameter_copies_values_into_a_list() -> None:
    values = ("a", "b")
    p = ChoiceParameter("opt", STRING, values)
    assert p.values == ["a", "b"] and isinstance(p.values, list)


def test_choice_parameter_values_are_not_shared_with_the_caller() -> None:
    values = ["a", "b"]
    p = ChoiceParameter("opt", STRING, values)
    values.append("c")
    assert p.values == ["a", "b"]


@pytest.mark.parametrize("values", [[], ["only"]], ids=["none", "one"])
def test_choice_parameter_needs_two_values(values: list[str]) -> None:
    with pytest.raises(ModelError) as excinfo:
        ChoiceParameter("opt", STRING, values)
    assert_model_error(excinfo, "opt", "two")


# --- FixedParameter ------------------------------------------------------------------------


def test_fixed_parameter_defaults() -> None:
    p = FixedParameter("seed", INT, 42)
    assert (p.name, p.parameter_type, p.value, p.is_fidelity, p.target_value) == (
        "seed",
        INT,
        42,
        False,
        None,
    )


def test_fixed_fidelity_parameter_keeps_its_target() -> None:
    p = FixedParameter("budget", FLOAT, 1.0, is_fidelity=True, target_value=1.0)
    assert (p.is_fidelity, p.target_value) == (True, 1.0)


def test_fixed_parameter_rejects_a_bad_name() -> None:
    with pytest.raises(ModelError) as excinfo:
        FixedParameter("", INT, 1)
    assert_model_error(excinfo, "name")
