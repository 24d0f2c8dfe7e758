"""The search space: named parameters and the constraints between them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from aestore.core.base import Base
from aestore.core.parameter import Parameter
from aestore.core.parameter_constraint import ParameterConstraint
from aestore.exceptions import DuplicateNameError, ModelError

__all__ = ["SearchSpace"]


class SearchSpace(Base):
    """Parameters by name, plus linear constraints over them.

    Example:
        >>> from aestore.core.parameter import RangeParameter, ParameterType
        >>> ss = SearchSpace([RangeParameter("x", ParameterType.FLOAT, 0.0, 1.0)])
        >>> list(ss.parameters)
        ['x']
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("num_parameters", "num_constraints")

    def __init__(
        self,
        parameters: Sequence[Parameter],
        parameter_constraints: Sequence[ParameterConstraint] | None = None,
    ) -> None:
        self.parameters: dict[str, Parameter] = {}
        for parameter in parameters:
            if parameter.name in self.parameters:
                raise DuplicateNameError("parameter", parameter.name, "the search space")
            self.parameters[parameter.name] = parameter
        self.parameter_constraints: list[ParameterConstraint] = []
        for constraint in parameter_constraints or ():
            self.add_parameter_constraint(constraint)

    @property
    def num_parameters(self) -> int:
        """How many parameters the space has."""
        return len(self.parameters)

    @property
    def num_constraints(self) -> int:
        """How many parameter constraints the space has."""
        return len(self.parameter_constraints)

    def add_parameter_constraint(self, constraint: ParameterConstraint) -> None:
        """Add a constraint whose parameters all belong to this space."""
        unknown = [n for n in constraint.constraint_dict if n not in self.parameters]
        if unknown:
            raise ModelError(f"Parameter constraint refers to unknown parameters {unknown}.")
        self.parameter_constraints.append(constraint)
