"""Concurrent saves to one file: from one event loop, from several loops, from several processes."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from aestore.core import Experiment
from aestore.samples import make_experiment
from aestore.storage.json_store import files
from aestore.storage.json_store.load import load_experiment
from aestore.storage.json_store.save import save_experiment
from tests.json_store.conftest import junk_files

REPO_ROOT = Path(__file__).resolve().parents[2]
NUM_SAVES = 50


def versions(count: int) -> list[Experiment]:
    """Experiments of different sizes and names, each a different 'version' of one file."""
    return [make_experiment(num_trials=i % 7, name=f"version_{i}", seed=i) for i in range(count)]


class InFlight:
    """Counts calls running at once (enter/leave) and records the most ever."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.guard = threading.Lock()

    def enter(self) -> None:
        with self.guard:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.guard:
            self.now -= 1


# --- one event loop --------------------------------------------------------------------------


async def test_concurrent_saves_leave_the_last_called_version(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    experiments = versions(NUM_SAVES)
    await asyncio.gather(*(save_experiment(experiment, path) for experiment in experiments))
    assert await load_experiment(path) == experiments[-1]


async def test_concurrent_saves_leave_no_junk(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    await asyncio.gather(*(save_experiment(experiment, path) for experiment in versions(NUM_SAVES)))
    assert junk_files(tmp_path, {"e.json"}) == []


async def test_concurrent_saves_on_one_path_never_write_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_flight, real_write_atomic = InFlight(), files.write_atomic

    async def watched_write_atomic(path: str, data: bytes) -> None:
        in_flight.enter()
        try:
            await real_write_atomic(path, data)
        finally:
            in_flight.leave()

    monkeypatch.setattr(files, "write_atomic", watched_write_atomic)
    path = tmp_path / "e.json"
    await asyncio.gather(*(save_experiment(experiment, path) for experiment in versions(NUM_SAVES)))
    assert in_flight.most == 1


async def test_concurrent_saves_on_different_paths_run_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_flight, real_write_atomic = InFlight(), files.write_atomic

    async def watched_write_atomic(path: str, data: bytes) -> None:
        in_flight.enter()
        try:
            await real_write_atomic(path, data)
        finally:
            in_flight.leave()

    monkeypatch.setattr(files, "write_atomic", watched_write_atomic)
    experiments = versions(8)
    await asyncio.gather(
        *(save_experiment(e, tmp_path / f"e{i}.json") for i, e in enumerate(experiments))
    )
    assert in_flight.most > 1


def test_concurrent_saves_work_in_consecutive_event_loops(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    experiments = versions(10)

    async def save_all() -> Experiment:
        await asyncio.gather(*(save_experiment(experiment, path) for experiment in experiments))
        return await load_experiment(path)

    # The second run would fail if a per-path lock from the first (closed) loop were reused.
    assert [asyncio.run(save_all()), asyncio.run(save_all())] == [experiments[-1]] * 2


# --- several event loops in threads ----------------------------------------------------------


def test_saves_from_event_loops_in_threads_never_write_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From the temp file's creation to the replace, one writer at a time (the file lock).
    writing = InFlight()
    real_write_temp, real_replace = files._write_temp, files._replace

    def write_temp(path: str, data: bytes) -> str:
        writing.enter()
        return real_write_temp(path, data)

    def replace(temp: str, path: str) -> None:
        try:
            real_replace(temp, path)
        finally:
            writing.leave()

    monkeypatch.setattr(files, "_write_temp", write_temp)
    monkeypatch.setattr(files, "_replace", replace)
    path = tmp_path / "e.json"

    def saver(offset: int) -> None:
        async def save_many() -> None:
            for experiment in versions(15)[offset::2]:
                await save_experiment(experiment, path)

        asyncio.run(save_many())

    threads = [threading.Thread(target=saver, args=(offset,)) for offset in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (writing.most, junk_files(tmp_path, {"e.json"})) == (1, [])


# --- several processes -----------------------------------------------------------------------

WRITER = """
import asyncio, os, sys, time
from aestore.samples import make_experiment
from aestore.storage.json_store.save import save_experiment

path, writer, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)

async def main():
    for i in range(count):
        experiment = make_experiment(num_trials=20 + (i * 37) % 180, name=f"{writer}_{i}")
        await save_experiment(experiment, path)

asyncio.run(main())
"""
NUM_WRITERS = 4
SAVES_PER_WRITER = 25


async def run_writers_while_reading(tmp_path: Path) -> tuple[list[Any], Experiment]:
    """Start the writer processes, load the file until they are done; return each read's
    result (an Experiment or the exception) and the final experiment."""
    path, go = tmp_path / "e.json", tmp_path / "go"
    await save_experiment(make_experiment(num_trials=1, name="initial"), path)
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            str(path),
            f"w{n}",
            str(SAVES_PER_WRITER),
            str(go),
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for n in range(NUM_WRITERS)
    ]
    for writer in writers:
        assert writer.stdout is not None
        await writer.stdout.readline()
    go.touch()
    done = asyncio.gather(*(writer.wait() for writer in writers))
    reads: list[Any] = []
    while not done.done():
        try:
            reads.append(await load_experiment(path))
        except Exception as exc:
            reads.append(exc)
    assert await done == [0] * NUM_WRITERS
    return reads, await load_experiment(path)


@pytest.mark.slow
async def test_reads_during_saves_from_several_processes_all_load(tmp_path: Path) -> None:
    reads, _ = await run_writers_while_reading(tmp_path)
    errors = [read for read in reads if not isinstance(read, Experiment)]
    assert (len(reads) > 0, errors) == (True, [])


@pytest.mark.slow
async def test_saves_from_several_processes_leave_a_writers_last_save(tmp_path: Path) -> None:
    _, final = await run_writers_while_reading(tmp_path)
    last = SAVES_PER_WRITER - 1
    name = final.name or ""
    assert (name.endswith(f"_{last}"), final.num_trials) == (True, 20 + (last * 37) % 180)


@pytest.mark.slow
async def test_saves_from_several_processes_leave_no_junk(tmp_path: Path) -> None:
    await run_writers_while_reading(tmp_path)
    assert junk_files(tmp_path, {"e.json", "go"}) == []
