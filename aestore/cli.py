"""The ``aestore`` command: ``demo``, ``init-db`` and ``list``.

Example:
    $ aestore demo                      # save and load a realistic experiment (JSON + SQLite)
    $ aestore init-db --url mysql+aiomysql://user:pw@localhost/experiments
    $ python -m aestore list --url sqlite+aiosqlite:///aestore.db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from aestore.exceptions import AestoreError

__all__ = ["main"]


def _masked(url: str | None) -> str:
    """The URL with its password hidden, for printing."""
    if not url:
        return "(default)"
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show nothing that could be a secret
        return "(unparseable URL)"


async def _demo(args: argparse.Namespace) -> int:
    from aestore.samples import make_batch_experiment, make_experiment
    from aestore.storage.json_store.load import load_experiment as load_json
    from aestore.storage.json_store.save import save_experiment as save_json
    from aestore.storage.sqa_store import db
    from aestore.storage.sqa_store.load import load_experiment as load_sql
    from aestore.storage.sqa_store.save import save_experiment as save_sql

    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="aestore-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    experiment = make_experiment(num_trials=args.trials, name="demo_experiment")
    batch = make_batch_experiment()
    print(
        f"Built {experiment.name!r}: {experiment.num_trials} trials, "
        f"{len(experiment.lookup_data())} observations, {len(experiment.metrics)} metrics; "
        f"and {batch.name!r} with {batch.num_trials} batch/single trials."
    )

    json_path = workdir / "experiment.json"
    started = time.perf_counter()
    await save_json(experiment, json_path)
    saved = time.perf_counter()
    loaded = await load_json(json_path)
    done = time.perf_counter()
    _check("JSON file", loaded == experiment)
    print(
        f"JSON  {json_path} ({json_path.stat().st_size:,} bytes): "
        f"save {1000 * (saved - started):.1f} ms, load {1000 * (done - saved):.1f} ms, equal: True"
    )

    url = args.url or f"sqlite+aiosqlite:///{workdir / 'aestore.db'}"
    db.init_engine_and_session_factory(url=url, force_init=True)
    try:
        await db.create_all_tables()
        for exp in (experiment, batch):
            started = time.perf_counter()
            await save_sql(exp)
            saved = time.perf_counter()
            assert exp.name is not None
            loaded_sql = await load_sql(exp.name)
            done = time.perf_counter()
            _check(f"SQL {exp.name}", loaded_sql == exp)
            print(
                f"SQL   {_masked(url)} {exp.name!r}: save {1000 * (saved - started):.1f} ms, "
                f"load {1000 * (done - saved):.1f} ms, equal: True"
            )
        new_arm = next(iter(experiment.arms_by_name.values())).clone(clear_name=True)
        new_arm.parameters["x1"] = 0.001
        trial = experiment.new_trial()
        trial.add_arm(new_arm)
        started = time.perf_counter()
        await save_sql(experiment)
        print(
            f"SQL   re-save after adding trial {trial.index}: "
            f"{1000 * (time.perf_counter() - started):.1f} ms (only the new rows are written)"
        )
        reloaded = await load_sql("demo_experiment")
        _check("SQL update", reloaded == experiment)
    finally:
        await db.dispose_engine()
    print(f"Demo finished: files in {workdir}")
    return 0


def _check(what: str, ok: bool) -> None:
    if not ok:
        raise SystemExit(f"demo: {what}: the loaded experiment differs from the saved one")


async def _init_db(args: argparse.Namespace) -> int:
    from aestore.storage.sqa_store import db

    db.init_engine_and_session_factory(url=args.url, force_init=True)
    try:
        await db.create_all_tables()
    finally:
        await db.dispose_engine()
    print(
        f"aestore tables are ready in {_masked(args.url or os.environ.get('AESTORE_DATABASE_URL'))}"
    )
    return 0


async def _list(args: argparse.Namespace) -> int:
    from aestore.storage.sqa_store import db
    from aestore.storage.sqa_store.load import list_experiments

    db.init_engine_and_session_factory(url=args.url, force_init=True)
    try:
        for name in await list_experiments():
            print(name)
    finally:
        await db.dispose_engine()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aestore", description="Async-first storage for adaptive experiments."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="save and load a realistic experiment (JSON and SQL)")
    demo.add_argument("--dir", help="folder for the JSON file and SQLite database (default: temp)")
    demo.add_argument("--url", help="database URL instead of a SQLite file in --dir")
    demo.add_argument("--trials", type=int, default=50, help="number of trials (default 50)")
    url_help = "database URL (default: $AESTORE_DATABASE_URL, else sqlite ./aestore.db)"
    init = sub.add_parser("init-db", help="create aestore's tables (idempotent)")
    init.add_argument("--url", help=url_help)
    listing = sub.add_parser("list", help="list stored experiment names")
    listing.add_argument("--url", help=url_help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``aestore`` command line.

    Example:
        >>> main(["init-db", "--url", "sqlite+aiosqlite:///:memory:"])  # doctest: +SKIP
        0
    """
    args = _parser().parse_args(argv)
    handler = {"demo": _demo, "init-db": _init_db, "list": _list}[args.command]
    try:
        return asyncio.run(handler(args))
    except AestoreError as err:
        print(f"aestore {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
