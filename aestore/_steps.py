"""Work done in steps: a generator that yields between steps and returns its result.

Long CPU-bound work (decoding a big document) is written once, as a generator that yields
every millisecond or so of work and returns the result. :func:`run_steps` runs it at once,
for synchronous callers; :func:`run_steps_on_loop` runs it on the event loop's own thread and
lets the other tasks run at every yield. That keeps the loop responsive without moving the
work to a thread, where (with the GIL) it is no faster and, measured on our 2-vCPU machines,
up to ~25% slower for work that makes many objects.

A step may instead yield :class:`Blocking` for work it cannot cut into steps (a user's
decoder, say): :func:`run_steps_on_loop` runs that in a thread pool, :func:`run_steps`
inline, and the generator gets its result back (or its exception thrown in).

The cyclic garbage collector is paused while the steps run, between them too
(:func:`aestore._gc.gc_paused_across_awaits`, which gives the pause up if the task is left
pending when its loop is closed).

Example:
    >>> def count(n):
    ...     total = 0
    ...     for i in range(n):
    ...         total += i
    ...         yield
    ...     return total
    >>> run_steps(count(4))
    6
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from concurrent.futures import Executor
from typing import Any, TypeVar

from aestore._gc import gc_paused, gc_paused_across_awaits

__all__ = ["Blocking", "Steps", "run_steps", "run_steps_on_loop"]

T = TypeVar("T")


class Blocking:
    """A request from a step: run ``fn(*args)`` (long, not cut into steps) off the loop and
    send back its result.

    Example:
        >>> def steps():
        ...     total = yield Blocking(sum, [1, 2, 3])
        ...     return total * 2
        >>> run_steps(steps())
        12
    """

    __slots__ = ("args", "fn")

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.fn = fn
        self.args = args


Steps = Generator[Blocking | None, Any, T]
"""Work that yields between its steps (None, or a :class:`Blocking` request) and returns a
``T``."""


def run_steps(steps: Steps[T]) -> T:
    """Run all of ``steps`` now (the collector paused) and return its result.

    Example:
        >>> def two():
        ...     yield
        ...     return 2
        >>> run_steps(two())
        2
    """
    with gc_paused():
        try:
            outcome: _Outcome = _NOTHING
            while True:
                try:
                    request = _resume(steps, outcome)
                except StopIteration as done:
                    return done.value
                outcome = _NOTHING if request is None else _call(request)
        finally:
            steps.close()


# What a step is resumed with: the value its request gave back, or the error it raised.
_Outcome = tuple[Any, Exception | None]
_NOTHING: _Outcome = (None, None)


def _resume(steps: Steps[T], outcome: _Outcome) -> Blocking | None:
    value, error = outcome
    return steps.send(value) if error is None else steps.throw(error)


def _call(request: Blocking) -> _Outcome:
    try:
        return request.fn(*request.args), None
    except Exception as exc:
        return None, exc


def _paused_call(request: Blocking) -> _Outcome:
    # In a pool thread: the pause ends when the call does, whatever the awaiting task does.
    with gc_paused():
        return _call(request)


async def run_steps_on_loop(steps: Steps[T], executor: Executor | None = None) -> T:
    """Run ``steps`` in the event loop's thread, letting other tasks run at each yield, and
    :class:`Blocking` requests in ``executor`` (the loop's default one if None).

    A cancel (or any error) closes the generator, so its ``finally`` blocks run before this
    raises; a cancelled :class:`Blocking` call is left to finish in its thread.

    Example:
        >>> def two():
        ...     yield
        ...     return 2
        >>> asyncio.run(run_steps_on_loop(two()))
        2
    """
    loop = asyncio.get_running_loop()
    try:
        # One pause for all the steps: released between them, the collector would run its
        # full collections in the middle of the work (measured at 10,000 trials: 100+ ms
        # stalls, twice the time).
        with gc_paused_across_awaits(loop):
            outcome: _Outcome = _NOTHING
            while True:
                try:
                    request = _resume(steps, outcome)
                except StopIteration as done:
                    return done.value
                if request is None:
                    await asyncio.sleep(0)
                    outcome = _NOTHING
                else:
                    outcome = await loop.run_in_executor(executor, _paused_call, request)
    finally:
        steps.close()
