"""The event loop keeps running during big saves and loads: a big save is encoded in the I/O
thread, a small one on the loop; a load is decoded on the loop, in steps."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from aestore.core import Experiment
from aestore.exceptions import JSONDecodeError
from aestore.samples import make_big_experiment, make_experiment
from aestore.storage.json_store import decoders as decoders_module
from aestore.storage.json_store import load as load_module
from aestore.storage.json_store import save as save_module
from aestore.storage.json_store.encoder import experiment_to_document
from aestore.storage.json_store.experiment_decoders import experiment_from_json
from aestore.storage.json_store.load import load_experiment
from aestore.storage.json_store.save import save_experiment
from tests.json_store.conftest import junk_files

BIG = 10_000


@pytest.fixture(scope="module")
def big_experiment() -> Experiment:
    return make_big_experiment(BIG)


@pytest.fixture(scope="module")
def big_file(big_experiment: Experiment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.json"
    path.write_bytes(experiment_to_document(big_experiment))
    return path


async def longest_stall(operation: Awaitable[Any]) -> tuple[float, float]:
    """Run ``operation`` while a coroutine ticks every millisecond; return the longest gap
    between ticks and the operation's duration."""
    gaps: list[float] = []
    running = True

    async def tick() -> None:
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    # Start from a clean collector: a full collection owed by earlier tests' garbage would
    # stall the loop wherever it lands (CPython stops every thread for it), which is not
    # what this measures.
    gc.collect()
    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.005)  # the ticker is running
    gaps.clear()
    start = time.perf_counter()
    await operation
    duration = time.perf_counter() - start
    running = False
    await ticker
    return max(gaps), duration


class ThreadRecorder:
    """Wraps a function and records the thread each call runs in."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.threads: list[int] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.append(threading.get_ident())
        return self.fn(*args, **kwargs)


# --- the loop keeps ticking ------------------------------------------------------------------


@pytest.mark.slow
async def test_saving_a_big_experiment_does_not_stall_the_loop(
    big_experiment: Experiment, tmp_path: Path
) -> None:
    stall, duration = await longest_stall(save_experiment(big_experiment, tmp_path / "e.json"))
    assert (stall < 0.5 * duration, stall < 0.2) == (True, True), (stall, duration)


@pytest.mark.slow
async def test_loading_a_big_experiment_does_not_stall_the_loop(big_file: Path) -> None:
    stall, duration = await longest_stall(load_experiment(big_file))
    assert (stall < 0.5 * duration, stall < 0.2) == (True, True), (stall, duration)


# --- where encoding and decoding run ---------------------------------------------------------

SIZES = [pytest.param(1, False, id="1-trial-on-the-loop"), pytest.param(BIG, True, id="big-off")]


@pytest.mark.parametrize(("num_trials", "off_loop"), SIZES)
async def test_encoding_runs_off_the_loop_only_for_big_experiments(
    big_experiment: Experiment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    num_trials: int,
    off_loop: bool,
) -> None:
    experiment = big_experiment if num_trials == BIG else make_experiment(num_trials)
    # A small experiment is encoded whole, a big one in pieces as the file is written.
    whole = ThreadRecorder(save_module.experiment_to_document)
    pieces = ThreadRecorder(save_module.experiment_document_parts)
    monkeypatch.setattr(save_module, "experiment_to_document", whole)
    monkeypatch.setattr(save_module, "experiment_document_parts", pieces)
    await save_experiment(experiment, tmp_path / "e.json")
    threads = whole.threads + pieces.threads
    assert len(threads) == 1 and (threads[0] != threading.get_ident()) == off_loop
    assert (tmp_path / "e.json").read_bytes() == experiment_to_document(experiment)


class StepRecorder:
    """Wraps ``experiment_document_steps`` and records the thread of each step it runs."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.threads: list[int] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._record(self.fn(*args, **kwargs))

    def _record(self, steps: Any) -> Any:
        while True:
            self.threads.append(threading.get_ident())
            try:
                next(steps)
            except StopIteration as done:
                return done.value
            yield


@pytest.mark.parametrize("num_trials", [1, BIG], ids=["1-trial", "big"])
async def test_decoding_runs_on_the_loop_in_steps(
    big_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, num_trials: int
) -> None:
    path = big_file
    if num_trials != BIG:
        path = tmp_path / "small.json"
        path.write_bytes(experiment_to_document(make_experiment(num_trials)))
    recorder = StepRecorder(load_module.experiment_document_steps)
    monkeypatch.setattr(load_module, "experiment_document_steps", recorder)
    loaded = await load_experiment(path)
    assert loaded.num_trials == num_trials
    # Every step in the loop's thread; a big file in many steps (~1 per 100 trials), a
    # small one in one.
    assert set(recorder.threads) == {threading.get_ident()}
    yields = len(recorder.threads) - 1
    assert yields >= BIG // 100 if num_trials == BIG else yields == 0, yields


async def test_other_tasks_run_between_the_steps_of_a_load(big_file: Path) -> None:
    ticks = 0  # while the document is being decoded (the collector is paused meanwhile)
    loading = True

    async def ticker() -> None:
        nonlocal ticks
        while loading:
            ticks += not gc.isenabled()
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks = 0
    await load_experiment(big_file)
    loading = False
    await task
    assert ticks >= BIG // 100, ticks


async def test_a_load_cancelled_between_steps_resumes_the_collector(big_file: Path) -> None:
    assert gc.isenabled()
    task = asyncio.create_task(load_experiment(big_file))
    for _ in range(50):  # the read, then some decoding steps
        await asyncio.sleep(0.001)
        if not gc.isenabled():
            break
    assert not gc.isenabled()  # paused: the task is between two steps of its decoding
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gc.isenabled()


async def test_a_users_experiment_decoder_runs_in_the_pool(
    big_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not the model's own decoder: it cannot be cut into steps, so it runs off the loop.
    threads: list[int] = []

    def my_experiment(d: dict[str, Any], ctx: Any) -> Experiment:
        threads.append(threading.get_ident())
        return experiment_from_json(d, ctx)

    monkeypatch.setitem(decoders_module.CORE_DECODERS, Experiment, my_experiment)
    loaded = await load_experiment(big_file)
    assert loaded.num_trials == BIG
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_a_users_experiment_decoder_failing_in_the_pool_names_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        decoders_module.CORE_DECODERS, Experiment, lambda d, ctx: experiment_from_json(d, ctx)
    )
    document = orjson.loads(experiment_to_document(make_experiment(5)))
    document["trials"][3]["index"] = "three"
    path = tmp_path / "broken.json"
    path.write_bytes(orjson.dumps(document))
    with pytest.raises(JSONDecodeError) as caught:
        await load_experiment(path)
    assert (caught.value.path or "").startswith("trials.3"), caught.value.path
    assert caught.value.filepath == str(path)
    assert gc.isenabled()


# --- cancelling while the encoder runs in a thread -------------------------------------------


class SlowEncoder:
    """The real encoder (of a big experiment: in pieces, in the I/O thread as the file is
    written), held at its start until the test lets it go."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.go = threading.Event()
        self.finished = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> list[bytes]:
        self.started.set()
        self.go.wait(timeout=30)
        try:
            return [experiment_to_document(*args, **kwargs)]
        finally:
            self.finished.set()


async def cancel_while_encoding(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[SlowEncoder, BaseException | None]:
    encoder = SlowEncoder()
    monkeypatch.setattr(save_module, "experiment_document_parts", encoder)
    monkeypatch.setattr(save_module, "OFFLOAD_MIN_SIZE", 0)
    task = asyncio.create_task(save_experiment(make_experiment(num_trials=5, name="new"), path))
    await asyncio.to_thread(encoder.started.wait, 30)
    task.cancel()
    encoder.go.set()
    try:
        await task
    except BaseException as exc:
        return encoder, exc
    return encoder, None


@pytest.fixture
def old_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "e.json"
    path.write_bytes(experiment_to_document(make_experiment(num_trials=2, name="old")))
    return path, path.read_bytes()


async def test_cancel_while_encoding_raises_cancelled(
    old_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, raised = await cancel_while_encoding(old_file[0], monkeypatch)
    assert isinstance(raised, asyncio.CancelledError)


async def test_cancel_while_encoding_returns_only_once_the_encoder_stopped(
    old_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder, _ = await cancel_while_encoding(old_file[0], monkeypatch)
    assert encoder.finished.is_set()


async def test_cancel_while_encoding_never_writes_the_file(
    old_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, before = old_file
    await cancel_while_encoding(path, monkeypatch)
    await asyncio.sleep(0.05)  # any write still pending would land by now
    assert (path.read_bytes() == before, junk_files(path.parent, {path.name})) == (True, [])
