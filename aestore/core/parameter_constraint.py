"""Linear constraints between parameters of a search space."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from aestore.core.base import Base
from aestore.core.parameter import Parameter
from aestore.exceptions import ModelError

__all__ = ["OrderConstraint", "ParameterConstraint", "SumConstraint"]


class ParameterConstraint(Base):
    """``sum(weight * parameter) <= bound``.

    Example:
        >>> ParameterConstraint({"x": 1.0, "y": 2.0}, bound=3.0).bound
        3.0
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("constraint_dict", "bound")

    def __init__(self, constraint_dict: Mapping[str, float], bound: float) -> None:
        if not constraint_dict:
            raise ModelError("A ParameterConstraint needs at least one parameter.")
        self.constraint_dict = dict(constraint_dict)
        self.bound = bound

    @property
    def parameter_names(self) -> list[str]:
        """Names of the parameters this constraint involves."""
        return list(self.constraint_dict)


class OrderConstraint(ParameterConstraint):
    """``lower_parameter <= upper_parameter``.

    Example:
        >>> from aestore.core.parameter import RangeParameter, ParameterType
        >>> a = RangeParameter("a", ParameterType.FLOAT, 0, 1)
        >>> b = RangeParameter("b", ParameterType.FLOAT, 0, 1)
        >>> OrderConstraint(a, b).constraint_dict
        {'a': 1.0, 'b': -1.0}
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("lower_parameter", "upper_parameter")

    def __init__(self, lower_parameter: Parameter, upper_parameter: Parameter) -> None:
        if lower_parameter.name == upper_parameter.name:
            raise ModelError(f"OrderConstraint of {lower_parameter.name!r} with itself.")
        self.lower_parameter = lower_parameter
        self.upper_parameter = upper_parameter
        super().__init__({lower_parameter.name: 1.0, upper_parameter.name: -1.0}, 0.0)


class SumConstraint(ParameterConstraint):
    """``sum(parameters) <= bound`` (or ``>=`` when ``is_upper_bound`` is False).

    Example:
        >>> from aestore.core.parameter import RangeParameter, ParameterType
        >>> ps = [RangeParameter(n, ParameterType.FLOAT, 0, 1) for n in "ab"]
        >>> SumConstraint(ps, is_upper_bound=True, bound=1.0).constraint_dict
        {'a': 1.0, 'b': 1.0}
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("parameter_names", "is_upper_bound", "bound")

    def __init__(self, parameters: Sequence[Parameter], is_upper_bound: bool, bound: float) -> None:
        names = [p.name for p in parameters]
        if len(set(names)) != len(names):
            raise ModelError(f"SumConstraint lists a parameter twice: {names}.")
        self.parameters = list(parameters)
        self.is_upper_bound = is_upper_bound
        sign = 1.0 if is_upper_bound else -1.0
        # The weights carry the direction; ``bound`` stays the number the user gave.
        super().__init__({n: sign for n in names}, bound)
