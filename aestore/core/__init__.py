"""The experiment model: pure Python, no I/O, no storage imports.

Example:
    >>> from aestore.core import Experiment, SearchSpace, RangeParameter, ParameterType
    >>> Experiment(SearchSpace([RangeParameter("x", ParameterType.FLOAT, 0, 1)]), name="e").name
    'e'
"""

from aestore.core.arm import Arm
from aestore.core.base_trial import BaseTrial, TrialStatus
from aestore.core.batch_trial import AbandonedArm, BatchTrial, GeneratorRunStruct
from aestore.core.data import Data
from aestore.core.experiment import Experiment
from aestore.core.generator_run import GeneratorRun, GeneratorRunType
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
from aestore.core.parameter_constraint import OrderConstraint, ParameterConstraint, SumConstraint
from aestore.core.runner import Runner
from aestore.core.search_space import SearchSpace
from aestore.core.trial import Trial
from aestore.core.types import ComparisonOp

__all__ = [
    "AbandonedArm",
    "Arm",
    "BaseTrial",
    "BatchTrial",
    "ChoiceParameter",
    "ComparisonOp",
    "Data",
    "Experiment",
    "FixedParameter",
    "GeneratorRun",
    "GeneratorRunStruct",
    "GeneratorRunType",
    "Metric",
    "MultiObjective",
    "MultiObjectiveOptimizationConfig",
    "Objective",
    "ObjectiveThreshold",
    "OptimizationConfig",
    "OrderConstraint",
    "OutcomeConstraint",
    "Parameter",
    "ParameterConstraint",
    "ParameterType",
    "RangeParameter",
    "Runner",
    "ScalarizedObjective",
    "SearchSpace",
    "SumConstraint",
    "Trial",
    "TrialStatus",
]
