"""Builders of realistic sample experiments, for the demo, the benchmarks and the tests.

Example:
    >>> from aestore.samples import make_experiment
    >>> make_experiment(num_trials=3).num_trials
    3
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from aestore.core import (
    Arm,
    ChoiceParameter,
    ComparisonOp,
    Data,
    Experiment,
    FixedParameter,
    GeneratorRun,
    GeneratorRunType,
    Metric,
    MultiObjective,
    MultiObjectiveOptimizationConfig,
    Objective,
    ObjectiveThreshold,
    OptimizationConfig,
    OrderConstraint,
    OutcomeConstraint,
    ParameterConstraint,
    ParameterType,
    RangeParameter,
    Runner,
    ScalarizedObjective,
    SearchSpace,
    SumConstraint,
    Trial,
)

__all__ = [
    "SAMPLE_EXPERIMENTS",
    "make_batch_experiment",
    "make_big_experiment",
    "make_empty_experiment",
    "make_experiment",
    "make_multi_objective_experiment",
    "make_nonfinite_experiment",
    "make_scalarized_experiment",
    "make_search_space",
]


def make_search_space() -> SearchSpace:
    """Six parameters of every kind, with one constraint of each kind.

    Example:
        >>> len(make_search_space().parameters)
        6
    """
    x1 = RangeParameter("x1", ParameterType.FLOAT, 0.0, 1.0)
    x2 = RangeParameter("x2", ParameterType.FLOAT, 0.0, 1.0)
    lr = RangeParameter("lr", ParameterType.FLOAT, 1e-5, 1.0, log_scale=True, digits=6)
    layers = RangeParameter("layers", ParameterType.INT, 1, 8)
    optimizer = ChoiceParameter(
        "optimizer", ParameterType.STRING, ["adam", "sgd", "rmsprop"], is_ordered=False
    )
    seed = FixedParameter("seed", ParameterType.INT, 42)
    return SearchSpace(
        [x1, x2, lr, layers, optimizer, seed],
        parameter_constraints=[
            OrderConstraint(x1, x2),
            SumConstraint([x1, x2], is_upper_bound=True, bound=1.5),
            ParameterConstraint({"x1": 2.0, "lr": 1.0}, bound=3.0),
        ],
    )


def _arm(rng: random.Random) -> Arm:
    return Arm(
        {
            "x1": round(rng.random() * 0.5, 6),
            "x2": round(0.5 + rng.random() * 0.5, 6),
            "lr": round(10 ** rng.uniform(-5, 0), 8),
            "layers": rng.randint(1, 8),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"]),
            "seed": 42,
        }
    )


def _arm_name(trial: Trial) -> str:
    assert trial.arm is not None and trial.arm.name is not None
    return trial.arm.name


def _data_rows(trial_index: int, arm_name: str, rng: random.Random) -> list[dict[str, object]]:
    return [
        {
            "trial_index": trial_index,
            "arm_name": arm_name,
            "metric_name": "accuracy",
            "mean": rng.random(),
            "sem": rng.random() / 100,
            "n": 100,
        },
        {
            "trial_index": trial_index,
            "arm_name": arm_name,
            "metric_name": "latency_ms",
            "mean": 10 + rng.random() * 50,
            "sem": math.nan,
            "n": 100,
        },
    ]


def make_experiment(
    num_trials: int = 10, name: str = "demo_experiment", seed: int = 0
) -> Experiment:
    """An experiment of ``num_trials`` completed single-arm trials with data on 2 metrics.

    Example:
        >>> exp = make_experiment(2)
        >>> len(exp.lookup_data())
        4
    """
    rng = random.Random(seed)
    accuracy = Metric("accuracy", lower_is_better=False)
    latency = Metric("latency_ms", lower_is_better=True, properties={"unit": "ms"})
    experiment = Experiment(
        search_space=make_search_space(),
        name=name,
        optimization_config=OptimizationConfig(
            Objective(accuracy, minimize=False),
            outcome_constraints=[
                OutcomeConstraint(latency, ComparisonOp.LEQ, 50.0, relative=False)
            ],
        ),
        tracking_metrics=[Metric("memory_mb", lower_is_better=True)],
        runner=Runner(),
        description="Tuning a small classifier",
        properties={"owner": "ml-team", "tags": ["demo", "tuning"], "budget": {"trials": 100}},
    )
    rows: list[dict[str, object]] = []
    for _ in range(num_trials):
        generator_run = GeneratorRun(
            [_arm(rng)], model_key="Sobol", gen_time=0.01, gen_metadata={"seed": seed}
        )
        trial = experiment.new_trial(generator_run=generator_run)
        trial.mark_running()
        trial.update_run_metadata({"job_id": f"job-{trial.index}"})
        rows.extend(_data_rows(trial.index, _arm_name(trial), rng))
        trial.mark_completed()
    if rows:
        experiment.attach_data(Data(rows))
    return experiment


def make_big_experiment(num_trials: int) -> Experiment:
    """The benchmark shape: ``num_trials`` single-arm trials, 6 parameters, 2 metrics with data.

    Example:
        >>> make_big_experiment(5).num_trials
        5
    """
    return make_experiment(num_trials=num_trials, name=f"bench_{num_trials}")


def make_empty_experiment() -> Experiment:
    """An experiment with a search space and nothing else.

    Example:
        >>> make_empty_experiment().num_trials
        0
    """
    return Experiment(
        SearchSpace([RangeParameter("x", ParameterType.FLOAT, -1.0, 1.0)]), name="empty"
    )


def make_batch_experiment() -> Experiment:
    """Batch trials with weights, a status quo, abandoned arms and several generator runs.

    Example:
        >>> exp = make_batch_experiment()
        >>> exp.trials[0].status_quo.name
        'status_quo'
    """
    rng = random.Random(1)
    experiment = make_experiment(num_trials=0, name="batch_experiment")
    experiment.status_quo = Arm(
        {"x1": 0.25, "x2": 0.75, "lr": 0.01, "layers": 2, "optimizer": "adam", "seed": 42}
    )
    batch = experiment.new_batch_trial(
        GeneratorRun(
            [_arm(rng) for _ in range(3)],
            weights=[0.5, 0.3, 0.2],
            model_key="GPEI",
            model_predictions=(
                {"accuracy": [0.5, 0.6, 0.7]},
                {"accuracy": {"accuracy": [0.01, 0.02, 0.03]}},
            ),
            fit_time=1.25,
            gen_time=0.5,
            model_kwargs={"acquisition": "qEI", "num_restarts": 10},
            bridge_kwargs={"transforms": ["UnitX", "StandardizeY"]},
            gen_metadata={"iteration": 3},
            model_state_after_gen={"fitted": True},
        ),
        trial_type="short_run",
        ttl_seconds=3600,
    )
    batch.add_arms_and_weights([_arm(rng), _arm(rng)], weights=[1.0, 2.0], multiplier=0.5)
    batch.set_status_quo_with_weight(experiment.status_quo, 0.25)
    batch.mark_arm_abandoned(batch.arms[1].name or "", reason="crashed on start")
    batch.mark_staged()
    batch.mark_running()
    rows = []
    for arm in batch.arms:
        rows.extend(_data_rows(batch.index, arm.name or "", rng))
    experiment.attach_data(Data(rows))
    batch.mark_completed()
    second = experiment.new_batch_trial()
    second.add_generator_run(
        GeneratorRun([experiment.status_quo.clone()], type=GeneratorRunType.STATUS_QUO)
    )
    second.mark_abandoned(reason="budget cut")
    failed = experiment.new_trial(GeneratorRun([_arm(rng)]))
    failed.mark_running(no_runner_required=True)
    failed.mark_failed(reason="OOM")
    return experiment


def make_multi_objective_experiment() -> Experiment:
    """Multi-objective config with thresholds; a tz-aware custom time stamp; unicode.

    Example:
        >>> make_multi_objective_experiment().name
        'multi_objective_ünïcødé_🧪'
    """
    accuracy = Metric("accuracy", lower_is_better=False)
    latency = Metric("latency_ms", lower_is_better=True)
    experiment = Experiment(
        make_search_space(),
        name="multi_objective_ünïcødé_🧪",
        optimization_config=MultiObjectiveOptimizationConfig(
            MultiObjective([Objective(accuracy), Objective(latency, minimize=True)]),
            outcome_constraints=[OutcomeConstraint(Metric("memory_mb"), ComparisonOp.LEQ, 512.0)],
            objective_thresholds=[
                ObjectiveThreshold(accuracy, 0.8, relative=False),
                ObjectiveThreshold(latency, 40.0, relative=False, op=ComparisonOp.LEQ),
            ],
        ),
        experiment_type="OFFLINE",
        is_test=True,
        description="Pareto front of accuracy and latency — 日本語",
    )
    experiment.time_created = datetime(
        2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    rng = random.Random(2)
    for _ in range(3):
        trial = experiment.new_trial(GeneratorRun([_arm(rng)]))
        trial.mark_running(no_runner_required=True)
        trial.time_run_started = datetime(2026, 1, 2, 3, 4, 5, 654321)  # naive stays naive
    experiment.trials[2].mark_early_stopped()
    experiment.trials[2].update_stop_metadata({"reason": "plateau"})
    return experiment


def make_scalarized_experiment() -> Experiment:
    """A scalarized objective inside a multi-objective config.

    Example:
        >>> make_scalarized_experiment().optimization_config.objective.weights
        [0.7, 0.3]
    """
    return Experiment(
        make_search_space(),
        name="scalarized",
        optimization_config=MultiObjectiveOptimizationConfig(
            ScalarizedObjective([Metric("a"), Metric("b")], weights=[0.7, 0.3], minimize=True)
        ),
    )


def make_nonfinite_experiment() -> Experiment:
    """NaN and infinities wherever a float may appear.

    Example:
        >>> import math
        >>> math.isnan(make_nonfinite_experiment().properties["nan"])
        True
    """
    nan, inf = math.nan, math.inf
    experiment = make_experiment(num_trials=0, name="nonfinite")
    experiment.properties = {
        "nan": nan,
        "inf": inf,
        "ninf": -inf,
        "nested": {"xs": [1.0, nan, -inf]},
    }
    trial = experiment.new_trial(
        GeneratorRun(
            [Arm({"x1": nan, "x2": inf, "lr": -inf, "layers": 3, "optimizer": "adam", "seed": 42})],
            model_predictions=({"accuracy": [nan]}, {"accuracy": {"accuracy": [inf]}}),
            best_arm_predictions=(
                Arm({"x1": 0.1, "x2": 0.2, "lr": 0.3, "layers": 1, "optimizer": "sgd", "seed": 42}),
                ({"accuracy": -inf}, {"accuracy": {"accuracy": nan}}),
            ),
            fit_time=nan,
        )
    )
    trial.mark_running(no_runner_required=True)
    experiment.attach_data(
        Data(
            [
                {
                    "trial_index": 0,
                    "arm_name": _arm_name(trial),
                    "metric_name": "accuracy",
                    "mean": nan,
                    "sem": inf,
                },
                {
                    "trial_index": 0,
                    "arm_name": _arm_name(trial),
                    "metric_name": "latency_ms",
                    "mean": -inf,
                    "sem": nan,
                    "n": 5,
                    "start_time": datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
                    "end_time": datetime(2026, 3, 1, 13, 0, 0, 999999),
                },
            ]
        )
    )
    # A second attach keeps the history: lookup_data() returns the newer one.
    experiment.attach_data(
        Data(
            [
                {
                    "trial_index": 0,
                    "arm_name": _arm_name(trial),
                    "metric_name": "accuracy",
                    "mean": 0.5,
                    "sem": 0.0,
                }
            ]
        )
    )
    return experiment


SAMPLE_EXPERIMENTS: dict[str, Callable[[], Experiment]] = {
    "empty": make_empty_experiment,
    "simple": lambda: make_experiment(num_trials=5),
    "batch": make_batch_experiment,
    "multi_objective": make_multi_objective_experiment,
    "scalarized": make_scalarized_experiment,
    "nonfinite": make_nonfinite_experiment,
}
