"""Value equality and short reprs shared by every model class.

Stored objects must compare equal after a round trip, so equality is deep and value based:
two NaNs are equal wherever a stored float is compared, ``1 == 1.0`` is *not* enough (an int
stored as a float is a real change), and containers are compared element by element.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from aestore.core.tracking import (
    ATOMIC_TYPES,
    VERSION,
    TrackedDict,
    TrackedList,
    adopt,
    touch,
)

__all__ = ["Base", "values_equal"]


def values_equal(a: Any, b: Any) -> bool:
    """Deep equality where NaN equals NaN, ints differ from floats and datetimes keep tz.

    Example:
        >>> values_equal({"x": [float("nan"), 1]}, {"x": [float("nan"), 1]})
        True
        >>> values_equal(1, 1.0)
        False
    """
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta is float or tb is float:
        if not (isinstance(a, float) and isinstance(b, float)):
            return _numbers_equal(a, b)
        return bool(a == b or (a != a and b != b))  # np.float64 is a float and gives np.bool_
    if isinstance(a, Mapping):
        if not isinstance(b, Mapping) or len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b or not values_equal(value, b[key]):
                return False
        return True
    if isinstance(a, list | tuple):
        if type(b) is not ta and not (isinstance(b, list) and isinstance(a, list)):
            return False
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime):
        if not isinstance(b, datetime) or (a.tzinfo is None) != (b.tzinfo is None):
            return False
        # Same instant is not enough: a stored +05:30 time must not come back as UTC.
        return a == b and a.utcoffset() == b.utcoffset()
    if ta is int and tb is not int and not isinstance(b, bool) and isinstance(b, int | float):
        return _numbers_equal(a, b)
    if _plain_number(a) is not None or _plain_number(b) is not None:
        # numpy scalars: np.float64("nan") must equal itself like a plain NaN does.
        return _numbers_equal(a, b)
    if _is_array(a) or _is_array(b):
        return (
            _is_array(a)
            and _is_array(b)
            and a.shape == b.shape
            and values_equal(a.tolist(), b.tolist())
        )
    try:
        return bool(a == b)
    except Exception:  # a user's __eq__ that cannot compare with this type
        return False


def _numbers_equal(a: Any, b: Any) -> bool:
    """Compare a float with a non-float: numpy scalars equal their plain value, int != float."""
    pa, pb = _plain_number(a), _plain_number(b)
    if pa is None or pb is None or type(pa) is not type(pb):
        return False
    if isinstance(pa, float):
        return bool(pa == pb or (math.isnan(pa) and math.isnan(pb)))
    return bool(pa == pb)


def _plain_number(x: Any) -> int | float | None:
    """The plain Python number behind ``x`` (numpy scalars included), else None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return x
    item = getattr(x, "item", None)
    # Only scalars (shape ``()``): ``item()`` on a bigger array raises.
    if callable(item) and hasattr(x, "dtype") and getattr(x, "shape", None) == ():
        value = item()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    return None


def _is_array(x: Any) -> bool:
    """Whether ``x`` is an array-like with ``shape`` and ``tolist`` (a numpy array)."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and callable(getattr(x, "tolist", None))


_REPR_FIELD_LIMIT = 60


def _short_repr(value: Any, limit: int = _REPR_FIELD_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters, in time bounded by ``limit``.

    Plain dicts, lists, tuples and strings are walked only as far as the limit, so a
    parameterization with a million entries costs no more than one with three.

    Example:
        >>> _short_repr({"a": 1}), len(_short_repr(list(range(10**6))))
        ("{'a': 1}", 60)
    """
    text = _bounded_repr(value, limit + 1)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded_repr(value: Any, budget: int) -> str:
    """``repr(value)``, or a string longer than ``budget`` that starts like it."""
    kind = type(value)
    if kind is TrackedDict:
        kind = dict
    elif kind is TrackedList:
        kind = list
    if kind is str:
        return repr(value) if len(value) <= budget else repr(value[:budget]) + "..."
    if kind is dict:
        items = (
            f"{_bounded_repr(k, budget)}: {_bounded_repr(v, budget)}" for k, v in value.items()
        )
        return _join_bounded("{", items, "}", budget)
    if kind is list:
        return _join_bounded("[", (_bounded_repr(v, budget) for v in value), "]", budget)
    if kind is tuple:
        if len(value) == 1:
            return f"({_bounded_repr(value[0], budget)},)"
        return _join_bounded("(", (_bounded_repr(v, budget) for v in value), ")", budget)
    return repr(value)


def _join_bounded(open_: str, parts: Any, close: str, budget: int) -> str:
    shown: list[str] = []
    used = len(open_)
    for part in parts:
        if used > budget:
            shown.append("...")
            break
        shown.append(part)
        used += len(part) + 2
    return f"{open_}{', '.join(shown)}{close}"


class Base:
    """Mixin: deep value equality over ``__dict__`` and a short, fixed-size ``repr``.

    Subclasses list attributes that must not take part in equality (back references such as a
    trial's experiment) in ``_eq_exclude``, and the attributes shown by ``repr`` in
    ``_repr_fields``.

    Example:
        >>> class Point(Base):
        ...     _repr_fields = ("x",)
        ...     def __init__(self, x: float) -> None:
        ...         self.x = x
        >>> Point(float("nan")) == Point(float("nan")), repr(Point(1.0))
        (True, 'Point(x=1.0)')
    """

    _eq_exclude: ClassVar[frozenset[str]] = frozenset()
    _repr_fields: ClassVar[tuple[str, ...]] = ("name",)
    # Change tracking (see :mod:`aestore.core.tracking`): containers assigned to attributes
    # are kept as tracked copies, and an armed object reports its changes to its trial.
    _ae_track: ClassVar[bool] = True
    _ae_armed: ClassVar[bool] = False  # set on the instance when armed

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            self._ae_track
            and type(value) not in ATOMIC_TYPES
            and name not in self._eq_exclude
            and name[:2] != "__"  # ``obj.__dict__ = fields`` (decoders) is not an attribute
        ):
            value = adopt(value, self)
        object.__setattr__(self, name, value)
        state = self.__dict__
        if VERSION in state:  # (after the set: see tracking.VERSION)
            state[VERSION] = object()
        if self._ae_armed and not name.startswith("_ae_"):
            touch(self)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        state = self.__dict__
        if VERSION in state:
            state[VERSION] = object()
        if self._ae_armed and not name.startswith("_ae_"):
            touch(self)  # a class default may now show through: a change

    def __getstate__(self) -> dict[str, Any]:
        # Copies and pickles carry no tracking state (owners, armed flag, journal).
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_ae_")}

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other):
            return False
        excluded = self._eq_exclude
        mine = {k: v for k, v in self.__dict__.items() if k not in excluded and k[:4] != "_ae_"}
        theirs = {k: v for k, v in other.__dict__.items() if k not in excluded and k[:4] != "_ae_"}
        return values_equal(mine, theirs)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # mutable value objects are not hashable

    def __repr__(self) -> str:
        shown = []
        for field in self._repr_fields:
            shown.append(f"{field}={_short_repr(getattr(self, field, None))}")
        return f"{type(self).__name__}({', '.join(shown)})"
