"""Decoding of the search space: its parameters and parameter constraints.

Each is rebuilt through its constructor, which validates it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aestore.core import (
    ChoiceParameter,
    FixedParameter,
    OrderConstraint,
    Parameter,
    ParameterConstraint,
    ParameterType,
    RangeParameter,
    SearchSpace,
    SumConstraint,
)
from aestore.storage.json_store.decode_fields import (
    dict_field,
    enum_member,
    list_field,
    object_field,
    objects_field,
)

if TYPE_CHECKING:
    from aestore.storage.json_store.decoder import DecodeContext

__all__ = [
    "choice_parameter_from_json",
    "fixed_parameter_from_json",
    "order_constraint_from_json",
    "parameter_constraint_from_json",
    "parameter_from_json",
    "range_parameter_from_json",
    "search_space_from_json",
    "sum_constraint_from_json",
]


def search_space_from_json(d: dict[str, Any], ctx: DecodeContext) -> SearchSpace:
    """Parameters and constraints, through the constructor (which checks them)."""
    return SearchSpace(
        objects_field(d, "parameters", Parameter, ctx),
        objects_field(d, "parameter_constraints", ParameterConstraint, ctx),
    )


def _parameter_common(d: dict[str, Any], ctx: DecodeContext) -> dict[str, Any]:
    return {
        "name": d["name"],
        "parameter_type": enum_member(ParameterType, d["parameter_type"], "parameter_type"),
        "is_fidelity": d["is_fidelity"],
        "target_value": ctx.value(d["target_value"]),
    }


def parameter_from_json(d: dict[str, Any], ctx: DecodeContext) -> Parameter:
    """A plain parameter."""
    return Parameter(**_parameter_common(d, ctx))


def range_parameter_from_json(d: dict[str, Any], ctx: DecodeContext) -> RangeParameter:
    """A range parameter."""
    return RangeParameter(
        lower=ctx.value(d["lower"]),
        upper=ctx.value(d["upper"]),
        log_scale=d["log_scale"],
        digits=d["digits"],
        **_parameter_common(d, ctx),
    )


def choice_parameter_from_json(d: dict[str, Any], ctx: DecodeContext) -> ChoiceParameter:
    """A choice parameter."""
    return ChoiceParameter(
        values=ctx.value(list_field(d, "values")),
        is_ordered=d["is_ordered"],
        is_task=d["is_task"],
        **_parameter_common(d, ctx),
    )


def fixed_parameter_from_json(d: dict[str, Any], ctx: DecodeContext) -> FixedParameter:
    """A fixed parameter."""
    return FixedParameter(value=ctx.value(d["value"]), **_parameter_common(d, ctx))


def parameter_constraint_from_json(d: dict[str, Any], ctx: DecodeContext) -> ParameterConstraint:
    """A linear parameter constraint."""
    return ParameterConstraint(dict_field(d, "constraint_dict", ctx), ctx.value(d["bound"]))


def order_constraint_from_json(d: dict[str, Any], ctx: DecodeContext) -> OrderConstraint:
    """An order constraint between two parameters."""
    return OrderConstraint(
        object_field(d, "lower_parameter", Parameter, ctx),
        object_field(d, "upper_parameter", Parameter, ctx),
    )


def sum_constraint_from_json(d: dict[str, Any], ctx: DecodeContext) -> SumConstraint:
    """A sum constraint."""
    return SumConstraint(
        objects_field(d, "parameters", Parameter, ctx),
        is_upper_bound=d["is_upper_bound"],
        bound=ctx.value(d["bound"]),
    )
