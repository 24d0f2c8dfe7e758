"""``class_to_dict`` functions: one per model class, each returning a *shallow* dict.

Each function returns ``{"__type": "<ClassName>", field: value, ...}`` where nested model
objects are left as they are (the encoder in :mod:`.encoder` recurses into them through the
registry) and everything else is ready for orjson: free-form values went through
:func:`~.format.to_json_safe`, typed datetimes through :func:`~.format.typed_datetime`, and
enums in typed fields are their bare names. Because of that, the encoder trusts these
functions' output (:data:`CLEAN_ENCODERS`); a user's ``class_to_dict`` needs none of it, the
encoder cleans its output.

Most functions are one dict literal: they run once per trial, arm and generator run of a big
experiment, so they avoid copies and per-value type checks.

Example:
    >>> from aestore.core import Arm
    >>> arm_to_dict(Arm({"x": float("inf")}, name="0_0"))
    {'__type': 'Arm', 'name': '0_0', 'parameters': {'x': {'__type': 'float', 'value': 'inf'}}}
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from itertools import chain
from typing import Any

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
    GeneratorRunType,
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
from aestore.core.data import DATA_COLUMNS
from aestore.storage.json_store.format import (
    FORMAT_VERSION,
    safe_column,
    to_json_safe,
    typed_datetime,
)

__all__ = [
    "CLEAN_ENCODERS",
    "CORE_ENCODERS",
    "abandoned_arm_to_dict",
    "arm_to_dict",
    "batch_trial_to_dict",
    "choice_parameter_to_dict",
    "data_to_dict",
    "enum_to_dict",
    "experiment_to_dict",
    "fixed_parameter_to_dict",
    "generator_run_struct_to_dict",
    "generator_run_to_dict",
    "metric_to_dict",
    "multi_objective_optimization_config_to_dict",
    "multi_objective_to_dict",
    "objective_threshold_to_dict",
    "objective_to_dict",
    "optimization_config_to_dict",
    "order_constraint_to_dict",
    "outcome_constraint_to_dict",
    "parameter_constraint_to_dict",
    "parameter_to_dict",
    "range_parameter_to_dict",
    "runner_to_dict",
    "scalarized_objective_to_dict",
    "search_space_to_dict",
    "sum_constraint_to_dict",
    "trial_to_dict",
]

# --- the experiment and its trials -----------------------------------------------------------


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
    """
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
            log[name] = list(chain.from_iterable(pieces))
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
    """Arms in ``arms_by_name`` that neither a trial nor the status quo holds."""
    known: set[str | None] = set()
    add = known.add
    if experiment.status_quo is not None:
        add(experiment.status_quo.name)
    for trial in experiment.trials.values():
        if type(trial) is Trial:
            generator_run = trial.generator_run
            if generator_run is not None:
                for arm in generator_run.arms:
                    add(arm._name)
        else:
            for arm in trial.arms:
                add(arm.name)
    arms_by_name = experiment.arms_by_name
    if not arms_by_name.keys() - known:
        return []
    return [arm for name, arm in arms_by_name.items() if name not in known]


def _base_trial_dict(trial: BaseTrial, type_name: str) -> dict[str, Any]:
    v: Any
    return {
        "__type": type_name,
        "index": trial.index,
        "trial_type": trial.trial_type,
        "ttl_seconds": trial.ttl_seconds,
        "status": trial.status._name_,
        # Metadata dicts are often empty: skip the call then.
        "run_metadata": v if type(v := trial.run_metadata) is dict and not v else to_json_safe(v),
        "stop_metadata": v if type(v := trial.stop_metadata) is dict and not v else to_json_safe(v),
        "properties": v if type(v := trial.properties) is dict and not v else to_json_safe(v),
        "runner": trial.runner,
        # Naive and UTC datetimes (or None) go to orjson as they are: skip the call then.
        "time_created": v
        if (v := trial.time_created) is None or (type(v) is datetime and v.tzinfo is UTC)
        else typed_datetime(v),
        "time_staged": v
        if (v := trial.time_staged) is None or (type(v) is datetime and v.tzinfo is UTC)
        else typed_datetime(v),
        "time_run_started": v
        if (v := trial.time_run_started) is None or (type(v) is datetime and v.tzinfo is UTC)
        else typed_datetime(v),
        "time_completed": v
        if (v := trial.time_completed) is None or (type(v) is datetime and v.tzinfo is UTC)
        else typed_datetime(v),
        "failed_reason": trial.failed_reason,
        "abandoned_reason": trial.abandoned_reason,
    }


def trial_to_dict(trial: Trial) -> dict[str, Any]:
    """A single-arm trial: the common trial fields and its generator run.

    Example:
        >>> from aestore.samples import make_experiment
        >>> trial_to_dict(make_experiment(1).trials[0])["status"]
        'COMPLETED'
    """
    out = _base_trial_dict(trial, "Trial")
    out["generator_run"] = trial.generator_run
    return out


def batch_trial_to_dict(trial: BatchTrial) -> dict[str, Any]:
    """A batch trial: generator runs with multipliers, status quo and weight, abandoned arms.

    Example:
        >>> from aestore.samples import make_batch_experiment
        >>> batch_trial_to_dict(make_batch_experiment().trials[0])["status_quo_weight"]
        0.25
    """
    out = _base_trial_dict(trial, "BatchTrial")
    out["generator_run_structs"] = trial.generator_run_structs
    out["abandoned_arms"] = trial.abandoned_arms_metadata
    out["status_quo"] = trial.status_quo
    out["status_quo_weight"] = to_json_safe(trial.status_quo_weight)
    return out


def generator_run_struct_to_dict(struct: GeneratorRunStruct) -> dict[str, Any]:
    """A batch trial's generator run and its weight multiplier."""
    return {
        "__type": "GeneratorRunStruct",
        "generator_run": struct.generator_run,
        "weight": to_json_safe(struct.weight),
    }


def abandoned_arm_to_dict(abandoned_arm: AbandonedArm) -> dict[str, Any]:
    """An abandoned arm of a batch trial: its name, when and why."""
    return {
        "__type": "AbandonedArm",
        "name": abandoned_arm.name,
        "time": typed_datetime(abandoned_arm.time),
        "reason": abandoned_arm.reason,
    }


def generator_run_to_dict(generator_run: GeneratorRun) -> dict[str, Any]:
    """A generator run: arms and weights, model predictions, model state and timings.

    ``model_predictions`` and ``best_arm_predictions`` are tuples, so they are written as
    tagged tuples and come back as tuples.
    """
    run = generator_run
    v: Any
    # Most of these are None: the conditionals skip a call per field on the hot path.
    return {
        "__type": "GeneratorRun",
        "index": run.index,
        "arms": run.arms,
        "weights": to_json_safe(run.weights),
        "generator_run_type": run._generator_run_type,
        "optimization_config": run.optimization_config,
        "search_space": run.search_space,
        "model_predictions": None if (v := run.model_predictions) is None else to_json_safe(v),
        "best_arm_predictions": (
            None if (v := run.best_arm_predictions) is None else to_json_safe(v)
        ),
        "fit_time": v
        if (v := run.fit_time) is None or (type(v) is float and v - v == 0.0)
        else to_json_safe(v),
        "gen_time": v
        if (v := run.gen_time) is None or (type(v) is float and v - v == 0.0)
        else to_json_safe(v),
        "model_key": run.model_key,
        "model_kwargs": None if (v := run.model_kwargs) is None else to_json_safe(v),
        "bridge_kwargs": None if (v := run.bridge_kwargs) is None else to_json_safe(v),
        "gen_metadata": None if (v := run.gen_metadata) is None else to_json_safe(v),
        "model_state_after_gen": (
            None if (v := run.model_state_after_gen) is None else to_json_safe(v)
        ),
        "time_created": (
            v if type(v := run.time_created) is datetime and v.tzinfo is UTC else typed_datetime(v)
        ),
    }


def arm_to_dict(arm: Arm) -> dict[str, Any]:
    """An arm: its name (None before it joins an experiment) and parameters."""
    return {"__type": "Arm", "name": arm._name, "parameters": to_json_safe(arm.parameters)}


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


# --- search space ----------------------------------------------------------------------------


def search_space_to_dict(search_space: SearchSpace) -> dict[str, Any]:
    """Parameters (in order) and parameter constraints."""
    return {
        "__type": "SearchSpace",
        "parameters": list(search_space.parameters.values()),
        "parameter_constraints": search_space.parameter_constraints,
    }


def parameter_to_dict(parameter: Parameter) -> dict[str, Any]:
    """A plain :class:`~aestore.core.parameter.Parameter` (subclasses have their own)."""
    return {
        "__type": "Parameter",
        "name": parameter.name,
        "parameter_type": parameter.parameter_type.name,
        "is_fidelity": parameter.is_fidelity,
        "target_value": to_json_safe(parameter.target_value),
    }


def range_parameter_to_dict(parameter: RangeParameter) -> dict[str, Any]:
    """A range parameter: type, bounds, log scale, digits and fidelity settings."""
    return {
        "__type": "RangeParameter",
        "name": parameter.name,
        "parameter_type": parameter.parameter_type.name,
        "lower": to_json_safe(parameter.lower),
        "upper": to_json_safe(parameter.upper),
        "log_scale": parameter.log_scale,
        "digits": parameter.digits,
        "is_fidelity": parameter.is_fidelity,
        "target_value": to_json_safe(parameter.target_value),
    }


def choice_parameter_to_dict(parameter: ChoiceParameter) -> dict[str, Any]:
    """A choice parameter: its values, ordering and task flags."""
    return {
        "__type": "ChoiceParameter",
        "name": parameter.name,
        "parameter_type": parameter.parameter_type.name,
        "values": to_json_safe(parameter.values),
        "is_ordered": parameter.is_ordered,
        "is_task": parameter.is_task,
        "is_fidelity": parameter.is_fidelity,
        "target_value": to_json_safe(parameter.target_value),
    }


def fixed_parameter_to_dict(parameter: FixedParameter) -> dict[str, Any]:
    """A fixed parameter and its single value."""
    return {
        "__type": "FixedParameter",
        "name": parameter.name,
        "parameter_type": parameter.parameter_type.name,
        "value": to_json_safe(parameter.value),
        "is_fidelity": parameter.is_fidelity,
        "target_value": to_json_safe(parameter.target_value),
    }


def parameter_constraint_to_dict(constraint: ParameterConstraint) -> dict[str, Any]:
    """``sum(weight * parameter) <= bound``."""
    return {
        "__type": "ParameterConstraint",
        "constraint_dict": to_json_safe(constraint.constraint_dict),
        "bound": to_json_safe(constraint.bound),
    }


def order_constraint_to_dict(constraint: OrderConstraint) -> dict[str, Any]:
    """``lower_parameter <= upper_parameter`` (its weights and bound follow from these)."""
    return {
        "__type": "OrderConstraint",
        "lower_parameter": constraint.lower_parameter,
        "upper_parameter": constraint.upper_parameter,
    }


def sum_constraint_to_dict(constraint: SumConstraint) -> dict[str, Any]:
    """``sum(parameters) <= bound`` (or ``>=``); its weights follow from these fields."""
    return {
        "__type": "SumConstraint",
        "parameters": constraint.parameters,
        "is_upper_bound": constraint.is_upper_bound,
        "bound": to_json_safe(constraint.bound),
    }


# --- metrics, objectives, optimization configs -----------------------------------------------


def metric_to_dict(metric: Metric) -> dict[str, Any]:
    """A plain metric (a subclass needs its own ``class_to_dict``; see :mod:`.registry`)."""
    return {
        "__type": "Metric",
        "name": metric.name,
        "lower_is_better": metric.lower_is_better,
        "properties": to_json_safe(metric.properties),
    }


def runner_to_dict(runner: Runner) -> dict[str, Any]:
    """The base runner has no fields (a subclass needs its own ``class_to_dict``)."""
    return {"__type": "Runner"}


def objective_to_dict(objective: Objective) -> dict[str, Any]:
    """One metric, maximised or minimised."""
    return {"__type": "Objective", "metric": objective.metric, "minimize": objective.minimize}


def multi_objective_to_dict(objective: MultiObjective) -> dict[str, Any]:
    """Several objectives."""
    return {"__type": "MultiObjective", "objectives": objective.objectives}


def scalarized_objective_to_dict(objective: ScalarizedObjective) -> dict[str, Any]:
    """A weighted sum of metrics."""
    return {
        "__type": "ScalarizedObjective",
        "metrics": objective.metrics,
        "weights": to_json_safe(objective.weights),
        "minimize": objective.minimize,
    }


def optimization_config_to_dict(config: OptimizationConfig) -> dict[str, Any]:
    """An objective and its outcome constraints."""
    return {
        "__type": "OptimizationConfig",
        "objective": config.objective,
        "outcome_constraints": config.outcome_constraints,
    }


def multi_objective_optimization_config_to_dict(
    config: MultiObjectiveOptimizationConfig,
) -> dict[str, Any]:
    """Objectives, outcome constraints and objective thresholds."""
    return {
        "__type": "MultiObjectiveOptimizationConfig",
        "objective": config.objective,
        "outcome_constraints": config.outcome_constraints,
        "objective_thresholds": config.objective_thresholds,
    }


def outcome_constraint_to_dict(constraint: OutcomeConstraint) -> dict[str, Any]:
    """``metric op bound``; ``op`` is a ComparisonOp name."""
    return {
        "__type": "OutcomeConstraint",
        "metric": constraint.metric,
        "op": constraint.op.name,
        "bound": to_json_safe(constraint.bound),
        "relative": constraint.relative,
    }


def objective_threshold_to_dict(threshold: ObjectiveThreshold) -> dict[str, Any]:
    """An objective threshold (same fields as an outcome constraint)."""
    out = outcome_constraint_to_dict(threshold)
    out["__type"] = "ObjectiveThreshold"
    return out


def enum_to_dict(member: Enum) -> dict[str, Any]:
    """Any enum member, by name: ``{"__type": "TrialStatus", "name": "COMPLETED"}``.

    Used where an enum appears in a free-form value; typed fields hold the bare name.

    Example:
        >>> enum_to_dict(TrialStatus.RUNNING)
        {'__type': 'TrialStatus', 'name': 'RUNNING'}
    """
    return {"__type": type(member).__name__, "name": member.name}


CORE_ENCODERS: dict[type, Callable[[Any], dict[str, Any]]] = {
    Experiment: experiment_to_dict,
    Trial: trial_to_dict,
    BatchTrial: batch_trial_to_dict,
    GeneratorRunStruct: generator_run_struct_to_dict,
    AbandonedArm: abandoned_arm_to_dict,
    GeneratorRun: generator_run_to_dict,
    Arm: arm_to_dict,
    Data: data_to_dict,
    SearchSpace: search_space_to_dict,
    Parameter: parameter_to_dict,
    RangeParameter: range_parameter_to_dict,
    ChoiceParameter: choice_parameter_to_dict,
    FixedParameter: fixed_parameter_to_dict,
    ParameterConstraint: parameter_constraint_to_dict,
    OrderConstraint: order_constraint_to_dict,
    SumConstraint: sum_constraint_to_dict,
    Metric: metric_to_dict,
    Runner: runner_to_dict,
    Objective: objective_to_dict,
    MultiObjective: multi_objective_to_dict,
    ScalarizedObjective: scalarized_objective_to_dict,
    OptimizationConfig: optimization_config_to_dict,
    MultiObjectiveOptimizationConfig: multi_objective_optimization_config_to_dict,
    OutcomeConstraint: outcome_constraint_to_dict,
    ObjectiveThreshold: objective_threshold_to_dict,
    TrialStatus: enum_to_dict,
    ParameterType: enum_to_dict,
    ComparisonOp: enum_to_dict,
    GeneratorRunType: enum_to_dict,
}
"""The model's classes and their ``class_to_dict`` functions (the default ENCODER_REGISTRY)."""

CLEAN_ENCODERS: frozenset[Callable[[Any], dict[str, Any]]] = frozenset(CORE_ENCODERS.values())
"""Functions whose output is already safe for orjson, so the encoder does not clean it."""
