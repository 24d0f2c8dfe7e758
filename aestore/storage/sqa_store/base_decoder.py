"""``Decoder``: stored rows -> an experiment equal (``==``) to the one that was saved.

The loader reads each table once (rows ordered by key) and hands the rows here as a
:class:`StoredRows`; decoding is pure and synchronous. Objects are rebuilt through their
constructors, so they hold exactly the attributes a freshly built object holds.
"""

from __future__ import annotations

import gc
import operator
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from aestore.core.arm import Arm
from aestore.core.base import Base
from aestore.core.base_trial import BaseTrial, TrialStatus
from aestore.core.batch_trial import AbandonedArm, BatchTrial, GeneratorRunStruct
from aestore.core.data import DATA_COLUMNS, Data
from aestore.core.experiment import Experiment
from aestore.core.generator_run import GeneratorRun
from aestore.core.metric import Metric
from aestore.core.objective import MultiObjective, Objective, ScalarizedObjective
from aestore.core.optimization_config import (
    MultiObjectiveOptimizationConfig,
    OptimizationConfig,
)
from aestore.core.outcome_constraint import ObjectiveThreshold, OutcomeConstraint
from aestore.core.parameter import (
    ChoiceParameter,
    FixedParameter,
    Parameter,
    ParameterType,
    RangeParameter,
)
from aestore.core.parameter_constraint import (
    OrderConstraint,
    ParameterConstraint,
    SumConstraint,
)
from aestore.core.runner import Runner
from aestore.core.search_space import SearchSpace
from aestore.core.tracking import ATOMIC_TYPES, adopt
from aestore.core.trial import Trial
from aestore.core.types import ComparisonOp
from aestore.exceptions import SQADecodeError
from aestore.storage.sqa_store.column_values import join_float, join_time, text_to_number
from aestore.storage.sqa_store.encoder import MetricRole
from aestore.storage.sqa_store.gc_pause import gc_step
from aestore.storage.sqa_store.sqa_classes import EXPERIMENT_RUNNER_INDEX
from aestore.storage.sqa_store.sqa_config import SQAConfig
from aestore.storage.sqa_store.type_registry import TypeRegistry

# Trials decoded between two young collections while the collector is paused (see gc_pause).
GC_STEP_TRIALS = 1_000


# From this many trials on, a load moves its objects to the collector's oldest generation a
# slice at a time (``gc_step``): left young, they would all be walked by one collection of the
# middle generation (~180 ms at 10,000 trials). Smaller loads use ``young_gc_step``.
PROMOTE_MIN_TRIALS = 2_000


def young_gc_step() -> None:
    """Collect the youngest generation only (call it inside ``gc_paused``).

    Survivors move to the middle generation, not to the oldest as with ``gc_step``. Rows once
    decoded, and an experiment loaded and dropped soon (a quick look, a reload on a
    conflict), are then freed by the next collection of the middle generation, which walks
    the young objects only, instead of waiting for a full collection, which walks every
    object of the process (~35 ms here with a 1,000-trial experiment in memory). Promoted,
    each such load's objects made the next load pay one. A kept experiment is moved on by
    that same collection: one walk of its objects (a few ms below ``PROMOTE_MIN_TRIALS``).

    Example:
        >>> from aestore.storage.sqa_store.gc_pause import gc_paused
        >>> with gc_paused():
        ...     young_gc_step()
    """
    gc.collect(0)


def decode_gc_step(num_trials: int) -> Callable[[], None]:
    """The collection step between slices of decoding an experiment of ``num_trials`` trials.

    Example:
        >>> decode_gc_step(1_000) is young_gc_step, decode_gc_step(10_000) is gc_step
        (True, True)
    """
    return gc_step if num_trials >= PROMOTE_MIN_TRIALS else young_gc_step


# Set on a generator run loaded with ``reduced_state=True`` without its blobs (an ``_ae_``
# name: no part of equality, dropped from copies).
BLOBS_UNLOADED = "_ae_blobs_unloaded"

__all__ = ["Decoder", "StoredRows", "decode_gc_step", "young_gc_step"]

Row = Mapping[str, Any]


def _num(text: str | None) -> Any:
    """A stored int-or-float (typed Any: the model's signatures say float)."""
    return text_to_number(text)


_T = TypeVar("_T", bound=Base)
_STATUSES = {status.value: status for status in TrialStatus}
_BLOB_COLUMNS = ("model_kwargs", "bridge_kwargs", "gen_metadata", "model_state_after_gen")
# The attributes that may hold a dict, list or tuple (the rest hold column values, model
# objects or enum members, which ``Base.__setattr__`` stores as they are).
_TRIAL_CONTAINERS = ("run_metadata", "stop_metadata", "properties")
_BATCH_CONTAINERS = (*_TRIAL_CONTAINERS, "generator_run_structs", "abandoned_arms_metadata")
_RUN_CONTAINERS = (
    "arms",
    "weights",
    "optimization_config",
    "search_space",
    "model_predictions",
    "best_arm_predictions",
    *_BLOB_COLUMNS,
)
_ARM_CONTAINERS = ("parameters",)
# A generator run's JSON columns, read in one call.
_RUN_JSON_COLUMNS = (
    "optimization_config",
    "search_space",
    "model_predictions",
    "best_arm_predictions",
    *_BLOB_COLUMNS,
)
_RUN_JSON = operator.itemgetter(*_RUN_JSON_COLUMNS)
_DATA_CONTAINERS = ("columns",)


def _build(cls: type[_T], fields: dict[str, Any], containers: tuple[str, ...]) -> _T:
    """A ``cls`` whose attributes are ``fields`` (the dict itself), made without ``__init__``.

    The values of the attributes named in ``containers`` are stored as ``Base.__setattr__``
    stores them: a dict, list or tuple as a tracked copy owned by the new object
    (:func:`~aestore.core.tracking.adopt`), unless the class tracks nothing.
    """
    obj = cls.__new__(cls)
    if cls._ae_track:
        for name in containers:
            value = fields[name]
            if type(value) not in ATOMIC_TYPES:
                fields[name] = adopt(value, obj)
    object.__setattr__(obj, "__dict__", fields)  # not ``obj.__dict__ = ``: Base.__setattr__
    return obj


def _arm(parameters: Any, name: str | None) -> Arm:
    """An arm, as ``Arm(parameters, name)`` makes it."""
    if type(parameters) is not dict:
        return Arm(parameters, name)  # not a plain dict: the constructor checks and copies it
    return _build(Arm, {"parameters": parameters, "_name": name}, _ARM_CONTAINERS)


def _time(value: datetime | None, offset: int | None) -> datetime | None:
    return value if offset is None else join_time(value, offset)


def _data_columns(rows: Sequence[Row]) -> dict[str, list[Any]]:
    """The columns of ``Data`` (see :data:`~aestore.core.data.DATA_COLUMNS`) of data rows."""
    means = [r["mean"] for r in rows]
    mean_codes = [r["mean_nonfinite"] for r in rows]
    sems = [r["sem"] for r in rows]
    sem_codes = [r["sem_nonfinite"] for r in rows]
    starts = [r["start_time"] for r in rows]
    start_offsets = [r["start_time_tz"] for r in rows]
    ends = [r["end_time"] for r in rows]
    end_offsets = [r["end_time_tz"] for r in rows]
    return {
        "trial_index": [r["trial_index"] for r in rows],
        "arm_name": [r["arm_name"] for r in rows],
        "metric_name": [r["metric_name"] for r in rows],
        "mean": [
            m if c is None and type(m) is float else join_float(m, c)
            for m, c in zip(means, mean_codes, strict=True)
        ],
        "sem": [
            s if c is None and type(s) is float else join_float(s, c)
            for s, c in zip(sems, sem_codes, strict=True)
        ],
        "n": [r["n"] for r in rows],
        "start_time": [
            t if o is None else join_time(t, o) for t, o in zip(starts, start_offsets, strict=True)
        ],
        "end_time": [
            t if o is None else join_time(t, o) for t, o in zip(ends, end_offsets, strict=True)
        ],
    }


def _data(columns: dict[str, list[Any]], start: int, end: int) -> Data:
    """``Data`` of rows ``start:end`` of ``columns``, as ``Data.from_columns`` makes it."""
    return _build(
        Data, {"columns": {c: columns[c][start:end] for c in DATA_COLUMNS}}, _DATA_CONTAINERS
    )


@dataclass
class StoredRows:
    """The rows of one experiment, one list per table, each ordered by primary key."""

    experiment: Row
    parameters: Sequence[Row] = ()
    parameter_constraints: Sequence[Row] = ()
    metrics: Sequence[Row] = ()
    runners: Sequence[Row] = ()
    trials: Sequence[Row] = ()
    generator_runs: Sequence[Row] = ()
    arms: Sequence[Row] = ()
    abandoned_arms: Sequence[Row] = ()
    data: Sequence[Row] = ()
    extra: dict[str, Any] = field(default_factory=dict)


class Decoder:
    """Rebuilds experiments from rows, with the registries of an ``SQAConfig``.

    Example:
        >>> decoder = Decoder(SQAConfig())
        >>> # experiment = decoder.experiment_from_rows(stored_rows)
    """

    def __init__(self, config: SQAConfig | None = None) -> None:
        self.config = config or SQAConfig()
        self._json = self.config.json

    # --- typed objects -----------------------------------------------------------------------

    def _typed_object(
        self,
        registry: TypeRegistry,
        type_id: int | None,
        fields: str | None,
        experiment_name: str,
    ) -> Any:
        cls = registry.class_for(type_id, experiment_name)
        decoded = self._json.loads(fields)
        if isinstance(decoded, cls):  # stored through a class_to_dict
            return decoded
        if not isinstance(decoded, dict):
            raise SQADecodeError(
                f"Experiment {experiment_name!r}: stored fields of {cls.__qualname__} are not "
                f"a dict of constructor arguments."
            )
        try:
            return cls(**decoded)
        except Exception as err:
            raise SQADecodeError(
                f"Experiment {experiment_name!r}: cannot rebuild {cls.__qualname__} from its "
                f"stored fields {sorted(decoded)}: {err}"
            ) from err

    def runner_from_row(self, row: Row, experiment_name: str) -> Runner:
        """A runner from its ``ae_runners`` row."""
        if row["runner_type"] is None:
            return Runner()
        runner: Runner = self._typed_object(
            self.config.runner_registry, row["runner_type"], row["fields"], experiment_name
        )
        return runner

    def metric_from_row(self, row: Row, experiment_name: str) -> Metric:
        """A metric from its ``ae_metrics`` row."""
        if row["metric_type"] is None:
            return Metric(
                row["name"],
                lower_is_better=row["lower_is_better"],
                properties=self._json.loads(row["properties"]),
            )
        metric: Metric = self._typed_object(
            self.config.metric_registry, row["metric_type"], row["fields"], experiment_name
        )
        return metric

    # --- experiment level --------------------------------------------------------------------

    def search_space_from_rows(
        self, parameters: Sequence[Row], constraints: Sequence[Row]
    ) -> SearchSpace:
        """The search space from its parameter and constraint rows."""
        params: list[Parameter] = []
        for row in parameters:
            domain = self._json.loads(row["domain"])
            ptype = ParameterType(row["parameter_type"])
            common = {"is_fidelity": row["is_fidelity"], "target_value": domain["target_value"]}
            kind = row["kind"]
            if kind == 0:
                params.append(
                    RangeParameter(
                        row["name"],
                        ptype,
                        domain["lower"],
                        domain["upper"],
                        log_scale=row["log_scale"],
                        digits=row["digits"],
                        **common,
                    )
                )
            elif kind == 1:
                params.append(
                    ChoiceParameter(
                        row["name"],
                        ptype,
                        domain["values"],
                        is_ordered=row["is_ordered"],
                        is_task=row["is_task"],
                        **common,
                    )
                )
            else:
                params.append(FixedParameter(row["name"], ptype, domain["value"], **common))
        by_name = {p.name: p for p in params}
        built: list[ParameterConstraint] = []
        for row in constraints:
            bound = _num(row["bound"])
            assert bound is not None
            names = self._json.loads(row["parameter_names"])
            if row["kind"] == 1:
                built.append(OrderConstraint(by_name[names[0]], by_name[names[1]]))
            elif row["kind"] == 2:
                built.append(
                    SumConstraint([by_name[n] for n in names], row["is_upper_bound"], bound)
                )
            else:
                built.append(ParameterConstraint(self._json.loads(row["constraint_dict"]), bound))
        return SearchSpace(params, built)

    def optimization_config_from_rows(
        self, experiment_row: Row, metric_rows: Sequence[Row]
    ) -> tuple[OptimizationConfig | None, list[Metric]]:
        """The optimization config and the tracking metrics."""
        name = experiment_row["name"]
        by_role: dict[int, list[tuple[Row, Metric]]] = defaultdict(list)
        for row in metric_rows:
            by_role[row["role"]].append((row, self.metric_from_row(row, name)))
        tracking = [m for _, m in by_role[MetricRole.TRACKING]]
        config_kind = experiment_row["optimization_config_kind"]
        if config_kind is None:
            return None, tracking
        objectives = by_role[MetricRole.OBJECTIVE]
        objective: Objective
        if experiment_row["objective_kind"] == 2:
            objective = ScalarizedObjective(
                [m for _, m in objectives],
                weights=[_num(r["weight"]) for r, _ in objectives],
                minimize=experiment_row["objective_minimize"],
            )
        elif experiment_row["objective_kind"] == 1:
            objective = MultiObjective([Objective(m, r["minimize"]) for r, m in objectives])
        else:
            row, metric = objectives[0]
            objective = Objective(metric, row["minimize"])
        constraints = [
            OutcomeConstraint(m, ComparisonOp(r["op"]), _num(r["bound"]), r["relative"])
            for r, m in by_role[MetricRole.OUTCOME_CONSTRAINT]
        ]
        if config_kind == 1:
            thresholds = [
                ObjectiveThreshold(
                    m,
                    _num(r["bound"]),
                    r["relative"],
                    ComparisonOp(r["op"]),
                )
                for r, m in by_role[MetricRole.OBJECTIVE_THRESHOLD]
            ]
            return (
                MultiObjectiveOptimizationConfig(
                    objective,  # type: ignore[arg-type]
                    outcome_constraints=constraints,
                    objective_thresholds=thresholds,
                ),
                tracking,
            )
        return OptimizationConfig(objective, outcome_constraints=constraints), tracking

    # --- trials ------------------------------------------------------------------------------
    #
    # Trials, generator runs and arms are many: they are built without their constructors
    # (which would stamp new creation times, re-run checks whose results are stored, and set
    # every attribute twice), by :func:`_build`, which gives them the attributes their
    # constructors give, in the same order, each container adopted as ``Base.__setattr__``
    # adopts it (so the objects take part in change tracking). Trials, generator runs and
    # arms made by their constructors and by the decoder are checked to hold the same
    # attributes by ``tests/sqa_store/test_load_objects.py``.

    def _run_type_name(self, value: int | None, name: str, row: Row) -> str | None:
        if value is None:
            return None
        types = self.config.generator_run_types
        found = types.int_to_name.get(value)
        if found is not None:
            return found
        return types.to_name(value, f"Experiment {name!r}, trial {row['trial_index']}")

    def generator_run_from_rows(self, row: Row, arm_rows: Sequence[Row], name: str) -> GeneratorRun:
        """A generator run from its row and its arms' rows.

        Example:
            >>> # gr = Decoder().generator_run_from_rows(run_row, arm_rows, "my_experiment")
        """
        loads = self._json.loads
        arms = [_arm(loads(a["parameters"]), a["name"]) for a in arm_rows]
        weights = [_num(a["weight"]) for a in arm_rows]
        unloaded = False
        try:
            texts = _RUN_JSON(row)
        except KeyError:  # a reduced-state row lacks the blobs
            texts = tuple(row.get(key) for key in _RUN_JSON_COLUMNS)
            unloaded = True
        values = [None if text is None else loads(text) for text in texts]
        fit_time, gen_time = row["fit_time"], row["gen_time"]
        gr = _build(
            GeneratorRun,
            {
                "arms": arms,
                "weights": weights,
                "optimization_config": values[0],
                "search_space": values[1],
                "model_predictions": values[2],
                "best_arm_predictions": values[3],
                "_generator_run_type": self._run_type_name(row["generator_run_type"], name, row),
                "fit_time": None if fit_time is None else text_to_number(fit_time),
                "gen_time": None if gen_time is None else text_to_number(gen_time),
                "model_key": row["model_key"],
                "model_kwargs": values[4],
                "bridge_kwargs": values[5],
                "gen_metadata": values[6],
                "model_state_after_gen": values[7],
                "time_created": _time(row["time_created"], row["time_created_tz"]),
                "index": row["position"],
            },
            _RUN_CONTAINERS,
        )
        if unloaded:
            # Its None blobs mean "not loaded", not "cleared": saves leave them as stored.
            gr.__dict__[BLOBS_UNLOADED] = True
        return gr

    def trial_from_rows(
        self,
        experiment: Experiment,
        row: Row,
        generator_runs: Sequence[tuple[Row, Sequence[Row]]],
        abandoned: Sequence[Row],
        runner: Row | None,
    ) -> BaseTrial:
        """A trial (added to ``experiment``) from its rows.

        Example:
            >>> # trial = Decoder().trial_from_rows(experiment, trial_row, runs, [], None)
        """
        name = experiment.name or ""
        index = row["trial_index"]
        loads = self._json.loads
        status = _STATUSES.get(row["status"])
        fields: dict[str, Any] = {
            "_experiment": experiment,
            "index": index,
            "trial_type": row["trial_type"],
            "ttl_seconds": row["ttl_seconds"],
            "status": TrialStatus(row["status"]) if status is None else status,
            "run_metadata": loads(row["run_metadata"]),
            "stop_metadata": loads(row["stop_metadata"]),
            "properties": loads(row["properties"]),
            "runner": None if runner is None else self.runner_from_row(runner, name),
            "time_created": _time(row["time_created"], row["time_created_tz"]),
            "time_staged": _time(row["time_staged"], row["time_staged_tz"]),
            "time_run_started": _time(row["time_run_started"], row["time_run_started_tz"]),
            "time_completed": _time(row["time_completed"], row["time_completed_tz"]),
            "failed_reason": row["failed_reason"],
            "abandoned_reason": row["abandoned_reason"],
        }
        trial: BaseTrial
        if row["is_batch"]:
            structs = []
            for gr_row, arm_rows in generator_runs:
                gr = self.generator_run_from_rows(gr_row, arm_rows, name)
                experiment._name_and_store_arms(gr.arms, index)
                structs.append(GeneratorRunStruct(gr, _num(gr_row["multiplier"])))
            status_quo = None
            status_quo_weight: Any = 1.0
            if row["status_quo_name"] is not None:
                status_quo = _arm(loads(row["status_quo_parameters"]), row["status_quo_name"])
                experiment._name_and_store_arms([status_quo], index)
                status_quo_weight = _num(row["status_quo_weight"])
            fields["generator_run_structs"] = structs
            fields["abandoned_arms_metadata"] = [
                AbandonedArm(a["name"], join_time(a["time"], a["time_tz"]), a["reason"])
                for a in abandoned
            ]
            fields["_status_quo"] = status_quo
            fields["_status_quo_weight"] = status_quo_weight
            trial = _build(BatchTrial, fields, _BATCH_CONTAINERS)
        else:
            generator_run = None
            for gr_row, arm_rows in generator_runs:
                generator_run = self.generator_run_from_rows(gr_row, arm_rows, name)
                experiment._name_and_store_arms(generator_run.arms, index)
            fields["generator_run"] = generator_run
            trial = _build(Trial, fields, _TRIAL_CONTAINERS)
        # A new experiment being decoded: nothing has read its journal yet, no need to note.
        dict.__setitem__(experiment.trials, index, trial)
        return trial

    @staticmethod
    def data_from_rows(rows: Sequence[Row]) -> Data:
        """The data attached at one time stamp, from its rows (ordered by ``row_index``).

        Example:
            >>> Decoder.data_from_rows([]).num_rows
            0
        """
        return _data(_data_columns(rows), 0, len(rows))

    # --- the whole experiment ----------------------------------------------------------------

    def experiment_from_rows(self, rows: StoredRows) -> Experiment:
        """The experiment stored in ``rows``.

        Example:
            >>> # Decoder(config).experiment_from_rows(await read_rows(session, "name"))
        """
        er = rows.experiment
        name = er["name"]
        runners = {r["trial_index"]: r for r in rows.runners}
        optimization_config, tracking = self.optimization_config_from_rows(er, rows.metrics)
        experiment_runner = runners.pop(EXPERIMENT_RUNNER_INDEX, None)
        experiment = Experiment(
            self.search_space_from_rows(rows.parameters, rows.parameter_constraints),
            name=name,
            optimization_config=optimization_config,
            tracking_metrics=tracking,
            runner=None
            if experiment_runner is None
            else self.runner_from_row(experiment_runner, name),
            description=er["description"],
            is_test=er["is_test"],
            experiment_type=self.config.experiment_type_from_int(er["experiment_type"], name),
            properties=self._json.loads(er["properties"]),
        )
        experiment.properties = self._json.loads(er["properties"])
        experiment.time_created = join_time(er["time_created"], er["time_created_tz"])  # type: ignore[assignment]
        if er["status_quo_name"] is not None:
            experiment.status_quo = Arm(
                self._json.loads(er["status_quo_parameters"]), name=er["status_quo_name"]
            )
        arms_by_run: dict[tuple[int, int], list[Row]] = defaultdict(list)
        for a in rows.arms:
            arms_by_run[(a["trial_index"], a["generator_run_position"])].append(a)
        runs_by_trial: dict[int, list[tuple[Row, Sequence[Row]]]] = defaultdict(list)
        for g in rows.generator_runs:
            key = (g["trial_index"], g["position"])
            runs_by_trial[key[0]].append((g, arms_by_run.get(key, [])))
        abandoned_by_trial: dict[int, list[Row]] = defaultdict(list)
        for a in rows.abandoned_arms:
            abandoned_by_trial[a["trial_index"]].append(a)
        step = decode_gc_step(len(rows.trials))
        for number, t in enumerate(rows.trials, start=1):
            if number % GC_STEP_TRIALS == 0:
                step()
            index = t["trial_index"]
            self.trial_from_rows(
                experiment,
                t,
                runs_by_trial.get(index, []),
                abandoned_by_trial.get(index, []),
                runners.get(index),
            )
        data_by_trial = experiment.data_by_trial
        data = rows.data
        columns = _data_columns(data)
        trial_indices, stamps = columns["trial_index"], [d["attach_stamp"] for d in data]
        start, size = 0, len(data)
        while start < size:  # an attachment's rows are adjacent (key order)
            trial_index, stamp = trial_indices[start], stamps[start]
            end = start + 1
            while end < size and trial_indices[end] == trial_index and stamps[end] == stamp:
                end += 1
            chunk = _data(columns, start, end)
            by_stamp = data_by_trial.setdefault(trial_index, {})
            earlier = by_stamp.get(stamp)
            if earlier is None:
                by_stamp[stamp] = chunk
            else:  # rows not in key order: join the attachment's parts
                for column, values in chunk.columns.items():
                    earlier.columns[column].extend(values)
            start = end
        return experiment
