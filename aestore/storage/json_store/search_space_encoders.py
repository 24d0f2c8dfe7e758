"""Encoding of the search space: its parameters and parameter constraints."""

from __future__ import annotations

from typing import Any

from aestore.core import (
    ChoiceParameter,
    FixedParameter,
    OrderConstraint,
    Parameter,
    ParameterConstraint,
    RangeParameter,
    SearchSpace,
    SumConstraint,
)
from aestore.storage.json_store.format import to_json_safe

__all__ = [
    "choice_parameter_to_dict",
    "fixed_parameter_to_dict",
    "order_constraint_to_dict",
    "parameter_constraint_to_dict",
    "parameter_to_dict",
    "range_parameter_to_dict",
    "search_space_to_dict",
    "sum_constraint_to_dict",
]


def search_space_to_dict(search_space: SearchSpace) -> dict[str, Any]:
    """Parameters (in order) and parameter constraints."""
    return {
        "__type": "SearchSpace",
        "parameters": list(search_space.parameters.values()),
        "parameter_constraints": search_space.parameter_constraints,
    }


def parameter_to_dict(parameter: Parameter) -> dict[str, Any]:
    """A plain :class:`~aestore.core.parameter.Parameter` (subclasses have their own)."""
    return {
        "__type": "Parameter",
        "name": parameter.name,
        "parameter_type": parameter.parameter_type.name,
        "is_fidelity": parameter.is_fidelity,
        "target_value": to_json_safe(parameter.target_value),
    }


def range_parameter_to_dict(parameter: RangeParameter) -> dict[str, Any]:
    """A range parameter: type, bounds, log scale, digits and fidelity settings."""
    return {
        "__type": "RangeParameter",
        "name": parameter.name,
        "parameter_type": parameter.parameter_type.name,
        "lower": to_json_safe(parameter.lower),
        "upper": to_json_safe(parameter.upper),
        "log_scale": parameter.log_scale,
        "digits": parameter.digits,
        "is_fidelity": parameter.is_fidelity,
        "target_value": to_json_safe(parameter.target_value),
    }


def choice_parameter_to_dict(parameter: ChoiceParameter) -> dict[str, Any]:
    """A choice parameter: its values, ordering and task flags."""
    return {
        "__type": "ChoiceParameter",
        "name": parameter.name,
        "parameter_type": parameter.parameter_type.name,
        "values": to_json_safe(parameter.values),
        "is_ordered": parameter.is_ordered,
        "is_task": parameter.is_task,
        "is_fidelity": parameter.is_fidelity,
        "target_value": to_json_safe(parameter.target_value),
    }


def fixed_parameter_to_dict(parameter: FixedParameter) -> dict[str, Any]:
    """A fixed parameter and its single value."""
    return {
        "__type": "FixedParameter",
        "name": parameter.name,
        "parameter_type": parameter.parameter_type.name,
        "value": to_json_safe(parameter.value),
        "is_fidelity": parameter.is_fidelity,
        "target_value": to_json_safe(parameter.target_value),
    }


def parameter_constraint_to_dict(constraint: ParameterConstraint) -> dict[str, Any]:
    """``sum(weight * parameter) <= bound``."""
    return {
        "__type": "ParameterConstraint",
        "constraint_dict": to_json_safe(constraint.constraint_dict),
        "bound": to_json_safe(constraint.bound),
    }


def order_constraint_to_dict(constraint: OrderConstraint) -> dict[str, Any]:
    """``lower_parameter <= upper_parameter`` (its weights and bound follow from these)."""
    return {
        "__type": "OrderConstraint",
        "lower_parameter": constraint.lower_parameter,
        "upper_parameter": constraint.upper_parameter,
    }


def sum_constraint_to_dict(constraint: SumConstraint) -> dict[str, Any]:
    """``sum(parameters) <= bound`` (or ``>=``); its weights follow from these fields."""
    return {
        "__type": "SumConstraint",
        "parameters": constraint.parameters,
        "is_upper_bound": constraint.is_upper_bound,
        "bound": to_json_safe(constraint.bound),
    }
