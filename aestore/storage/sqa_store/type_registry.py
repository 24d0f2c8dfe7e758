"""Maps a user's Metric/Runner subclasses to the integers stored in the SQL store.

The integers are the user's own (``MetricRegistry(class_to_type={MyMetric: 0})``), never hashes
of class names, which change between environments. The built-in ``Metric`` and ``Runner`` are
stored with a NULL type, so every integer is the user's to choose and the spec's example
(``{MyMetric: 0}``) never collides with a built-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from aestore.exceptions import SQAConfigError, SQADecodeError, UnregisteredClassError

__all__ = ["TypeRegistry"]


class TypeRegistry:
    """Class <-> integer type id, for one base class (subclassed per base).

    Example:
        >>> from aestore.metrics.registry import MetricRegistry
        >>> from aestore.core.metric import Metric
        >>> class MyMetric(Metric): ...
        >>> MetricRegistry(class_to_type={MyMetric: 0}).type_of(MyMetric("m"))
        0
    """

    base: ClassVar[type]
    kind: ClassVar[str]  # "metric" / "runner", for messages
    config_argument: ClassVar[str]  # the SQAConfig argument that takes this registry

    def __init__(self, class_to_type: Mapping[type, int] | None = None) -> None:
        self.class_to_type: dict[type, int] = {}
        self.type_to_class: dict[int, type] = {}
        for cls, type_id in (class_to_type or {}).items():
            self.register(cls, type_id)

    def register(self, cls: type, type_id: int) -> None:
        """Add ``cls`` under the user's integer ``type_id``; two classes on one id is an error.

        Example:
            >>> # registry.register(MyMetric, 3)
        """
        name = type(self).__name__
        if not isinstance(cls, type) or not issubclass(cls, self.base):
            raise SQAConfigError(f"{name}: {cls!r} is not a subclass of {self.base.__name__}.")
        if cls is self.base:
            raise SQAConfigError(
                f"{name}: the built-in {self.base.__name__} is stored without a type id; "
                "register only your own subclasses."
            )
        if isinstance(type_id, bool) or not isinstance(type_id, int):
            raise SQAConfigError(
                f"{name}: the type of {cls.__qualname__} must be an int, got {type_id!r}."
            )
        other = self.type_to_class.get(type_id)
        if other is not None and other is not cls:
            raise SQAConfigError(
                f"{name}: {cls.__qualname__} and {other.__qualname__} are both given type "
                f"{type_id}; each class needs its own integer."
            )
        previous = self.class_to_type.get(cls)
        if previous is not None and previous != type_id:
            raise SQAConfigError(
                f"{name}: {cls.__qualname__} is given two types, {previous} and {type_id}."
            )
        self.class_to_type[cls] = type_id
        self.type_to_class[type_id] = cls

    def type_of(self, obj: Any) -> int | None:
        """The stored type of ``obj``: None for the built-in base class.

        Raises :class:`UnregisteredClassError` for an unregistered subclass.
        """
        cls = type(obj)
        if cls is self.base:
            return None
        type_id = self.class_to_type.get(cls)
        if type_id is None:
            raise UnregisteredClassError(
                cls,
                f"a {type(self).__name__}",
                f"Pass {type(self).__name__}(class_to_type={{{cls.__qualname__}: <int>}}) as "
                f"SQAConfig({self.config_argument}=...) and save with "
                "save_experiment(experiment, config=config).",
            )
        return type_id

    def class_for(self, type_id: int | None, experiment_name: str | None = None) -> type:
        """The class stored under ``type_id`` (None: the base class)."""
        if type_id is None:
            return self.base
        cls = self.type_to_class.get(type_id)
        if cls is None:
            raise SQADecodeError(
                f"Experiment {experiment_name!r} has a {self.kind} of type {type_id}, which "
                f"the {type(self).__name__} does not know; register the class with that id "
                "and load with load_experiment(name, "
                f"config=SQAConfig({self.config_argument}=...))."
            )
        return cls

    def __repr__(self) -> str:
        shown = ", ".join(f"{c.__qualname__}: {t}" for c, t in self.class_to_type.items())
        return f"{type(self).__name__}({{{shown}}})"
