"""The public surface of aestore.core: names, module paths, constructor signatures, imports."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest

import aestore.core
from aestore import exceptions

EXPECTED_ALL = [
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

# (module path pinned by the issue, class name)
MODULE_PATHS = [
    ("aestore.core.parameter", "ParameterType"),
    ("aestore.core.parameter", "RangeParameter"),
    ("aestore.core.parameter", "ChoiceParameter"),
    ("aestore.core.parameter", "FixedParameter"),
    ("aestore.core.parameter_constraint", "ParameterConstraint"),
    ("aestore.core.parameter_constraint", "OrderConstraint"),
    ("aestore.core.parameter_constraint", "SumConstraint"),
    ("aestore.core.search_space", "SearchSpace"),
    ("aestore.core.metric", "Metric"),
    ("aestore.core.objective", "Objective"),
    ("aestore.core.objective", "MultiObjective"),
    ("aestore.core.objective", "ScalarizedObjective"),
    ("aestore.core.types", "ComparisonOp"),
    ("aestore.core.outcome_constraint", "OutcomeConstraint"),
    ("aestore.core.outcome_constraint", "ObjectiveThreshold"),
    ("aestore.core.optimization_config", "OptimizationConfig"),
    ("aestore.core.optimization_config", "MultiObjectiveOptimizationConfig"),
    ("aestore.core.arm", "Arm"),
    ("aestore.core.generator_run", "GeneratorRunType"),
    ("aestore.core.generator_run", "GeneratorRun"),
    ("aestore.core.base_trial", "TrialStatus"),
    ("aestore.core.trial", "Trial"),
    ("aestore.core.batch_trial", "BatchTrial"),
    ("aestore.core.data", "Data"),
    ("aestore.core.runner", "Runner"),
    ("aestore.core.experiment", "Experiment"),
]

_ = inspect.Parameter.empty
# Constructor parameters (name, default) exactly as the issue pins them.
SIGNATURES = {
    "RangeParameter": [
        ("name", _),
        ("parameter_type", _),
        ("lower", _),
        ("upper", _),
        ("log_scale", False),
        ("digits", None),
        ("is_fidelity", False),
        ("target_value", None),
    ],
    "ChoiceParameter": [
        ("name", _),
        ("parameter_type", _),
        ("values", _),
        ("is_ordered", False),
        ("is_task", False),
        ("is_fidelity", False),
        ("target_value", None),
    ],
    "FixedParameter": [
        ("name", _),
        ("parameter_type", _),
        ("value", _),
        ("is_fidelity", False),
        ("target_value", None),
    ],
    "ParameterConstraint": [("constraint_dict", _), ("bound", _)],
    "OrderConstraint": [("lower_parameter", _), ("upper_parameter", _)],
    "SumConstraint": [("parameters", _), ("is_upper_bound", _), ("bound", _)],
    "SearchSpace": [("parameters", _), ("parameter_constraints", None)],
    "Metric": [("name", _), ("lower_is_better", None), ("properties", None)],
    "Objective": [("metric", _), ("minimize", False)],
    "MultiObjective": [("objectives", _)],
    "ScalarizedObjective": [("metrics", _), ("weights", None), ("minimize", False)],
    "OutcomeConstraint": [("metric", _), ("op", _), ("bound", _), ("relative", True)],
    "ObjectiveThreshold": [("metric", _), ("bound", _), ("relative", True), ("op", None)],
    "OptimizationConfig": [("objective", _), ("outcome_constraints", None)],
    "MultiObjectiveOptimizationConfig": [
        ("objective", _),
        ("outcome_constraints", None),
        ("objective_thresholds", None),
    ],
    "Arm": [("parameters", _), ("name", None)],
    "GeneratorRun": [
        ("arms", _),
        ("weights", None),
        ("optimization_config", None),
        ("search_space", None),
        ("model_predictions", None),
        ("best_arm_predictions", None),
        ("type", None),
        ("fit_time", None),
        ("gen_time", None),
        ("model_key", None),
        ("model_kwargs", None),
        ("bridge_kwargs", None),
        ("gen_metadata", None),
        ("model_state_after_gen", None),
    ],
    "Data": [("records", None)],
    "Experiment": [
        ("search_space", _),
        ("name", None),
        ("optimization_config", None),
        ("tracking_metrics", None),
        ("runner", None),
        ("status_quo", None),
        ("description", None),
        ("is_test", False),
        ("experiment_type", None),
        ("properties", None),
    ],
}

METHOD_SIGNATURES = [
    (
        "Experiment",
        "new_trial",
        [("generator_run", None), ("trial_type", None), ("ttl_seconds", None)],
    ),
    (
        "Experiment",
        "new_batch_trial",
        [("generator_run", None), ("trial_type", None), ("ttl_seconds", None)],
    ),
    ("Experiment", "attach_data", [("data", _)]),
    ("Experiment", "lookup_data", [("trial_indices", None)]),
    ("BaseTrial", "mark_staged", []),
    ("BaseTrial", "mark_running", [("no_runner_required", False)]),
    ("BaseTrial", "mark_completed", []),
    ("BaseTrial", "mark_failed", [("reason", None)]),
    ("BaseTrial", "mark_abandoned", [("reason", None)]),
    ("BaseTrial", "mark_early_stopped", []),
    ("BaseTrial", "update_run_metadata", [("metadata", _)]),
    ("BatchTrial", "add_arms_and_weights", [("arms", _), ("weights", None), ("multiplier", 1.0)]),
    ("BatchTrial", "add_generator_run", [("generator_run", _), ("multiplier", 1.0)]),
    ("BatchTrial", "mark_arm_abandoned", [("arm_name", _), ("reason", None)]),
]

ENUM_MEMBERS = [
    ("ParameterType", ["BOOL", "INT", "FLOAT", "STRING"]),
    ("ComparisonOp", ["GEQ", "LEQ"]),
    (
        "TrialStatus",
        ["CANDIDATE", "STAGED", "FAILED", "COMPLETED", "RUNNING", "ABANDONED", "EARLY_STOPPED"],
    ),
]


def _params(func: object) -> list[tuple[str, object]]:
    return [(p.name, p.default) for p in inspect.signature(func).parameters.values()]  # type: ignore[arg-type]


def test_all_is_sorted() -> None:
    assert aestore.core.__all__ == sorted(aestore.core.__all__)


def test_all_is_pinned() -> None:
    assert aestore.core.__all__ == EXPECTED_ALL


def test_all_names_every_public_class_defined_in_the_model() -> None:
    defined = set()
    for module_name in {m for m, _ in MODULE_PATHS} | {"aestore.core.base_trial"}:
        module = importlib.import_module(module_name)
        defined |= {
            name
            for name, obj in vars(module).items()
            if isinstance(obj, type) and obj.__module__ == module_name and not name.startswith("_")
        }
    assert defined <= set(aestore.core.__all__), defined - set(aestore.core.__all__)


@pytest.mark.parametrize("name", EXPECTED_ALL)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(aestore.core, name).__name__ == name


@pytest.mark.parametrize(("module_name", "name"), MODULE_PATHS, ids=[n for _, n in MODULE_PATHS])
def test_class_lives_at_its_pinned_module_path(module_name: str, name: str) -> None:
    module = importlib.import_module(module_name)
    assert getattr(module, name) is getattr(aestore.core, name)
    assert name in module.__all__


@pytest.mark.parametrize(("name", "expected"), list(SIGNATURES.items()), ids=list(SIGNATURES))
def test_constructor_signature_is_pinned(name: str, expected: list[tuple[str, object]]) -> None:
    assert _params(getattr(aestore.core, name).__init__)[1:] == expected


@pytest.mark.parametrize(
    ("cls", "method", "expected"),
    METHOD_SIGNATURES,
    ids=[f"{c}.{m}" for c, m, _ in METHOD_SIGNATURES],
)
def test_method_signature_is_pinned(
    cls: str, method: str, expected: list[tuple[str, object]]
) -> None:
    assert _params(getattr(getattr(aestore.core, cls), method))[1:] == expected


@pytest.mark.parametrize(("name", "members"), ENUM_MEMBERS, ids=[n for n, _ in ENUM_MEMBERS])
def test_enum_members(name: str, members: list[str]) -> None:
    enum = getattr(aestore.core, name)
    assert issubclass(enum, Enum)
    assert [m.name for m in enum] == members


def test_generator_run_type_has_status_quo() -> None:
    assert aestore.core.GeneratorRunType["STATUS_QUO"].name == "STATUS_QUO"


@pytest.mark.parametrize(
    "error",
    ["ModelError", "IllegalStatusTransitionError", "UnknownTrialError", "DuplicateNameError"],
)
def test_model_errors_are_value_errors_and_aestore_errors(error: str) -> None:
    cls = getattr(exceptions, error)
    assert issubclass(cls, ValueError)
    assert issubclass(cls, exceptions.AestoreError)


def _modules_after_import(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(aestore.core.__file__).parents[2],  # the repo root, wherever pytest runs
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("forbidden", ["aestore.storage", "sqlalchemy", "aiofiles", "pandas"])
def test_importing_the_model_imports_no_storage_or_io_library(forbidden: str) -> None:
    loaded = _modules_after_import("import aestore.core")
    assert "aestore.core.experiment" in loaded  # the import really happened
    assert not {m for m in loaded if m == forbidden or m.startswith(forbidden + ".")}


@pytest.mark.parametrize(
    "module_name", sorted({m for m, _ in MODULE_PATHS} | {"aestore.core.base"})
)
def test_model_module_source_has_no_io_or_storage_code(module_name: str) -> None:
    source = inspect.getsource(importlib.import_module(module_name))
    found = [bad for bad in ("aestore.storage", "sqlalchemy", "aiofiles", "open(") if bad in source]
    assert found == []
