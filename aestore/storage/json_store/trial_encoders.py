"""Encoding of trials and what they hold: generator runs, arms, abandoned arms, runners.

These run once per trial, arm and generator run of a big experiment, so they skip a call
wherever a value is already safe for orjson (None, an empty dict, a UTC datetime).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aestore.core import (
    AbandonedArm,
    Arm,
    BatchTrial,
    GeneratorRun,
    GeneratorRunStruct,
    Runner,
    Trial,
)
from aestore.core.base_trial import BaseTrial
from aestore.core.tracking import TrackedDict, TrackedList
from aestore.storage.json_store.format import to_json_safe, typed_datetime

__all__ = [
    "abandoned_arm_to_dict",
    "arm_to_dict",
    "batch_trial_to_dict",
    "generator_run_struct_to_dict",
    "generator_run_to_dict",
    "runner_to_dict",
    "trial_to_dict",
    "trial_tree_to_dict",
]


def _base_trial_dict(trial: BaseTrial, type_name: str) -> dict[str, Any]:
    v: Any
    return {
        "__type": type_name,
        "index": trial.index,
        "trial_type": trial.trial_type,
        "ttl_seconds": trial.ttl_seconds,
        "status": trial.status._name_,
        # Tracked containers that are empty, or known plain (see to_json_safe), go to orjson
        # as they are: the checks are inlined, which saves a call per field and trial.
        "run_metadata": v
        if type(v := trial.run_metadata) is TrackedDict and (v._ae_plain or not v)
        else to_json_safe(v),
        "stop_metadata": v
        if type(v := trial.stop_metadata) is TrackedDict and (v._ae_plain or not v)
        else to_json_safe(v),
        "properties": v
        if type(v := trial.properties) is TrackedDict and (v._ae_plain or not v)
        else to_json_safe(v),
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


def trial_tree_to_dict(trial: Trial) -> dict[str, Any]:
    """:func:`trial_to_dict` with its generator run and that run's arms encoded in place.

    What :func:`trial_to_dict`, :func:`generator_run_to_dict` and :func:`arm_to_dict` give
    one object at a time, in one call: the encoder uses it when those are the registry's
    functions, so a trial costs one call into Python instead of three. A generator run or
    arm of another class (a subclass) is left as it is, for the encoder to look up.

    Example:
        >>> from aestore.samples import make_experiment
        >>> tree = trial_tree_to_dict(make_experiment(1).trials[0])
        >>> tree["generator_run"]["arms"][0]["__type"]
        'Arm'
    """
    out = _base_trial_dict(trial, "Trial")
    run = trial.generator_run
    if type(run) is GeneratorRun:
        arms: list[Any] = run.arms
        # (a trial's run holds one arm: no list comprehension for it)
        if len(arms) == 1 and type(arm := arms[0]) is Arm:
            params = arm.parameters
            arms = [
                {
                    "__type": "Arm",
                    "name": arm._name,
                    "parameters": params
                    if type(params) is TrackedDict and params._ae_plain
                    else to_json_safe(params),
                }
            ]
        else:
            arms = _arm_dicts(arms)
        out["generator_run"] = _generator_run_dict(run, arms)
    else:
        out["generator_run"] = run
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
    return _generator_run_dict(generator_run, generator_run.arms)


def _generator_run_dict(run: GeneratorRun, arms: list[Any]) -> dict[str, Any]:
    v: Any
    # Most of these are None: the conditionals skip a call per field on the hot path.
    return {
        "__type": "GeneratorRun",
        "index": run.index,
        "arms": arms,
        "weights": v if type(v := run.weights) is TrackedList and v._ae_plain else to_json_safe(v),
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
        "gen_metadata": v
        if (v := run.gen_metadata) is None or (type(v) is TrackedDict and v._ae_plain)
        else to_json_safe(v),
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


def _arm_dicts(arms: list[Any]) -> list[Any]:
    """:func:`arm_to_dict` of each :class:`Arm` (objects of other classes left as they are)."""
    return [
        {"__type": "Arm", "name": arm._name, "parameters": to_json_safe(arm.parameters)}
        if type(arm) is Arm
        else arm
        for arm in arms
    ]


def runner_to_dict(runner: Runner) -> dict[str, Any]:
    """The base runner has no fields (a subclass needs its own ``class_to_dict``)."""
    return {"__type": "Runner"}
