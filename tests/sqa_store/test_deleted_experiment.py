"""A stale copy of an experiment another process deleted never writes into another's rows."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from aestore.exceptions import ConcurrentModificationError
from aestore.samples import make_experiment
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial

OTHER_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from aestore.samples import make_experiment
    from aestore.storage.sqa_store.db import init_engine_and_session_factory
    from aestore.storage.sqa_store.delete import delete_experiment
    from aestore.storage.sqa_store.save import save_experiment

    async def main():
        init_engine_and_session_factory(url=sys.argv[1])
        await delete_experiment("e")
        await save_experiment(make_experiment(num_trials=2, name="other", seed=7))

    asyncio.run(main())
    """
)


async def test_stale_copy_of_a_deleted_experiment_cannot_overwrite_a_new_one(store: str) -> None:
    await save_experiment(make_experiment(num_trials=2, name="e"))
    stale = await load_experiment("e")
    # Another process deletes "e" and stores a new experiment (SQLite could reuse the id).
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, store], check=True, timeout=120)
    other = await load_experiment("other")
    stale.trials[0].update_run_metadata({"owner": "stale copy"})
    with pytest.raises(ConcurrentModificationError):
        await save_or_update_trial(stale, stale.trials[0])
    stale.description = "written by the stale copy"
    with pytest.raises(ConcurrentModificationError):
        await save_experiment(stale)
    assert await load_experiment("other") == other
