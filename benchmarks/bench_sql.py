"""Benchmark the SQL store against a floor measured in the same run, on SQLite and MariaDB.

For experiments of 10, 100, 1,000 and 10,000 single-arm trials (``make_big_experiment``: 6
parameters, 2 metrics with data), times (median of ``--repeats`` where an operation can be
repeated):

- **first save**: ``save_experiment`` into empty tables. Floor: SQLAlchemy Core
  ``insert(table)`` executemany of the very same rows (already encoded), one transaction.
- **load**: ``load_experiment``. Floor: one ``select`` per table filtered by experiment id,
  rows fetched (no decoding).
- **re-save unchanged**, **save after adding one trial** (with its data), and
  **save_or_update_trial** of one changed trial.

Targets: first save within 3x of its floor; load within 3x of its floor; adding one trial to
a 10,000-trial experiment costs at most 2x what it costs on a 10-trial one.

MariaDB comes from ``$AESTORE_BENCH_MARIADB_URL`` or a throwaway server started with the test
suite's ``tests/servers.py`` (MariaDB must be installed: ``scripts/install_servers.sh``).

Usage::

    python benchmarks/bench_sql.py                      # sqlite and mariadb, all sizes
    python benchmarks/bench_sql.py --quick              # small sizes, few repeats
    python benchmarks/bench_sql.py --backends sqlite --sizes 10,10000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aestore.core import Arm, Data, Experiment, GeneratorRun
from aestore.samples import make_big_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.encoder import Encoder
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import (
    experiment_level_rows,
    save_experiment,
    save_or_update_trial,
)
from aestore.storage.sqa_store.save_plan import EXPERIMENT_TABLES as SMALL_TABLES
from aestore.storage.sqa_store.save_plan import (
    EXPERIMENTS,
    SavePlan,
)
from aestore.storage.sqa_store.save_plan import (
    TABLES_IN_ORDER as TRIAL_TABLES,
)
from aestore.storage.sqa_store.sqa_classes import SQABase

SIZES = (10, 100, 1_000, 10_000)


async def _reset_tables() -> None:
    async with db.get_engine().begin() as conn:
        await conn.run_sync(SQABase.metadata.drop_all)
        await conn.run_sync(SQABase.metadata.create_all)


def _all_rows(experiment: Experiment, eid: int) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Every row the store writes for ``experiment``, by table, in foreign-key order."""
    encoder = Encoder()
    row = {**encoder.experiment_row(experiment), "id": eid, "instance_token": "t", "version": 1}
    plan = SavePlan()
    for index, trial in experiment.trials.items():
        plan.add_trial(encoder, trial, eid, experiment.data_by_trial.get(index) or {})
    out: list[tuple[Any, list[dict[str, Any]]]] = [(EXPERIMENTS, [row])]
    for key, rows in experiment_level_rows(encoder, experiment, eid).items():
        out.append((SMALL_TABLES[key], rows))
    for key, table in TRIAL_TABLES.items():
        out.append((table, plan.inserts[key]))
    return [(t, r) for t, r in out if r]


async def _floor_insert(rows: list[tuple[Any, list[dict[str, Any]]]]) -> float:
    gc.collect()
    start = time.perf_counter()
    async with db.session_scope() as session:
        for table, table_rows in rows:
            await session.execute(insert(table), table_rows)
    return time.perf_counter() - start


async def _floor_select(eid: int) -> float:
    tables = [EXPERIMENTS, *SMALL_TABLES.values(), *TRIAL_TABLES.values()]
    gc.collect()
    start = time.perf_counter()
    async with db.session_scope() as session:
        for table in tables:
            column = table.c.id if table is EXPERIMENTS else table.c.experiment_id
            (await session.execute(select(table).where(column == eid))).all()
    return time.perf_counter() - start


async def _timed(action: Callable[[], Awaitable[Any]]) -> float:
    # Each repeat starts from a collected heap (untimed), like the floor's: otherwise a
    # load pays for collecting the experiment the previous repeat loaded and dropped.
    gc.collect()
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start


def _add_trial(experiment: Experiment) -> None:
    index = experiment.num_trials
    trial = experiment.new_trial(
        GeneratorRun(
            [Arm({"x1": 0.1, "x2": 0.9, "lr": 0.01, "layers": 2, "optimizer": "sgd", "seed": 42})]
        )
    )
    trial.mark_running()
    experiment.attach_data(
        Data(
            [
                {
                    "trial_index": index,
                    "arm_name": trial.arm.name if trial.arm else "",
                    "metric_name": "accuracy",
                    "mean": 0.5,
                    "sem": 0.01,
                }
            ]
        )
    )


async def bench_size(n: int, repeats: int) -> dict[str, float]:
    """Every measurement for one experiment size, on the configured database."""
    experiment = make_big_experiment(n)
    await _reset_tables()
    floor_insert = await _floor_insert(_all_rows(experiment, 1))
    floor_select = statistics.median([await _floor_select(1) for _ in range(repeats)])
    await _reset_tables()
    first_save = await _timed(lambda: save_experiment(experiment))
    name = experiment.name or ""
    load = statistics.median([await _timed(lambda: load_experiment(name)) for _ in range(repeats)])
    resave = statistics.median(
        [await _timed(lambda: save_experiment(experiment)) for _ in range(repeats)]
    )
    add_one = []
    for _ in range(repeats):
        _add_trial(experiment)
        add_one.append(await _timed(lambda: save_experiment(experiment)))
    save_trial = []
    for i in range(repeats):
        trial = experiment.trials[i % n]
        trial.update_run_metadata({"bench": i})
        save_trial.append(await _timed(lambda t=trial: save_or_update_trial(experiment, t)))
    return {
        "floor_insert": floor_insert,
        "first_save": first_save,
        "floor_select": floor_select,
        "load": load,
        "resave": resave,
        "add_one": statistics.median(add_one),
        "save_trial": statistics.median(save_trial),
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def print_table(backend: str, results: dict[int, dict[str, float]]) -> None:
    """A Markdown table of one backend's results."""
    print(f"\n### {backend}\n")
    print(
        "| trials | first save ms (floor, x) | load ms (floor, x) | re-save unchanged ms "
        "| add 1 trial ms | save_or_update_trial ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n, r in results.items():
        print(
            f"| {n:,} | {_ms(r['first_save'])} ({_ms(r['floor_insert'])}, "
            f"{r['first_save'] / r['floor_insert']:.1f}x) | {_ms(r['load'])} "
            f"({_ms(r['floor_select'])}, {r['load'] / r['floor_select']:.1f}x) "
            f"| {_ms(r['resave'])} | {_ms(r['add_one'])} | {_ms(r['save_trial'])} |"
        )
    sizes = sorted(results)
    if len(sizes) > 1:
        ratio = results[sizes[-1]]["add_one"] / results[sizes[0]]["add_one"]
        print(
            f"\nAdding one trial at {sizes[-1]:,} trials costs {ratio:.2f}x what it costs at "
            f"{sizes[0]:,} (target <= 2x)."
        )


def _mariadb_url() -> tuple[str, Any]:
    url = os.environ.get("AESTORE_BENCH_MARIADB_URL")
    if url:
        return url, None
    from tests import servers

    server = servers.start_mariadb()
    return server.url, server


def run(backend: str, sizes: list[int], repeats: int) -> None:
    """Benchmark one backend over ``sizes`` and print its table."""
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        else:
            url, server = _mariadb_url()
        try:
            db.init_engine_and_session_factory(url=url, force_init=True)

            async def main() -> dict[int, dict[str, float]]:
                try:
                    return {n: await bench_size(n, repeats) for n in sizes}
                finally:
                    await db.dispose_engine()

            print_table(backend, asyncio.run(main()))
        finally:
            if server is not None:
                server.stop()


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,mariadb")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="sizes 10,100; 3 repeats")
    args = parser.parse_args()
    sizes = [10, 100] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeats = 3 if args.quick else args.repeats
    for backend in args.backends.split(","):
        run(backend.strip(), sizes, repeats)


if __name__ == "__main__":
    main()
