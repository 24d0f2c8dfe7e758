"""The process-wide garbage collector pause (aestore._gc.gc_paused, gc_paused_across_awaits)."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator

import pytest

from aestore._gc import gc_paused, gc_paused_across_awaits, gc_step


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_pauses_and_resumes() -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_nested_pauses_resume_on_the_last_exit() -> None:
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumes_after_an_exception() -> None:
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_does_not_enable_a_collector_that_was_off() -> None:
    gc.disable()
    with gc_paused(), gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_in_threads() -> None:
    """Pauses that begin and end in different orders: off while any runs, on after all."""
    first_in = threading.Event()
    second_in = threading.Event()
    first_may_leave = threading.Event()
    first_out = threading.Event()
    second_may_leave = threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with gc_paused():
            first_in.set()
            first_may_leave.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with gc_paused():
            second_in.set()
            second_may_leave.wait(5)
            seen["in_second_after_first_left"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert second_in.wait(5)
    first_may_leave.set()  # the first pause ends while the second still runs
    assert first_out.wait(5)
    assert not gc.isenabled()
    second_may_leave.set()
    for thread in threads:
        thread.join(5)
    assert seen == {"in_second_after_first_left": False}
    assert gc.isenabled()


def test_many_threads_hammering() -> None:
    barrier = threading.Barrier(8)
    errors: list[str] = []

    def work() -> None:
        barrier.wait(5)
        for _ in range(2000):
            with gc_paused():
                if gc.isenabled():
                    errors.append("collector on inside a pause")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert gc.isenabled()


def test_many_threads_leave_a_disabled_collector_off() -> None:
    gc.disable()
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait(5)
        for _ in range(500):
            with gc_paused():
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not gc.isenabled()


def test_gc_step_collects_only_during_a_pause() -> None:
    collections: list[int] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.disable()  # no automatic collections to confuse the count
    gc.callbacks.append(on_gc)
    try:
        gc_step()
        assert collections == []
        with gc_paused():
            gc_step()
            assert not gc.isenabled()
        assert collections == [1]
    finally:
        gc.callbacks.remove(on_gc)


# --- pauses held across awaits ----------------------------------------------------------------


async def _paused_until(release: asyncio.Event, paused: asyncio.Event) -> None:
    with gc_paused_across_awaits(asyncio.get_running_loop()):
        paused.set()
        await release.wait()


def test_a_pause_across_awaits_ends_with_its_block() -> None:
    async def main() -> bool:
        release, paused = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(_paused_until(release, paused))
        await paused.wait()
        during = gc.isenabled()
        release.set()
        await task
        return during

    assert (asyncio.run(main()), gc.isenabled()) == (False, True)


def test_a_pause_left_pending_in_a_closed_loop_is_given_up() -> None:
    # A task left pending when its loop closes is never resumed: its pause must not last.
    loop = asyncio.new_event_loop()
    release, paused = asyncio.Event(), asyncio.Event()
    task = loop.create_task(_paused_until(release, paused))
    loop.run_until_complete(paused.wait())
    loop.close()  # without cancelling the task
    assert not gc.isenabled()
    with gc_paused():  # the next pause (any save or load) notices the closed loop
        assert not gc.isenabled()
    assert gc.isenabled()
    # Were the task's coroutine closed after all, the count stays right.
    task._log_destroy_pending = False  # type: ignore[attr-defined]
    task.get_coro().close()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_gc_step_also_gives_up_a_pause_of_a_closed_loop() -> None:
    loop = asyncio.new_event_loop()
    release, paused = asyncio.Event(), asyncio.Event()
    task = loop.create_task(_paused_until(release, paused))
    loop.run_until_complete(paused.wait())
    loop.close()
    gc_step()
    assert gc.isenabled()
    task._log_destroy_pending = False  # type: ignore[attr-defined]
    task.get_coro().close()
