"""Loading: a fixed number of queries, reduced state, and use across event loops."""

from __future__ import annotations

import asyncio

import pytest

from aestore.core import Experiment
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.json_store.registry import DEFAULT_REGISTRY
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.base_decoder import Decoder
from aestore.storage.sqa_store.decoder import Decoder as DecoderAlias
from aestore.storage.sqa_store.delete import delete_experiment
from aestore.storage.sqa_store.encoder import Encoder
from aestore.storage.sqa_store.load import load_experiment, load_experiment_with_decoder
from aestore.storage.sqa_store.save import save_experiment, save_experiment_with_encoder
from aestore.storage.sqa_store.sqa_config import SQAConfig
from tests.fixtures import CustomMetric, make_custom_classes_experiment
from tests.sqa_store.conftest import full_config
from tests.sqa_store.helpers import count_statements

LOAD_QUERIES = 10  # the experiment row, then one query per table


@pytest.mark.parametrize("num_trials", [0, 3, 40], ids=["0-trials", "3-trials", "40-trials"])
async def test_load_runs_one_query_per_table(store: str, num_trials: int) -> None:
    await save_experiment(make_experiment(num_trials=num_trials))
    with count_statements() as statements:
        await load_experiment("demo_experiment")
    assert len(statements) == LOAD_QUERIES


async def test_reduced_state_load_runs_one_more_query(store: str) -> None:
    await save_experiment(make_experiment(num_trials=20))
    with count_statements() as statements:
        await load_experiment("demo_experiment", reduced_state=True)
    assert len(statements) == LOAD_QUERIES + 1


async def test_reduced_state_keeps_blobs_of_the_last_generator_run(store: str) -> None:
    experiment = make_batch_experiment()
    await save_experiment(experiment)
    loaded = await load_experiment(experiment.name or "", reduced_state=True)
    first_run = loaded.trials[0].generator_runs[0]
    assert (first_run.model_kwargs, first_run.gen_metadata) == (None, None)


async def test_resaving_a_reduced_state_load_keeps_the_stored_blobs(store: str) -> None:
    experiment = make_batch_experiment()
    await save_experiment(experiment)
    loaded = await load_experiment(experiment.name or "", reduced_state=True)
    loaded.trials[2].update_run_metadata({"note": "after reduced load"})
    await save_experiment(loaded)
    full = await load_experiment(experiment.name or "")
    assert full.trials[0].generator_runs[0].model_kwargs == {
        "acquisition": "qEI",
        "num_restarts": 10,
    }


async def test_decoder_is_importable_from_decoder_module() -> None:
    assert DecoderAlias is Decoder


async def test_custom_encoder_and_decoder_round_trip(store: str) -> None:
    config = full_config()
    experiment = make_custom_classes_experiment()
    await save_experiment_with_encoder(experiment, Encoder(config))
    assert await load_experiment_with_decoder(experiment.name or "", Decoder(config)) == experiment


async def test_class_with_class_to_dict_is_stored_through_it(store: str) -> None:
    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(CustomMetric)
    base = full_config()
    config = SQAConfig(
        metric_registry=base.metric_registry,
        runner_registry=base.runner_registry,
        json_encoder_registry=registry.encoders,
        json_decoder_registry=registry.decoders,
    )
    experiment = make_custom_classes_experiment()
    await save_experiment(experiment, config)
    assert await load_experiment(experiment.name or "", config) == experiment


async def test_delete_removes_the_experiment(store: str) -> None:
    await save_experiment(make_experiment(num_trials=2))
    await delete_experiment("demo_experiment")
    with pytest.raises(Exception, match="demo_experiment"):
        await load_experiment("demo_experiment")


def test_save_and_load_in_separate_event_loops(db_url: str) -> None:
    db.init_engine_and_session_factory(url=db_url, force_init=True)
    asyncio.run(db.create_all_tables())
    experiment = make_experiment(num_trials=3)
    try:
        asyncio.run(save_experiment(experiment))
        experiment.trials[0].update_run_metadata({"second": "loop"})
        asyncio.run(save_experiment(experiment))
        loaded: Experiment = asyncio.run(load_experiment(experiment.name or ""))
    finally:
        asyncio.run(db.dispose_engine())
    assert loaded == experiment
