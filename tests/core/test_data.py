"""Data: observation rows stored column by column; pandas optional."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import aestore
from aestore.core import Data
from aestore.core.data import DATA_COLUMNS
from aestore.exceptions import ModelError
from tests.core.helpers import assert_model_error, row

NAIVE = datetime(2026, 1, 2, 3, 4, 5, 123456)
AWARE = datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=UTC)


def test_empty_data() -> None:
    d = Data()
    assert (len(d), d.to_records(), d.trial_indices, d.metric_names) == (0, [], [], [])


def test_rows_are_stored_column_by_column() -> None:
    d = Data([row(0, "0_0", mean=1.0), row(1, "1_0", mean=2.0)])
    assert list(d.columns) == list(DATA_COLUMNS)
    assert d.columns["mean"] == [1.0, 2.0]
    assert d.columns["trial_index"] == [0, 1]
    assert d.columns["n"] == [None, None]


def test_len_counts_rows() -> None:
    assert len(Data([row(), row(metric_name="other")])) == 2


def test_records_may_be_any_iterable() -> None:
    assert len(Data(row(i) for i in range(3))) == 3


def test_to_records_gives_the_required_columns() -> None:
    assert Data([row(sem=0.5)]).to_records() == [
        {"trial_index": 0, "arm_name": "0_0", "metric_name": "m", "mean": 1.5, "sem": 0.5}
    ]


def test_to_records_includes_optional_columns_that_are_present() -> None:
    records = Data([row(n=10, start_time=NAIVE), row()]).to_records()
    assert [sorted(r) for r in records] == [sorted([*row(), "n", "start_time"])] * 2
    assert (records[0]["n"], records[1]["n"], records[1]["start_time"]) == (10, None, None)


def test_nan_sem_is_normal() -> None:
    [record] = Data([row(sem=math.nan)]).to_records()
    assert math.isnan(record["sem"])


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [(1, 1.0), (None, math.nan), (np.float32(0.5), 0.5)],
    ids=["int", "None", "numpy"],
)
def test_mean_is_stored_as_a_float(given_value: Any, stored: float) -> None:
    [mean] = Data([row(mean=given_value)]).columns["mean"]
    assert type(mean) is float
    assert mean == stored or (math.isnan(mean) and math.isnan(stored))


@pytest.mark.parametrize("value", [math.inf, -math.inf], ids=["inf", "-inf"])
def test_infinite_means_are_kept(value: float) -> None:
    assert Data([row(mean=value)]).columns["mean"] == [value]


@pytest.mark.parametrize("column", ["trial_index", "arm_name", "metric_name", "mean", "sem"])
def test_a_missing_required_column_is_rejected(column: str) -> None:
    record = row()
    del record[column]
    with pytest.raises(ModelError) as excinfo:
        Data([row(), record])
    assert_model_error(excinfo, "row 1", column)


def test_an_unknown_column_is_rejected() -> None:
    with pytest.raises(ModelError) as excinfo:
        Data([row(colour="red")])
    assert_model_error(excinfo, "row 0", "colour")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("trial_index", 1.5),
        ("trial_index", "0"),
        ("trial_index", True),
        ("trial_index", None),
        ("trial_index", math.nan),
        ("n", 2.5),
        ("n", "ten"),
        ("n", math.nan),
        ("n", math.inf),
        ("n", False),
        ("mean", "high"),
        ("mean", True),
        ("sem", [0.1]),
        ("arm_name", None),
        ("arm_name", 3),
        ("metric_name", None),
        ("start_time", "2026-01-01"),
        ("end_time", 1700000000),
    ],
    ids=lambda v: repr(v),
)
def test_a_bad_value_is_rejected_naming_row_and_column(column: str, value: Any) -> None:
    with pytest.raises(ModelError) as excinfo:
        Data([row(), row(**{column: value})])
    assert_model_error(excinfo, "row 1", column)


@pytest.mark.parametrize(
    ("column", "value", "stored"),
    [
        ("trial_index", 3.0, 3),
        ("trial_index", np.int64(3), 3),
        ("n", 100.0, 100),  # pandas turns an int column with gaps into floats
        ("n", np.int32(7), 7),
    ],
    ids=["index-float", "index-numpy", "n-float", "n-numpy"],
)
def test_integral_numbers_become_ints(column: str, value: Any, stored: int) -> None:
    [result] = Data([row(**{column: value})]).columns[column]
    assert type(result) is int and result == stored


def test_trial_indices_and_metric_names_in_first_seen_order() -> None:
    d = Data([row(2, metric_name="b"), row(0, metric_name="a"), row(2, metric_name="a")])
    assert (d.trial_indices, d.metric_names) == ([2, 0], ["b", "a"])


def test_filter_keeps_rows_of_the_given_trials() -> None:
    d = Data([row(0, mean=1.0), row(1, mean=2.0), row(2, mean=3.0), row(0, mean=4.0)])
    assert d.filter([0, 2]).columns["mean"] == [1.0, 3.0, 4.0]


def test_split_by_trial_groups_rows_in_order() -> None:
    d = Data([row(0, mean=1.0), row(1, mean=2.0), row(0, mean=3.0)])
    parts = d.split_by_trial()
    assert list(parts) == [0, 1]
    assert (parts[0].columns["mean"], parts[1].columns["mean"]) == ([1.0, 3.0], [2.0])


def test_split_by_trial_keeps_optional_columns() -> None:
    d = Data([row(0, n=3, start_time=NAIVE), row(1)])
    assert d.split_by_trial()[0].to_records() == Data([row(0, n=3, start_time=NAIVE)]).to_records()


def test_split_by_trial_is_linear_in_the_rows() -> None:
    # One scan per trial made attaching data for 10,000 trials take seconds.
    import time

    d = Data([row(i, f"{i}_0") for i in range(20_000)])
    start = time.perf_counter()
    parts = d.split_by_trial()
    assert len(parts) == 20_000
    assert time.perf_counter() - start < 1.0


def test_concat_appends_rows_in_order() -> None:
    a, b = Data([row(0, mean=1.0)]), Data([row(1, mean=2.0, n=5)])
    both = Data.concat([a, b])
    assert (both.columns["mean"], both.columns["n"]) == ([1.0, 2.0], [None, 5])


def test_from_columns_fills_missing_optional_columns() -> None:
    d = Data.from_columns(
        {"trial_index": [0], "arm_name": ["a"], "metric_name": ["m"], "mean": [1.0], "sem": [0.1]}
    )
    assert d == Data([row(0, "a", mean=1.0, sem=0.1)])


def test_from_columns_rejects_ragged_columns() -> None:
    with pytest.raises(ModelError) as excinfo:
        Data.from_columns(
            {
                "trial_index": [0, 1],
                "arm_name": ["a"],
                "metric_name": ["m", "m"],
                "mean": [1.0, 2.0],
                "sem": [0.1, 0.1],
            }
        )
    assert_model_error(excinfo, "arm_name", "1 values", "expected 2")


# --- equality -------------------------------------------------------------------------------


def test_equal_data_compare_equal_with_nan() -> None:
    assert Data([row(mean=math.nan, sem=float("nan"))]) == Data(
        [row(mean=float("nan"), sem=math.nan)]
    )


@pytest.mark.parametrize(
    "change",
    [
        {"mean": 1.6},
        {"sem": math.nan},
        {"arm_name": "x"},
        {"n": 3},
        {"start_time": NAIVE},
        {"trial_index": 1},
    ],
    ids=lambda c: next(iter(c)),
)
def test_data_differing_in_one_value_are_unequal(change: dict[str, Any]) -> None:
    assert Data([row()]) != Data([row(**change)])


def test_naive_and_aware_times_are_unequal() -> None:
    assert Data([row(start_time=NAIVE)]) != Data([row(start_time=NAIVE.replace(tzinfo=UTC))])


def test_row_order_matters() -> None:
    assert Data([row(0), row(1)]) != Data([row(1), row(0)])


def test_data_is_not_equal_to_its_records() -> None:
    d = Data([row()])
    assert d != d.to_records()


def test_data_is_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Data())


# --- round trips ------------------------------------------------------------------------------

_floats = st.floats(allow_nan=True, allow_infinity=True)
_times = st.none() | st.datetimes() | st.datetimes(timezones=st.just(UTC))
_records = st.lists(
    st.fixed_dictionaries(
        {
            "trial_index": st.integers(0, 5),
            "arm_name": st.text(max_size=5),
            "metric_name": st.text(max_size=5),
            "mean": _floats | st.integers(-100, 100) | st.none(),
            "sem": _floats | st.none(),
        },
        optional={"n": st.none() | st.integers(0, 10**6), "start_time": _times, "end_time": _times},
    ),
    max_size=12,
)


@given(_records)
def test_records_round_trip(records: list[dict[str, Any]]) -> None:
    data = Data(records)
    assert Data(data.to_records()) == data
    assert len(data.to_records()) == len(records)


@given(_records)
def test_concat_of_the_split_is_the_data_grouped_by_trial(records: list[dict[str, Any]]) -> None:
    data = Data(records)
    regrouped = Data.concat(data.split_by_trial().values())
    assert len(regrouped) == len(data)
    assert regrouped == Data(
        sorted(data.to_records(), key=lambda r: data.trial_indices.index(r["trial_index"]))
    )


DF_CASES = {
    "required-only": [row(0, mean=math.nan), row(1, "1_0", mean=-math.inf)],
    "n-everywhere": [row(n=3), row(1, n=4)],
    "n-with-gaps": [row(n=3), row(1)],
    "naive-times": [row(start_time=NAIVE, end_time=NAIVE + timedelta(hours=1)), row(1)],
    "utc-times": [row(start_time=AWARE, end_time=AWARE)],
    "offset-times": [
        row(
            start_time=datetime(
                2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5, minutes=30))
            )
        )
    ],
    "mixed-awareness": [row(start_time=AWARE), row(1, start_time=NAIVE)],
    "empty": [],
}


@pytest.mark.parametrize("records", list(DF_CASES.values()), ids=list(DF_CASES))
def test_dataframe_round_trip(records: list[dict[str, Any]]) -> None:
    data = Data(records)
    df = data.to_df()
    assert isinstance(df, pd.DataFrame) and len(df) == len(records)
    assert Data.from_df(df) == data


def test_to_df_has_only_the_present_columns() -> None:
    assert list(Data([row(n=1)]).to_df().columns) == [
        "trial_index",
        "arm_name",
        "metric_name",
        "mean",
        "sem",
        "n",
    ]


def test_from_df_ignores_extra_columns() -> None:
    df = Data([row()]).to_df()
    df["notes"] = ["hi"]
    assert Data.from_df(df) == Data([row()])


def test_data_works_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    data = Data([row()])
    assert data.to_records() == [row()]
    with pytest.raises(ModelError) as excinfo:
        data.to_df()
    assert_model_error(excinfo, "pandas")


def test_importing_data_does_not_import_pandas() -> None:
    code = "import sys, aestore.core.data; print('pandas' in sys.modules)"
    root = Path(aestore.__file__).parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"


def test_attached_data_is_a_copy_the_caller_cannot_change() -> None:
    from aestore.samples import make_experiment

    experiment = make_experiment(num_trials=1)
    name = experiment.trials[0].arms[0].name
    data = Data([{"trial_index": 0, "arm_name": name, "metric_name": "m", "mean": 1.0, "sem": 0.1}])
    experiment.attach_data(data)
    data.columns["mean"][0] = 99.0
    assert experiment.lookup_data([0]).to_records()[0]["mean"] == 1.0
