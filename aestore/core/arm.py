"""Arms: one parameterization, with a name once it joins an experiment."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from aestore.core.base import Base
from aestore.exceptions import ModelError

__all__ = ["Arm"]


class Arm(Base):
    """A parameterization: ``{"x": 0.3, "opt": "adam"}``, optionally named.

    Example:
        >>> arm = Arm({"x": 0.5}, name="0_0")
        >>> arm.name, arm.parameters
        ('0_0', {'x': 0.5})
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("name", "parameters")

    def __init__(self, parameters: Mapping[str, Any], name: str | None = None) -> None:
        if not isinstance(parameters, Mapping):
            raise ModelError(f"Arm parameters must be a mapping, got {type(parameters).__name__}.")
        self.parameters: dict[str, Any] = dict(parameters)
        self._name = name

    @property
    def name(self) -> str | None:
        """The arm's name, or None until it joins an experiment."""
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        if self._name is not None and self._name != name:
            raise ModelError(f"Arm {self._name!r} cannot be renamed to {name!r}.")
        self._name = name

    @property
    def has_name(self) -> bool:
        """Whether the arm has been named."""
        return self._name is not None

    @property
    def signature(self) -> str:
        """A stable digest of the parameters: equal parameterizations share it."""
        blob = orjson.dumps(
            self.parameters, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str
        )
        return hashlib.md5(blob, usedforsecurity=False).hexdigest()

    def clone(self, clear_name: bool = False) -> Arm:
        """A copy of the arm (parameters copied), optionally without its name."""
        return Arm(dict(self.parameters), name=None if clear_name else self._name)
