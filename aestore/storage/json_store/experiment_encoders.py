"""Encoding of the experiment (the whole document) and of its data.

Nested model objects are left in the dicts for the encoder to recurse into (see
:mod:`.encoders`). The experiment's data is written as one columnar log (see
:func:`_data_by_trial`), which :mod:`.experiment_decoders` cuts back into Data objects.
"""

from __future__ import annotations

from functools import reduce
from operator import iadd
from typing import Any

from aestore.core import Arm, Data, Experiment, Trial
from aestore.core.data import DATA_COLUMNS
from aestore.core.experiment import held_arms
from aestore.exceptions import (
    JSONEncodeError,
    arm_conflict_message,
    data_without_trial_message,
)
from aestore.storage.json_store.format import (
    FORMAT_VERSION,
    safe_column,
    to_json_safe,
    typed_datetime,
)

__all__ = ["data_to_dict", "experiment_to_dict"]


def experiment_to_dict(experiment: Experiment) -> dict[str, Any]:
    """The experiment's fields, with ``format_version``; this dict is the whole document.

    ``trials`` is a list (each trial carries its index), ``data_by_trial`` every attachment
    of data in one columnar log (see :func:`_data_by_trial`) and ``other_arms`` lists the arms
    the experiment knows by name that no trial or status quo holds (usually none).

    Example:
        >>> from aestore.samples import make_empty_experiment
        >>> d = experiment_to_dict(make_empty_experiment())
        >>> d["__type"], d["format_version"], d["trials"]
        ('Experiment', 1, [])

    Raises JSONEncodeError when ``data_by_trial`` holds data of a trial that ``trials`` lacks
    (the document could not be loaded).
    """
    orphans = experiment.data_without_trial()
    if orphans:
        raise JSONEncodeError(
            data_without_trial_message(experiment.name, orphans), path="data_by_trial"
        )
    return {
        "__type": "Experiment",
        "format_version": FORMAT_VERSION,
        "name": experiment.name,
        "description": experiment.description,
        "experiment_type": experiment.experiment_type,
        "is_test": experiment.is_test,
        "time_created": typed_datetime(experiment.time_created),
        "properties": to_json_safe(experiment.properties),
        "search_space": experiment.search_space,
        "optimization_config": experiment.optimization_config,
        "tracking_metrics": list(experiment.tracking_metrics.values()),
        "runner": experiment.runner,
        "status_quo": experiment.status_quo,
        "trials": list(experiment.trials.values()),
        "data_by_trial": _data_by_trial(experiment.data_by_trial),
        "other_arms": _other_arms(experiment),
    }


def _data_by_trial(data_by_trial: dict[int, dict[int, Data]]) -> dict[str, Any] | list[Any]:
    """Every attachment of data, as one columnar log::

        {"trial_index": [...], "timestamp": [...], "num_rows": [...],   # one per attachment
         "columns": {"trial_index": [...], "arm_name": [...], ...}}      # all rows, in order

    in attachment order (trial by trial, then by time stamp). Columns are written as by
    :func:`data_to_dict`. Writing the rows of thousands of small Data objects as one block
    costs a few C-level list operations per column instead of a dict per attachment, and
    reads back as slices. Data of a subclass, or with columns of its own, is written the
    plain way instead: ``[[trial_index, [[timestamp, Data], ...]], ...]``.
    """
    trial_indices: list[int] = []
    stamps: list[int] = []
    parts: list[dict[str, list[Any]]] = []
    for trial_index, history in data_by_trial.items():
        for stamp, data in history.items():
            if type(data) is not Data or len(data.columns) != _NUM_DATA_COLUMNS:
                return _data_by_trial_as_objects(data_by_trial)
            trial_indices.append(trial_index)
            stamps.append(stamp)
            parts.append(data.columns)
    sizes = [len(columns["trial_index"]) for columns in parts]
    log: dict[str, list[Any]] = {}
    try:
        for name in DATA_COLUMNS:
            pieces = [columns[name] for columns in parts]
            if list(map(len, pieces)) != sizes:  # a Data whose columns disagree in length
                return _data_by_trial_as_objects(data_by_trial)
            # (extending one list costs less than chain.from_iterable's iterator per piece)
            log[name] = reduce(iadd, pieces, [])
    except KeyError:  # a Data missing a column
        return _data_by_trial_as_objects(data_by_trial)
    return {
        "trial_index": trial_indices,
        "timestamp": stamps,
        "num_rows": sizes,
        "columns": _safe_data_columns(log),
    }


def _data_by_trial_as_objects(data_by_trial: dict[int, dict[int, Data]]) -> list[Any]:
    return [
        [trial_index, [[stamp, data] for stamp, data in history.items()]]
        for trial_index, history in data_by_trial.items()
    ]


def _other_arms(experiment: Experiment) -> list[Arm]:
    """Arms in ``arms_by_name`` that neither a trial nor the status quo holds.

    Checks on the way that the arms held are the ones their names stand for: raises
    JSONEncodeError (before anything is written) for an arm held without a name, or two arms
    held under one name with different parameters, which a document can't hold (it would
    not load, or would load other arms than the experiment has).
    """
    arms_by_name = experiment.arms_by_name
    known_arm = arms_by_name.get
    known: set[str | None] = set()
    add = known.add
    # Names of held arms that are not the object their name stands for (an equal copy,
    # usually): checked below.
    suspects: set[str | None] = set()
    status_quo = experiment.status_quo
    if status_quo is not None:
        add(name := status_quo._name)
        if known_arm(name) is not status_quo:  # type: ignore[arg-type]
            suspects.add(name)
    for trial in experiment.trials.values():
        if type(trial) is Trial:
            generator_run = trial.generator_run
            arms = () if generator_run is None else generator_run.arms
        else:
            arms = held_arms(trial)
        for arm in arms:
            add(name := arm._name)
            if known_arm(name) is not arm:  # type: ignore[arg-type]
                suspects.add(name)
    if suspects:
        conflict = experiment.arm_name_conflict(suspects)
        if conflict is not None:
            raise JSONEncodeError(arm_conflict_message(experiment.name, conflict))
    if not arms_by_name.keys() - known:
        return []
    return [arm for name, arm in arms_by_name.items() if name not in known]


# --- data ----------------------------------------------------------------------------------


def data_to_dict(data: Data) -> dict[str, Any]:
    """Data column by column; optional columns that hold only None are left out.

    Means and sems are tagged only when a column has a non-finite value; the other columns
    hold what the :class:`~aestore.core.data.Data` constructor guarantees (ints, strings,
    datetimes, None) and are written as they are.

    Example:
        >>> data_to_dict(Data([{"trial_index": 0, "arm_name": "0_0", "metric_name": "m",
        ...                     "mean": 1.0, "sem": float("nan")}]))["columns"]["sem"]
        [{'__type': 'float', 'value': 'nan'}]
    """
    return {"__type": "Data", "columns": _safe_data_columns(data.columns)}


def _safe_data_columns(columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
    out = {
        "trial_index": columns["trial_index"],
        "arm_name": columns["arm_name"],
        "metric_name": columns["metric_name"],
        "mean": safe_column(columns["mean"]),
        "sem": safe_column(columns["sem"]),
    }
    for name in _OPTIONAL_DATA_COLUMNS:
        values = columns[name]
        if values.count(None) != len(values):
            out[name] = values if name == "n" else [typed_datetime(v) for v in values]
    if len(columns) != _NUM_DATA_COLUMNS:  # columns a user added by hand
        for name, values in columns.items():
            if name not in _DATA_COLUMN_NAMES:
                out[name] = to_json_safe(values)
    return out


_OPTIONAL_DATA_COLUMNS = ("n", "start_time", "end_time")
_DATA_COLUMN_NAMES = frozenset(DATA_COLUMNS)
_NUM_DATA_COLUMNS = len(DATA_COLUMNS)
