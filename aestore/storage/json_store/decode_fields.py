"""What the ``*_from_json`` functions share: :class:`DecodeFailure` and checked field readers.

Each reader takes a raw value (or an object's dict and a field name), checks its JSON type
and, for nested values, decodes it through the :class:`~.decoder.DecodeContext`. A value of
the wrong kind raises :class:`DecodeFailure` naming the field, e.g.
``expected a list, got an object`` at ``trials``.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from aestore.exceptions import JSONDecodeError
from aestore.storage.json_store.format import TYPE_KEY

if TYPE_CHECKING:
    from aestore.storage.json_store.decoder import DecodeContext

__all__ = [
    "OPTIONAL",
    "DecodeFailure",
    "any_object_field",
    "datetime_value",
    "dict_field",
    "enum_member",
    "json_type",
    "list_field",
    "object_field",
    "objects_field",
    "str_or_none",
]

_E = TypeVar("_E", bound=Enum)


class DecodeFailure(Exception):
    """Internal: why a document could not be decoded, and where.

    ``node`` is the innermost object dict being decoded when it failed (set by the decode
    context) and ``segments`` the path below it (a field name, a list position). The public
    functions find ``node`` in the parsed document by identity, so tracking the path costs
    nothing until something fails, and raise :class:`~aestore.exceptions.JSONDecodeError`
    (or ``error_class``) with the whole path, e.g. ``trials.3.generator_run.arms.0``.
    """

    def __init__(
        self,
        message: str,
        *segments: str | int,
        error_class: type[JSONDecodeError] = JSONDecodeError,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.segments = segments
        self.node: Any = None
        self.error_class = error_class


def enum_member(cls: type[_E], name: Any, field: str) -> _E:
    try:
        return cls[name]
    except (KeyError, TypeError):
        names = ", ".join(m.name for m in cls)
        raise DecodeFailure(f"{name!r} is not a {cls.__name__} (one of {names})", field) from None


def datetime_value(value: Any, field: str, ctx: DecodeContext) -> datetime | None:
    """A typed datetime field: ISO 8601 text, None, or (written by a user's hook) a tag."""
    if type(value) is str:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise DecodeFailure(f"{value!r} is not an ISO 8601 date and time", field) from None
    if value is None:
        return None
    decoded = ctx.value(value)
    if not isinstance(decoded, datetime):
        raise DecodeFailure(f"expected a date and time, got {json_type(value)}", field)
    return decoded


def list_field(d: dict[str, Any], field: str) -> list[Any]:
    value = d[field]
    if type(value) is not list:
        raise DecodeFailure(f"expected a list, got {json_type(value)}", field)
    return value


def dict_field(d: dict[str, Any], field: str, ctx: DecodeContext) -> dict[Any, Any]:
    """A free-form dict field, decoded (a flat dict of plain values is returned as it is)."""
    value = d[field]
    if type(value) is not dict:
        raise DecodeFailure(f"expected an object, got {json_type(value)}", field)
    if TYPE_KEY not in value:
        for item in value.values():
            ti = type(item)
            if ti is dict or ti is list:
                break
        else:
            return value
    decoded = ctx.value(value)
    if type(decoded) is not dict:  # a tagged dict decodes to a dict; other tags do not
        raise DecodeFailure(f"expected an object, got a {type(decoded).__name__}", field)
    return decoded


def str_or_none(value: Any, field: str) -> str | None:
    if value is not None and type(value) is not str:
        raise DecodeFailure(f"expected a string or null, got {json_type(value)}", field)
    return value


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
    }.get(type(value), type(value).__name__)


def object_field(
    d: dict[str, Any], field: str, cls: type | tuple[type, ...], ctx: DecodeContext
) -> Any:
    """The object in field ``field``, which must be an instance of ``cls``."""
    value = d[field]
    decoded = None if value is None else ctx.value(value)
    if not isinstance(decoded, cls):
        classes = (cls,) if isinstance(cls, type) else cls
        names = " or ".join("null" if c is OPTIONAL else f"a {c.__name__}" for c in classes)
        raise DecodeFailure(f"expected {names}, got {json_type(decoded)}", field)
    return decoded


def any_object_field(d: dict[str, Any], field: str, ctx: DecodeContext) -> Any:
    """The object in field ``field`` (or None), whatever its class."""
    value = d[field]
    if value is not None and (type(value) is not dict or TYPE_KEY not in value):
        raise DecodeFailure(f"expected an object or null, got {json_type(value)}", field)
    return None if value is None else ctx.value(value)


def objects_field(d: dict[str, Any], field: str, cls: type, ctx: DecodeContext) -> list[Any]:
    """The list of objects in field ``field``, each an instance of ``cls``."""
    value = ctx.value
    decoded = [value(item) for item in list_field(d, field)]
    for position, item in enumerate(decoded):
        if not isinstance(item, cls):
            raise DecodeFailure(
                f"expected a {cls.__name__}, got {json_type(item)}", field, position
            )
    return decoded


OPTIONAL = type(None)
"""In the classes given to :func:`object_field`: the field may be null."""
