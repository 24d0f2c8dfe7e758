"""Threads that each run their own event loops share one engine configuration safely."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aestore.storage.sqa_store import db


@pytest.fixture
def fast_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    yield
    sys.setswitchinterval(previous)


def test_many_threads_with_their_own_loops_get_engines_without_errors(
    tmp_path: Path, fast_switching: None
) -> None:
    errors: list[BaseException] = []
    engines_by_loop: dict[int, int] = {}
    guard = threading.Lock()

    def worker() -> None:
        for _ in range(20):

            async def use_engine() -> None:
                engine = db.get_engine()
                with guard:
                    engines_by_loop[id(asyncio.get_running_loop())] = id(engine)

            try:
                asyncio.run(use_engine())
            except BaseException as err:  # collected and asserted below
                errors.append(err)

    for _ in range(5):
        db.init_engine_and_session_factory(
            url=f"sqlite+aiosqlite:///{tmp_path / 'threads.db'}", force_init=True
        )
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(engines_by_loop) > 8
