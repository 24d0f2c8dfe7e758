"""``Decoder``: stored rows -> an experiment equal (``==``) to the one that was saved.

The loader reads each table once (rows ordered by key) and hands the rows here as a
:class:`StoredRows`; decoding is pure and synchronous. Objects are rebuilt through their
constructors, so they hold exactly the attributes a freshly built object holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aestore.core.arm import Arm
from aestore.core.base_trial import BaseTrial, TrialStatus
from aestore.core.batch_trial import AbandonedArm, BatchTrial, GeneratorRunStruct
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

__all__ = ["Decoder", "StoredRows"]

Row = Mapping[str, Any]


def _num(text: str | None) -> Any:
    """A stored int-or-float (typed Any: the model's signatures say float)."""
    return text_to_number(text)


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

    def generator_run_from_rows(self, row: Row, arm_rows: Sequence[Row], name: str) -> GeneratorRun:
        """A generator run from its row and its arms' rows."""
        loads = self._json.loads
        gr = GeneratorRun(
            arms=[Arm(loads(a["parameters"]), name=a["name"]) for a in arm_rows],
            weights=[_num(a["weight"]) for a in arm_rows],
            optimization_config=loads(row["optimization_config"]),
            search_space=loads(row["search_space"]),
            model_predictions=loads(row["model_predictions"]),
            best_arm_predictions=loads(row["best_arm_predictions"]),
            type=self.config.generator_run_types.to_name(
                row["generator_run_type"], f"Experiment {name!r}, trial {row['trial_index']}"
            ),
            fit_time=_num(row["fit_time"]),
            gen_time=_num(row["gen_time"]),
            model_key=row["model_key"],
            model_kwargs=loads(row.get("model_kwargs")),
            bridge_kwargs=loads(row.get("bridge_kwargs")),
            gen_metadata=loads(row.get("gen_metadata")),
            model_state_after_gen=loads(row.get("model_state_after_gen")),
        )
        gr.time_created = join_time(row["time_created"], row["time_created_tz"])  # type: ignore[assignment]
        gr.index = row["position"]
        return gr

    def trial_from_rows(
        self,
        experiment: Experiment,
        row: Row,
        generator_runs: Sequence[tuple[Row, Sequence[Row]]],
        abandoned: Sequence[Row],
        runner: Row | None,
    ) -> BaseTrial:
        """A trial (added to ``experiment``) from its rows."""
        name = experiment.name or ""
        index = row["trial_index"]
        loads = self._json.loads
        trial: BaseTrial
        if row["is_batch"]:
            batch = BatchTrial(experiment, index, None, row["trial_type"], row["ttl_seconds"])
            for gr_row, arm_rows in generator_runs:
                gr = self.generator_run_from_rows(gr_row, arm_rows, name)
                experiment._name_and_store_arms(gr.arms, index)
                multiplier = _num(gr_row["multiplier"])
                batch.generator_run_structs.append(GeneratorRunStruct(gr, multiplier))
            if row["status_quo_name"] is not None:
                sq = Arm(loads(row["status_quo_parameters"]), name=row["status_quo_name"])
                experiment._name_and_store_arms([sq], index)
                batch._status_quo = sq
                batch._status_quo_weight = _num(row["status_quo_weight"])
            for a in abandoned:
                batch.abandoned_arms_metadata.append(
                    AbandonedArm(a["name"], join_time(a["time"], a["time_tz"]), a["reason"])
                )
            trial = batch
        else:
            single = Trial(experiment, index, None, row["trial_type"], row["ttl_seconds"])
            for gr_row, arm_rows in generator_runs:
                gr = self.generator_run_from_rows(gr_row, arm_rows, name)
                experiment._name_and_store_arms(gr.arms, index)
                single.generator_run = gr
            trial = single
        trial.status = TrialStatus(row["status"])
        trial.time_created = join_time(row["time_created"], row["time_created_tz"])  # type: ignore[assignment]
        trial.time_staged = join_time(row["time_staged"], row["time_staged_tz"])
        trial.time_run_started = join_time(row["time_run_started"], row["time_run_started_tz"])
        trial.time_completed = join_time(row["time_completed"], row["time_completed_tz"])
        trial.failed_reason = row["failed_reason"]
        trial.abandoned_reason = row["abandoned_reason"]
        trial.run_metadata = loads(row["run_metadata"])
        trial.stop_metadata = loads(row["stop_metadata"])
        trial.properties = loads(row["properties"])
        if runner is not None:
            trial.runner = self.runner_from_row(runner, name)
        experiment.trials[index] = trial
        return trial

    @staticmethod
    def data_from_rows(rows: Sequence[Row]) -> Data:
        """The data attached at one time stamp, from its rows (ordered by ``row_index``)."""
        return Data.from_columns(
            {
                "trial_index": [r["trial_index"] for r in rows],
                "arm_name": [r["arm_name"] for r in rows],
                "metric_name": [r["metric_name"] for r in rows],
                "mean": [join_float(r["mean"], r["mean_nonfinite"]) for r in rows],
                "sem": [join_float(r["sem"], r["sem_nonfinite"]) for r in rows],
                "n": [r["n"] for r in rows],
                "start_time": [join_time(r["start_time"], r["start_time_tz"]) for r in rows],
                "end_time": [join_time(r["end_time"], r["end_time_tz"]) for r in rows],
            }
        )

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
        for number, t in enumerate(rows.trials, start=1):
            if number % GC_STEP_TRIALS == 0:
                gc_step()
            index = t["trial_index"]
            self.trial_from_rows(
                experiment,
                t,
                runs_by_trial.get(index, []),
                abandoned_by_trial.get(index, []),
                runners.get(index),
            )
        chunks: dict[tuple[int, int], list[Row]] = {}
        for d in rows.data:
            chunks.setdefault((d["trial_index"], d["attach_stamp"]), []).append(d)
        for (trial_index, stamp), chunk in chunks.items():
            experiment.data_by_trial.setdefault(trial_index, {})[stamp] = self.data_from_rows(chunk)
        return experiment
