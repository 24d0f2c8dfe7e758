"""Decoding of trials and what they hold: generator runs, arms, abandoned arms, runners.

Trials, generator runs and arms are rebuilt without ``__init__``: it would stamp new creation
times and re-run checks whose results are stored, and an experiment has many of them. Their
experiment is set by :func:`~.experiment_decoders.experiment_from_json`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aestore.core import (
    AbandonedArm,
    Arm,
    BatchTrial,
    GeneratorRun,
    GeneratorRunStruct,
    OptimizationConfig,
    Runner,
    SearchSpace,
    Trial,
    TrialStatus,
)
from aestore.storage.json_store.decode_fields import (
    OPTIONAL,
    DecodeFailure,
    any_object_field,
    datetime_value,
    dict_field,
    enum_member,
    json_type,
    list_field,
    object_field,
    objects_field,
    str_or_none,
)
from aestore.storage.json_store.format import TYPE_KEY
from aestore.storage.json_store.trial_memo import MEMO, UNFIT

if TYPE_CHECKING:
    from aestore.storage.json_store.decoder import DecodeContext

__all__ = [
    "abandoned_arm_from_json",
    "arm_from_json",
    "batch_trial_from_json",
    "generator_run_from_json",
    "generator_run_struct_from_json",
    "runner_from_json",
    "trial_from_json",
    "trial_tree_from_json",
]

_T = TypeVar("_T")


def _from_state(cls: type[_T], fields: dict[str, Any]) -> _T:
    """A ``cls`` whose state is ``fields`` (the dict itself, not a copy), without ``__init__``."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", fields)  # (no Base.__setattr__: nothing to track yet)
    return obj


_STATUSES = dict(TrialStatus.__members__)
_TRIAL_TIMES = ("time_created", "time_staged", "time_run_started", "time_completed")


def _base_trial_fields(d: dict[str, Any], ctx: DecodeContext) -> dict[str, Any]:
    status = d["status"]
    status = _STATUSES.get(status) if type(status) is str else None
    if status is None:
        status = enum_member(TrialStatus, d["status"], "status")
    index = d["index"]
    if type(index) is not int:
        raise DecodeFailure(f"expected an integer, got {json_type(index)}", "index")
    runner = d["runner"]
    fields = {
        "_experiment": None,
        MEMO: UNFIT,  # its dicts and lists are plain: never memoised (see .trial_memo)
        "index": index,
        "trial_type": d["trial_type"],
        "ttl_seconds": d["ttl_seconds"],
        "status": status,
        "run_metadata": dict_field(d, "run_metadata", ctx),
        "stop_metadata": dict_field(d, "stop_metadata", ctx),
        "properties": dict_field(d, "properties", ctx),
        "runner": None if runner is None else any_object_field(d, "runner", ctx),
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
            fields[key] = (
                fromisoformat(value) if type(value) is str else datetime_value(value, key, ctx)
            )
    return fields


def trial_from_json(d: dict[str, Any], ctx: DecodeContext) -> Trial:
    """A single-arm trial (its experiment is set by the experiment's decoder)."""
    fields = _base_trial_fields(d, ctx)
    generator_run = d["generator_run"]
    if generator_run is not None:
        generator_run = ctx.value(generator_run)
        if not isinstance(generator_run, GeneratorRun):
            raise DecodeFailure(
                f"expected a GeneratorRun, got {json_type(generator_run)}", "generator_run"
            )
    fields["generator_run"] = generator_run
    return _from_state(Trial, fields)


def trial_tree_from_json(d: dict[str, Any], ctx: DecodeContext) -> Trial:
    """:func:`trial_from_json` with its generator run and that run's arms decoded in place.

    The inverse of the encoders' ``trial_tree_to_dict``, for the common case: when the
    context decodes generator runs and arms with this module's functions, a trial with a
    generator run and its plainly stored arms costs one call instead of three or more. Any
    other trial, and any trial this fast path cannot decode, goes through
    :func:`trial_from_json`, which decodes the same trials to the same objects and raises
    the same errors (decoding makes new objects only, so doing it again is safe).
    """
    plain = ctx.plain_trees
    if plain is None:
        plain = ctx.plain_trees = (
            ctx.decoder("GeneratorRun") is generator_run_from_json
            and ctx.decoder("Arm") is arm_from_json
        )
    run = d.get("generator_run")  # (missing: trial_from_json reports it after the others)
    if not plain or type(run) is not dict or run.get(TYPE_KEY) != "GeneratorRun":
        return trial_from_json(d, ctx)
    try:
        arms = []
        raw_arms = run["arms"]
        if type(raw_arms) is not list:
            raise _NotPlain
        for raw in raw_arms:
            if type(raw) is not dict or raw[TYPE_KEY] != "Arm":
                raise _NotPlain
            name = raw["name"]
            parameters = raw["parameters"]
            if (name is not None and type(name) is not str) or not _is_flat_dict(parameters):
                raise _NotPlain
            arm = Arm.__new__(Arm)
            object.__setattr__(arm, "__dict__", {"parameters": parameters, "_name": name})
            arms.append(arm)
        fields = _base_trial_fields(d, ctx)
        fields["generator_run"] = _generator_run(run, ctx, arms)
    except Exception:
        return trial_from_json(d, ctx)  # it raises with the place in the document
    return _from_state(Trial, fields)


class _NotPlain(Exception):
    """Internal: a trial :func:`trial_tree_from_json` leaves to :func:`trial_from_json`."""


def _is_flat_dict(value: Any) -> bool:
    """Whether ``value`` is a dict :func:`.dict_field` would return as it is."""
    if type(value) is not dict or TYPE_KEY in value:
        return False
    for item in value.values():
        ti = type(item)
        if ti is dict or ti is list:
            return False
    return True


def batch_trial_from_json(d: dict[str, Any], ctx: DecodeContext) -> BatchTrial:
    """A batch trial: generator runs with multipliers, status quo, abandoned arms."""
    fields = _base_trial_fields(d, ctx)
    fields["generator_run_structs"] = objects_field(
        d, "generator_run_structs", GeneratorRunStruct, ctx
    )
    fields["abandoned_arms_metadata"] = objects_field(d, "abandoned_arms", AbandonedArm, ctx)
    fields["_status_quo"] = object_field(d, "status_quo", (Arm, OPTIONAL), ctx)
    fields["_status_quo_weight"] = ctx.value(d["status_quo_weight"])
    return _from_state(BatchTrial, fields)


def generator_run_struct_from_json(d: dict[str, Any], ctx: DecodeContext) -> GeneratorRunStruct:
    """A batch trial's generator run with its weight multiplier."""
    return GeneratorRunStruct(
        object_field(d, "generator_run", GeneratorRun, ctx), ctx.value(d["weight"])
    )


def abandoned_arm_from_json(d: dict[str, Any], ctx: DecodeContext) -> AbandonedArm:
    """An abandoned arm with its stored time (not a new one)."""
    return AbandonedArm(d["name"], time=datetime_value(d["time"], "time", ctx), reason=d["reason"])


def generator_run_from_json(d: dict[str, Any], ctx: DecodeContext) -> GeneratorRun:
    """A generator run with its stored creation time; predictions come back as tuples."""
    value = ctx.value
    arms = [value(arm) for arm in list_field(d, "arms")]
    for position, arm in enumerate(arms):
        if type(arm) is not Arm and not isinstance(arm, Arm):
            raise DecodeFailure(f"expected an Arm, got {json_type(arm)}", "arms", position)
    return _generator_run(d, ctx, arms)


def _generator_run(d: dict[str, Any], ctx: DecodeContext, arms: list[Arm]) -> GeneratorRun:
    """The generator run of ``d``, whose arms are already decoded."""
    value = ctx.value
    weights = d["weights"]
    if type(weights) is not list or not _NUMBERS.issuperset(map(type, weights)):
        weights = value(list_field(d, "weights"))
    if len(weights) != len(arms):
        raise DecodeFailure(f"{len(arms)} arms but {len(weights)} weights", "weights")
    run_type = d["generator_run_type"]
    if run_type is not None and type(run_type) is not str:
        raise DecodeFailure(f"expected a string, got {json_type(run_type)}", "generator_run_type")
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
            else datetime_value(time_created, "time_created", ctx)
        ),
        "index": d["index"],
    }
    if d["optimization_config"] is not None:
        fields["optimization_config"] = object_field(
            d, "optimization_config", OptimizationConfig, ctx
        )
    if d["search_space"] is not None:
        fields["search_space"] = object_field(d, "search_space", SearchSpace, ctx)
    return _from_state(GeneratorRun, fields)


_CONTAINERS = frozenset({dict, list})
_NUMBERS = frozenset({float, int})


def arm_from_json(d: dict[str, Any], ctx: DecodeContext) -> Arm:
    """An arm; its parameters are whatever was stored (numbers stay int or float)."""
    name = str_or_none(d["name"], "name")
    arm = Arm.__new__(Arm)
    # The instance dict as ``Arm.__init__`` lays it out (plain containers: a decoded arm is
    # untracked until it is assigned anew, see ``aestore.core.tracking``).
    object.__setattr__(
        arm, "__dict__", {"parameters": dict_field(d, "parameters", ctx), "_name": name}
    )
    return arm


def runner_from_json(d: dict[str, Any], ctx: DecodeContext) -> Runner:
    """The base runner (no fields)."""
    return Runner()
