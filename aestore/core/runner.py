"""Runners: how trials are deployed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aestore.core.base import Base

if TYPE_CHECKING:
    from aestore.core.base_trial import BaseTrial

__all__ = ["Runner"]


class Runner(Base):
    """Deploys trials. Users subclass it; the base class deploys nothing and records nothing.

    A subclass's own constructor arguments are stored when they are kept on attributes of the
    same name, as for :class:`~aestore.core.metric.Metric`.

    Example:
        >>> Runner().run(None)
        {}
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ()

    def run(self, trial: BaseTrial | None) -> dict[str, Any]:
        """Deploy ``trial`` and return metadata about the deployment (run metadata)."""
        return {}
