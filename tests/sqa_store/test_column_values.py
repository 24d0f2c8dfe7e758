"""Single values <-> column values: every pair is exact inverse."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from aestore.core.base import values_equal
from aestore.storage.sqa_store.column_values import (
    join_float,
    join_time,
    number_to_text,
    split_float,
    split_time,
    text_to_number,
)
from aestore.storage.sqa_store.sqa_config import SQAConfig

offsets = st.integers(min_value=-23 * 3600, max_value=23 * 3600).map(
    lambda s: timezone(timedelta(seconds=s))
)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_round_trips_through_double_and_code(value: float) -> None:
    assert values_equal(join_float(*split_float(value)), value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_split_float_never_stores_a_non_finite_double(value: float) -> None:
    stored, _ = split_float(value)
    assert stored is None or math.isfinite(stored)


@given(st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True)))
def test_number_text_keeps_int_or_float(value: int | float) -> None:
    assert values_equal(text_to_number(number_to_text(value)), value)


@given(st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), offsets)))
def test_datetime_round_trips_with_offset_and_microseconds(value: datetime) -> None:
    back = join_time(*split_time(value))
    assert (values_equal(back, value), back and back.utcoffset()) == (True, value.utcoffset())


@given(st.datetimes(timezones=st.one_of(st.just(UTC), offsets)))
def test_stored_datetime_is_naive_utc(value: datetime) -> None:
    stored, _ = split_time(value)
    assert (
        stored is not None
        and stored.tzinfo is None
        and stored == value.astimezone(UTC).replace(tzinfo=None)
    )


def test_json_column_tags_nan_and_keeps_tuples() -> None:
    cols = SQAConfig().json
    value = {"x": (1.0, float("nan")), "t": datetime(2026, 1, 1, tzinfo=UTC)}
    assert values_equal(cols.loads(cols.dumps(value)), value)
