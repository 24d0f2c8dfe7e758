"""The user's spec (shared/seed/storage.md), example by example, with ``ae.`` -> ``aestore.``.

Each test is one of the spec's snippets as a user would type it, awaited where it does I/O.
"""

from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from aestore.samples import make_experiment


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("aestore.storage.json_store.save", "save_experiment"),
        ("aestore.storage.json_store.load", "load_experiment"),
        ("aestore.storage.sqa_store.save", "save_experiment"),
        ("aestore.storage.sqa_store.save", "save_experiment_with_encoder"),
        ("aestore.storage.sqa_store.save", "save_or_update_trial"),
        ("aestore.storage.sqa_store.save", "save_or_update_trials"),
        ("aestore.storage.sqa_store.save", "update_properties_on_experiment"),
        ("aestore.storage.sqa_store.save", "update_runner_on_experiment"),
        ("aestore.storage.sqa_store.load", "load_experiment"),
        ("aestore.storage.sqa_store.load", "load_experiment_with_decoder"),
        ("aestore.storage.sqa_store.load", "list_experiments"),
        ("aestore.storage.sqa_store.delete", "delete_experiment"),
        ("aestore.storage.sqa_store.db", "create_all_tables"),
        ("aestore.storage.sqa_store.db", "dispose_engine"),
    ],
    ids=lambda v: str(v).rsplit(".", 1)[-1],
)
def test_io_calls_are_coroutines(module: str, name: str) -> None:
    func = getattr(__import__(module, fromlist=[name]), name)
    assert inspect.iscoroutinefunction(func)
    assert func.__doc__ and "Example" in func.__doc__


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("aestore.core.experiment", "Experiment"),
        ("aestore.storage.json_store.encoders", None),
        ("aestore.storage.json_store.encoder", "object_to_json"),
        ("aestore.storage.json_store.registry", "ENCODER_REGISTRY"),
        ("aestore.storage.json_store.registry", "DECODER_REGISTRY"),
        ("aestore.storage.sqa_store.db", "init_engine_and_session_factory"),
        ("aestore.storage.sqa_store.sqa_config", "SQAConfig"),
        ("aestore.storage.sqa_store.encoder", "Encoder"),
        ("aestore.storage.sqa_store.base_decoder", "Decoder"),
        ("aestore.metrics.registry", "MetricRegistry"),
        ("aestore.runners.registry", "RunnerRegistry"),
    ],
    ids=lambda v: str(v),
)
def test_spec_module_paths_exist(module: str, name: str | None) -> None:
    mod = __import__(module, fromlist=["_"])
    assert name is None or hasattr(mod, name)


async def test_json_saving_updating_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    from aestore.storage.json_store.load import load_experiment
    from aestore.storage.json_store.save import save_experiment

    experiment = make_experiment(num_trials=3)
    filepath = "experiments/experiment.json"
    await save_experiment(experiment, filepath)
    experiment.new_trial().add_arm(experiment.trials[0].arms[0].clone())
    await save_experiment(experiment, filepath)  # "Updating": re-save to the same file
    assert await load_experiment(filepath) == experiment


async def test_json_customizing_with_a_class_to_dict(tmp_path: Path) -> None:
    from aestore.core.metric import Metric
    from aestore.storage.json_store.load import load_experiment
    from aestore.storage.json_store.registry import DECODER_REGISTRY, ENCODER_REGISTRY
    from aestore.storage.json_store.save import save_experiment

    class SpecMetric(Metric):
        def __init__(self, name: str, table: str) -> None:
            super().__init__(name)
            self.table = table

    def spec_metric_to_dict(metric: SpecMetric) -> dict[str, Any]:
        return {"__type": metric.__class__.__name__, "name": metric.name, "table": metric.table}

    ENCODER_REGISTRY[SpecMetric] = spec_metric_to_dict
    DECODER_REGISTRY["SpecMetric"] = SpecMetric
    try:
        experiment = make_experiment(num_trials=2)
        experiment.add_tracking_metric(SpecMetric("clicks", table="events"))
        await save_experiment(experiment, tmp_path / "e.json")
        loaded = await load_experiment(tmp_path / "e.json")
    finally:
        del ENCODER_REGISTRY[SpecMetric]
        del DECODER_REGISTRY["SpecMetric"]
    assert loaded == experiment
    assert type(loaded.tracking_metrics["clicks"]) is SpecMetric


async def test_sql_saving_updating_loading_with_url(db_url: str) -> None:
    from aestore.storage.sqa_store.db import (
        create_all_tables,
        dispose_engine,
        init_engine_and_session_factory,
    )
    from aestore.storage.sqa_store.load import load_experiment
    from aestore.storage.sqa_store.save import save_experiment

    init_engine_and_session_factory(url=db_url, force_init=True)
    try:
        await create_all_tables()
        experiment = make_experiment(num_trials=4)
        await save_experiment(experiment)
        experiment.trials[3].update_run_metadata({"retried": True})
        await save_experiment(experiment)  # "Updating": save again
        assert await load_experiment(experiment.name or "") == experiment
    finally:
        await dispose_engine()


async def test_sql_customizing_metric_registry_and_enums_as_in_the_spec(tmp_path: Path) -> None:
    from aestore.core.metric import Metric
    from aestore.metrics.registry import MetricRegistry
    from aestore.storage.sqa_store.base_decoder import Decoder
    from aestore.storage.sqa_store.db import (
        create_all_tables,
        dispose_engine,
        init_engine_and_session_factory,
    )
    from aestore.storage.sqa_store.encoder import Encoder
    from aestore.storage.sqa_store.load import load_experiment_with_decoder
    from aestore.storage.sqa_store.save import save_experiment_with_encoder
    from aestore.storage.sqa_store.sqa_config import SQAConfig

    class MyMetric(Metric):
        def __init__(self, name: str, dataset: str = "main") -> None:
            super().__init__(name)
            self.dataset = dataset

    class ExperimentType(Enum):
        DEFAULT = 0

    metric_registry = MetricRegistry(class_to_type={MyMetric: 0})
    config = SQAConfig(metric_registry=metric_registry, experiment_type_enum=ExperimentType)
    encoder = Encoder(config=config)
    decoder = Decoder(config=config)

    init_engine_and_session_factory(url=f"sqlite+aiosqlite:///{tmp_path / 'spec.db'}")
    try:
        await create_all_tables()
        experiment = make_experiment(num_trials=2, name="spec_custom")
        experiment.experiment_type = "DEFAULT"
        experiment.add_tracking_metric(MyMetric("my_metric", dataset="clicks"))
        await save_experiment_with_encoder(experiment, encoder=encoder)
        loaded = await load_experiment_with_decoder("spec_custom", decoder=decoder)
    finally:
        await dispose_engine()
    assert loaded == experiment
    assert loaded.tracking_metrics["my_metric"].dataset == "clicks"  # type: ignore[attr-defined]


def test_the_specs_enum_slip_is_a_clear_error() -> None:
    from aestore.exceptions import SQAConfigError
    from aestore.storage.sqa_store.sqa_config import SQAConfig

    class ExperimentType(Enum):
        DEFAULT: 0  # type: ignore[valid-type]  # as written in the spec: an annotation

    with pytest.raises(SQAConfigError, match="ExperimentType"):
        SQAConfig(experiment_type_enum=ExperimentType)
