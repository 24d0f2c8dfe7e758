"""How single values become column values and back: floats, numbers, timestamps, JSON.

Every function here is the inverse of its partner, and the pairs are what the round trip
relies on:

- ``split_float`` / ``join_float``: a DOUBLE that is NULL for a non-finite value plus a tiny
  code column (1 NaN, 2 +inf, 3 -inf), since SQLite stores NaN as NULL and MariaDB rejects
  non-finite DOUBLEs.
- ``number_to_text`` / ``text_to_number``: an int-or-float as its ``repr`` (``"1"``, ``"1.0"``,
  ``"nan"``), so ``1`` and ``1.0`` stay distinct, as model equality requires.
- ``split_time`` / ``join_time``: a naive UTC-normalised datetime plus the UTC offset in seconds
  (NULL for a naive datetime, which stays naive).
- ``JSONColumns.dumps`` / ``loads``: TEXT written by the shared JSON encoder (tags NaN/inf,
  datetimes, registered classes) with the registries of an ``SQAConfig``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson

import aestore.storage.json_store.decoder as json_decoder
import aestore.storage.json_store.encoder as json_encoder
from aestore.exceptions import SQADecodeError, SQAEncodeError

__all__ = [
    "JSONColumns",
    "join_float",
    "join_time",
    "number_to_text",
    "split_float",
    "split_time",
    "text_to_number",
]

_NAN, _POS_INF, _NEG_INF = 1, 2, 3
_TYPE_KEY = '"__type"'  # every tag of the JSON format is an object with this key
_FROM_CODE = {_NAN: math.nan, _POS_INF: math.inf, _NEG_INF: -math.inf}


def split_float(value: float) -> tuple[float | None, int | None]:
    """A float as (DOUBLE column value, non-finite code).

    Example:
        >>> split_float(1.5), split_float(float("-inf"))
        ((1.5, None), (None, 3))
    """
    if math.isfinite(value):
        return value, None
    if value != value:
        return None, _NAN
    return None, _POS_INF if value > 0 else _NEG_INF


def join_float(value: float | None, code: int | None) -> float:
    """The float stored by :func:`split_float`.

    Example:
        >>> join_float(None, 1)
        nan
    """
    if code is None:
        return math.nan if value is None else float(value)
    return _FROM_CODE[code]


def number_to_text(value: int | float | None) -> str | None:
    """An int or float as text that keeps which one it was.

    Example:
        >>> number_to_text(1), number_to_text(1.0), number_to_text(float("nan"))
        ('1', '1.0', 'nan')
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SQAEncodeError(f"Expected a number, got {value!r} ({type(value).__name__}).")
    return str(value) if isinstance(value, int) else repr(float(value))


def text_to_number(text: str | None) -> int | float | None:
    """The number written by :func:`number_to_text`.

    Example:
        >>> text_to_number("1"), text_to_number("1.0"), text_to_number("-inf")
        (1, 1.0, -inf)
    """
    if text is None:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    return float(text)


def split_time(value: datetime | None) -> tuple[datetime | None, int | None]:
    """A datetime as (naive UTC-normalised datetime, UTC offset in seconds or None if naive).

    Example:
        >>> split_time(datetime(2026, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))))
        (datetime.datetime(2026, 1, 1, 0, 0), 19800)
    """
    if value is None:
        return None, None
    offset = value.utcoffset()
    if offset is None:
        return value, None
    return (value - offset).replace(tzinfo=None), int(offset.total_seconds())


def join_time(value: datetime | None, offset: int | None) -> datetime | None:
    """The datetime stored by :func:`split_time` (aware with the same offset, or naive).

    Example:
        >>> join_time(datetime(2026, 1, 1), 3600).isoformat()
        '2026-01-01T01:00:00+01:00'
    """
    if value is None or offset is None:
        return value
    shift = _SHIFTS.get(offset)
    if shift is None:
        shift = _shift(offset)
    value += shift[0]  # (which also clears ``fold``, even for a zero shift)
    # ``combine`` rather than ``value.replace(tzinfo=...)``: the same datetime in a quarter
    # of the time (a load makes one per time stamp).
    return datetime.combine(value, value.time(), shift[1])


# UTC offset in seconds -> (its timedelta, its timezone), for join_time.
_SHIFTS: dict[int, tuple[timedelta, timezone]] = {0: (timedelta(0), UTC)}


def _shift(offset: int) -> tuple[timedelta, timezone]:
    delta = timedelta(seconds=offset)
    shift = (delta, timezone(delta))
    if len(_SHIFTS) < 4096:  # offsets in use are few; don't grow without bound
        _SHIFTS[offset] = shift
    return shift


class JSONColumns:
    """Reads and writes JSON columns with the shared JSON encoder and given registries.

    Example:
        >>> from aestore.storage.sqa_store.sqa_config import SQAConfig
        >>> cols = SQAConfig().json  # a JSONColumns with the default JSON registries
        >>> cols.loads(cols.dumps({"x": float("nan")}))["x"]
        nan
    """

    def __init__(
        self,
        encoder_registry: Any,
        class_encoder_registry: Any,
        decoder_registry: Any,
        class_decoder_registry: Any,
    ) -> None:
        self._encode_kwargs = {
            "encoder_registry": encoder_registry,
            "class_encoder_registry": class_encoder_registry,
        }
        self._decode_kwargs = {
            "decoder_registry": decoder_registry,
            "class_decoder_registry": class_decoder_registry,
        }

    def to_json(self, value: Any) -> Any:
        """``value`` as a JSON-able structure (tags included)."""
        try:
            return json_encoder.object_to_json(value, **self._encode_kwargs)
        except Exception as err:
            raise SQAEncodeError(f"Cannot store {type(value).__name__} as JSON: {err}") from err

    def dumps(self, value: Any) -> str | None:
        """``value`` as JSON text; None stays None (a NULL column)."""
        if value is None:
            return None
        try:
            return json_encoder.dumps(value, **self._encode_kwargs).decode()
        except Exception as err:
            raise SQAEncodeError(f"Cannot store {type(value).__name__} as JSON: {err}") from err

    def from_json(self, value: Any) -> Any:
        """The object behind a JSON-able structure written by :meth:`to_json`."""
        try:
            return json_decoder.object_from_json(value, **self._decode_kwargs)
        except Exception as err:
            raise SQADecodeError(f"Cannot read a stored JSON value: {err}") from err

    def loads(self, text: str | None) -> Any:
        """The object stored by :meth:`dumps`."""
        if text is None:
            return None
        try:
            raw = orjson.loads(text)
        except orjson.JSONDecodeError as err:
            raise SQADecodeError(f"A stored JSON column is not valid JSON: {err}") from err
        if _TYPE_KEY not in text:
            return raw  # no tags anywhere: plain JSON needs no decoding (the common case)
        return self.from_json(raw)
