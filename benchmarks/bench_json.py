"""Benchmark the JSON store's save and load against a floor and a naive baseline.

For experiments of 10, 100, 1,000 and 10,000 single-arm trials (``make_big_experiment``: 6
parameters, 2 metrics with data), each timed as the median of several repeats:

- **ours**: ``await save_experiment(...)`` / ``await load_experiment(...)`` in a running loop.
  *save* saves one experiment object again and again (the spec's way to update a file: from
  its second save on, unchanged trials are not encoded again, see
  ``aestore/storage/json_store/trial_memo.py``), timed once the memo is complete (each save
  builds it for a quarter of the trials at most: the first five saves are not timed);
  *first save* saves an experiment object for the first time (a new one each run, built
  before the timer starts).
- **floor**: what any correct store must do at least. Save: ``orjson.dumps`` of the
  already-encoded dict (``object_to_json(experiment)``), then write a temp file, fsync,
  ``os.replace``. Load: read the file's bytes, ``orjson.loads``.
- **naive**: stdlib ``json`` over ``object_to_json``, written with a plain ``open().write()``;
  loaded with ``json.loads`` and ``object_from_json``.

Timings keep the interpreter's default GC settings (``timeit`` would switch GC off, which
flatters code that allocates many objects); a ``gc.collect()`` and an ``os.sync()`` (the
naive save leaves unsynced data that the next fsync would pay for) before each timed
operation give each the same starting point, and the operations are interleaved run after
run. A last
line times a whole ``asyncio.run(save_experiment(...))`` of a 1-trial experiment against a
synchronous write + fsync + replace of the same bytes.

Usage::

    python benchmarks/bench_json.py                  # 10, 100, 1000, 10000 trials
    python benchmarks/bench_json.py --quick          # smoke run: small sizes, few repeats
    python benchmarks/bench_json.py --sizes 1000,10000 --repeats 9
    python benchmarks/bench_json.py --profile 10000  # time the phases, cProfile the codec
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aestore.samples import make_big_experiment
from aestore.storage.json_store import files, trial_memo
from aestore.storage.json_store.decoder import experiment_from_document, object_from_json
from aestore.storage.json_store.encoder import (
    experiment_to_document,
    object_to_json,
)
from aestore.storage.json_store.load import load_experiment
from aestore.storage.json_store.registry import (
    CLASS_DECODER_REGISTRY,
    CLASS_ENCODER_REGISTRY,
    DECODER_REGISTRY,
    ENCODER_REGISTRY,
)
from aestore.storage.json_store.save import save_experiment

DEFAULT_SIZES = (10, 100, 1_000, 10_000)
# Timed runs per measurement below 10,000 trials, by default (see main).
SMALL_SIZE_REPEATS = 21
QUICK_SIZES = (10, 100, 1_000)


# --- the baselines ---------------------------------------------------------------------------


def write_replace_fsync(path: str, data: bytes) -> None:
    """Write ``data`` to a temp file, fsync it and replace ``path`` with it."""
    temp = path + ".floor.tmp"
    with open(temp, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, path)


def floor_save(encoded: dict[str, Any], path: str) -> None:
    write_replace_fsync(path, orjson.dumps(encoded))


def floor_load(path: str) -> Any:
    with open(path, "rb") as file:
        return orjson.loads(file.read())


def naive_save(experiment: Any, path: str) -> None:
    document = object_to_json(experiment, ENCODER_REGISTRY, CLASS_ENCODER_REGISTRY)
    with open(path, "w") as file:
        file.write(json.dumps(document))


def naive_load(path: str) -> Any:
    with open(path) as file:
        document = json.loads(file.read())
    return object_from_json(document, DECODER_REGISTRY, CLASS_DECODER_REGISTRY)


# --- timing ----------------------------------------------------------------------------------


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: first-call costs (imports, caches, pool threads) are not what we measure
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def median_seconds_async(fn: Callable[[], Awaitable[object]], repeats: int) -> float:
    await fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def fmt_size(num_bytes: int) -> str:
    return (
        f"{num_bytes / 1024:.0f} KiB" if num_bytes < 1024**2 else f"{num_bytes / 1024**2:.1f} MiB"
    )


def bench_size(num_trials: int, repeats: int, folder: str) -> dict[str, Any]:
    """Median times of the seven operations at one size.

    The operations are interleaved, run after run, so that a drifting machine (other
    processes, fsync latency) affects ours and the baselines alike.
    """
    experiment = make_big_experiment(num_trials)
    encoded = object_to_json(experiment, ENCODER_REGISTRY, CLASS_ENCODER_REGISTRY)
    ours_path = os.path.join(folder, f"ours_{num_trials}.json")
    floor_path = os.path.join(folder, f"floor_{num_trials}.json")
    naive_path = os.path.join(folder, f"naive_{num_trials}.json")
    fresh: list[Any] = []  # the next first-save's experiment, built untimed

    def first_save() -> Awaitable[None]:
        return save_experiment(fresh.pop(), first_path)

    first_path = os.path.join(folder, f"first_{num_trials}.json")
    operations: dict[str, Callable[[], object]] = {
        "ours_save": lambda: save_experiment(experiment, ours_path),
        "ours_first_save": first_save,
        "floor_save": lambda: floor_save(encoded, floor_path),
        "naive_save": lambda: naive_save(experiment, naive_path),
        "ours_load": lambda: load_experiment(ours_path),
        "floor_load": lambda: floor_load(floor_path),
        "naive_load": lambda: naive_load(naive_path),
    }

    async def run_all() -> dict[str, float]:
        for _ in range(trial_memo.PREPARE_SHARE + 1):  # the memo complete (see the doc)
            await save_experiment(experiment, ours_path)
        times: dict[str, list[float]] = {name: [] for name in operations}
        for run in range(repeats + 1):  # the first run warms up and is not counted
            for name, operation in operations.items():
                if name == "ours_first_save":
                    fresh.append(make_big_experiment(num_trials))
                # Same GC state for every operation: otherwise one operation's garbage and
                # the collector's bookkeeping decide when the next one pays a full collection.
                gc.collect()
                # Same disk state too: the naive save leaves a dirty file behind, and the
                # next fsync (of whichever operation comes next) would pay for writing it.
                os.sync()
                start = time.perf_counter()
                outcome = operation()
                if asyncio.iscoroutine(outcome):
                    outcome = await outcome
                elapsed = time.perf_counter() - start
                # Drop the loaded experiment now: a bigger heap makes every later GC slower.
                del outcome
                if run:
                    times[name].append(elapsed)
        return {name: statistics.median(values) for name, values in times.items()}

    result: dict[str, Any] = asyncio.run(run_all())
    result.update(trials=num_trials, bytes=os.path.getsize(ours_path))
    return result


def bench_small_save(repeats: int, folder: str) -> dict[str, float]:
    """``asyncio.run(save_experiment(one_trial))`` vs synchronous writes of the same bytes.

    The three are interleaved, run after run, so that drifting fsync times hit all alike.
    """
    experiment = make_big_experiment(1)
    data = experiment_to_document(experiment, ENCODER_REGISTRY, CLASS_ENCODER_REGISTRY)
    ours_path = os.path.join(folder, "small_ours.json")
    sync_path = os.path.join(folder, "small_sync.json")

    def sync_with_folder_fsync() -> None:
        write_replace_fsync(sync_path, data)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    runs: dict[str, Callable[[], object]] = {
        "ours": lambda: asyncio.run(save_experiment(experiment, ours_path)),
        "sync": lambda: write_replace_fsync(sync_path, data),
        "sync_folder": sync_with_folder_fsync,
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


# --- output ----------------------------------------------------------------------------------


async def largest_gap(work: Awaitable[object]) -> tuple[float, float]:
    """The largest wait of a 1 ms ticker coroutine while ``work`` runs, and the work's time."""
    gaps: list[float] = []
    done = False

    async def tick() -> None:
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    await work
    took = time.perf_counter() - started
    done = True
    await ticker
    return max(gaps), took


def bench_gaps(num_trials: int, repeats: int, folder: str) -> dict[str, float]:
    """Largest event-loop gaps (worst of ``repeats``) during a save and a load."""
    experiment = make_big_experiment(num_trials)
    path = os.path.join(folder, f"gap_{num_trials}.json")
    worst = {"save": 0.0, "load": 0.0}

    async def run() -> None:
        for _ in range(repeats):
            gc.collect()
            save_gap, _ = await largest_gap(save_experiment(experiment, path))
            worst["save"] = max(worst["save"], save_gap)
            gc.collect()
            load_gap, _ = await largest_gap(load_experiment(path))
            worst["load"] = max(worst["load"], load_gap)

    asyncio.run(run())
    return worst


def print_table(results: list[dict[str, Any]]) -> None:
    header = [
        "trials",
        "file",
        "save ms",
        "floor ms",
        "save/floor",
        "first save ms",
        "first/floor",
        "naive ms",
        "naive/ours",
        "load ms",
        "floor ms",
        "load/floor",
        "naive ms",
        "naive/ours",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    for r in results:
        row = [
            f"{r['trials']:,}",
            fmt_size(r["bytes"]),
            fmt_ms(r["ours_save"]),
            fmt_ms(r["floor_save"]),
            f"{r['ours_save'] / r['floor_save']:.2f}x",
            fmt_ms(r["ours_first_save"]),
            f"{r['ours_first_save'] / r['floor_save']:.2f}x",
            fmt_ms(r["naive_save"]),
            f"{r['naive_save'] / r['ours_save']:.1f}x",
            fmt_ms(r["ours_load"]),
            fmt_ms(r["floor_load"]),
            f"{r['ours_load'] / r['floor_load']:.2f}x",
            fmt_ms(r["naive_load"]),
            f"{r['naive_load'] / r['ours_load']:.1f}x",
        ]
        print("| " + " | ".join(row) + " |")


def check_targets(results: list[dict[str, Any]]) -> list[str]:
    misses = []
    for r in results:
        if r["trials"] < 1_000:
            continue
        save_ratio = r["ours_save"] / r["floor_save"]
        first_ratio = r["ours_first_save"] / r["floor_save"]
        load_ratio = r["ours_load"] / r["floor_load"]
        if save_ratio > 3:
            misses.append(f"save at {r['trials']:,} trials is {save_ratio:.2f}x the floor (> 3x)")
        if first_ratio > 3:
            misses.append(
                f"first save at {r['trials']:,} trials is {first_ratio:.2f}x the floor (> 3x)"
            )
        if load_ratio > 4:
            misses.append(f"load at {r['trials']:,} trials is {load_ratio:.2f}x the floor (> 4x)")
    return misses


def profile(num_trials: int, folder: str, repeats: int) -> None:
    """Where a save's and a load's time goes: the phases timed apart, then cProfile of the codec.

    Encoding and decoding run in the I/O thread pool, which cProfile (one thread) would not
    see, so they are profiled here synchronously, as the pool runs them.
    """
    experiment = make_big_experiment(num_trials)
    path = os.path.join(folder, "profiled.json")
    document = experiment_to_document(experiment, ENCODER_REGISTRY, CLASS_ENCODER_REGISTRY)
    resolved = files.resolve_path(path)

    def encode() -> bytes:
        return experiment_to_document(experiment)

    def decode() -> Any:
        return experiment_from_document(document)

    async def async_phases() -> dict[str, float]:
        return {
            "save_experiment": await median_seconds_async(
                lambda: save_experiment(experiment, path), repeats
            ),
            "  write_atomic (lock, temp, fsync, replace, folder fsync)": (
                await median_seconds_async(lambda: files.write_atomic(resolved, document), repeats)
            ),
            "load_experiment": await median_seconds_async(lambda: load_experiment(path), repeats),
            "  read_file": await median_seconds_async(lambda: files.read_file(resolved), repeats),
        }

    phases = asyncio.run(async_phases())
    phases["  encode (experiment_to_document)"] = median_seconds(encode, repeats)
    phases["  decode (experiment_from_document)"] = median_seconds(decode, repeats)
    phases["floor: orjson.loads"] = median_seconds(lambda: orjson.loads(document), repeats)
    print(f"## Phases, {num_trials:,} trials ({fmt_size(len(document))}), median ms\n")
    for name in sorted(phases, key=lambda n: ("load" in n or "decode" in n, n.strip())):
        print(f"{name:<60} {fmt_ms(phases[name]):>9}")
    for label, run in [("encode", encode), ("decode", decode)]:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeats):
            run()
        profiler.disable()
        print(f"\n## cProfile: {label} of {num_trials:,} trials x {repeats} (tottime, top 15)\n")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        help="comma-separated trial counts (default 10,100,1000,10000)",
    )
    parser.add_argument("--repeats", type=int, help="timed runs per measurement (median)")
    parser.add_argument("--profile", type=int, metavar="TRIALS", help="cProfile save and load")
    parser.add_argument("--dir", help="folder for the files (default: a new temp folder)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    repeats = args.repeats or (3 if args.quick else 7)

    def repeats_for(size: int) -> int:
        # A small size's runs take milliseconds and its medians are the noisiest (one slow
        # fsync, one busy neighbour): more runs there, unless --repeats says otherwise.
        if args.repeats or args.quick or size >= 10_000:
            return repeats
        return max(repeats, SMALL_SIZE_REPEATS)

    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        if args.profile:
            profile(args.profile, folder, repeats)
            return 0
        runs = ", ".join(f"{repeats_for(size)} at {size:,}" for size in sizes)
        print(
            f"Python {sys.version.split()[0]}, orjson {orjson.__version__}, "
            f"medians of runs ({runs} trials), folder {folder}\n"
        )
        results = [bench_size(size, repeats_for(size), folder) for size in sizes]
        print_table(results)
        small = bench_small_save(max(repeats, 50), folder)
        ours, sync, sync_folder = small["ours"], small["sync"], small["sync_folder"]
        print(
            f"\nSmall save (1 trial): asyncio.run(save_experiment) {fmt_ms(ours)} ms; "
            f"synchronous write + fsync + replace {fmt_ms(sync)} ms (ratio {ours / sync:.2f}x); "
            f"the same + folder fsync {fmt_ms(sync_folder)} ms (ratio {ours / sync_folder:.2f}x)"
        )
        biggest = max(sizes)
        gaps = bench_gaps(biggest, 5, folder)
        print(
            f"Largest 1 ms-ticker gap at {biggest:,} trials (worst of 5): "
            f"save {fmt_ms(gaps['save'])} ms, load {fmt_ms(gaps['load'])} ms (target < 50 ms)"
        )
        misses = check_targets(results)
        for miss in misses:
            print(f"TARGET MISSED: {miss}")
    return 1 if misses and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
