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

This module is their public home; they are written in one module per part of the model:
:mod:`.experiment_encoders` (the experiment and its data), :mod:`.trial_encoders` (trials,
generator runs, arms, runners), :mod:`.search_space_encoders` and
:mod:`.optimization_config_encoders` (metrics, objectives, constraints, configs).

Example:
    >>> from aestore.core import Arm
    >>> arm_to_dict(Arm({"x": float("inf")}, name="0_0"))
    {'__type': 'Arm', 'name': '0_0', 'parameters': {'x': {'__type': 'float', 'value': 'inf'}}}
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
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
from aestore.storage.json_store.experiment_encoders import data_to_dict, experiment_to_dict
from aestore.storage.json_store.optimization_config_encoders import (
    metric_to_dict,
    multi_objective_optimization_config_to_dict,
    multi_objective_to_dict,
    objective_threshold_to_dict,
    objective_to_dict,
    optimization_config_to_dict,
    outcome_constraint_to_dict,
    scalarized_objective_to_dict,
)
from aestore.storage.json_store.search_space_encoders import (
    choice_parameter_to_dict,
    fixed_parameter_to_dict,
    order_constraint_to_dict,
    parameter_constraint_to_dict,
    parameter_to_dict,
    range_parameter_to_dict,
    search_space_to_dict,
    sum_constraint_to_dict,
)
from aestore.storage.json_store.trial_encoders import (
    abandoned_arm_to_dict,
    arm_to_dict,
    batch_trial_to_dict,
    generator_run_struct_to_dict,
    generator_run_to_dict,
    runner_to_dict,
    trial_to_dict,
    trial_tree_to_dict,
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
    "trial_tree_to_dict",
]


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
