"""``*_from_json`` functions: one per model class, the inverse of :mod:`.encoders`.

Each takes the object's JSON dict (values still raw: nested objects are dicts) and the
:class:`~.decoder.DecodeContext`, which decodes nested values and records where a failure
happened. Configuration objects (search space, metrics, objectives, ...) are rebuilt through
their constructors, which validate them. The per-trial objects (trials, generator runs, arms,
data) are rebuilt without ``__init__``: it would stamp new creation times and re-run checks
whose results are stored, and there are many of them. The experiment re-links its trials
(see :func:`experiment_from_json`).

A function raises :class:`DecodeFailure` (or any exception, which the context translates)
when the dict cannot be a valid object.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from aestore.core import (
    AbandonedArm,
    Arm,
    BatchTrial,
    ChoiceParameter,
    ComparisonOp,
    Data,
    Experiment,
    FixedParameter,
    GeneratorRun,
    GeneratorRunStruct,
    Metric,
    MultiObjective,
    MultiObjectiveOptimizationConfig,
    Objective,
    ObjectiveThreshold,
    OptimizationConfig,
    OrderConstraint,
    OutcomeConstraint,
    Parameter,
    ParameterConstraint,
    ParameterType,
    RangeParameter,
    Runner,
    ScalarizedObjective,
    SearchSpace,
    SumConstraint,
    Trial,
    TrialStatus,
)
from aestore.core.base_trial import BaseTrial
from aestore.core.data import DATA_COLUMNS, OPTIONAL_COLUMNS
from aestore.exceptions import JSONDecodeError, UnsupportedFormatVersionError
from aestore.storage.json_store.format import FORMAT_VERSION, TYPE_KEY

if TYPE_CHECKING:
    from aestore.storage.json_store.decoder import DecodeContext

__all__ = ["CORE_DECODERS", "DecodeFailure"]

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


# --- field helpers -------------------------------------------------------------------------


def _enum(cls: type[_E], name: Any, field: str) -> _E:
    try:
        return cls[name]
    except (KeyError, TypeError):
        names = ", ".join(m.name for m in cls)
        raise DecodeFailure(f"{name!r} is not a {cls.__name__} (one of {names})", field) from None


def _datetime(value: Any, field: str, ctx: DecodeContext) -> datetime | None:
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
        raise DecodeFailure(f"expected a date and time, got {_json_type(value)}", field)
    return decoded


def _list(d: dict[str, Any], field: str) -> list[Any]:
    value = d[field]
    if type(value) is not list:
        raise DecodeFailure(f"expected a list, got {_json_type(value)}", field)
    return value


def _dict(d: dict[str, Any], field: str, ctx: DecodeContext) -> dict[Any, Any]:
    """A free-form dict field, decoded (a flat dict of plain values is returned as it is)."""
    value = d[field]
    if type(value) is not dict:
        raise DecodeFailure(f"expected an object, got {_json_type(value)}", field)
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


def _str_or_none(value: Any, field: str) -> str | None:
    if value is not None and type(value) is not str:
        raise DecodeFailure(f"expected a string or null, got {_json_type(value)}", field)
    return value


def _json_type(value: Any) -> str:
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


def _object(d: dict[str, Any], field: str, cls: type | tuple[type, ...], ctx: DecodeContext) -> Any:
    """The object in field ``field``, which must be an instance of ``cls``."""
    value = d[field]
    decoded = None if value is None else ctx.value(value)
    if not isinstance(decoded, cls):
        classes = (cls,) if isinstance(cls, type) else cls
        names = " or ".join("null" if c is _OPTIONAL else f"a {c.__name__}" for c in classes)
        raise DecodeFailure(f"expected {names}, got {_json_type(decoded)}", field)
    return decoded


def _any_object(d: dict[str, Any], field: str, ctx: DecodeContext) -> Any:
    """The object in field ``field`` (or None), whatever its class."""
    value = d[field]
    if value is not None and (type(value) is not dict or TYPE_KEY not in value):
        raise DecodeFailure(f"expected an object or null, got {_json_type(value)}", field)
    return None if value is None else ctx.value(value)


def _objects(d: dict[str, Any], field: str, cls: type, ctx: DecodeContext) -> list[Any]:
    """The list of objects in field ``field``, each an instance of ``cls``."""
    value = ctx.value
    decoded = [value(item) for item in _list(d, field)]
    for position, item in enumerate(decoded):
        if not isinstance(item, cls):
            raise DecodeFailure(
                f"expected a {cls.__name__}, got {_json_type(item)}", field, position
            )
    return decoded


_OPTIONAL = type(None)


# --- the experiment --------------------------------------------------------------------------


def experiment_from_json(d: dict[str, Any], ctx: DecodeContext) -> Experiment:
    """The experiment, with its trials re-linked and its arm indexes rebuilt.

    Trials get ``_experiment`` set to the new experiment; ``arms_by_name`` (and the signature
    index) are rebuilt the way the model builds them: status quo, then every trial's arms in
    trial order, then ``other_arms``.
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
        _object(d, "search_space", SearchSpace, ctx),
        name=_str_or_none(d["name"], "name"),
        optimization_config=_object(d, "optimization_config", (OptimizationConfig, _OPTIONAL), ctx),
        tracking_metrics=_objects(d, "tracking_metrics", Metric, ctx),
        runner=_any_object(d, "runner", ctx),  # the model takes any runner object
        status_quo=_object(d, "status_quo", (Arm, _OPTIONAL), ctx),
        description=_str_or_none(d["description"], "description"),
        is_test=d["is_test"],
        experiment_type=_str_or_none(d["experiment_type"], "experiment_type"),
        properties=_dict(d, "properties", ctx),
    )
    experiment.time_created = _datetime(d["time_created"], "time_created", ctx)  # type: ignore[assignment]
    _add_trials(experiment, _list(d, "trials"), ctx)
    if type(d["data_by_trial"]) is dict:
        _add_data_log(experiment, d["data_by_trial"], ctx)
    else:
        _add_data(experiment, _list(d, "data_by_trial"), ctx)
    experiment._name_and_store_arms(_objects(d, "other_arms", Arm, ctx), trial_index=None)
    return experiment


def _add_trials(experiment: Experiment, trials: list[Any], ctx: DecodeContext) -> None:
    store_arms = experiment._name_and_store_arms
    by_index = experiment.trials
    value = ctx.value
    for position, raw in enumerate(trials):
        trial = value(raw)
        if not isinstance(trial, BaseTrial):
            raise DecodeFailure(f"expected a trial, got {_json_type(trial)}", "trials", position)
        index = trial.index
        if index in by_index:
            raise DecodeFailure(f"a second trial with index {index}", "trials", position)
        trial._experiment = experiment
        by_index[index] = trial
        try:
            if type(trial) is Trial:
                if trial.generator_run is not None:
                    store_arms(trial.generator_run.arms, index)
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


def _add_data_log(experiment: Experiment, log: dict[str, Any], ctx: DecodeContext) -> None:
    """Cut the columnar data log (see ``encoders._data_by_trial``) into one Data per attachment."""
    trial_indices = _list(log, "trial_index")
    stamps = _list(log, "timestamp")
    sizes = _list(log, "num_rows")
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
    for index, stamp, size in zip(trial_indices, stamps, sizes, strict=True):
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


def _add_data(experiment: Experiment, entries: list[Any], ctx: DecodeContext) -> None:
    data_by_trial = experiment.data_by_trial
    trials = experiment.trials
    value = ctx.value
    for position, entry in enumerate(entries):
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
                    f"expected a Data, got {_json_type(data)}",
                    "data_by_trial",
                    position,
                    1,
                    number,
                    1,
                )
            attachments[pair[0]] = data
        data_by_trial[trial_index] = attachments


# --- trials --------------------------------------------------------------------------------

_STATUSES = dict(TrialStatus.__members__)
_TRIAL_TIMES = ("time_created", "time_staged", "time_run_started", "time_completed")


def _base_trial_fields(d: dict[str, Any], ctx: DecodeContext) -> dict[str, Any]:
    status = d["status"]
    status = _STATUSES.get(status) if type(status) is str else None
    if status is None:
        status = _enum(TrialStatus, d["status"], "status")
    index = d["index"]
    if type(index) is not int:
        raise DecodeFailure(f"expected an integer, got {_json_type(index)}", "index")
    runner = d["runner"]
    fields = {
        "_experiment": None,
        "index": index,
        "trial_type": d["trial_type"],
        "ttl_seconds": d["ttl_seconds"],
        "status": status,
        "run_metadata": _dict(d, "run_metadata", ctx),
        "stop_metadata": _dict(d, "stop_metadata", ctx),
        "properties": _dict(d, "properties", ctx),
        "runner": None if runner is None else _any_object(d, "runner", ctx),
        "failed_reason": d["failed_reason"],
        "abandoned_reason": d["abandoned_reason"],
        "time_created": None,
        "time_staged": None,
        "time_run_started": None,
        "time_completed": None,
    }
    fromisoformat = datetime.fromisoformat
    for key in _TRIAL_TIMES:
        value = d[key]
        if value is not None:
            fields[key] = fromisoformat(value) if type(value) is str else _datetime(value, key, ctx)
    return fields


def trial_from_json(d: dict[str, Any], ctx: DecodeContext) -> Trial:
    """A single-arm trial (its experiment is set by the experiment's decoder)."""
    fields = _base_trial_fields(d, ctx)
    generator_run = d["generator_run"]
    if generator_run is not None:
        generator_run = ctx.value(generator_run)
        if not isinstance(generator_run, GeneratorRun):
            raise DecodeFailure(
                f"expected a GeneratorRun, got {_json_type(generator_run)}", "generator_run"
            )
    fields["generator_run"] = generator_run
    trial = Trial.__new__(Trial)
    trial.__dict__ = fields  # the decoded fields are the new object's state (no copy)
    return trial


def batch_trial_from_json(d: dict[str, Any], ctx: DecodeContext) -> BatchTrial:
    """A batch trial: generator runs with multipliers, status quo, abandoned arms."""
    fields = _base_trial_fields(d, ctx)
    fields["generator_run_structs"] = _objects(d, "generator_run_structs", GeneratorRunStruct, ctx)
    fields["abandoned_arms_metadata"] = _objects(d, "abandoned_arms", AbandonedArm, ctx)
    fields["_status_quo"] = _object(d, "status_quo", (Arm, _OPTIONAL), ctx)
    fields["_status_quo_weight"] = ctx.value(d["status_quo_weight"])
    trial = BatchTrial.__new__(BatchTrial)
    trial.__dict__ = fields  # the decoded fields are the new object's state (no copy)
    return trial


def generator_run_struct_from_json(d: dict[str, Any], ctx: DecodeContext) -> GeneratorRunStruct:
    """A batch trial's generator run with its weight multiplier."""
    return GeneratorRunStruct(
        _object(d, "generator_run", GeneratorRun, ctx), ctx.value(d["weight"])
    )


def abandoned_arm_from_json(d: dict[str, Any], ctx: DecodeContext) -> AbandonedArm:
    """An abandoned arm with its stored time (not a new one)."""
    return AbandonedArm(d["name"], time=_datetime(d["time"], "time", ctx), reason=d["reason"])


def generator_run_from_json(d: dict[str, Any], ctx: DecodeContext) -> GeneratorRun:
    """A generator run with its stored creation time; predictions come back as tuples."""
    value = ctx.value
    arms = [value(arm) for arm in _list(d, "arms")]
    for position, arm in enumerate(arms):
        if type(arm) is not Arm and not isinstance(arm, Arm):
            raise DecodeFailure(f"expected an Arm, got {_json_type(arm)}", "arms", position)
    weights = value(_list(d, "weights"))
    if len(weights) != len(arms):
        raise DecodeFailure(f"{len(arms)} arms but {len(weights)} weights", "weights")
    run_type = d["generator_run_type"]
    if run_type is not None and type(run_type) is not str:
        raise DecodeFailure(f"expected a string, got {_json_type(run_type)}", "generator_run_type")
    time_created = d["time_created"]
    containers = _CONTAINERS
    v: Any
    # Free-form values are decoded only when they are containers (tags are dicts).
    fields = {
        "arms": arms,
        "weights": weights,
        "optimization_config": None,
        "search_space": None,
        "model_predictions": value(v) if type(v := d["model_predictions"]) in containers else v,
        "best_arm_predictions": (
            value(v) if type(v := d["best_arm_predictions"]) in containers else v
        ),
        "_generator_run_type": run_type,
        "fit_time": value(v) if type(v := d["fit_time"]) in containers else v,
        "gen_time": value(v) if type(v := d["gen_time"]) in containers else v,
        "model_key": d["model_key"],
        "model_kwargs": value(v) if type(v := d["model_kwargs"]) in containers else v,
        "bridge_kwargs": value(v) if type(v := d["bridge_kwargs"]) in containers else v,
        "gen_metadata": value(v) if type(v := d["gen_metadata"]) in containers else v,
        "model_state_after_gen": (
            value(v) if type(v := d["model_state_after_gen"]) in containers else v
        ),
        "time_created": (
            datetime.fromisoformat(time_created)
            if type(time_created) is str
            else _datetime(time_created, "time_created", ctx)
        ),
        "index": d["index"],
    }
    if d["optimization_config"] is not None:
        fields["optimization_config"] = _object(d, "optimization_config", OptimizationConfig, ctx)
    if d["search_space"] is not None:
        fields["search_space"] = _object(d, "search_space", SearchSpace, ctx)
    run = GeneratorRun.__new__(GeneratorRun)
    run.__dict__ = fields
    return run


_CONTAINERS = frozenset({dict, list})


def arm_from_json(d: dict[str, Any], ctx: DecodeContext) -> Arm:
    """An arm; its parameters are whatever was stored (numbers stay int or float)."""
    name = d["name"]
    if name is not None and type(name) is not str:
        raise DecodeFailure(f"expected a string or null, got {_json_type(name)}", "name")
    arm = Arm.__new__(Arm)
    arm.parameters = _dict(d, "parameters", ctx)
    arm._name = name
    return arm


def data_from_json(d: dict[str, Any], ctx: DecodeContext) -> Data:
    """Data from its columns; optional columns left out are all None."""
    data = Data.__new__(Data)
    data.columns = _columns_from_json(d, ctx)
    return data


def _columns_from_json(d: dict[str, Any], ctx: DecodeContext) -> dict[str, list[Any]]:
    """The decoded columns in ``d["columns"]`` (failures are relative to ``d``)."""
    stored = d["columns"]
    if type(stored) is not dict:
        raise DecodeFailure(f"expected an object, got {_json_type(stored)}", "columns")
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
    for item in mean:
        if type(item) is dict:
            mean = ctx.value(mean)
            break
    for item in sem:
        if type(item) is dict:
            sem = ctx.value(sem)
            break
    columns: dict[str, Any] = {
        "trial_index": trial_index,
        "arm_name": arm_name,
        "metric_name": metric_name,
        "mean": mean,
        "sem": sem,
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
                f"expected a list of as many values as trial_index has, got {_json_type(values)}",
                "columns",
                name,
            )


def _times(values: list[Any], ctx: DecodeContext) -> list[datetime | None]:
    fromisoformat = datetime.fromisoformat
    return [
        None if v is None else fromisoformat(v) if type(v) is str else _datetime(v, "", ctx)
        for v in values
    ]


# --- search space --------------------------------------------------------------------------


def search_space_from_json(d: dict[str, Any], ctx: DecodeContext) -> SearchSpace:
    """Parameters and constraints, through the constructor (which checks them)."""
    return SearchSpace(
        _objects(d, "parameters", Parameter, ctx),
        _objects(d, "parameter_constraints", ParameterConstraint, ctx),
    )


def _parameter_common(d: dict[str, Any], ctx: DecodeContext) -> dict[str, Any]:
    return {
        "name": d["name"],
        "parameter_type": _enum(ParameterType, d["parameter_type"], "parameter_type"),
        "is_fidelity": d["is_fidelity"],
        "target_value": ctx.value(d["target_value"]),
    }


def parameter_from_json(d: dict[str, Any], ctx: DecodeContext) -> Parameter:
    """A plain parameter."""
    return Parameter(**_parameter_common(d, ctx))


def range_parameter_from_json(d: dict[str, Any], ctx: DecodeContext) -> RangeParameter:
    """A range parameter."""
    return RangeParameter(
        lower=ctx.value(d["lower"]),
        upper=ctx.value(d["upper"]),
        log_scale=d["log_scale"],
        digits=d["digits"],
        **_parameter_common(d, ctx),
    )


def choice_parameter_from_json(d: dict[str, Any], ctx: DecodeContext) -> ChoiceParameter:
    """A choice parameter."""
    return ChoiceParameter(
        values=ctx.value(_list(d, "values")),
        is_ordered=d["is_ordered"],
        is_task=d["is_task"],
        **_parameter_common(d, ctx),
    )


def fixed_parameter_from_json(d: dict[str, Any], ctx: DecodeContext) -> FixedParameter:
    """A fixed parameter."""
    return FixedParameter(value=ctx.value(d["value"]), **_parameter_common(d, ctx))


def parameter_constraint_from_json(d: dict[str, Any], ctx: DecodeContext) -> ParameterConstraint:
    """A linear parameter constraint."""
    return ParameterConstraint(_dict(d, "constraint_dict", ctx), ctx.value(d["bound"]))


def order_constraint_from_json(d: dict[str, Any], ctx: DecodeContext) -> OrderConstraint:
    """An order constraint between two parameters."""
    return OrderConstraint(
        _object(d, "lower_parameter", Parameter, ctx),
        _object(d, "upper_parameter", Parameter, ctx),
    )


def sum_constraint_from_json(d: dict[str, Any], ctx: DecodeContext) -> SumConstraint:
    """A sum constraint."""
    return SumConstraint(
        _objects(d, "parameters", Parameter, ctx),
        is_upper_bound=d["is_upper_bound"],
        bound=ctx.value(d["bound"]),
    )


# --- metrics, objectives, optimization configs -----------------------------------------------


def metric_from_json(d: dict[str, Any], ctx: DecodeContext) -> Metric:
    """A plain metric."""
    return Metric(
        d["name"], lower_is_better=d["lower_is_better"], properties=_dict(d, "properties", ctx)
    )


def runner_from_json(d: dict[str, Any], ctx: DecodeContext) -> Runner:
    """The base runner (no fields)."""
    return Runner()


def objective_from_json(d: dict[str, Any], ctx: DecodeContext) -> Objective:
    """A single objective."""
    return Objective(_object(d, "metric", Metric, ctx), minimize=d["minimize"])


def multi_objective_from_json(d: dict[str, Any], ctx: DecodeContext) -> MultiObjective:
    """Several objectives."""
    return MultiObjective(_objects(d, "objectives", Objective, ctx))


def scalarized_objective_from_json(d: dict[str, Any], ctx: DecodeContext) -> ScalarizedObjective:
    """A weighted sum of metrics."""
    return ScalarizedObjective(
        _objects(d, "metrics", Metric, ctx),
        weights=ctx.value(_list(d, "weights")),
        minimize=d["minimize"],
    )


def optimization_config_from_json(d: dict[str, Any], ctx: DecodeContext) -> OptimizationConfig:
    """An objective and outcome constraints."""
    return OptimizationConfig(
        _object(d, "objective", Objective, ctx),
        _objects(d, "outcome_constraints", OutcomeConstraint, ctx),
    )


def multi_objective_optimization_config_from_json(
    d: dict[str, Any], ctx: DecodeContext
) -> MultiObjectiveOptimizationConfig:
    """Objectives, outcome constraints and objective thresholds."""
    return MultiObjectiveOptimizationConfig(
        _object(d, "objective", (MultiObjective, ScalarizedObjective), ctx),
        _objects(d, "outcome_constraints", OutcomeConstraint, ctx),
        _objects(d, "objective_thresholds", ObjectiveThreshold, ctx),
    )


def outcome_constraint_from_json(d: dict[str, Any], ctx: DecodeContext) -> OutcomeConstraint:
    """An outcome constraint."""
    return OutcomeConstraint(
        _object(d, "metric", Metric, ctx),
        _enum(ComparisonOp, d["op"], "op"),
        ctx.value(d["bound"]),
        relative=d["relative"],
    )


def objective_threshold_from_json(d: dict[str, Any], ctx: DecodeContext) -> ObjectiveThreshold:
    """An objective threshold."""
    return ObjectiveThreshold(
        _object(d, "metric", Metric, ctx),
        ctx.value(d["bound"]),
        relative=d["relative"],
        op=_enum(ComparisonOp, d["op"], "op"),
    )


CoreDecoder = Callable[[dict[str, Any], "DecodeContext"], Any]

CORE_DECODERS: dict[type, CoreDecoder] = {
    Experiment: experiment_from_json,
    Trial: trial_from_json,
    BatchTrial: batch_trial_from_json,
    GeneratorRunStruct: generator_run_struct_from_json,
    AbandonedArm: abandoned_arm_from_json,
    GeneratorRun: generator_run_from_json,
    Arm: arm_from_json,
    Data: data_from_json,
    SearchSpace: search_space_from_json,
    Parameter: parameter_from_json,
    RangeParameter: range_parameter_from_json,
    ChoiceParameter: choice_parameter_from_json,
    FixedParameter: fixed_parameter_from_json,
    ParameterConstraint: parameter_constraint_from_json,
    OrderConstraint: order_constraint_from_json,
    SumConstraint: sum_constraint_from_json,
    Metric: metric_from_json,
    Runner: runner_from_json,
    Objective: objective_from_json,
    MultiObjective: multi_objective_from_json,
    ScalarizedObjective: scalarized_objective_from_json,
    OptimizationConfig: optimization_config_from_json,
    MultiObjectiveOptimizationConfig: multi_objective_optimization_config_from_json,
    OutcomeConstraint: outcome_constraint_from_json,
    ObjectiveThreshold: objective_threshold_from_json,
}
"""Model classes whose documents are decoded field by field (the rest: ``cls(**fields)``)."""
