"""Every sample experiment loads back equal to what was saved, on every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aestore.core import Arm, Experiment, GeneratorRun, GeneratorRunType
from aestore.samples import make_experiment
from aestore.storage.sqa_store.load import list_experiments, load_experiment
from aestore.storage.sqa_store.save import save_experiment
from aestore.storage.sqa_store.sqa_config import SQAConfig
from tests.fixtures import ALL_SAMPLES

SAMPLES = pytest.mark.parametrize("build", list(ALL_SAMPLES.values()), ids=list(ALL_SAMPLES))


@SAMPLES
async def test_loaded_experiment_equals_saved(
    store: str, config: SQAConfig, build: Callable[[], Experiment]
) -> None:
    experiment = build()
    await save_experiment(experiment, config)
    loaded = await load_experiment(experiment.name or "", config)
    assert loaded == experiment


@SAMPLES
async def test_resaving_a_loaded_experiment_round_trips(
    store: str, config: SQAConfig, build: Callable[[], Experiment]
) -> None:
    experiment = build()
    await save_experiment(experiment, config)
    loaded = await load_experiment(experiment.name or "", config)
    loaded.properties["touched"] = True
    await save_experiment(loaded, config)
    again = await load_experiment(experiment.name or "", config)
    assert again == loaded


async def test_status_quo_generator_run_type_needs_no_config(store: str) -> None:
    experiment = make_experiment(num_trials=0, name="status_quo_run")
    experiment.status_quo = Arm(dict(make_experiment(1).trials[0].arms[0].parameters))
    batch = experiment.new_batch_trial()
    batch.add_generator_run(
        GeneratorRun([experiment.status_quo.clone()], type=GeneratorRunType.STATUS_QUO)
    )
    await save_experiment(experiment)
    loaded = await load_experiment("status_quo_run")
    assert loaded.trials[0].generator_runs[0].generator_run_type == "STATUS_QUO"


async def test_list_experiments_names_every_saved_experiment(store: str, config: SQAConfig) -> None:
    for name in ("simple", "batch"):
        await save_experiment(ALL_SAMPLES[name](), config)
    assert await list_experiments() == sorted(
        [ALL_SAMPLES["simple"]().name or "", ALL_SAMPLES["batch"]().name or ""]
    )


async def test_reduced_state_skips_blobs_except_on_last_generator_run(
    store: str, config: SQAConfig
) -> None:
    experiment = ALL_SAMPLES["simple"]()
    await save_experiment(experiment, config)
    loaded = await load_experiment(experiment.name or "", config, reduced_state=True)
    runs = [t.generator_runs[0] for _, t in sorted(loaded.trials.items())]
    assert [r.gen_metadata for r in runs] == [None] * (len(runs) - 1) + [
        experiment.trials[max(experiment.trials)].generator_runs[0].gen_metadata
    ]
