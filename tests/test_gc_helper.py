"""The process-wide garbage collector pause (aestore._gc.gc_paused)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from aestore._gc import gc_paused, gc_step


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
