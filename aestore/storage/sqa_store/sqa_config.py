"""``SQAConfig``: the registries and enums that customise the SQL store.

- ``metric_registry`` / ``runner_registry``: a user's Metric/Runner subclasses and their
  integers (the built-in classes need no entry).
- ``experiment_type_enum``: experiment type names (``Experiment.experiment_type`` is a string,
  an enum member's name) -> the integer stored. Without it, only untyped experiments can be
  saved.
- ``generator_run_type_enum``: likewise for ``GeneratorRun.generator_run_type``; defaults to
  the built-in :class:`~aestore.core.generator_run.GeneratorRunType`, so ``STATUS_QUO`` works
  without any config.
- ``json_*_registry``: the JSON registries used for JSON columns (default: the JSON store's
  global ones), so a class with a ``class_to_dict`` there is stored through it.

An enum with no members is an error here, not at save: ``DEFAULT: 0`` in an Enum body (as in
the spec) is an annotation, not a member.
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import Enum
from typing import Any

from aestore.core.generator_run import GeneratorRunType
from aestore.exceptions import SQAConfigError, SQADecodeError, SQAEncodeError
from aestore.metrics.registry import MetricRegistry
from aestore.runners.registry import RunnerRegistry
from aestore.storage.sqa_store.column_values import JSONColumns

__all__ = ["SQAConfig", "TypeEnum"]


class TypeEnum:
    """A validated ``Enum`` used to store type names as integers.

    Example:
        >>> TypeEnum(GeneratorRunType, "generator_run_type_enum").to_int("STATUS_QUO", "x")
        0
    """

    def __init__(self, enum: type[Enum], argument: str) -> None:
        if not isinstance(enum, type) or not issubclass(enum, Enum):
            raise SQAConfigError(f"SQAConfig({argument}=...) takes an Enum class, got {enum!r}.")
        members = list(enum)
        if not members:
            raise SQAConfigError(
                f"SQAConfig({argument}={enum.__name__}): the enum has no members. In an Enum "
                "body `DEFAULT: 0` is only an annotation; write `DEFAULT = 0`."
            )
        self.enum = enum
        self.argument = argument
        self.name_to_int: dict[str, int] = {}
        for member in members:
            value = member.value
            if isinstance(value, bool) or not isinstance(value, int):
                raise SQAConfigError(
                    f"SQAConfig({argument}={enum.__name__}): {member.name} = {value!r}; the "
                    "values must be ints (they are what is stored)."
                )
            self.name_to_int[member.name] = value
        self.int_to_name = {v: k for k, v in self.name_to_int.items()}

    def to_int(self, name: str | None, what: str) -> int | None:
        """The integer stored for ``name``; a name not in the enum is an error."""
        if name is None:
            return None
        value = self.name_to_int.get(name)
        if value is None:
            raise SQAEncodeError(
                f"{what} has type {name!r}, which {self.enum.__name__} does not list "
                f"({', '.join(self.name_to_int)}); add it to the enum passed as "
                f"SQAConfig({self.argument}=...)."
            )
        return value

    def to_name(self, value: int | None, what: str) -> str | None:
        """The name stored as ``value``."""
        if value is None:
            return None
        name = self.int_to_name.get(value)
        if name is None:
            raise SQADecodeError(
                f"{what} has type {value}, which {self.enum.__name__} does not list; load "
                f"with the enum it was saved with (SQAConfig({self.argument}=...))."
            )
        return name


class SQAConfig:
    """Registries and enums for the SQL store.

    Example:
        >>> from enum import Enum
        >>> class ExperimentType(Enum):
        ...     DEFAULT = 0
        >>> SQAConfig(experiment_type_enum=ExperimentType).experiment_types.to_int("DEFAULT", "e")
        0
    """

    def __init__(
        self,
        metric_registry: MetricRegistry | None = None,
        runner_registry: RunnerRegistry | None = None,
        experiment_type_enum: type[Enum] | None = None,
        generator_run_type_enum: type[Enum] | None = None,
        json_encoder_registry: dict[type, Any] | None = None,
        json_decoder_registry: dict[str, Any] | None = None,
        json_class_encoder_registry: dict[type, Any] | None = None,
        json_class_decoder_registry: dict[str, Any] | None = None,
    ) -> None:
        from aestore.storage.json_store import registry as json_registry

        if metric_registry is not None and not isinstance(metric_registry, MetricRegistry):
            raise SQAConfigError(
                f"metric_registry must be a MetricRegistry, got {metric_registry!r}."
            )
        if runner_registry is not None and not isinstance(runner_registry, RunnerRegistry):
            raise SQAConfigError(
                f"runner_registry must be a RunnerRegistry, got {runner_registry!r}."
            )
        self.metric_registry = metric_registry or MetricRegistry()
        self.runner_registry = runner_registry or RunnerRegistry()
        self.experiment_type_enum = experiment_type_enum
        self.generator_run_type_enum = generator_run_type_enum or GeneratorRunType
        self.experiment_types: TypeEnum | None = (
            None
            if experiment_type_enum is None
            else TypeEnum(experiment_type_enum, "experiment_type_enum")
        )
        self.generator_run_types = TypeEnum(self.generator_run_type_enum, "generator_run_type_enum")
        self.json_encoder_registry = (
            json_registry.ENCODER_REGISTRY
            if json_encoder_registry is None
            else json_encoder_registry
        )
        self.json_decoder_registry = (
            json_registry.DECODER_REGISTRY
            if json_decoder_registry is None
            else json_decoder_registry
        )
        self.json_class_encoder_registry = (
            json_registry.CLASS_ENCODER_REGISTRY
            if json_class_encoder_registry is None
            else json_class_encoder_registry
        )
        self.json_class_decoder_registry = (
            json_registry.CLASS_DECODER_REGISTRY
            if json_class_decoder_registry is None
            else json_class_decoder_registry
        )
        self.json = JSONColumns(
            self.json_encoder_registry,
            self.json_class_encoder_registry,
            self.json_decoder_registry,
            self.json_class_decoder_registry,
        )

    def group_key(self) -> Hashable:
        """What decides how trials are stored: saves under configs with equal keys may share
        one transaction (see :mod:`~aestore.storage.sqa_store.group_commit`).

        Example:
            >>> SQAConfig().group_key() == SQAConfig().group_key()
            True
        """
        return (
            tuple(self.metric_registry.class_to_type.items()),
            tuple(self.runner_registry.class_to_type.items()),
            self.experiment_type_enum,
            self.generator_run_type_enum,
            tuple(self.json_encoder_registry.items()),
            tuple(self.json_class_encoder_registry.items()),
        )

    def experiment_type_to_int(self, name: str | None, experiment_name: str | None) -> int | None:
        """The stored integer of an experiment type (an error if no enum lists it)."""
        if name is None:
            return None
        if self.experiment_types is None:
            raise SQAEncodeError(
                f"Experiment {experiment_name!r} has type {name!r}, but no experiment type enum "
                "is configured; pass SQAConfig(experiment_type_enum=YourEnum) with a member "
                f"named {name}."
            )
        return self.experiment_types.to_int(name, f"Experiment {experiment_name!r}")

    def experiment_type_from_int(self, value: int | None, experiment_name: str) -> str | None:
        """The experiment type name stored as ``value``."""
        if value is None:
            return None
        if self.experiment_types is None:
            raise SQADecodeError(
                f"Experiment {experiment_name!r} is stored with type {value}; load it with "
                "SQAConfig(experiment_type_enum=...) the enum it was saved with."
            )
        return self.experiment_types.to_name(value, f"Experiment {experiment_name!r}")

    def __repr__(self) -> str:
        return (
            f"SQAConfig(metric_registry={self.metric_registry!r}, "
            f"runner_registry={self.runner_registry!r}, "
            f"experiment_type_enum={getattr(self.experiment_type_enum, '__name__', None)}, "
            f"generator_run_type_enum={self.generator_run_type_enum.__name__})"
        )
