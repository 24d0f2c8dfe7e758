"""Small builders and assertions shared by the model tests."""

from __future__ import annotations

from typing import Any

import pytest

from aestore.core import (
    Arm,
    Experiment,
    GeneratorRun,
    Metric,
    ParameterType,
    RangeParameter,
    Runner,
    SearchSpace,
)
from aestore.exceptions import AestoreError


def search_space() -> SearchSpace:
    """One float parameter ``x`` in [0, 1]."""
    return SearchSpace([RangeParameter("x", ParameterType.FLOAT, 0.0, 1.0)])


def experiment(name: str = "exp", **kwargs: Any) -> Experiment:
    """A bare experiment over :func:`search_space`."""
    return Experiment(search_space(), name=name, **kwargs)


def arm_run(*xs: float) -> GeneratorRun:
    """A generator run of unnamed arms ``{"x": x}``."""
    return GeneratorRun([Arm({"x": x}) for x in xs])


def row(trial_index: int = 0, arm_name: str = "0_0", **extra: Any) -> dict[str, Any]:
    """One data record with the required columns (overridable)."""
    record: dict[str, Any] = {
        "trial_index": trial_index,
        "arm_name": arm_name,
        "metric_name": "m",
        "mean": 1.5,
        "sem": 0.1,
    }
    record.update(extra)
    return record


def assert_model_error(excinfo: pytest.ExceptionInfo[BaseException], *names: str) -> None:
    """The error is a ValueError and an AestoreError, and its message names ``names``."""
    err = excinfo.value
    assert isinstance(err, ValueError), type(err).__mro__
    assert isinstance(err, AestoreError), type(err).__mro__
    for name in names:
        assert name in str(err), (name, str(err))


class EqOnlyMetric(Metric):
    """A user's metric that defines __eq__ but not __hash__ (so Python makes it unhashable)."""

    def __init__(self, name: str, source: str) -> None:
        super().__init__(name)
        self.source = source

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EqOnlyMetric) and (other.name, other.source) == (
            self.name,
            self.source,
        )


class EqOnlyRunner(Runner):
    """A user's runner that defines __eq__ but not __hash__."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EqOnlyRunner) and other.endpoint == self.endpoint
