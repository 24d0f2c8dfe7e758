"""A user's Metric/Runner subclass's own fields, read from its constructor arguments.

The spec promises that a registered subclass is stored with no extra code from the user: its
constructor arguments, read from the attributes of the same name (``self.dataset`` for a
``dataset`` parameter), are what is stored, and the class is rebuilt with ``cls(**fields)``.
Anything that would not survive that (an argument not kept on an attribute, ``*args``, an
attribute that is not an argument) is an error at save, never a silent loss.
"""

from __future__ import annotations

import inspect
from typing import Any

from aestore.core.base import values_equal
from aestore.exceptions import SQAEncodeError

__all__ = ["constructor_fields"]

_signatures: dict[type, list[inspect.Parameter]] = {}


def constructor_fields(obj: Any) -> dict[str, Any]:
    """``obj``'s constructor arguments read from its attributes of the same name.

    Example:
        >>> from aestore.core.metric import Metric
        >>> class Scaled(Metric):
        ...     def __init__(self, name: str, factor: float = 1.0) -> None:
        ...         super().__init__(name)
        ...         self.factor = factor
        >>> constructor_fields(Scaled("m", 2.0))
        {'name': 'm', 'factor': 2.0}
    """
    cls = type(obj)
    params = _signatures.get(cls)
    if params is None:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        _signatures[cls] = params
    hint = (
        f"Store each constructor argument on an attribute of the same name, or register a "
        f"class_to_dict for {cls.__qualname__} in the JSON registries."
    )
    fields: dict[str, Any] = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise SQAEncodeError(
                f"Cannot store {cls.__qualname__}: its constructor takes {param} , which "
                f"cannot be rebuilt from attributes. {hint}"
            )
        if param.name not in obj.__dict__:
            raise SQAEncodeError(
                f"Cannot store {cls.__qualname__}: constructor argument {param.name!r} is not "
                f"kept as attribute self.{param.name}, so it could not be read back. {hint}"
            )
        fields[param.name] = obj.__dict__[param.name]
    excluded: frozenset[str] = getattr(cls, "_eq_exclude", frozenset())
    others = [
        k
        for k in obj.__dict__
        if k not in fields and k not in excluded and not k.startswith("_ae_")  # tracking state
    ]
    if others:
        # Attributes the constructor sets itself (a base class's defaults) are fine as long as
        # a rebuilt object gets the same values; anything else would be lost on load.
        try:
            rebuilt = cls(**fields)
        except Exception as err:
            raise SQAEncodeError(
                f"Cannot store {cls.__qualname__}: {cls.__qualname__}(**{sorted(fields)}) "
                f"fails ({err}), so it could not be loaded. {hint}"
            ) from err
        lost = [
            k
            for k in others
            if k not in rebuilt.__dict__ or not values_equal(rebuilt.__dict__[k], obj.__dict__[k])
        ]
        if lost:
            raise SQAEncodeError(
                f"Cannot store {cls.__qualname__}: attributes {lost} are not constructor "
                f"arguments and differ from what the constructor sets, so they would be lost "
                f"on load. {hint}"
            )
    return fields
