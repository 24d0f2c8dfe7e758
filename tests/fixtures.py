"""Shared test builders: custom user classes and experiments that use them.

The library's own sample experiments live in :mod:`aestore.samples`; this module adds what only
tests need, such as a user's Metric and Runner subclasses with fields of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aestore.core import (
    Arm,
    Experiment,
    GeneratorRun,
    Metric,
    Objective,
    OptimizationConfig,
    Runner,
)
from aestore.samples import SAMPLE_EXPERIMENTS, make_experiment


class CustomMetric(Metric):
    """A user's metric with fields of its own (as a user would write it)."""

    def __init__(
        self,
        name: str,
        dataset: str,
        window_days: int = 7,
        lower_is_better: bool | None = None,
        properties: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(name, lower_is_better=lower_is_better, properties=properties)
        self.dataset = dataset
        self.window_days = window_days


class CustomRunner(Runner):
    """A user's runner with fields of its own, defining __eq__ without __hash__."""

    def __init__(self, endpoint: str, retries: int = 3) -> None:
        self.endpoint = endpoint
        self.retries = retries

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CustomRunner)
            and other.endpoint == self.endpoint
            and other.retries == self.retries
        )

    def run(self, trial: Any) -> dict[str, Any]:
        return {"endpoint": self.endpoint}


def make_custom_classes_experiment() -> Experiment:
    """An experiment whose objective metric, tracking metric and runners are user classes."""
    experiment = make_experiment(num_trials=0, name="custom_classes")
    experiment.optimization_config = OptimizationConfig(
        Objective(CustomMetric("ctr", dataset="clicks_v2", window_days=14), minimize=False)
    )
    experiment.add_tracking_metric(CustomMetric("revenue", dataset="billing"))
    experiment.runner = CustomRunner("https://runner.example/api", retries=5)
    trial = experiment.new_trial(
        GeneratorRun(
            [Arm({"x1": 0.1, "x2": 0.9, "lr": 0.1, "layers": 2, "optimizer": "sgd", "seed": 42})]
        )
    )
    trial.runner = CustomRunner("https://other.example/api")
    trial.mark_running()
    return experiment


# Every sample experiment the storage tests round-trip, by test id.
ALL_SAMPLES: dict[str, Callable[[], Experiment]] = {
    **SAMPLE_EXPERIMENTS,
    "custom_classes": make_custom_classes_experiment,
}
