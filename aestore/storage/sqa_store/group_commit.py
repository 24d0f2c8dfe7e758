"""Group commit: concurrent trial saves of one experiment object share one transaction.

Many runner coroutines calling ``save_or_update_trial`` on one in-memory experiment each paid
for a whole transaction (pool checkout and its ping, BEGIN, COMMIT, check-in), most of it
Python on the event loop: concurrency had nothing to overlap. Instead, a
:class:`TrialBatcher` per (experiment object, database, event loop) queues the requests; the
first caller starts a *leader* task that takes whatever is queued, saves the union of those
trials in one transaction (with the usual version guards, retries and bookkeeping, see
:mod:`~aestore.storage.sqa_store.save`), resolves every caller's future, and goes on with
what queued up meanwhile. The leader is a task of its own, not the first caller's coroutine,
so that cancelling any caller never cancels a batch carrying the others' writes.

Guarantees:

- A caller is told its write succeeded only once a transaction containing it committed
  (the bookkeeping is merged after that commit, as for any save).
- If a batch of several callers fails (a :class:`ConcurrentModificationError` because one
  trial is stale, or any other error), nothing of it is stored and each caller's save is run
  again on its own, so each gets its own precise result or error: the stale trial's caller
  gets the ``ConcurrentModificationError``, the others commit.
- Two callers saving the same trial in one batch are served by one write of that trial (the
  write stores the trial as it is when the batch is planned, which includes both changes).
- Cancellation: a caller cancelled *before its batch started* is taken out of the queue:
  nothing of its request is written. Cancelled *after* its batch started, it gets
  ``CancelledError`` at once while its write completes, written whole (or, if the batch
  fails, retried on its own like the others). One exception: when the event loop itself
  shuts down with a batch in flight (``asyncio.run`` returning while a cancelled caller's
  write is still running), the leader is cancelled with the loop and the transaction rolls
  back: nothing of the batch is stored, no caller was told success, and the next save of the
  experiment writes the change.
- Callers whose ``SQAConfig`` store trials differently are never mixed in one batch (grouped
  by ``SQAConfig.group_key()``: registries and enums; configs equal in those share batches,
  whether or not they are one object). Each group is written in its own transaction.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field

__all__ = ["TrialBatcher", "trial_batcher"]

Write = Callable[[list[int]], Awaitable[None]]


@dataclass(eq=False)
class _Request:
    indices: tuple[int, ...]
    write: Write  # saves the given trials in one transaction (with retries)
    group: Hashable  # requests of one group may share a transaction
    future: asyncio.Future[None]
    started: bool = False


@dataclass(eq=False)
class TrialBatcher:
    """Queues trial saves of one experiment object and writes them in shared transactions.

    Example:
        >>> async def demo(batcher: TrialBatcher, write: Write) -> None:
        ...     # Both requests usually end up in one transaction.
        ...     await asyncio.gather(batcher.submit([1], write), batcher.submit([2], write))
    """

    _queue: list[_Request] = field(default_factory=list)
    _leader: asyncio.Task[None] | None = None
    batches: int = 0  # transactions started for batches (for tests and benchmarks)

    async def submit(self, indices: Sequence[int], write: Write, group: Hashable = None) -> None:
        """Save these trials with ``write``, possibly in one transaction with others' trials.

        Returns once a transaction containing them committed; raises the error of this
        request's own save otherwise.
        """
        loop = asyncio.get_running_loop()
        request = _Request(tuple(indices), write, group, loop.create_future())
        self._queue.append(request)
        if self._leader is None:
            self._leader = loop.create_task(self._lead())
        try:
            await asyncio.shield(request.future)
        except asyncio.CancelledError:
            if not request.started:  # not in a batch yet: nothing of it gets written
                self._queue.remove(request)
                request.future.cancel()
            raise

    async def _lead(self) -> None:
        try:
            while self._queue:
                group = self._queue[0].group
                batch = [r for r in self._queue if r.group == group]
                self._queue = [r for r in self._queue if r.group != group]
                for request in batch:
                    request.started = True
                try:
                    await self._write(batch)
                except BaseException as err:
                    # The leader itself was cancelled (its loop is shutting down): fail the
                    # requests left rather than leave their callers waiting forever.
                    for request in batch + self._queue:
                        _settle(request, err)
                    self._queue.clear()
                    raise
        finally:
            self._leader = None

    async def _write(self, batch: list[_Request]) -> None:
        indices = sorted({i for r in batch for i in r.indices})
        self.batches += 1
        try:
            await batch[0].write(indices)
        except Exception as err:
            if len(batch) == 1:
                _settle(batch[0], err)
                return
            # Nothing of the batch is stored: run each request alone for its own outcome.
            self.batches += len(batch)
            outcomes = await asyncio.gather(
                *(r.write(list(r.indices)) for r in batch), return_exceptions=True
            )
            for request, outcome in zip(batch, outcomes, strict=True):
                _settle(request, outcome)
            return
        for request in batch:
            _settle(request, None)


def _settle(request: _Request, outcome: BaseException | None) -> None:
    future = request.future
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    elif isinstance(outcome, asyncio.CancelledError):
        future.cancel()  # the leader was cancelled (its loop is closing)
    else:
        future.set_exception(outcome)


# event loop -> owner (an experiment's bookkeeping) -> database key -> batcher.
_batchers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[object, dict[str, TrialBatcher]]
] = weakref.WeakKeyDictionary()


def trial_batcher(owner: object, database: str) -> TrialBatcher:
    """The batcher of ``owner`` (an experiment's bookkeeping) and ``database`` in this loop.

    Example:
        >>> # await trial_batcher(registration(exp), database_key()).submit([3], write)
    """
    loop = asyncio.get_running_loop()
    by_owner = _batchers.get(loop)
    if by_owner is None:
        by_owner = _batchers[loop] = weakref.WeakKeyDictionary()
    by_key = by_owner.setdefault(owner, {})
    batcher = by_key.get(database)
    if batcher is None:
        batcher = by_key[database] = TrialBatcher()
    return batcher
