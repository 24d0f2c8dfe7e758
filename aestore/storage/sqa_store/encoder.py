"""``Encoder``: experiment objects -> plain row dicts for the tables of ``sqa_classes``.

Rows are dicts keyed by column name (ready for a bulk ``insert(table)`` executemany), built
without the ORM: the save compares them with what is stored and writes only the difference.

A registered Metric/Runner subclass's own fields are stored without any code from the user:
its constructor arguments, read from the attributes of the same name, go through the shared
JSON encoder into the ``fields`` column. A class with a ``class_to_dict`` in the JSON
registries is stored through that instead. An attribute that is not a constructor argument
(so would be lost on load) is an error at save.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from aestore.core.arm import Arm
from aestore.core.base_trial import BaseTrial
from aestore.core.batch_trial import BatchTrial
from aestore.core.data import Data
from aestore.core.experiment import Experiment
from aestore.core.generator_run import GeneratorRun
from aestore.core.metric import Metric
from aestore.core.objective import MultiObjective, Objective, ScalarizedObjective
from aestore.core.optimization_config import (
    MultiObjectiveOptimizationConfig,
    OptimizationConfig,
)
from aestore.core.outcome_constraint import ObjectiveThreshold, OutcomeConstraint
from aestore.core.parameter import ChoiceParameter, FixedParameter, RangeParameter
from aestore.core.parameter_constraint import (
    OrderConstraint,
    ParameterConstraint,
    SumConstraint,
)
from aestore.core.runner import Runner
from aestore.core.trial import Trial
from aestore.exceptions import SQAEncodeError
from aestore.storage.sqa_store.column_values import number_to_text, split_float, split_time
from aestore.storage.sqa_store.constructor_fields import constructor_fields
from aestore.storage.sqa_store.sqa_classes import EXPERIMENT_RUNNER_INDEX
from aestore.storage.sqa_store.sqa_config import SQAConfig
from aestore.storage.sqa_store.type_registry import TypeRegistry

__all__ = ["Encoder", "MetricRole", "Row", "TrialRows", "generator_runs_of"]

Row = dict[str, Any]


class MetricRole(IntEnum):
    """What a row of ``ae_metrics`` is."""

    OBJECTIVE = 0
    OUTCOME_CONSTRAINT = 1
    OBJECTIVE_THRESHOLD = 2
    TRACKING = 3


PARAMETER_KINDS: dict[type, int] = {RangeParameter: 0, ChoiceParameter: 1, FixedParameter: 2}
CONSTRAINT_KINDS: dict[type, int] = {ParameterConstraint: 0, OrderConstraint: 1, SumConstraint: 2}
CONFIG_KINDS: dict[type, int] = {OptimizationConfig: 0, MultiObjectiveOptimizationConfig: 1}
OBJECTIVE_KINDS: dict[type, int] = {Objective: 0, MultiObjective: 1, ScalarizedObjective: 2}


def _exact_kind(obj: Any, kinds: dict[type, int], what: str) -> int:
    kind = kinds.get(type(obj))
    if kind is None:
        raise SQAEncodeError(
            f"The SQL store cannot store a {what} of class {type(obj).__qualname__}; "
            f"supported: {', '.join(k.__name__ for k in kinds)}."
        )
    return kind


class TrialRows:
    """Every row of one trial, by table (``data`` not included: see ``Encoder.data_rows``)."""

    __slots__ = ("abandoned_arms", "arms", "generator_runs", "runner", "trial")

    def __init__(self) -> None:
        self.trial: Row = {}
        self.generator_runs: list[Row] = []
        self.arms: list[Row] = []
        self.abandoned_arms: list[Row] = []
        self.runner: Row | None = None


class Encoder:
    """Converts experiment objects to rows, with the registries of an ``SQAConfig``.

    Example:
        >>> from aestore.samples import make_experiment
        >>> Encoder(SQAConfig()).experiment_row(make_experiment(1))["name"]
        'demo_experiment'
    """

    def __init__(self, config: SQAConfig | None = None) -> None:
        self.config = config or SQAConfig()
        self._json = self.config.json

    # --- typed objects -----------------------------------------------------------------------

    def _object_fields(self, obj: Any, registry: TypeRegistry) -> tuple[int | None, str | None]:
        """(stored type id, JSON ``fields``) of a Metric or Runner."""
        type_id = registry.type_of(obj)
        if type_id is None:
            return None, None
        if type(obj) in self.config.json_encoder_registry:
            return type_id, self._json.dumps(obj)
        return type_id, self._json.dumps(constructor_fields(obj))

    def runner_row(self, runner: Runner, experiment_id: int, trial_index: int) -> Row:
        """The ``ae_runners`` row of a runner (``trial_index`` -1: the experiment's)."""
        runner_type, fields = self._object_fields(runner, self.config.runner_registry)
        return {
            "experiment_id": experiment_id,
            "trial_index": trial_index,
            "runner_type": runner_type,
            "fields": fields,
        }

    def _metric_row(self, metric: Metric, role: MetricRole, **extra: Any) -> Row:
        metric_type, fields = self._object_fields(metric, self.config.metric_registry)
        row: Row = {
            "role": int(role),
            "name": metric.name,
            "metric_type": metric_type,
            "lower_is_better": metric.lower_is_better,
            "properties": None if fields is not None else self._json.dumps(metric.properties),
            "fields": fields,
            "minimize": None,
            "op": None,
            "bound": None,
            "relative": None,
            "weight": None,
        }
        row.update(extra)
        return row

    # --- experiment level --------------------------------------------------------------------

    def experiment_row(self, experiment: Experiment) -> Row:
        """The ``ae_experiments`` row (without ``id``, ``version`` and ``instance_token``)."""
        if not experiment.name:
            raise SQAEncodeError("An experiment needs a name to be stored in the SQL store.")
        time_created, time_created_tz = split_time(experiment.time_created)
        oc = experiment.optimization_config
        status_quo = experiment.status_quo
        return {
            "name": experiment.name,
            "description": experiment.description,
            "experiment_type": self.config.experiment_type_to_int(
                experiment.experiment_type, experiment.name
            ),
            "is_test": bool(experiment.is_test),
            "time_created": time_created,
            "time_created_tz": time_created_tz,
            "properties": self._json.dumps(experiment.properties),
            "optimization_config_kind": (
                None if oc is None else _exact_kind(oc, CONFIG_KINDS, "optimization config")
            ),
            "objective_kind": (
                None if oc is None else _exact_kind(oc.objective, OBJECTIVE_KINDS, "objective")
            ),
            "objective_minimize": (
                oc.objective.minimize
                if isinstance(oc, OptimizationConfig)
                and isinstance(oc.objective, ScalarizedObjective)
                else None
            ),
            "status_quo_name": None if status_quo is None else status_quo.name,
            "status_quo_parameters": (
                None if status_quo is None else self._json.dumps(status_quo.parameters)
            ),
        }

    def parameter_rows(self, experiment: Experiment, experiment_id: int) -> list[Row]:
        """One ``ae_parameters`` row per search-space parameter, in order."""
        rows = []
        for position, p in enumerate(experiment.search_space.parameters.values()):
            kind = _exact_kind(p, PARAMETER_KINDS, "parameter")
            domain: dict[str, Any] = {"target_value": p.target_value}
            row: Row = {
                "experiment_id": experiment_id,
                "position": position,
                "name": p.name,
                "kind": kind,
                "parameter_type": p.parameter_type.value,
                "is_fidelity": p.is_fidelity,
                "log_scale": None,
                "digits": None,
                "is_ordered": None,
                "is_task": None,
            }
            if isinstance(p, RangeParameter):
                domain.update(lower=p.lower, upper=p.upper)
                row.update(log_scale=p.log_scale, digits=p.digits)
            elif isinstance(p, ChoiceParameter):
                domain["values"] = p.values
                row.update(is_ordered=p.is_ordered, is_task=p.is_task)
            elif isinstance(p, FixedParameter):
                domain["value"] = p.value
            row["domain"] = self._json.dumps(domain)
            rows.append(row)
        return rows

    def parameter_constraint_rows(self, experiment: Experiment, experiment_id: int) -> list[Row]:
        """One ``ae_parameter_constraints`` row per constraint, in order."""
        rows = []
        for position, c in enumerate(experiment.search_space.parameter_constraints):
            kind = _exact_kind(c, CONSTRAINT_KINDS, "parameter constraint")
            names: list[str] | None = None
            if isinstance(c, OrderConstraint):
                names = [c.lower_parameter.name, c.upper_parameter.name]
            elif isinstance(c, SumConstraint):
                names = [p.name for p in c.parameters]
            rows.append(
                {
                    "experiment_id": experiment_id,
                    "position": position,
                    "kind": kind,
                    "constraint_dict": self._json.dumps(c.constraint_dict),
                    "bound": number_to_text(c.bound),
                    "parameter_names": None if names is None else self._json.dumps(names),
                    "is_upper_bound": c.is_upper_bound if isinstance(c, SumConstraint) else None,
                }
            )
        return rows

    def metric_rows(self, experiment: Experiment, experiment_id: int) -> list[Row]:
        """``ae_metrics`` rows: the optimization config's metrics by role, then tracking."""
        rows: list[Row] = []
        oc = experiment.optimization_config
        if oc is not None:
            objective = oc.objective
            if isinstance(objective, MultiObjective):
                for sub in objective.objectives:
                    _exact_kind(sub, {Objective: 0}, "objective inside a MultiObjective")
                    rows.append(
                        self._metric_row(sub.metric, MetricRole.OBJECTIVE, minimize=sub.minimize)
                    )
            elif isinstance(objective, ScalarizedObjective):
                for metric, weight in zip(objective.metrics, objective.weights, strict=True):
                    rows.append(
                        self._metric_row(
                            metric, MetricRole.OBJECTIVE, weight=number_to_text(weight)
                        )
                    )
            else:
                rows.append(
                    self._metric_row(
                        objective.metric, MetricRole.OBJECTIVE, minimize=objective.minimize
                    )
                )
            thresholds: list[OutcomeConstraint] = []
            if isinstance(oc, MultiObjectiveOptimizationConfig):
                thresholds = list(oc.objective_thresholds)
            for role, constraints in (
                (MetricRole.OUTCOME_CONSTRAINT, oc.outcome_constraints),
                (MetricRole.OBJECTIVE_THRESHOLD, thresholds),
            ):
                expected = (
                    ObjectiveThreshold
                    if role is MetricRole.OBJECTIVE_THRESHOLD
                    else (OutcomeConstraint)
                )
                for c in constraints:
                    _exact_kind(c, {expected: 0}, role.name.lower().replace("_", " "))
                    rows.append(
                        self._metric_row(
                            c.metric,
                            role,
                            op=c.op.value,
                            bound=number_to_text(c.bound),
                            relative=c.relative,
                        )
                    )
        for metric in experiment.tracking_metrics.values():
            rows.append(self._metric_row(metric, MetricRole.TRACKING))
        for position, row in enumerate(rows):
            row["experiment_id"] = experiment_id
            row["position"] = position
        return rows

    def experiment_runner_rows(self, experiment: Experiment, experiment_id: int) -> list[Row]:
        """The experiment's runner row (an empty list without a runner)."""
        if experiment.runner is None:
            return []
        return [self.runner_row(experiment.runner, experiment_id, EXPERIMENT_RUNNER_INDEX)]

    # --- trials ------------------------------------------------------------------------------

    def trial_row(self, trial: BaseTrial, experiment_id: int) -> Row:
        """The ``ae_trials`` row (without ``version``)."""
        dumps = self._json.dumps
        created, created_tz = split_time(trial.time_created)
        staged, staged_tz = split_time(trial.time_staged)
        started, started_tz = split_time(trial.time_run_started)
        completed, completed_tz = split_time(trial.time_completed)
        ttl = trial.ttl_seconds
        if ttl is not None and type(ttl) is not int:
            # The column is an INTEGER: 60.0 would come back as 60, a different value.
            raise SQAEncodeError(
                f"Trial {trial.index}: ttl_seconds must be an int, got {type(ttl).__name__} "
                f"{ttl!r}."
            )
        row: Row = {
            "experiment_id": experiment_id,
            "trial_index": trial.index,
            "is_batch": isinstance(trial, BatchTrial),
            "status": trial.status.value,
            "trial_type": trial.trial_type,
            "ttl_seconds": trial.ttl_seconds,
            "time_created": created,
            "time_created_tz": created_tz,
            "time_staged": staged,
            "time_staged_tz": staged_tz,
            "time_run_started": started,
            "time_run_started_tz": started_tz,
            "time_completed": completed,
            "time_completed_tz": completed_tz,
            "failed_reason": trial.failed_reason,
            "abandoned_reason": trial.abandoned_reason,
            "run_metadata": dumps(trial.run_metadata),
            "stop_metadata": dumps(trial.stop_metadata),
            "properties": dumps(trial.properties),
            "status_quo_name": None,
            "status_quo_parameters": None,
            "status_quo_weight": None,
        }
        if isinstance(trial, BatchTrial) and trial.status_quo is not None:
            row["status_quo_name"] = trial.status_quo.name
            row["status_quo_parameters"] = dumps(trial.status_quo.parameters)
            row["status_quo_weight"] = number_to_text(trial.status_quo_weight)
        return row

    def trial_rows(self, trial: BaseTrial, experiment_id: int) -> TrialRows:
        """Every row of a trial: the trial, its generator runs and arms, abandoned arms, runner.

        Example:
            >>> from aestore.samples import make_experiment
            >>> rows = Encoder(SQAConfig()).trial_rows(make_experiment(1).trials[0], 1)
            >>> len(rows.generator_runs), len(rows.arms)
            (1, 1)
        """
        if not isinstance(trial, Trial | BatchTrial):
            raise SQAEncodeError(f"Cannot store a trial of class {type(trial).__qualname__}.")
        out = TrialRows()
        out.trial = self.trial_row(trial, experiment_id)
        for position, (gr, multiplier) in enumerate(generator_runs_of(trial)):
            gr_row, arm_rows = self.generator_run_rows(
                gr, experiment_id, trial.index, position, multiplier
            )
            out.generator_runs.append(gr_row)
            out.arms.extend(arm_rows)
        out.abandoned_arms = self.abandoned_arm_rows(trial, experiment_id)
        if trial.runner is not None:
            out.runner = self.runner_row(trial.runner, experiment_id, trial.index)
        return out

    def abandoned_arm_rows(self, trial: BaseTrial, experiment_id: int) -> list[Row]:
        """The ``ae_abandoned_arms`` rows of a batch trial (none for a single-arm trial)."""
        rows = []
        for position, abandoned in enumerate(getattr(trial, "abandoned_arms_metadata", ())):
            time, time_tz = split_time(abandoned.time)
            rows.append(
                {
                    "experiment_id": experiment_id,
                    "trial_index": trial.index,
                    "position": position,
                    "name": abandoned.name,
                    "time": time,
                    "time_tz": time_tz,
                    "reason": abandoned.reason,
                }
            )
        return rows

    def generator_run_rows(
        self,
        gr: GeneratorRun,
        experiment_id: int,
        trial_index: int,
        position: int,
        multiplier: float | None,
    ) -> tuple[Row, list[Row]]:
        """The ``ae_generator_runs`` row of a run and the ``ae_arms`` rows of its arms."""
        dumps = self._json.dumps
        created, created_tz = split_time(gr.time_created)
        row: Row = {
            "experiment_id": experiment_id,
            "trial_index": trial_index,
            "position": position,
            "generator_run_type": self.config.generator_run_types.to_int(
                gr.generator_run_type, f"A generator run of trial {trial_index}"
            ),
            "multiplier": number_to_text(multiplier),
            "model_key": gr.model_key,
            "fit_time": number_to_text(gr.fit_time),
            "gen_time": number_to_text(gr.gen_time),
            "time_created": created,
            "time_created_tz": created_tz,
            "optimization_config": dumps(gr.optimization_config),
            "search_space": dumps(gr.search_space),
            "model_predictions": dumps(gr.model_predictions),
            "best_arm_predictions": dumps(gr.best_arm_predictions),
            "model_kwargs": dumps(gr.model_kwargs),
            "bridge_kwargs": dumps(gr.bridge_kwargs),
            "gen_metadata": dumps(gr.gen_metadata),
            "model_state_after_gen": dumps(gr.model_state_after_gen),
        }
        arms = [
            {
                "experiment_id": experiment_id,
                "trial_index": trial_index,
                "generator_run_position": position,
                "position": arm_position,
                "name": _arm_name(arm, trial_index),
                "parameters": dumps(arm.parameters),
                "weight": number_to_text(weight),
            }
            for arm_position, (arm, weight) in enumerate(zip(gr.arms, gr.weights, strict=True))
        ]
        return row, arms

    # --- data --------------------------------------------------------------------------------

    def data_rows(self, experiment_id: int, trial_index: int, stamp: int, data: Data) -> list[Row]:
        """One ``ae_data`` row per observation of the data attached at ``stamp``.

        Example:
            >>> d = Data([{"trial_index": 0, "arm_name": "0_0", "metric_name": "m",
            ...            "mean": float("nan"), "sem": 0.1}])
            >>> Encoder(SQAConfig()).data_rows(1, 0, 123, d)[0]["mean_nonfinite"]
            1
        """
        cols = data.columns
        rows = []
        for row_index, (t, arm, metric, mean, sem, n, start, end) in enumerate(
            zip(
                cols["trial_index"],
                cols["arm_name"],
                cols["metric_name"],
                cols["mean"],
                cols["sem"],
                cols["n"],
                cols["start_time"],
                cols["end_time"],
                strict=True,
            )
        ):
            if t != trial_index:
                raise SQAEncodeError(
                    f"Data attached for trial {trial_index} has a row for trial {t}."
                )
            mean_value, mean_code = split_float(mean)
            sem_value, sem_code = split_float(sem)
            start_value, start_tz = split_time(start)
            end_value, end_tz = split_time(end)
            rows.append(
                {
                    "experiment_id": experiment_id,
                    "trial_index": trial_index,
                    "attach_stamp": stamp,
                    "row_index": row_index,
                    "arm_name": arm,
                    "metric_name": metric,
                    "mean": mean_value,
                    "mean_nonfinite": mean_code,
                    "sem": sem_value,
                    "sem_nonfinite": sem_code,
                    "n": n,
                    "start_time": start_value,
                    "start_time_tz": start_tz,
                    "end_time": end_value,
                    "end_time_tz": end_tz,
                }
            )
        return rows


def generator_runs_of(trial: BaseTrial) -> list[tuple[GeneratorRun, float | None]]:
    """A trial's generator runs with their multipliers (None for a single-arm trial)."""
    if isinstance(trial, BatchTrial):
        return [(s.generator_run, s.weight) for s in trial.generator_run_structs]
    return [(gr, None) for gr in trial.generator_runs]


def _arm_name(arm: Arm, trial_index: int) -> str:
    if arm.name is None:
        raise SQAEncodeError(f"An arm of trial {trial_index} has no name.")
    return arm.name
