"""Metrics: what is measured for each arm of a trial."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from aestore.core.base import Base
from aestore.exceptions import ModelError

__all__ = ["Metric"]


class Metric(Base):
    """A named measurement. Users subclass it to say how data is fetched.

    A subclass's own constructor arguments are stored by the SQL store when they are kept on
    attributes of the same name (``self.dataset`` for a ``dataset`` argument).

    Example:
        >>> Metric("accuracy", lower_is_better=False).name
        'accuracy'
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("name",)

    def __init__(
        self,
        name: str,
        lower_is_better: bool | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ModelError(f"A metric name must be a non-empty string, got {name!r}.")
        self.name = name
        self.lower_is_better = lower_is_better
        self.properties: dict[str, Any] = dict(properties or {})
