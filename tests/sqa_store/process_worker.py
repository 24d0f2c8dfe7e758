"""A worker process of the multi-process tests: ``python -m tests.sqa_store.process_worker``.

Commands (arguments after the database URL and the experiment name):

- ``add N SEED``: load the experiment and add N trials with data, each saved at once, with
  the reload-and-retry recipe of :mod:`aestore.storage.sqa_store.save`; prints the number of
  conflicts met as JSON.
- ``fail INDEX``: load the experiment, mark trial INDEX failed, save it.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys

from aestore.core import Arm, Data, Experiment, GeneratorRun
from aestore.exceptions import ConcurrentModificationError
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_or_update_trial


async def add_trials(name: str, count: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    experiment = await load_experiment(name)
    conflicts = 0
    for _ in range(count):
        params = {"x1": rng.random() * 0.5, "x2": 0.5 + rng.random() * 0.5, "lr": 0.01}
        params.update(layers=seed + 1, optimizer="adam", seed=42)
        # The recipe: create the trial on the latest copy; on a conflict, reload and redo.
        while True:
            trial = experiment.new_trial(GeneratorRun([Arm(dict(params))]))
            try:
                await save_or_update_trial(experiment, trial)
                break
            except ConcurrentModificationError:
                conflicts += 1
                experiment = await load_experiment(name)
        trial.mark_running()
        await save_or_update_trial(experiment, trial)
        row = {"trial_index": trial.index, "arm_name": trial.arm.name if trial.arm else ""}
        experiment.attach_data(
            Data([{**row, "metric_name": "accuracy", "mean": rng.random(), "sem": 0.1}])
        )
        trial.mark_completed()
        await save_or_update_trial(experiment, trial)
    return {"conflicts": conflicts}


async def fail_trial(name: str, index: int) -> dict[str, int]:
    experiment: Experiment = await load_experiment(name)
    experiment.trials[index].mark_failed(reason="failed in another process")
    experiment.trials[index].update_run_metadata({"by": "other process"})
    await save_or_update_trial(experiment, experiment.trials[index])
    return {"index": index}


async def main(argv: list[str]) -> None:
    url, name, command, *rest = argv
    db.init_engine_and_session_factory(url=url)
    try:
        if command == "add":
            result = await add_trials(name, int(rest[0]), int(rest[1]))
        else:
            result = await fail_trial(name, int(rest[0]))
    finally:
        await db.dispose_engine()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
