"""save_experiment / load_experiment on real files: round trips, updates, bad input, failures."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aestore.core import Experiment, GeneratorRun
from aestore.exceptions import (
    JSONDecodeError,
    JSONEncodeError,
    JSONFileNotFoundError,
    JSONStoreIOError,
)
from aestore.samples import make_experiment
from aestore.storage.json_store import save as save_module
from aestore.storage.json_store.encoder import experiment_to_document
from aestore.storage.json_store.load import load_experiment
from aestore.storage.json_store.registry import JSONRegistry
from aestore.storage.json_store.save import save_experiment
from tests.fixtures import ALL_SAMPLES, make_custom_classes_experiment
from tests.json_store.conftest import junk_files


async def save(
    experiment: Experiment, path: str | os.PathLike[str], registry: JSONRegistry
) -> None:
    await save_experiment(experiment, path, registry.encoders, registry.class_encoders)


async def load(path: str | os.PathLike[str], registry: JSONRegistry) -> Experiment:
    return await load_experiment(path, registry.decoders, registry.class_decoders)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, bytes]:
    """A file holding a saved 3-trial experiment, and its bytes."""
    path = tmp_path / "experiment.json"
    path.write_bytes(experiment_to_document(make_experiment(num_trials=3)))
    return path, path.read_bytes()


def disk_full_after_first_write(monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    calls = 0

    def write(fd: int, data: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data[:1024]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)


# --- round trips and updates -----------------------------------------------------------------


@pytest.mark.parametrize("make", ALL_SAMPLES.values(), ids=ALL_SAMPLES.keys())
async def test_loaded_experiment_equals_the_saved_one(
    tmp_path: Path, registry: JSONRegistry, make: Callable[[], Experiment]
) -> None:
    experiment = make()
    await save(experiment, tmp_path / "e.json", registry)
    assert await load(tmp_path / "e.json", registry) == experiment


@pytest.mark.parametrize("make", ALL_SAMPLES.values(), ids=ALL_SAMPLES.keys())
async def test_saved_file_is_the_codecs_document(
    tmp_path: Path, registry: JSONRegistry, make: Callable[[], Experiment]
) -> None:
    experiment = make()
    await save(experiment, tmp_path / "e.json", registry)
    document = experiment_to_document(experiment, registry.encoders, registry.class_encoders)
    assert (tmp_path / "e.json").read_bytes() == document


@pytest.mark.parametrize("as_type", [str, Path], ids=["str", "pathlib"])
async def test_paths_may_be_str_or_pathlike(tmp_path: Path, as_type: Callable[[str], Any]) -> None:
    path = as_type(str(tmp_path / "e.json"))
    experiment = make_experiment(num_trials=2)
    await save_experiment(experiment, path)
    assert await load_experiment(path) == experiment


async def test_saving_again_updates_the_file(saved: tuple[Path, bytes]) -> None:
    path, _ = saved
    experiment = await load_experiment(path)
    trial = experiment.new_trial(GeneratorRun([experiment.trials[0].arms[0].clone()]))
    trial.mark_running()
    await save_experiment(experiment, path)
    assert await load_experiment(path) == experiment


async def test_save_creates_missing_folders(tmp_path: Path) -> None:
    path = tmp_path / "experiments" / "2026" / "e.json"
    experiment = make_experiment(num_trials=1)
    await save_experiment(experiment, path)
    assert await load_experiment(path) == experiment


async def test_save_through_a_symlink_updates_its_target(saved: tuple[Path, bytes]) -> None:
    path, _ = saved
    link = path.parent / "link.json"
    link.symlink_to(path)
    experiment = make_experiment(num_trials=5)
    await save_experiment(experiment, link)
    assert (link.is_symlink(), await load_experiment(path) == experiment) == (True, True)


# --- failed saves leave the previous file ----------------------------------------------------


async def test_saving_a_non_experiment_raises_json_encode_error(tmp_path: Path) -> None:
    with pytest.raises(JSONEncodeError, match=r"takes an Experiment, got builtins\.dict"):
        await save_experiment({"name": "not an experiment"}, tmp_path / "e.json")  # type: ignore[arg-type]


@pytest.mark.parametrize("offload_min_size", [10**9, 0], ids=["encoded-inline", "encoded-off-loop"])
async def test_unencodable_experiment_raises_json_encode_error_naming_the_class(
    saved: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch, offload_min_size: int
) -> None:
    monkeypatch.setattr(save_module, "OFFLOAD_MIN_SIZE", offload_min_size)
    with pytest.raises(JSONEncodeError, match="CustomMetric"):
        await save_experiment(make_custom_classes_experiment(), saved[0])  # not registered


@pytest.mark.parametrize("offload_min_size", [10**9, 0], ids=["encoded-inline", "encoded-off-loop"])
async def test_unencodable_experiment_keeps_the_previous_file_and_leaves_no_junk(
    saved: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch, offload_min_size: int
) -> None:
    path, before = saved
    monkeypatch.setattr(save_module, "OFFLOAD_MIN_SIZE", offload_min_size)
    with pytest.raises(JSONEncodeError):
        await save_experiment(make_custom_classes_experiment(), path)
    assert (path.read_bytes() == before, junk_files(path.parent, {path.name})) == (True, [])


@pytest.mark.parametrize("num_trials", [3, 400], ids=["encoded-inline", "encoded-off-loop"])
async def test_data_of_a_removed_trial_is_refused_and_the_file_kept(
    saved: tuple[Path, bytes], num_trials: int
) -> None:
    # Such a document could not be loaded ("no trial with index 1"): don't write it.
    path, before = saved
    experiment = make_experiment(num_trials=num_trials)
    del experiment.trials[1]
    with pytest.raises(JSONEncodeError, match=r"data attached for trial 1\b") as caught:
        await save_experiment(experiment, path)
    assert (caught.value.path, path.read_bytes(), junk_files(path.parent, {path.name})) == (
        "data_by_trial",
        before,
        [],
    )
    del experiment.data_by_trial[1]  # removed with its trial: saved and loaded back
    await save_experiment(experiment, path)
    assert await load_experiment(path) == experiment


async def test_disk_full_raises_store_io_error_with_errno_and_file(
    saved: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = saved
    disk_full_after_first_write(monkeypatch)
    with pytest.raises(JSONStoreIOError, match="disk is full") as info:
        await save_experiment(make_experiment(num_trials=50), path)
    assert (info.value.errno, info.value.filepath) == (errno.ENOSPC, str(path))


async def test_disk_full_keeps_the_previous_file_and_leaves_no_junk(
    saved: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, before = saved
    disk_full_after_first_write(monkeypatch)
    with pytest.raises(JSONStoreIOError):
        await save_experiment(make_experiment(num_trials=50), path)
    assert (path.read_bytes() == before, junk_files(path.parent, {path.name})) == (True, [])


async def test_saving_to_a_directory_raises_store_io_error(tmp_path: Path) -> None:
    (tmp_path / "e.json").mkdir()
    with pytest.raises(JSONStoreIOError) as info:
        await save_experiment(make_experiment(num_trials=1), tmp_path / "e.json")
    assert (info.value.errno, junk_files(tmp_path, {"e.json"})) == (errno.EISDIR, [])


async def test_saving_under_a_file_raises_store_io_error(tmp_path: Path) -> None:
    (tmp_path / "not_a_folder").write_bytes(b"")
    with pytest.raises(JSONStoreIOError) as info:
        await save_experiment(make_experiment(num_trials=1), tmp_path / "not_a_folder" / "e.json")
    assert info.value.errno == errno.ENOTDIR


async def test_saving_into_a_read_only_folder_raises_store_io_error(
    shared_dir: Path, unprivileged: Callable[[], Any]
) -> None:
    shared_dir.chmod(0o555)
    with unprivileged(), pytest.raises(JSONStoreIOError, match="permissions") as info:
        await save_experiment(make_experiment(num_trials=1), shared_dir / "e.json")
    assert (info.value.errno, os.listdir(shared_dir)) == (errno.EACCES, [])


# --- cancelled saves -------------------------------------------------------------------------


@pytest.mark.parametrize("num_trials", [5, 400], ids=["encoded-inline", "encoded-off-loop"])
@pytest.mark.parametrize("ticks", [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144])
async def test_cancelled_save_leaves_the_old_or_the_new_experiment_and_no_junk(
    saved: tuple[Path, bytes], ticks: int, num_trials: int
) -> None:
    path, _ = saved
    old = await load_experiment(path)
    new = make_experiment(num_trials=num_trials, name="new")
    task = asyncio.create_task(save_experiment(new, path))
    for _ in range(ticks):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    loaded = await load_experiment(path)
    assert (loaded in (old, new), junk_files(path.parent, {path.name})) == (True, [])


# --- loading bad input -----------------------------------------------------------------------


async def test_loading_a_missing_file_raises_json_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(JSONFileNotFoundError, match=r"missing\.json") as info:
        await load_experiment(path)
    assert (isinstance(info.value, FileNotFoundError), info.value.filepath) == (True, str(path))


async def test_loading_a_directory_raises_store_io_error(tmp_path: Path) -> None:
    with pytest.raises(JSONStoreIOError) as info:
        await load_experiment(tmp_path)
    assert (info.value.errno, info.value.filepath) == (errno.EISDIR, str(tmp_path))


async def test_loading_an_unreadable_file_raises_store_io_error(
    shared_dir: Path, unprivileged: Callable[[], Any]
) -> None:
    path = shared_dir / "e.json"
    await save_experiment(make_experiment(num_trials=1), path)
    path.chmod(0o000)
    with unprivileged(), pytest.raises(JSONStoreIOError, match="permissions") as info:
        await load_experiment(path)
    assert info.value.errno == errno.EACCES


def _truncated(num_trials: int) -> bytes:
    document = experiment_to_document(make_experiment(num_trials=num_trials))
    return document[: len(document) // 2]


BAD_CONTENT = {
    "empty": b"",
    "whitespace": b"  \n",
    "not-json": b"this is not JSON",
    "binary": bytes(range(256)),
    "json-array": b"[1, 2, 3]",
    "json-string": b'"experiment"',
    "wrong-type-tag": b'{"__type": "Trial"}',
    "truncated-small": _truncated(2),
    "truncated-large": _truncated(400),  # decoded off the loop
}


@pytest.mark.parametrize("content", BAD_CONTENT.values(), ids=BAD_CONTENT.keys())
async def test_loading_bad_content_raises_json_decode_error_naming_the_file(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(JSONDecodeError) as info:
        await load_experiment(path)
    assert (info.value.filepath, str(path) in str(info.value)) == (str(path), True)
