"""Pausing the cyclic garbage collector while the SQL store builds or encodes a big experiment.

Decoding a 10,000-trial experiment creates hundreds of thousands of containers, and encoding
one for its first save about as many long-lived rows: the collector then runs full
collections over every live object (100-250 ms each, during which the event loop stands
still), and nothing made there is garbage until the caller drops it. Pauses nest and may
overlap across threads (the decode thread, the loop): the collector resumes when the last
pause ends, and only if it was enabled when the first began.

A pause alone would only move the work: every object made meanwhile stays in the youngest
generation, and the first collection after the pause walks them all (~50 ms for 1M objects,
in one C call). So long work calls :func:`gc_step` every few thousand objects: a collection of
the two young generations, a few ms, that moves the survivors to the old generation without
a full collection.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused", "gc_step"]

_lock = threading.Lock()
_pauses = 0
_resume = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (nesting, thread-safe).

    Example:
        >>> with gc_paused():
        ...     gc.isenabled()
        False
    """
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()


def gc_step() -> None:
    """Collect the young generations now if a pause is on (a few ms between work slices).

    Example:
        >>> with gc_paused():
        ...     rows = [{"i": i} for i in range(1000)]
        ...     gc_step()
    """
    if _pauses:
        gc.collect(1)
