"""Parameters of a search space: ranges, choices and fixed values."""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import Enum
from typing import Any, ClassVar

from aestore.core.base import Base
from aestore.core.types import TParamValue
from aestore.exceptions import ModelError

__all__ = ["ChoiceParameter", "FixedParameter", "Parameter", "ParameterType", "RangeParameter"]


class ParameterType(Enum):
    """The Python type of a parameter's values.

    Example:
        >>> ParameterType.FLOAT.python_type
        <class 'float'>
    """

    BOOL = 0
    INT = 1
    FLOAT = 2
    STRING = 3

    @property
    def python_type(self) -> type:
        """The Python type values of this parameter type have."""
        return {
            ParameterType.BOOL: bool,
            ParameterType.INT: int,
            ParameterType.FLOAT: float,
            ParameterType.STRING: str,
        }[self]

    @property
    def is_numeric(self) -> bool:
        """Whether values are ints or floats."""
        return self in (ParameterType.INT, ParameterType.FLOAT)


class Parameter(Base):
    """Common base of every parameter: a name, a type, fidelity settings."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("name", "parameter_type")

    def __init__(
        self,
        name: str,
        parameter_type: ParameterType,
        is_fidelity: bool = False,
        target_value: TParamValue = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ModelError(f"A parameter name must be a non-empty string, got {name!r}.")
        if not isinstance(parameter_type, ParameterType):
            raise ModelError(
                f"Parameter {name!r}: parameter_type must be a ParameterType, "
                f"got {parameter_type!r}."
            )
        if is_fidelity and target_value is None:
            raise ModelError(f"Fidelity parameter {name!r} needs a target_value.")
        self.name = name
        self.parameter_type = parameter_type
        self.is_fidelity = is_fidelity
        self.target_value = target_value


class RangeParameter(Parameter):
    """A numeric parameter in ``[lower, upper]``.

    Example:
        >>> RangeParameter("lr", ParameterType.FLOAT, 1e-4, 1.0, log_scale=True).upper
        1.0
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("name", "parameter_type", "lower", "upper")

    def __init__(
        self,
        name: str,
        parameter_type: ParameterType,
        lower: float,
        upper: float,
        log_scale: bool = False,
        digits: int | None = None,
        is_fidelity: bool = False,
        target_value: TParamValue = None,
    ) -> None:
        super().__init__(name, parameter_type, is_fidelity, target_value)
        if not parameter_type.is_numeric:
            raise ModelError(
                f"RangeParameter {name!r} must be INT or FLOAT, not {parameter_type.name}."
            )
        for bound in (lower, upper):
            if (
                isinstance(bound, bool)
                or not isinstance(bound, int | float)
                or not math.isfinite(bound)
            ):
                raise ModelError(
                    f"RangeParameter {name!r}: bounds must be finite numbers, got {bound!r}."
                )
        if lower >= upper:
            raise ModelError(
                f"RangeParameter {name!r}: lower ({lower}) must be below upper ({upper})."
            )
        if log_scale and lower <= 0:
            raise ModelError(f"RangeParameter {name!r}: a log-scale range needs lower > 0.")
        self.lower = lower
        self.upper = upper
        self.log_scale = log_scale
        self.digits = digits


class ChoiceParameter(Parameter):
    """A parameter taking one of a list of values.

    Example:
        >>> ChoiceParameter("opt", ParameterType.STRING, ["adam", "sgd"]).values
        ['adam', 'sgd']
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("name", "parameter_type", "values")

    def __init__(
        self,
        name: str,
        parameter_type: ParameterType,
        values: Sequence[Any],
        is_ordered: bool = False,
        is_task: bool = False,
        is_fidelity: bool = False,
        target_value: TParamValue = None,
    ) -> None:
        super().__init__(name, parameter_type, is_fidelity, target_value)
        values = list(values)
        if len(values) < 2:
            raise ModelError(f"ChoiceParameter {name!r} needs at least two values, got {values!r}.")
        self.values = values
        self.is_ordered = is_ordered
        self.is_task = is_task


class FixedParameter(Parameter):
    """A parameter with a single value.

    Example:
        >>> FixedParameter("batch", ParameterType.INT, 32).value
        32
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("name", "parameter_type", "value")

    def __init__(
        self,
        name: str,
        parameter_type: ParameterType,
        value: TParamValue,
        is_fidelity: bool = False,
        target_value: TParamValue = None,
    ) -> None:
        super().__init__(name, parameter_type, is_fidelity, target_value)
        self.value = value
