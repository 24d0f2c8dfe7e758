"""Work in steps (aestore._steps): run at once, or on the event loop between other tasks."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import pytest

from aestore._steps import Blocking, Steps, run_steps, run_steps_on_loop


def counting(log: list[str], steps: int = 3) -> Steps[int]:
    try:
        for i in range(steps):
            log.append(f"step {i}")
            yield None
        return steps
    finally:
        log.append("closed")


def asking(fn: Any, *args: Any) -> Steps[Any]:
    try:
        return ("got", (yield Blocking(fn, *args)))
    except ValueError as err:
        return ("raised", str(err))


def fails(message: str) -> None:
    raise ValueError(message)


def test_run_steps_runs_every_step_and_returns_the_result() -> None:
    log: list[str] = []
    assert (run_steps(counting(log)), log) == (3, ["step 0", "step 1", "step 2", "closed"])


def test_run_steps_sends_back_what_a_blocking_request_returns() -> None:
    assert run_steps(asking(sum, [1, 2, 3])) == ("got", 6)


def test_run_steps_throws_a_blocking_requests_error_into_the_steps() -> None:
    assert run_steps(asking(fails, "bad")) == ("raised", "bad")


def test_run_steps_pauses_the_collector_while_it_runs() -> None:
    def probe() -> Steps[bool]:
        yield None
        return gc.isenabled()

    assert (run_steps(probe()), gc.isenabled()) == (False, True)


def test_run_steps_closes_the_steps_when_it_is_interrupted() -> None:
    log: list[str] = []

    def interrupt() -> None:
        raise KeyboardInterrupt

    def steps() -> Steps[None]:
        try:
            yield Blocking(interrupt)  # not an Exception: not thrown in, run_steps stops
        finally:
            log.append("closed")

    with pytest.raises(KeyboardInterrupt):
        run_steps(steps())
    assert (log, gc.isenabled()) == (["closed"], True)


async def test_other_tasks_run_between_steps_on_the_loop() -> None:
    log: list[str] = []

    async def other() -> None:
        for _ in range(3):
            log.append("other")
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    await asyncio.sleep(0)  # ``other`` has started
    assert await run_steps_on_loop(counting(log)) == 3
    await task
    assert log.index("other", 1) < log.index("step 2")  # interleaved, not one after the other


async def test_blocking_requests_run_in_the_executor() -> None:
    result = await run_steps_on_loop(asking(threading.get_ident))
    assert result[0] == "got" and result[1] != threading.get_ident()


async def test_a_blocking_requests_error_is_thrown_into_the_steps_on_the_loop() -> None:
    assert await run_steps_on_loop(asking(fails, "worse")) == ("raised", "worse")


async def test_cancelling_closes_the_steps_and_resumes_the_collector() -> None:
    log: list[str] = []
    task = asyncio.create_task(run_steps_on_loop(counting(log, steps=1_000_000)))
    while len(log) < 5:
        await asyncio.sleep(0)
    assert not gc.isenabled()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (log[-1], gc.isenabled()) == ("closed", True)
