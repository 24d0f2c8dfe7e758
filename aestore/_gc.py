"""One process-wide pause of the cyclic garbage collector, shared by every store.

Building or walking a big experiment allocates hundreds of thousands of containers; with the
collector on, every few hundred allocations let it traverse the young generation and now
and then every live object. Nothing made there is garbage until the caller drops it, so
collecting meanwhile only costs time.

There must be *one* pause for the whole process: the collector's on/off switch is global, so
two independent pause helpers would undo each other (one thread's pause ends and turns the
collector back on while another's is still running, or a pause that began while another was
on records "disabled" and never turns it back on). :func:`gc_paused` keeps a count of the
pauses in progress, in any thread, under a lock: the first one turns the collector off if it
was on, the last one turns it back on, and only if it was on when the first began. Code that
turns the collector on or off itself while a pause is in progress gets the state the pause
restores.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused", "gc_paused_across_awaits", "gc_step"]

_lock = threading.Lock()
_pauses = 0
_resume = False
# Pauses held by tasks across awaits: token -> the task's loop (see gc_paused_across_awaits).
_loop_pauses: dict[object, weakref.ref[asyncio.AbstractEventLoop]] = {}


def _begin() -> None:  # with _lock held
    global _pauses, _resume
    _release_orphans()
    if _pauses == 0:
        _resume = gc.isenabled()
        gc.disable()
    _pauses += 1


def _end() -> None:  # with _lock held
    global _pauses
    _pauses -= 1
    if _pauses == 0 and _resume:
        gc.enable()


def _release_orphans() -> None:  # with _lock held
    for token, ref in list(_loop_pauses.items()):
        loop = ref()
        if loop is None or loop.is_closed():
            del _loop_pauses[token]
            _end()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (nests, thread-safe).

    Example:
        >>> import gc
        >>> with gc_paused():
        ...     with gc_paused():
        ...         gc.isenabled()
        ...     gc.isenabled()
        False
        False
        >>> gc.isenabled()
        True
    """
    with _lock:
        _begin()
    try:
        yield
    finally:
        with _lock:
            _end()


@contextmanager
def gc_paused_across_awaits(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """:func:`gc_paused` for a block of a task of ``loop`` that awaits in between.

    The same pause, with one safety net: a task left pending when its loop is closed is never
    resumed, and its pause would last for good. So a pause whose loop is closed is given up
    (the collector resumed) the next time any pause begins or :func:`gc_step` runs; the block,
    if it ever ends, then leaves the count alone.

    Example:
        >>> import asyncio, gc
        >>> async def paused():
        ...     with gc_paused_across_awaits(asyncio.get_running_loop()):
        ...         await asyncio.sleep(0)
        ...         return gc.isenabled()
        >>> asyncio.run(paused()), gc.isenabled()
        (False, True)
    """
    token = object()
    with _lock:
        _begin()
        _loop_pauses[token] = weakref.ref(loop)
    try:
        yield
    finally:
        with _lock:
            if _loop_pauses.pop(token, None) is not None:
                _end()


def gc_step() -> None:
    """Collect the two young generations now if a pause is in progress (else do nothing).

    A pause alone only moves the work: everything allocated meanwhile stays in the youngest
    generation, and the first collection after the pause walks it all at once. Long work
    calls this every few thousand objects, a few ms each, to move the survivors on.

    Example:
        >>> with gc_paused():
        ...     rows = [{"i": i} for i in range(1000)]
        ...     gc_step()
    """
    if _loop_pauses:
        with _lock:
            _release_orphans()
    if _pauses:
        gc.collect(1)
