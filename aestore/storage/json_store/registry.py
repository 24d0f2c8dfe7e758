"""Which classes the JSON store can write and read, and how.

Four plain dicts, as the spec names them:

``ENCODER_REGISTRY``        ``{cls: class_to_dict}``; ``class_to_dict(obj)`` returns a dict with
                            ``"__type"`` (see :mod:`.encoders`). Dispatch is on the exact class:
                            a subclass of a registered class is an error until it is registered
                            itself, because encoding it as its base would drop its own fields.
``DECODER_REGISTRY``        ``{"ClassName": cls_or_fn}``; the decoder calls it with the stored
                            fields as keyword arguments (``__type`` removed, values decoded).
``CLASS_ENCODER_REGISTRY``  ``{base_cls: fn}`` for storing a *class itself* (say a Metric
                            subclass held in ``model_kwargs``): ``fn(cls)`` returns
                            ``{"__type": "Type[Metric]", "name": "MyMetric"}``.
``CLASS_DECODER_REGISTRY``  ``{"Type[Metric]": fn}``; ``fn(fields, decoder_registry)`` returns the
                            class, looked up by name in the decoder registry.

The four are views of one :class:`JSONRegistry`, :data:`DEFAULT_REGISTRY`: the dicts *are* its
attributes, so ``ENCODER_REGISTRY[MyMetric] = my_metric_to_dict`` changes it. To extend the
registries without touching these globals, copy it::

    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(MyMetric)
    experiment_to_document(experiment, encoder_registry=registry.encoders,
                           class_encoder_registry=registry.class_encoders)

Example:
    >>> from aestore.core import Metric
    >>> class MyMetric(Metric):
    ...     def __init__(self, name: str, dataset: str) -> None:
    ...         super().__init__(name)
    ...         self.dataset = dataset
    >>> registry = DEFAULT_REGISTRY.copy()
    >>> _ = registry.register_class(MyMetric)
    >>> registry.encoders[MyMetric](MyMetric("ctr", dataset="clicks"))
    {'__type': 'MyMetric', 'name': 'ctr', 'dataset': 'clicks'}
    >>> MyMetric in ENCODER_REGISTRY
    False
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar, overload

from aestore.core import (
    AbandonedArm,
    Arm,
    BatchTrial,
    ChoiceParameter,
    ComparisonOp,
    Data,
    Experiment,
    FixedParameter,
    GeneratorRun,
    GeneratorRunStruct,
    GeneratorRunType,
    Metric,
    MultiObjective,
    MultiObjectiveOptimizationConfig,
    Objective,
    ObjectiveThreshold,
    OptimizationConfig,
    OrderConstraint,
    OutcomeConstraint,
    Parameter,
    ParameterConstraint,
    ParameterType,
    RangeParameter,
    Runner,
    ScalarizedObjective,
    SearchSpace,
    SumConstraint,
    Trial,
    TrialStatus,
)
from aestore.exceptions import RegistryError
from aestore.storage.json_store.encoders import CORE_ENCODERS, enum_to_dict
from aestore.storage.json_store.format import BUILTIN_TAGS, TYPE_KEY

__all__ = [
    "CLASS_DECODER_REGISTRY",
    "CLASS_ENCODER_REGISTRY",
    "DECODER_REGISTRY",
    "DEFAULT_REGISTRY",
    "ENCODER_REGISTRY",
    "ClassDecoder",
    "ClassEncoder",
    "Decoder",
    "Encoder",
    "JSONRegistry",
    "class_from_dict",
    "class_to_dict",
    "constructor_to_dict",
    "register_class",
    "unregister_class",
]

Encoder = Callable[[Any], dict[str, Any]]
Decoder = type | Callable[..., Any]
ClassEncoder = Callable[[type], dict[str, Any]]
ClassDecoder = Callable[[dict[str, Any], Mapping[str, Any]], type]

_T = TypeVar("_T", bound=type)

_CORE_CLASSES: tuple[type, ...] = (
    Experiment,
    Trial,
    BatchTrial,
    GeneratorRunStruct,
    AbandonedArm,
    GeneratorRun,
    Arm,
    Data,
    SearchSpace,
    Parameter,
    RangeParameter,
    ChoiceParameter,
    FixedParameter,
    ParameterConstraint,
    OrderConstraint,
    SumConstraint,
    Metric,
    Runner,
    Objective,
    MultiObjective,
    ScalarizedObjective,
    OptimizationConfig,
    MultiObjectiveOptimizationConfig,
    OutcomeConstraint,
    ObjectiveThreshold,
    TrialStatus,
    ParameterType,
    ComparisonOp,
    GeneratorRunType,
)

# Bases whose subclasses may be stored as classes (by name), e.g. in a generator run's kwargs.
_CLASS_BASES: tuple[type, ...] = (Metric, Runner)


def class_to_dict(cls: type) -> dict[str, Any]:
    """Store a class by name, tagged with the registered base it derives from.

    Example:
        >>> class_to_dict(Metric)
        {'__type': 'Type[Metric]', 'name': 'Metric'}
    """
    base = next(b for b in cls.__mro__ if b in _CLASS_BASES)
    return {TYPE_KEY: f"Type[{base.__name__}]", "name": cls.__name__}


def class_from_dict(fields: dict[str, Any], decoder_registry: Mapping[str, Any]) -> type:
    """The class named by ``fields["name"]`` in ``decoder_registry``, checked against its base.

    Example:
        >>> class_from_dict({"__type": "Type[Metric]", "name": "Metric"}, DECODER_REGISTRY)
        <class 'aestore.core.metric.Metric'>
    """
    name = fields["name"]
    base_name = fields[TYPE_KEY][len("Type[") : -1]
    cls = decoder_registry.get(name)
    base = decoder_registry.get(base_name)
    if not isinstance(cls, type) or not isinstance(base, type) or not issubclass(cls, base):
        raise RegistryError(
            f"No class named {name!r} deriving from {base_name} is in the decoder registry; "
            f"register it with register_class({name})."
        )
    return cls


class JSONRegistry:
    """The four registries of the JSON store as one object that can be copied.

    The attributes are plain dicts; change them directly or through :meth:`register_class`.
    ``copy()`` gives independent dicts, so a copy can be extended without touching the
    module-level registries (which are :data:`DEFAULT_REGISTRY`'s dicts).

    Example:
        >>> mine = DEFAULT_REGISTRY.copy()
        >>> mine.encoders is ENCODER_REGISTRY, mine.encoders == ENCODER_REGISTRY
        (False, True)
    """

    def __init__(
        self,
        encoders: Mapping[type, Encoder] | None = None,
        decoders: Mapping[str, Decoder] | None = None,
        class_encoders: Mapping[type, ClassEncoder] | None = None,
        class_decoders: Mapping[str, ClassDecoder] | None = None,
    ) -> None:
        self.encoders: dict[type, Encoder] = dict(encoders or {})
        self.decoders: dict[str, Decoder] = dict(decoders or {})
        self.class_encoders: dict[type, ClassEncoder] = dict(class_encoders or {})
        self.class_decoders: dict[str, ClassDecoder] = dict(class_decoders or {})

    @classmethod
    def with_core_classes(cls) -> JSONRegistry:
        """A registry of every class of :mod:`aestore.core` (what the globals start with)."""
        return cls(
            encoders=CORE_ENCODERS,
            decoders={c.__name__: c for c in _CORE_CLASSES},
            class_encoders={base: class_to_dict for base in _CLASS_BASES},
            class_decoders={f"Type[{base.__name__}]": class_from_dict for base in _CLASS_BASES},
        )

    def copy(self) -> JSONRegistry:
        """An independent copy (new dicts holding the same functions and classes)."""
        return JSONRegistry(self.encoders, self.decoders, self.class_encoders, self.class_decoders)

    @overload
    def register_class(
        self, cls: _T, to_dict: Encoder | None = ..., from_dict: Decoder | None = ...
    ) -> _T: ...

    @overload
    def register_class(
        self, cls: None = ..., to_dict: Encoder | None = ..., from_dict: Decoder | None = ...
    ) -> Callable[[_T], _T]: ...

    def register_class(
        self,
        cls: _T | None = None,
        to_dict: Encoder | None = None,
        from_dict: Decoder | None = None,
    ) -> _T | Callable[[_T], _T]:
        """:func:`register_class` into this registry's dicts (also usable as a decorator)."""
        return register_class(
            cls, to_dict, from_dict, encoder_registry=self.encoders, decoder_registry=self.decoders
        )

    def unregister_class(self, cls: type) -> None:
        """:func:`unregister_class` from this registry's dicts."""
        unregister_class(cls, encoder_registry=self.encoders, decoder_registry=self.decoders)

    def __repr__(self) -> str:
        return f"JSONRegistry({len(self.encoders)} encoders, {len(self.decoders)} decoders)"


DEFAULT_REGISTRY = JSONRegistry.with_core_classes()
"""The registry the JSON store uses unless it is given others."""

ENCODER_REGISTRY: dict[type, Encoder] = DEFAULT_REGISTRY.encoders
DECODER_REGISTRY: dict[str, Decoder] = DEFAULT_REGISTRY.decoders
CLASS_ENCODER_REGISTRY: dict[type, ClassEncoder] = DEFAULT_REGISTRY.class_encoders
CLASS_DECODER_REGISTRY: dict[str, ClassDecoder] = DEFAULT_REGISTRY.class_decoders


def constructor_to_dict(cls: type) -> Encoder:
    """A ``class_to_dict`` for ``cls`` built from its constructor's signature.

    The dict holds ``"__type": cls.__name__`` and, for every named parameter of ``__init__``,
    the object's attribute of that name (or, failing that, ``_name``: a property's private
    backing attribute). It therefore suits classes that keep each constructor argument on a
    same-named attribute, as the model's Metric and Runner subclasses are asked to. Enums
    are written by member name.

    Example:
        >>> to_dict = constructor_to_dict(Metric)
        >>> to_dict(Metric("loss", lower_is_better=True))
        {'__type': 'Metric', 'name': 'loss', 'lower_is_better': True, 'properties': {}}
    """
    if issubclass(cls, Enum):
        return enum_to_dict
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError) as err:
        raise RegistryError(
            f"Cannot read the constructor of {cls.__qualname__} ({err}); pass to_dict= to "
            "register_class."
        ) from err
    names = tuple(
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )
    type_name = cls.__name__

    def to_dict(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {TYPE_KEY: type_name}
        for name in names:
            try:
                out[name] = getattr(obj, name)
            except AttributeError:
                try:
                    out[name] = getattr(obj, "_" + name)
                except AttributeError:
                    raise AttributeError(
                        f"{type_name} has no attribute {name!r} (nor {'_' + name!r}) for its "
                        f"constructor argument {name!r}; keep the argument on an attribute of "
                        "that name or register the class with a to_dict function"
                    ) from None
        return out

    to_dict.__name__ = f"{type_name.lower()}_to_dict"
    to_dict.__qualname__ = to_dict.__name__
    return to_dict


@overload
def register_class(
    cls: _T,
    to_dict: Encoder | None = ...,
    from_dict: Decoder | None = ...,
    *,
    encoder_registry: dict[type, Encoder] = ...,
    decoder_registry: dict[str, Decoder] = ...,
) -> _T: ...


@overload
def register_class(
    cls: None = ...,
    to_dict: Encoder | None = ...,
    from_dict: Decoder | None = ...,
    *,
    encoder_registry: dict[type, Encoder] = ...,
    decoder_registry: dict[str, Decoder] = ...,
) -> Callable[[_T], _T]: ...


def register_class(
    cls: _T | None = None,
    to_dict: Encoder | None = None,
    from_dict: Decoder | None = None,
    *,
    encoder_registry: dict[type, Encoder] = ENCODER_REGISTRY,
    decoder_registry: dict[str, Decoder] = DECODER_REGISTRY,
) -> _T | Callable[[_T], _T]:
    """Register ``cls`` for encoding and decoding in one call; returns ``cls``.

    Does ``encoder_registry[cls] = to_dict`` and ``decoder_registry[cls.__name__] = from_dict``.
    Without ``to_dict`` the dict is built from the constructor's arguments read back from
    same-named attributes (:func:`constructor_to_dict`). Without ``from_dict`` the class
    itself decodes: it is called with the stored fields as keyword arguments, and stored fields
    that are not constructor arguments are set as attributes afterwards. ``from_dict``, when
    given, is called the same way (``from_dict(**fields)``).

    Called without ``cls`` it returns a decorator. The registries default to the global ones;
    pass a :class:`JSONRegistry` copy's dicts (or use its ``register_class`` method) to keep
    the globals untouched.

    Raises RegistryError when ``cls`` is not a class, or when its name is taken by another
    class in ``decoder_registry`` or is one of the format's own tags.

    Example:
        >>> registry = DEFAULT_REGISTRY.copy()
        >>> @register_class(encoder_registry=registry.encoders,
        ...                 decoder_registry=registry.decoders)
        ... class QueueRunner(Runner):
        ...     def __init__(self, queue: str) -> None:
        ...         self.queue = queue
        >>> registry.decoders["QueueRunner"] is QueueRunner
        True
    """
    if cls is None:

        def decorator(target: _T) -> _T:
            return register_class(
                target,
                to_dict,
                from_dict,
                encoder_registry=encoder_registry,
                decoder_registry=decoder_registry,
            )

        return decorator
    if not isinstance(cls, type):
        raise RegistryError(f"register_class needs a class, got {cls!r}.")
    name = cls.__name__
    if name in BUILTIN_TAGS or name.startswith("Type["):
        raise RegistryError(
            f"{name!r} is a tag of the JSON format itself; give the class another name."
        )
    taken = decoder_registry.get(name)
    if taken is not None and taken is not cls and taken is not from_dict:
        raise RegistryError(
            f"The name {name!r} is already registered for {taken!r}; documents store classes "
            f"by name, so {cls.__module__}.{cls.__qualname__} needs another name."
        )
    encoder_registry[cls] = to_dict if to_dict is not None else constructor_to_dict(cls)
    decoder_registry[name] = from_dict if from_dict is not None else cls
    return cls


def unregister_class(
    cls: type,
    *,
    encoder_registry: dict[type, Encoder] = ENCODER_REGISTRY,
    decoder_registry: dict[str, Decoder] = DECODER_REGISTRY,
) -> None:
    """Undo :func:`register_class` (missing entries are ignored).

    Example:
        >>> class Tmp(Runner): ...
        >>> _ = register_class(Tmp); unregister_class(Tmp)
        >>> Tmp in ENCODER_REGISTRY, "Tmp" in DECODER_REGISTRY
        (False, False)
    """
    encoder_registry.pop(cls, None)
    if decoder_registry.get(cls.__name__) is not None:
        del decoder_registry[cls.__name__]
