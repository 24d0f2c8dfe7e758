"""In-process ordering of concurrent saves of one experiment object to one database.

Many coroutines may save trials of one in-memory experiment at once (a runner coroutine per
trial). Saves of *different* trials run concurrently; what must not overlap is:

- two saves of the same trial (both would insert it, or UPDATE it from the same version:
  the second would fail with a spurious :class:`ConcurrentModificationError`);
- two writes of the experiment's own row (both guard the same ``version``);
- a save that looks at every trial (``save_experiment``) or rewrites the whole experiment
  (the first save, the repair after a commit of unknown outcome) and any other save.

A :class:`SaveGate` per (experiment object, database, event loop) gives that: *shared* holds
lock the trials they touch (and the experiment row if they write it), *exclusive* holds wait
for every shared hold to end and keep new ones out (a waiting exclusive hold goes first, so a
stream of trial saves can't starve a ``save_experiment``). Locks are taken in one order:
the gate, then the experiment row, then trials by ascending index -- so holds never deadlock,
and the SQL statements take database row locks in the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

__all__ = ["SaveGate", "save_gate"]


@dataclass
class _TrialLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class SaveGate:
    """Shared/exclusive access to one experiment's bookkeeping, with per-trial locks.

    Example:
        >>> async def demo(gate: SaveGate) -> None:
        ...     async with gate.shared([3, 1], experiment_row=False):
        ...         pass  # trials 1 and 3 are ours
        ...     async with gate.exclusive():
        ...         pass  # nobody else saves this experiment
    """

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._row_lock = asyncio.Lock()
        self._trials: dict[int, _TrialLock] = {}

    @property
    def idle(self) -> bool:
        """Whether nobody holds or waits for the gate."""
        return not (self._readers or self._writer or self._writers_waiting or self._trials)

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the gate alone."""
        async with self._condition:
            self._writers_waiting += 1
            try:
                await self._condition.wait_for(lambda: not self._writer and not self._readers)
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            await self._release(writer=True)

    @asynccontextmanager
    async def shared(
        self, trial_indices: Iterable[int], experiment_row: bool
    ) -> AsyncIterator[None]:
        """Hold the gate with other shared holders, owning these trials (and the row)."""
        async with self._condition:
            await self._condition.wait_for(lambda: not self._writer and not self._writers_waiting)
            self._readers += 1
        try:
            row_lock = self._row_lock if experiment_row else contextlib.nullcontext()
            async with row_lock, self._trial_locks(sorted(set(trial_indices))):
                yield
        finally:
            await self._release(writer=False)

    async def _release(self, writer: bool) -> None:
        # Shielded: a cancelled task must still give the gate back.
        await asyncio.shield(self._release_now(writer))

    async def _release_now(self, writer: bool) -> None:
        async with self._condition:
            if writer:
                self._writer = False
            else:
                self._readers -= 1
            self._condition.notify_all()

    @asynccontextmanager
    async def _trial_locks(self, indices: list[int]) -> AsyncIterator[None]:
        entries = []
        for index in indices:
            entry = self._trials.get(index)
            if entry is None:
                entry = self._trials[index] = _TrialLock()
            entry.users += 1
            entries.append((index, entry))
        acquired: list[asyncio.Lock] = []
        try:
            for _, entry in entries:
                await entry.lock.acquire()
                acquired.append(entry.lock)
            yield
        finally:
            for lock in acquired:
                lock.release()
            for index, entry in entries:
                entry.users -= 1
                if entry.users == 0:
                    del self._trials[index]


# event loop -> owner (an experiment's bookkeeping) -> database key -> gate. Locks belong to
# one loop; weak keys let closed loops and collected experiments take their gates with them.
_gates: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[object, dict[str, SaveGate]]
] = weakref.WeakKeyDictionary()


def save_gate(owner: object, database: str) -> SaveGate:
    """The gate of ``owner`` (an experiment's bookkeeping) and ``database`` in this loop.

    Example:
        >>> # async with save_gate(registration(exp), database_key()).exclusive(): ...
    """
    loop = asyncio.get_running_loop()
    by_owner = _gates.get(loop)
    if by_owner is None:
        by_owner = _gates[loop] = weakref.WeakKeyDictionary()
    by_key = by_owner.get(owner)
    if by_key is None:
        by_key = by_owner[owner] = {}
    gate = by_key.get(database)
    if gate is None:
        gate = by_key[database] = SaveGate()
    return gate
