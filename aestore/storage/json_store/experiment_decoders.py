"""Decoding of the experiment: its fields, its trials re-linked to it, and its data.

:func:`experiment_from_json` checks the format version, builds the experiment through its
constructor, then adds the decoded trials (each re-linked, its arms stored by name) and the
data: the columnar log of :func:`~.experiment_encoders.experiment_to_dict`, or (for Data of a
subclass or with columns of its own) its plain list of ``[trial_index, [[timestamp, Data],
...]]``. :func:`data_from_json` rebuilds one Data.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aestore._gc import gc_step
from aestore._steps import Steps, run_steps
from aestore.core import Arm, Data, Experiment, Metric, OptimizationConfig, SearchSpace, Trial
from aestore.core.base_trial import BaseTrial
from aestore.core.data import DATA_COLUMNS, OPTIONAL_COLUMNS
from aestore.exceptions import UnsupportedFormatVersionError
from aestore.storage.json_store.decode_fields import (
    OPTIONAL,
    DecodeFailure,
    any_object_field,
    datetime_value,
    dict_field,
    json_type,
    list_field,
    object_field,
    objects_field,
    str_or_none,
)
from aestore.storage.json_store.format import FORMAT_VERSION, TYPE_KEY
from aestore.storage.json_store.trial_decoders import trial_tree_from_json

if TYPE_CHECKING:
    from aestore.storage.json_store.decoder import DecodeContext

__all__ = ["STEP_OBJECTS", "data_from_json", "experiment_from_json", "experiment_steps"]


def experiment_from_json(d: dict[str, Any], ctx: DecodeContext) -> Experiment:
    """The experiment, with its trials re-linked and its arm indexes rebuilt.

    Trials get ``_experiment`` set to the new experiment; ``arms_by_name`` (and the signature
    index) are rebuilt the way the model builds them: status quo, then every trial's arms in
    trial order, then ``other_arms``.
    """
    return run_steps(experiment_steps(d, ctx))


def experiment_steps(d: dict[str, Any], ctx: DecodeContext) -> Steps[Experiment]:
    """:func:`experiment_from_json` in steps (see :mod:`aestore._steps`): it yields every
    :data:`STEP_OBJECTS` trials and data attachments, so a load can let the event loop run.
    """
    version = d["format_version"]
    if type(version) is not int or version < 1:
        raise DecodeFailure(f"{version!r} is not a format version", "format_version")
    if version > FORMAT_VERSION:
        raise DecodeFailure(
            f"The document has format version {version}, newer than the {FORMAT_VERSION} this "
            "aestore reads; upgrade aestore to load it",
            "format_version",
            error_class=UnsupportedFormatVersionError,
        )
    experiment = Experiment(
        object_field(d, "search_space", SearchSpace, ctx),
        name=str_or_none(d["name"], "name"),
        optimization_config=object_field(
            d, "optimization_config", (OptimizationConfig, OPTIONAL), ctx
        ),
        tracking_metrics=objects_field(d, "tracking_metrics", Metric, ctx),
        runner=any_object_field(d, "runner", ctx),  # the model takes any runner object
        status_quo=object_field(d, "status_quo", (Arm, OPTIONAL), ctx),
        description=str_or_none(d["description"], "description"),
        is_test=d["is_test"],
        experiment_type=str_or_none(d["experiment_type"], "experiment_type"),
        properties=dict_field(d, "properties", ctx),
    )
    experiment.time_created = datetime_value(d["time_created"], "time_created", ctx)  # type: ignore[assignment]
    yield from _add_trials(experiment, list_field(d, "trials"), ctx)
    if type(d["data_by_trial"]) is dict:
        yield from _add_data_log(experiment, d["data_by_trial"], ctx)
    else:
        yield from _add_data(experiment, list_field(d, "data_by_trial"), ctx)
    experiment._name_and_store_arms(objects_field(d, "other_arms", Arm, ctx), trial_index=None)
    return experiment


# Trials (or data attachments) decoded between two collections of the young generations
# (``gc_step``): the collector is paused while a document is decoded, and left alone the
# first collection after it would walk every object made, in one call holding the GIL
# (~25 ms at 10,000 trials, a gap in the event loop).
GC_STEP_OBJECTS = 1_000
# Trials (or data attachments) decoded between two yields of the steps: ~1 ms of work.
STEP_OBJECTS = 100


def _add_trials(experiment: Experiment, trials: list[Any], ctx: DecodeContext) -> Steps[None]:
    store_arms = experiment._name_and_store_arms
    arms_by_name = experiment.arms_by_name
    by_index = experiment.trials
    value = ctx.value
    collect_every = GC_STEP_OBJECTS
    yield_every = STEP_OBJECTS
    last = len(trials) - 1
    # Single-arm trials go straight to their decoder (when it is the model's own), without
    # the context's dispatch; a failure is reported as the dispatch would.
    direct = ctx.decoder("Trial") is trial_tree_from_json
    for position, raw in enumerate(trials):
        if position % yield_every == yield_every - 1 and position != last:
            yield None
        if position % collect_every == collect_every - 1 and position != last:
            gc_step()
        if direct and type(raw) is dict and raw.get(TYPE_KEY) == "Trial":
            try:
                trial = trial_tree_from_json(raw, ctx)
            except Exception as err:
                raise ctx.failure("Trial", raw, err)  # noqa: B904 (as ctx.value(raw) would)
        else:
            trial = value(raw)
        if type(trial) is not Trial and not isinstance(trial, BaseTrial):  # (an ABC: slow)
            raise DecodeFailure(f"expected a trial, got {json_type(trial)}", "trials", position)
        index = trial.index
        if index in by_index:
            raise DecodeFailure(f"a second trial with index {index}", "trials", position)
        trial.__dict__["_experiment"] = experiment  # a back reference: nothing to track
        # A new experiment being decoded: nothing has read its journal yet, no need to note.
        dict.__setitem__(by_index, index, trial)
        try:
            if type(trial) is Trial:
                run = trial.generator_run
                if run is None:
                    continue
                arms = run.arms
                # The common case, a single named arm seen for the first time (and no
                # signature index to keep up to date yet), costs one dict store; any other
                # goes through the model's own bookkeeping.
                if (
                    len(arms) == 1
                    and type(arm := arms[0]) is Arm
                    and (name := arm._name) is not None
                    and name not in arms_by_name
                    and experiment._arms_by_signature is None
                ):
                    arms_by_name[name] = arm
                else:
                    store_arms(arms, index)
            else:
                for generator_run in trial.generator_runs:
                    store_arms(generator_run.arms, index)
                status_quo = getattr(trial, "status_quo", None)
                if status_quo is not None:
                    store_arms([status_quo], index)
        except Exception as err:
            raise DecodeFailure(
                f"its arms do not fit the experiment: {err}", "trials", position
            ) from err


def _add_data_log(experiment: Experiment, log: dict[str, Any], ctx: DecodeContext) -> Steps[None]:
    """Cut the columnar data log into one Data per attachment.

    The log is written by ``experiment_encoders._data_by_trial``.
    """
    trial_indices = list_field(log, "trial_index")
    stamps = list_field(log, "timestamp")
    sizes = list_field(log, "num_rows")
    for field, values in (
        ("trial_index", trial_indices),
        ("timestamp", stamps),
        ("num_rows", sizes),
    ):
        if len(values) != len(trial_indices) or not _INT.issuperset(map(type, values)):
            raise DecodeFailure(
                "expected a list of integers, one per attachment", "data_by_trial", field
            )
    if not experiment.trials.keys() >= set(trial_indices):
        missing = sorted(set(trial_indices) - experiment.trials.keys())
        raise DecodeFailure(f"no trial with index {missing[0]}", "data_by_trial", "trial_index")
    try:
        columns = _columns_from_json(log, ctx)
    except DecodeFailure as failure:
        failure.segments = ("data_by_trial", *failure.segments)
        raise
    if min(sizes, default=0) < 0 or sum(sizes) != len(columns["trial_index"]):
        raise DecodeFailure(
            f"the attachments hold {sum(sizes)} rows, the columns {len(columns['trial_index'])}",
            "data_by_trial",
            "num_rows",
        )
    (trial_index, arm_name, metric_name, mean, sem, n, start_time, end_time) = (
        columns[name] for name in DATA_COLUMNS
    )
    data_by_trial = experiment.data_by_trial
    start = 0
    collect_every = GC_STEP_OBJECTS
    yield_every = STEP_OBJECTS
    last = len(sizes) - 1
    for position, (index, stamp, size) in enumerate(zip(trial_indices, stamps, sizes, strict=True)):
        if position % yield_every == yield_every - 1 and position != last:
            yield None
        if position % collect_every == collect_every - 1 and position != last:
            gc_step()
        end = start + size
        data = Data.__new__(Data)
        data.columns = {
            "trial_index": trial_index[start:end],
            "arm_name": arm_name[start:end],
            "metric_name": metric_name[start:end],
            "mean": mean[start:end],
            "sem": sem[start:end],
            "n": n[start:end],
            "start_time": start_time[start:end],
            "end_time": end_time[start:end],
        }
        history = data_by_trial.get(index)
        if history is None:
            history = data_by_trial[index] = {}
        history[stamp] = data
        start = end


_INT = frozenset({int})


def _add_data(experiment: Experiment, entries: list[Any], ctx: DecodeContext) -> Steps[None]:
    data_by_trial = experiment.data_by_trial
    trials = experiment.trials
    value = ctx.value
    yield_every = STEP_OBJECTS
    for position, entry in enumerate(entries):
        if position % yield_every == yield_every - 1:
            yield None
        if type(entry) is not list or len(entry) != 2 or type(entry[1]) is not list:
            raise DecodeFailure(
                "expected [trial_index, [[timestamp, data], ...]]", "data_by_trial", position
            )
        trial_index, history = entry
        if type(trial_index) is not int or trial_index not in trials:
            raise DecodeFailure(
                f"no trial with index {trial_index!r}", "data_by_trial", position, 0
            )
        attachments = {}
        for number, pair in enumerate(history):
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not int:
                raise DecodeFailure(
                    "expected a [timestamp in microseconds, Data] pair",
                    "data_by_trial",
                    position,
                    1,
                    number,
                )
            data = value(pair[1])
            if not isinstance(data, Data):
                raise DecodeFailure(
                    f"expected a Data, got {json_type(data)}",
                    "data_by_trial",
                    position,
                    1,
                    number,
                    1,
                )
            attachments[pair[0]] = data
        data_by_trial[trial_index] = attachments


# --- data ----------------------------------------------------------------------------------


def data_from_json(d: dict[str, Any], ctx: DecodeContext) -> Data:
    """Data from its columns; optional columns left out are all None."""
    data = Data.__new__(Data)
    data.columns = _columns_from_json(d, ctx)
    return data


def _columns_from_json(d: dict[str, Any], ctx: DecodeContext) -> dict[str, list[Any]]:
    """The decoded columns in ``d["columns"]`` (failures are relative to ``d``)."""
    stored = d["columns"]
    if type(stored) is not dict:
        raise DecodeFailure(f"expected an object, got {json_type(stored)}", "columns")
    get = stored.get
    trial_index: Any
    arm_name: Any
    metric_name: Any
    mean: Any
    sem: Any
    n: Any
    start_time: Any
    end_time: Any
    trial_index, arm_name, metric_name = get("trial_index"), get("arm_name"), get("metric_name")
    mean, sem = get("mean"), get("sem")
    n, start_time, end_time = get("n"), get("start_time"), get("end_time")
    size = len(trial_index) if type(trial_index) is list else -1
    if not (
        type(arm_name) is list
        and type(metric_name) is list
        and type(mean) is list
        and type(sem) is list
        and len(arm_name) == len(metric_name) == len(mean) == len(sem) == size
        and (n is None or (type(n) is list and len(n) == size))
        and (start_time is None or (type(start_time) is list and len(start_time) == size))
        and (end_time is None or (type(end_time) is list and len(end_time) == size))
    ):
        _check_columns(stored, size)
    columns: dict[str, Any] = {
        "trial_index": trial_index,
        "arm_name": arm_name,
        "metric_name": metric_name,
        "mean": _floats(mean, ctx),
        "sem": _floats(sem, ctx),
        "n": [None] * size if n is None else n,
        "start_time": [None] * size if start_time is None else _times(start_time, ctx),
        "end_time": [None] * size if end_time is None else _times(end_time, ctx),
    }
    if not _DATA_COLUMN_NAMES.issuperset(stored):
        for name, values in stored.items():
            if name not in columns:  # a column a user added to the Data by hand
                columns[name] = ctx.value(values)
    return columns


_DATA_COLUMN_NAMES = frozenset(DATA_COLUMNS)


def _check_columns(stored: dict[str, Any], size: int) -> None:
    """Raise DecodeFailure for the first column that is not a list of ``size`` values."""
    for name in DATA_COLUMNS:
        values = stored.get(name)
        if values is None and name in OPTIONAL_COLUMNS:
            continue
        if type(values) is not list or len(values) != size:
            raise DecodeFailure(
                f"expected a list of as many values as trial_index has, got {json_type(values)}",
                "columns",
                name,
            )


def _floats(values: list[Any], ctx: DecodeContext) -> list[Any]:
    """A mean or sem column: its tagged non-finite floats decoded (most columns have none)."""
    for item in values:
        if type(item) is dict:
            return ctx.value(values)
    return values


def _times(values: list[Any], ctx: DecodeContext) -> list[datetime | None]:
    fromisoformat = datetime.fromisoformat
    return [
        None if v is None else fromisoformat(v) if type(v) is str else datetime_value(v, "", ctx)
        for v in values
    ]
