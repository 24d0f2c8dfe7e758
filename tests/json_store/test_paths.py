"""Unusual but legal file paths save and load; unusable ones are typed errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from aestore.exceptions import JSONStoreIOError
from aestore.samples import make_experiment
from aestore.storage.json_store.load import load_experiment
from aestore.storage.json_store.save import save_experiment


@pytest.mark.parametrize("length", [200, 240, 255], ids=lambda n: f"{n}-chars")
async def test_long_file_names_save_and_load(tmp_path: Path, length: int) -> None:
    path = tmp_path / ("e" * (length - len(".json")) + ".json")
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment, path)
    await save_experiment(experiment, path)  # an update replaces it
    assert await load_experiment(path) == experiment
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp or lock left


@pytest.mark.parametrize("bad", ["", "a\x00b.json"], ids=["empty", "nul"])
async def test_unusable_paths_are_typed_errors(bad: str) -> None:
    with pytest.raises(JSONStoreIOError, match="usable file path"):
        await save_experiment(make_experiment(num_trials=1), bad)
    with pytest.raises(JSONStoreIOError, match="usable file path"):
        await load_experiment(bad)
