"""SearchSpace and the parameter constraints."""

from __future__ import annotations

import pytest

from aestore.core import (
    ChoiceParameter,
    FixedParameter,
    OrderConstraint,
    ParameterConstraint,
    ParameterType,
    RangeParameter,
    SearchSpace,
    SumConstraint,
)
from aestore.exceptions import DuplicateNameError, ModelError
from tests.core.helpers import assert_model_error


def _x(name: str = "x") -> RangeParameter:
    return RangeParameter(name, ParameterType.FLOAT, 0.0, 1.0)


def test_parameters_are_keyed_by_name_in_order() -> None:
    ps = [_x("b"), ChoiceParameter("a", ParameterType.STRING, ["u", "v"])]
    ss = SearchSpace(ps)
    assert list(ss.parameters) == ["b", "a"]
    assert ss.parameters["a"] is ps[1]


def test_constraints_default_to_none() -> None:
    ss = SearchSpace([_x()])
    assert ss.parameter_constraints == []
    assert (ss.num_parameters, ss.num_constraints) == (1, 0)


def test_duplicate_parameter_names_are_rejected() -> None:
    with pytest.raises(DuplicateNameError) as excinfo:
        SearchSpace([_x("dup"), FixedParameter("dup", ParameterType.INT, 1)])
    assert_model_error(excinfo, "'dup'", "parameter")
    assert excinfo.value.name == "dup"


def test_constraints_are_kept_in_order() -> None:
    a, b = _x("a"), _x("b")
    order = OrderConstraint(a, b)
    total = SumConstraint([a, b], is_upper_bound=True, bound=1.0)
    ss = SearchSpace([a, b], [order, total])
    assert ss.parameter_constraints == [order, total]
    assert ss.num_constraints == 2


def test_constraint_on_an_unknown_parameter_is_rejected() -> None:
    with pytest.raises(ModelError) as excinfo:
        SearchSpace([_x("a")], [ParameterConstraint({"a": 1.0, "ghost": 2.0}, 1.0)])
    assert_model_error(excinfo, "ghost")


def test_add_parameter_constraint_checks_the_names() -> None:
    ss = SearchSpace([_x("a")])
    with pytest.raises(ModelError) as excinfo:
        ss.add_parameter_constraint(ParameterConstraint({"b": 1.0}, 0.0))
    assert_model_error(excinfo, "'b'")
    assert ss.parameter_constraints == []


def test_parameter_constraint_keeps_dict_and_bound() -> None:
    c = ParameterConstraint({"x": 1.0, "y": -2.0}, bound=3.0)
    assert (c.constraint_dict, c.bound, c.parameter_names) == (
        {"x": 1.0, "y": -2.0},
        3.0,
        ["x", "y"],
    )


def test_parameter_constraint_copies_the_callers_dict() -> None:
    weights = {"x": 1.0}
    c = ParameterConstraint(weights, bound=1.0)
    weights["y"] = 1.0
    assert c.constraint_dict == {"x": 1.0}


def test_parameter_constraint_needs_a_parameter() -> None:
    with pytest.raises(ModelError) as excinfo:
        ParameterConstraint({}, bound=1.0)
    assert_model_error(excinfo, "ParameterConstraint")


def test_order_constraint_is_lower_minus_upper_at_most_zero() -> None:
    lo, hi = _x("lo"), _x("hi")
    c = OrderConstraint(lo, hi)
    assert (c.lower_parameter, c.upper_parameter) == (lo, hi)
    assert (c.constraint_dict, c.bound) == ({"lo": 1.0, "hi": -1.0}, 0.0)


def test_order_constraint_of_a_parameter_with_itself_is_rejected() -> None:
    with pytest.raises(ModelError) as excinfo:
        OrderConstraint(_x("same"), _x("same"))
    assert_model_error(excinfo, "'same'")


@pytest.mark.parametrize(
    ("is_upper_bound", "weight"), [(True, 1.0), (False, -1.0)], ids=["upper", "lower"]
)
def test_sum_constraint_weights_carry_the_direction(is_upper_bound: bool, weight: float) -> None:
    a, b = _x("a"), _x("b")
    c = SumConstraint([a, b], is_upper_bound=is_upper_bound, bound=1.5)
    assert c.constraint_dict == {"a": weight, "b": weight}
    assert (c.parameters, c.is_upper_bound) == ([a, b], is_upper_bound)


def test_sum_constraint_keeps_the_bound_the_user_gave() -> None:
    c = SumConstraint([_x("a"), _x("b")], is_upper_bound=False, bound=1.5)
    assert c.bound == 1.5


def test_sum_constraint_listing_a_parameter_twice_is_rejected() -> None:
    a = _x("a")
    with pytest.raises(ModelError) as excinfo:
        SumConstraint([a, a], is_upper_bound=True, bound=1.0)
    assert_model_error(excinfo, "'a'")


def test_sum_constraint_needs_a_parameter() -> None:
    with pytest.raises(ModelError):
        SumConstraint([], is_upper_bound=True, bound=1.0)
