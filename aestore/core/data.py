"""Observed data: one row per (trial, arm, metric), stored column by column."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from aestore.core.base import Base, values_equal
from aestore.exceptions import ModelError

__all__ = ["DATA_COLUMNS", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "Data"]

REQUIRED_COLUMNS: tuple[str, ...] = ("trial_index", "arm_name", "metric_name", "mean", "sem")
OPTIONAL_COLUMNS: tuple[str, ...] = ("n", "start_time", "end_time")
DATA_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


def _as_float(value: Any, column: str, row: int) -> float:
    """Means and sems are floats; None (unknown) becomes NaN."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise ModelError(f"Data row {row}: {column} must be a number, got {value!r}.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ModelError(f"Data row {row}: {column} must be a number, got {value!r}.") from None


def _as_int(value: Any, column: str, row: int) -> int:
    """Trial indices and counts are ints; integral floats (pandas fills gaps so) are accepted."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        as_int = None if isinstance(value, bool) else int(value)
    except (TypeError, ValueError, OverflowError):  # "x", None, NaN, inf
        as_int = None
    if as_int is None or as_int != value:  # 2.5 must not silently become 2
        raise ModelError(f"Data row {row}: {column} must be an int, got {value!r}.")
    return as_int


class Data(Base):
    """Observations: ``trial_index, arm_name, metric_name, mean, sem`` (+ ``n``, times).

    Rows are kept column by column (plain lists, no pandas). A NaN ``sem`` means the noise is
    unknown, which is normal.

    Example:
        >>> d = Data([{"trial_index": 0, "arm_name": "0_0", "metric_name": "m",
        ...            "mean": 1.5, "sem": float("nan")}])
        >>> len(d), d.to_records()[0]["mean"]
        (1, 1.5)
    """

    # Attached data is copied on attach and never changed in place: not tracked.
    _ae_track: ClassVar[bool] = False
    # Nothing to adopt or report: plain attribute sets (Base's would only cost time).
    __setattr__ = object.__setattr__  # type: ignore[assignment]
    __delattr__ = object.__delattr__

    _repr_fields: ClassVar[tuple[str, ...]] = ("num_rows", "trial_indices")

    def __init__(self, records: Iterable[Mapping[str, Any]] | None = None) -> None:
        self.columns: dict[str, list[Any]] = {c: [] for c in DATA_COLUMNS}
        for row, record in enumerate(records or ()):
            self._append(record, row)

    def _append(self, record: Mapping[str, Any], row: int) -> None:
        missing = [c for c in REQUIRED_COLUMNS if c not in record]
        if missing:
            raise ModelError(f"Data row {row} lacks the columns {missing}.")
        unknown = [k for k in record if k not in DATA_COLUMNS]
        if unknown:
            raise ModelError(
                f"Data row {row} has unknown columns {unknown}; allowed: {DATA_COLUMNS}."
            )
        trial_index = _as_int(record["trial_index"], "trial_index", row)
        n = record.get("n")
        if n is not None:
            n = _as_int(n, "n", row)
        for column in ("arm_name", "metric_name"):
            if not isinstance(record[column], str):
                raise ModelError(
                    f"Data row {row}: {column} must be a string, got {record[column]!r}."
                )
        for column in ("start_time", "end_time"):
            value = record.get(column)
            if value is not None and not isinstance(value, datetime):
                raise ModelError(f"Data row {row}: {column} must be a datetime, got {value!r}.")
        cols = self.columns
        cols["trial_index"].append(trial_index)
        cols["arm_name"].append(str(record["arm_name"]))  # str() drops numpy's str_
        cols["metric_name"].append(str(record["metric_name"]))
        cols["mean"].append(_as_float(record["mean"], "mean", row))
        cols["sem"].append(_as_float(record["sem"], "sem", row))
        cols["n"].append(n)
        cols["start_time"].append(record.get("start_time"))
        cols["end_time"].append(record.get("end_time"))

    @classmethod
    def from_columns(cls, columns: Mapping[str, list[Any]]) -> Data:
        """Build Data from whole columns (trusted input, e.g. a storage decoder).

        Example:
            >>> Data.from_columns({"trial_index": [0], "arm_name": ["0_0"],
            ...     "metric_name": ["m"], "mean": [1.0], "sem": [0.1]}).num_rows
            1
        """
        data = cls()
        size = len(columns["trial_index"])
        for column in DATA_COLUMNS:
            values = list(columns.get(column) or [None] * size)
            if len(values) != size:
                raise ModelError(f"Data column {column} has {len(values)} values, expected {size}.")
            data.columns[column] = values
        return data

    @property
    def num_rows(self) -> int:
        """How many observations the data holds."""
        return len(self.columns["trial_index"])

    def __len__(self) -> int:
        return self.num_rows

    @property
    def trial_indices(self) -> list[int]:
        """Distinct trial indices, in order of first appearance."""
        return list(dict.fromkeys(self.columns["trial_index"]))

    @property
    def metric_names(self) -> list[str]:
        """Distinct metric names, in order of first appearance."""
        return list(dict.fromkeys(self.columns["metric_name"]))

    def _present_columns(self) -> list[str]:
        return [
            c
            for c in DATA_COLUMNS
            if c in REQUIRED_COLUMNS or any(v is not None for v in self.columns[c])
        ]

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as dicts (optional columns only where the data has them)."""
        present = self._present_columns()
        return [
            dict(zip(present, values, strict=True))
            for values in zip(*(self.columns[c] for c in present), strict=True)
        ]

    def filter(self, trial_indices: Iterable[int]) -> Data:
        """The rows whose trial index is in ``trial_indices``."""
        wanted = set(trial_indices)
        keep = [i for i, t in enumerate(self.columns["trial_index"]) if t in wanted]
        return Data.from_columns({c: [v[i] for i in keep] for c, v in self.columns.items()})

    def split_by_trial(self) -> dict[int, Data]:
        """One Data per trial index."""
        rows_by_trial: dict[int, list[int]] = {}
        for row, trial_index in enumerate(self.columns["trial_index"]):
            rows_by_trial.setdefault(trial_index, []).append(row)
        if len(rows_by_trial) == 1:
            # A copy, not self: an experiment keeps its own attached data, so a caller reusing
            # its Data object afterwards cannot change what was attached (or stored).
            clone = copy.copy(self)
            clone.columns = {c: list(v) for c, v in self.columns.items()}
            return {next(iter(rows_by_trial)): clone}
        # One pass over the rows, not one per trial: attaching data for 10,000 trials at once
        # must not cost 10,000 scans.
        return {
            trial_index: Data.from_columns(
                {c: [values[i] for i in rows] for c, values in self.columns.items()}
            )
            for trial_index, rows in rows_by_trial.items()
        }

    @classmethod
    def concat(cls, parts: Iterable[Data]) -> Data:
        """All rows of ``parts``, in order."""
        out = cls()
        for part in parts:
            for column, values in part.columns.items():
                out.columns[column].extend(values)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Data):
            return False
        return values_equal(self.columns, other.columns)

    __hash__ = None

    @classmethod
    def from_df(cls, df: Any) -> Data:
        """Build Data from a pandas DataFrame with the data columns (pandas needed).

        Example:
            >>> # Data.from_df(pd.DataFrame({"trial_index": [0], ...}))
        """
        records = df.to_dict(orient="records")
        clean = []
        for record in records:
            row = {k: v for k, v in record.items() if k in DATA_COLUMNS}
            for column in OPTIONAL_COLUMNS:
                value = row.get(column)
                if value is not None and value != value:  # pandas fills gaps with NaN/NaT
                    row[column] = None
                elif column != "n" and value is not None and hasattr(value, "to_pydatetime"):
                    row[column] = value.to_pydatetime()
            clean.append(row)
        return cls(clean)

    def to_df(self) -> Any:
        """The rows as a pandas DataFrame (pandas must be installed).

        Example:
            >>> # Data(...).to_df().columns[:3]
        """
        try:
            import pandas as pd
        except ImportError as err:  # pandas is optional
            raise ModelError("Data.to_df() needs pandas: pip install 'aestore[pandas]'.") from err
        return pd.DataFrame({c: self.columns[c] for c in self._present_columns()})
