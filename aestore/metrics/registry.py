"""``MetricRegistry``: the integers the SQL store uses for a user's Metric subclasses."""

from __future__ import annotations

from typing import ClassVar

from aestore.core.metric import Metric
from aestore.storage.sqa_store.type_registry import TypeRegistry

__all__ = ["MetricRegistry"]


class MetricRegistry(TypeRegistry):
    """Metric subclass -> the user's integer; the built-in ``Metric`` needs no entry.

    Example:
        >>> class MyMetric(Metric): ...
        >>> MetricRegistry(class_to_type={MyMetric: 0}).class_for(0) is MyMetric
        True
    """

    base: ClassVar[type] = Metric
    kind: ClassVar[str] = "metric"
    config_argument: ClassVar[str] = "metric_registry"
