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

This module maps each model class to its function; the functions are written in one module
per part of the model, like the encoders: :mod:`.experiment_decoders`,
:mod:`.trial_decoders`, :mod:`.search_space_decoders`, :mod:`.optimization_config_decoders`,
over the checked field readers of :mod:`.decode_fields`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aestore.core import (
    AbandonedArm,
    Arm,
    BatchTrial,
    ChoiceParameter,
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
    RangeParameter,
    Runner,
    ScalarizedObjective,
    SearchSpace,
    SumConstraint,
    Trial,
)
from aestore.storage.json_store.decode_fields import DecodeFailure
from aestore.storage.json_store.experiment_decoders import data_from_json, experiment_from_json
from aestore.storage.json_store.optimization_config_decoders import (
    metric_from_json,
    multi_objective_from_json,
    multi_objective_optimization_config_from_json,
    objective_from_json,
    objective_threshold_from_json,
    optimization_config_from_json,
    outcome_constraint_from_json,
    scalarized_objective_from_json,
)
from aestore.storage.json_store.search_space_decoders import (
    choice_parameter_from_json,
    fixed_parameter_from_json,
    order_constraint_from_json,
    parameter_constraint_from_json,
    parameter_from_json,
    range_parameter_from_json,
    search_space_from_json,
    sum_constraint_from_json,
)
from aestore.storage.json_store.trial_decoders import (
    abandoned_arm_from_json,
    arm_from_json,
    batch_trial_from_json,
    generator_run_from_json,
    generator_run_struct_from_json,
    runner_from_json,
    trial_tree_from_json,
)

if TYPE_CHECKING:
    from aestore.storage.json_store.decoder import DecodeContext

__all__ = ["CORE_DECODERS", "DecodeFailure"]


CoreDecoder = Callable[[dict[str, Any], "DecodeContext"], Any]

CORE_DECODERS: dict[type, CoreDecoder] = {
    Experiment: experiment_from_json,
    Trial: trial_tree_from_json,
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
