"""Small shared types of the model."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeAlias

__all__ = ["ComparisonOp", "TParamValue", "TParameterization"]

TParamValue: TypeAlias = bool | int | float | str | None
TParameterization: TypeAlias = dict[str, Any]


class ComparisonOp(Enum):
    """Direction of an outcome constraint or objective threshold.

    Example:
        >>> ComparisonOp["GEQ"] is ComparisonOp.GEQ
        True
    """

    GEQ = 0
    LEQ = 1
