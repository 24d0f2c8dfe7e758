"""Throughput of trial updates from concurrent runner coroutines, against one sequential task.

An *update* is what a trial runner does after each step: a status change, a data attach and
``save_or_update_trial``. For 1, 8, 32 and 64 runners (coroutines sharing one in-memory
experiment and one engine, each driving its own trials), the same number of updates is timed
concurrently and then sequentially in one task, on fresh copies of one stored experiment;
printed as updates/second and speed-up (concurrent / sequential).

Also reports the largest gap of a 1 ms ticker while saving and loading a 10,000-trial
experiment (``--gap``; the SQL store's event-loop target is under 50 ms).

MariaDB comes from ``$AESTORE_BENCH_MARIADB_URL`` or a throwaway server started with the test
suite's ``tests/servers.py``. That server is tuned for test speed: its commits don't fsync
(``innodb_flush_log_at_trx_commit=2``). ``--durable`` also runs the MariaDB rows on a second
server with production durability (``innodb_flush_log_at_trx_commit=1``, doublewrite on,
data directory on disk in the temp folder instead of /dev/shm), where each commit waits for
an fsync. SQLite runs with its defaults (WAL, ``synchronous=FULL``:
each commit syncs the WAL).

Concurrent saves of one experiment object share transactions (group commit): the
``commits`` column counts the transactions of the concurrent round. The sequential baseline
is the same code path, one task, the same number of updates.

Usage::

    python benchmarks/bench_concurrency.py                  # sqlite and mariadb
    python benchmarks/bench_concurrency.py --durable        # + mariadb with fsync on commit
    python benchmarks/bench_concurrency.py --backends mariadb --updates 2048
    python benchmarks/bench_concurrency.py --gap            # also the event-loop gaps
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from aestore.core import Arm, BaseTrial, Data, Experiment, GeneratorRun
from aestore.samples import make_big_experiment, make_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial

RUNNER_COUNTS = (1, 8, 32, 64)
DURABLE_MARIADB = ["--innodb-flush-log-at-trx-commit=1", "--innodb-doublewrite=1"]


def add_candidates(experiment: Experiment, count: int) -> None:
    for k in range(count):
        arm = Arm(
            {
                "x1": (k % 97) / 200,
                "x2": 0.6,
                "lr": 0.01,
                "layers": 2,
                "optimizer": "adam",
                "seed": 42,
            }
        )
        experiment.new_trial(GeneratorRun([arm]))


async def update(experiment: Experiment, trial: BaseTrial, step: int) -> None:
    """One update: status change + data attach + save."""
    if step == 0:
        trial.mark_running()
    else:
        trial.mark_completed()
    name = trial.arms[0].name
    experiment.attach_data(
        Data(
            [
                {
                    "trial_index": trial.index,
                    "arm_name": name,
                    "metric_name": "accuracy",
                    "mean": 0.1 * step,
                    "sem": 0.01,
                }
            ]
        )
    )
    await save_or_update_trial(experiment, trial)


async def runner(experiment: Experiment, trials: list[BaseTrial]) -> None:
    for trial in trials:
        for step in (0, 1):
            await update(experiment, trial, step)


async def timed_round(name: str, runners: int, updates: int) -> tuple[float, int]:
    """Seconds for ``updates`` updates by ``runners`` coroutines on a fresh copy; commits."""
    experiment = await load_experiment(name)
    trials = [t for t in experiment.trials.values() if t.status.name == "CANDIDATE"]
    trials = trials[: updates // 2]
    parts = [trials[r::runners] for r in range(runners)]
    commits: list[int] = []

    def on_commit(conn: Any) -> None:
        commits.append(1)

    engine = db.get_engine().sync_engine
    event.listen(engine, "commit", on_commit)
    try:
        start = time.perf_counter()
        await asyncio.gather(*(runner(experiment, part) for part in parts))
        return time.perf_counter() - start, len(commits)
    finally:
        event.remove(engine, "commit", on_commit)


async def largest_gap(work: Awaitable[Any]) -> float:
    done = asyncio.Event()
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.005)
    await work
    done.set()
    await task
    return max(gaps)


async def bench_backend(backend: str, url: str, updates: int, gap: bool) -> list[str]:
    db.init_engine_and_session_factory(
        url=url, force_init=True, pool_size=max(RUNNER_COUNTS), max_overflow=0
    )
    await db.create_all_tables()
    lines = []
    for runners in RUNNER_COUNTS:
        name = f"bench_concurrency_{runners}"
        experiment = make_experiment(num_trials=2, name=name)
        add_candidates(experiment, updates)  # enough fresh trials for two rounds
        await save_experiment(experiment)
        sequential, _ = await timed_round(name, 1, updates)
        concurrent, commits = await timed_round(name, runners, updates)
        lines.append(
            f"| {backend} | {runners} | {updates / concurrent:,.0f} | {updates / sequential:,.0f}"
            f" | {sequential / concurrent:.2f}x | {commits} |"
        )
        print(lines[-1], flush=True)
    if gap:
        big = make_big_experiment(10_000)
        gc.collect()
        save_gap = await largest_gap(save_experiment(big))
        gc.collect()
        load_gap = await largest_gap(load_experiment(big.name or ""))
        lines.append(
            f"{backend}: largest 1 ms-ticker gap, 10,000 trials: save {save_gap * 1000:.1f} ms,"
            f" load {load_gap * 1000:.1f} ms"
        )
        print(lines[-1], flush=True)
    await db.dispose_engine()
    return lines


def run_backend(backend: str, args: argparse.Namespace, durable: bool) -> None:
    server = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    elif durable or not os.environ.get("AESTORE_BENCH_MARIADB_URL"):
        from tests import servers

        if durable:  # on disk: in /dev/shm (RAM) an fsync would cost nothing
            server = servers.start_mariadb(DURABLE_MARIADB, data_root=tempfile.gettempdir())
        else:
            server = servers.start_mariadb()
        url = server.url
    else:
        url = os.environ["AESTORE_BENCH_MARIADB_URL"]
    try:
        asyncio.run(bench_backend(backend, url, args.updates, args.gap))
    finally:
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,mariadb")
    parser.add_argument("--updates", type=int, default=1024, help="updates per measurement")
    parser.add_argument("--gap", action="store_true", help="also measure event-loop gaps")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="also run mariadb with production durability (fsync at every commit)",
    )
    args = parser.parse_args()
    backends = args.backends.split(",")
    modes = [("test-tuned MariaDB (innodb_flush_log_at_trx_commit=2)", False)]
    if args.durable:
        modes.append(("durable MariaDB (innodb_flush_log_at_trx_commit=1)", True))
    for title, durable in modes:
        print(f"\n{title}, {args.updates} updates per cell\n")
        print(
            "| backend | runners | concurrent updates/s | sequential updates/s | speed-up"
            " | commits |"
        )
        print("|---|---|---|---|---|---|")
        for backend in backends:
            if durable and backend == "sqlite":
                continue  # the same in both modes
            run_backend(backend, args, durable)


if __name__ == "__main__":
    main()
