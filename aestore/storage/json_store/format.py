"""The JSON document format, and the walker that makes free-form values JSON-safe.

The document
------------
One JSON object, the experiment's own dict::

    {"__type": "Experiment", "format_version": 1, "name": ..., "trials": [...], ...}

A big experiment's document puts newlines (insignificant whitespace) around and between chunks
of its ``trials`` array, so readers can parse it a chunk at a time; see :mod:`.chunks`.

Every registered object is a dict whose ``"__type"`` is its class name (``ENCODER_REGISTRY`` and
``DECODER_REGISTRY`` in :mod:`.registry` map classes to and from these dicts). A field's value is
written as follows:

================================  ==========================================================
value                             JSON
================================  ==========================================================
str, int, bool, None, finite      themselves (orjson keeps ``1`` and ``1.0`` apart)
float
NaN, inf, -inf                    ``{"__type": "float", "value": "nan" | "inf" | "-inf"}``
                                  (orjson would write ``null``)
list                              a list
tuple                             ``{"__type": "tuple", "items": [...]}``
dict with str keys                an object, unless it has a ``"__type"`` key of its own
other dicts                       ``{"__type": "dict", "items": [[key, value], ...]}`` (int
                                  keys stay ints, a user's ``"__type"`` key stays data)
datetime in a free-form value     ``{"__type": "datetime", "value": "2026-01-02T03:04:05+05:30"}``
date in a free-form value         ``{"__type": "date", "value": "2026-01-02"}``
enum member                       ``{"__type": "TrialStatus", "name": "COMPLETED"}`` (by name)
a registered class itself         ``{"__type": "Type[Metric]", "name": "MyMetric"}``
numpy scalar                      the plain Python number (``.item()``)
================================  ==========================================================

*Typed* fields of the model, whose type the decoder knows, skip the tags: a trial's
``time_created`` is a bare ISO 8601 string (naive or with its UTC offset, microseconds
exact), its ``status`` a bare enum name. The experiment's int-keyed maps are written
without int keys: ``trials`` as a list (each trial holds its index), ``data_by_trial`` as one
columnar log of every attachment::

    "data_by_trial": {"trial_index": [0, 0, 1], "timestamp": [<µs>, <µs>, <µs>],
                      "num_rows": [2, 1, 2],
                      "columns": {"trial_index": [...], "arm_name": [...], "metric_name": [...],
                                  "mean": [...], "sem": [...], "n": [...]}}

(one entry per attachment, then the rows of all of them in order; optional columns holding
only None are left out). Data of a subclass or with columns of its own is written as
``[[trial_index, [[timestamp, {"__type": "Data", ...}], ...]], ...]`` instead.

``format_version`` is :data:`FORMAT_VERSION`; readers refuse newer versions.

The walker
----------
orjson writes NaN as ``null``, tuples as lists, enums by value and datetimes untagged, without
asking the ``default`` hook. So every value that reaches orjson natively must already be safe.
:func:`to_json_safe` makes a free-form value (properties, metadata, arm parameters, model
predictions, ...) safe: it returns the value itself when it is (the common case, checked with
one pass over a flat dict), otherwise a copy where unsafe parts are replaced by :class:`Tagged`
dicts (a ``dict`` subclass, so orjson writes it natively) or wrapped in :class:`Deferred` so
that the encoder's ``default`` hook decides (registry first). Objects it does not know (model
objects, numpy scalars) are left for ``default`` as they are.

Example:
    >>> to_json_safe({"x": 1.0, "y": float("nan")})
    {'x': 1.0, 'y': {'__type': 'float', 'value': 'nan'}}
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any, Final
from uuid import UUID

import orjson

from aestore.core.tracking import TrackedDict, TrackedList, holds_plain_values

# The model's change-tracking containers (see ``aestore.core.tracking``) encode as what they are.
PLAIN_TYPE: dict[type, type] = {TrackedDict: dict, TrackedList: list}

__all__ = [
    "BUILTIN_TAGS",
    "DATETIME_TAG",
    "DATE_TAG",
    "DICT_TAG",
    "DUMPS_OPTIONS",
    "FLOAT_TAG",
    "FORMAT_VERSION",
    "TUPLE_TAG",
    "TYPE_KEY",
    "Deferred",
    "Tagged",
    "is_finite_column",
    "nonfinite_tag",
    "safe_column",
    "to_json_safe",
    "typed_datetime",
]

FORMAT_VERSION: Final = 1

# The options of every orjson.dumps of the fast path. Dataclasses (GeneratorRunStruct) must
# reach ``default`` instead of being written natively. No OPT_SERIALIZE_NUMPY: numpy scalars
# reach ``default`` too and become plain numbers, as in the reference. No OPT_NAIVE_UTC:
# naive datetimes stay naive.
DUMPS_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATACLASS
"""The document format this aestore writes; it reads this version and older ones."""

TYPE_KEY: Final = "__type"
FLOAT_TAG: Final = "float"
TUPLE_TAG: Final = "tuple"
DICT_TAG: Final = "dict"
DATETIME_TAG: Final = "datetime"
DATE_TAG: Final = "date"
BUILTIN_TAGS: Final = frozenset({FLOAT_TAG, TUPLE_TAG, DICT_TAG, DATETIME_TAG, DATE_TAG})
"""``__type`` names the format itself uses; no registered class may take them."""


class Tagged(dict[str, Any]):
    """A dict the encoder made (a tag), as opposed to a user's free-form dict.

    orjson writes it like any dict; the reference encoder knows its ``"__type"`` key is
    legitimate and does not escape it.
    """

    __slots__ = ()


class Deferred:
    """A free-form value orjson would write lossily (an enum by value, a tuple subclass as a
    list, a UUID as a string): orjson hands it to the encoder's ``default`` hook instead, which
    looks its class up in the registry.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Deferred({self.value!r})"


_NAN = Tagged({TYPE_KEY: FLOAT_TAG, "value": "nan"})
_INF = Tagged({TYPE_KEY: FLOAT_TAG, "value": "inf"})
_NINF = Tagged({TYPE_KEY: FLOAT_TAG, "value": "-inf"})


def nonfinite_tag(value: float) -> Tagged:
    """The tag of a non-finite float (shared instances: never mutate them).

    Example:
        >>> nonfinite_tag(float("-inf"))
        {'__type': 'float', 'value': '-inf'}
    """
    if value != value:
        return _NAN
    return _INF if value > 0 else _NINF


def typed_datetime(value: datetime | None) -> datetime | str | None:
    """A datetime in a typed field: left to orjson when it writes it exactly, else ISO text.

    orjson writes naive and UTC datetimes exactly as ``isoformat()`` does; other offsets it
    rounds to the minute, so those are formatted here. Non-datetimes are returned unchanged
    (the decoder reports them).

    Example:
        >>> typed_datetime(datetime(2026, 1, 2, 3, 4, 5, 6))
        datetime.datetime(2026, 1, 2, 3, 4, 5, 6)
    """
    if value is None:
        return None
    if type(value) is datetime:
        tz = value.tzinfo
        if tz is None or tz is UTC:
            return value
        return value.isoformat()
    if isinstance(value, datetime):  # a subclass such as pandas.Timestamp
        return datetime.isoformat(value)
    return value


def to_json_safe(value: Any) -> Any:
    """``value`` with every part orjson would write lossily replaced (see the module doc).

    Returns ``value`` itself when nothing needs replacing, so the caller must not mutate it.

    Example:
        >>> to_json_safe((1, {2: "b"}))
        {'__type': 'tuple', 'items': [1, {'__type': 'dict', 'items': [[2, 'b']]}]}
    """
    t = type(value)
    # The model's tracked containers (``aestore.core.tracking``) are dicts and lists; one
    # known to be plain (since it was made, kept up to date by its methods) is returned at
    # once. The others are checked each time: the encoder may run in a worker thread, and a
    # flag it set after its check could undo a change (a NaN put in) made meanwhile.
    if t is TrackedDict or t is TrackedList:
        if value._ae_plain:
            return value
        return _to_json_safe_plain(value, t is TrackedDict)
    if t is dict:
        if TYPE_KEY in value:
            return _escaped_dict(value)
        for key, item in value.items():
            if type(key) is not str:
                return _escaped_dict(value)
            ti = type(item)
            if ti is float:
                if item - item != 0.0:
                    return _safe_dict(value)
            elif ti not in _PLAIN_ATOMS:
                return _safe_dict(value)
        return value
    if t in _PLAIN_ATOMS:
        return value
    if t is float:
        return value if value - value == 0.0 else nonfinite_tag(value)
    if t is list:
        for item in value:
            ti = type(item)
            if ti is float:
                if item - item != 0.0:
                    return [to_json_safe(v) for v in value]
            elif ti not in _PLAIN_ATOMS:
                return [to_json_safe(v) for v in value]
        return value
    if t is tuple:
        return Tagged({TYPE_KEY: TUPLE_TAG, "items": [to_json_safe(v) for v in value]})
    return _safe_other(value)


def _to_json_safe_plain(value: Any, is_dict: bool) -> Any:
    """:func:`to_json_safe` of a tracked container as if it were a plain dict or list."""
    return (
        to_json_safe(dict(value) if is_dict else list(value))
        if not holds_plain_values(value)
        else value
    )


def _safe_dict(value: dict[Any, Any]) -> dict[Any, Any]:
    for key in value:
        if type(key) is not str:
            return _escaped_dict(value)
    return {key: to_json_safe(item) for key, item in value.items()}


# Types orjson writes exactly as they are (finite floats aside).
_PLAIN_ATOMS: Final = frozenset({str, int, bool, type(None)})


def _escaped_dict(value: dict[Any, Any]) -> Tagged:
    items = [[to_json_safe(k), to_json_safe(v)] for k, v in value.items()]
    return Tagged({TYPE_KEY: DICT_TAG, "items": items})


def _safe_other(value: Any) -> Any:
    if type(value) is Tagged:
        return value
    if isinstance(value, datetime):
        return Tagged({TYPE_KEY: DATETIME_TAG, "value": datetime.isoformat(value)})
    if isinstance(value, date):
        return Tagged({TYPE_KEY: DATE_TAG, "value": date.isoformat(value)})
    if isinstance(value, Enum | UUID | time | dict | list | tuple | str | int | float):
        return Deferred(value)
    return value  # a model object, a numpy scalar...: orjson asks ``default``


def is_finite_column(values: list[Any]) -> bool:
    """Whether a column of floats is all finite (C-speed; False when it is not all numbers).

    Example:
        >>> is_finite_column([1.0, 2.5]), is_finite_column([1.0, math.nan])
        (True, False)
    """
    try:
        return all(map(math.isfinite, values))
    except TypeError:
        return False


def safe_column(values: list[Any]) -> list[Any]:
    """A column of numbers with its non-finite floats tagged (what ``to_json_safe`` gives).

    Example:
        >>> safe_column([0.5, math.inf])
        [0.5, {'__type': 'float', 'value': 'inf'}]
    """
    if is_finite_column(values):
        return values
    try:
        return [v if v - v == 0.0 else nonfinite_tag(v) for v in values]
    except TypeError:  # not all numbers
        return to_json_safe(values)
