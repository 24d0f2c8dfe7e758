"""Retrying transactions that failed for a transient reason, with bounded, jittered backoff.

Transient errors are the ones after which the same transaction, run again, can succeed:

- MySQL/MariaDB 1213 (deadlock, the transaction was rolled back), 1205 (lock wait timeout),
  2006 (server has gone away), 2013 (lost connection during query);
- PostgreSQL SQLSTATE 40P01 (deadlock detected), 40001 (serialization failure) and a
  connection closed under a query (asyncpg ``ConnectionDoesNotExistError``, SQLSTATE 08xxx);
- SQLite ``database is locked`` / ``busy`` (the 30 s busy timeout ran out).

The whole transaction is run again (it is rebuilt from the experiment and the bookkeeping of
the last commit, which a failed attempt never changes), never a single statement. A failure
*during the commit* whose outcome is unknown (the connection dropped while committing) is not
retried: the experiment is marked unsure and its next save resynchronises (see
:mod:`~aestore.storage.sqa_store.snapshot`).

The policy is process-wide::

    configure_retries(max_retries=5, base_delay=0.02, max_delay=1.0)

Attempt ``k`` (1-based) waits a random time in ``[0, min(max_delay, base_delay * 2**(k-1))]``
("full jitter"), so writers that collided don't collide again in lock step. When the retries
run out, a deadlock / lock wait / serialization failure surfaces as
:class:`~aestore.exceptions.ConcurrentModificationError`, a lost connection as
:class:`~aestore.exceptions.DatabaseConnectionError`, both ``from`` the driver's error.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aestore.exceptions import ConcurrentModificationError, DatabaseConnectionError

__all__ = [
    "RetryPolicy",
    "configure_retries",
    "get_retry_policy",
    "is_connection_loss",
    "is_transient",
    "retries_exhausted",
    "run_with_retries",
]

T = TypeVar("T")

MYSQL_CONFLICT_CODES = frozenset({1213, 1205})
MYSQL_CONNECTION_CODES = frozenset({2006, 2013})
PG_CONFLICT_STATES = frozenset({"40P01", "40001"})
_PG_CONNECTION_NAMES = frozenset({"ConnectionDoesNotExistError", "ConnectionFailureError"})
_SQLITE_BUSY = re.compile(r"database is locked|database table is locked|SQLITE_BUSY", re.I)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed transaction is run again.

    Example:
        >>> policy = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)
        >>> 0 <= policy.delay(10) <= 0.05
        True
    """

    max_retries: int = 5
    base_delay: float = 0.02
    max_delay: float = 1.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError(f"RetryPolicy values must be >= 0, got {self}.")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): full jitter."""
        cap = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return random.uniform(0.0, cap)


_policy = RetryPolicy()


def configure_retries(
    max_retries: int = 5, base_delay: float = 0.02, max_delay: float = 1.0
) -> RetryPolicy:
    """Set the SQL store's retry policy for transient errors (process-wide); returns it.

    ``max_retries=0`` turns retrying off.

    Example:
        >>> configure_retries(max_retries=8, base_delay=0.05, max_delay=2.0).max_retries
        8
        >>> _ = configure_retries()  # back to the defaults
    """
    global _policy
    _policy = RetryPolicy(max_retries, base_delay, max_delay)
    return _policy


def get_retry_policy() -> RetryPolicy:
    """The retry policy in force.

    Example:
        >>> get_retry_policy().max_retries >= 0
        True
    """
    return _policy


def _chain(err: BaseException) -> list[BaseException]:
    """``err``, the driver errors it wraps and their causes."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo and len(found) < 12:
        current = todo.pop()
        if current is None or any(current is f for f in found):
            continue
        found.append(current)
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
    return found


def _mysql_code(err: BaseException) -> int | None:
    args = getattr(err, "args", ())
    if args and isinstance(args[0], int) and type(err).__module__.startswith("pymysql"):
        return args[0]
    return None


def _sqlstate(err: BaseException) -> str | None:
    state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
    return state if isinstance(state, str) else None


def is_connection_loss(err: BaseException) -> bool:
    """Whether ``err`` says the connection dropped under a statement (MySQL 2006/2013, ...).

    Example:
        >>> import pymysql
        >>> is_connection_loss(pymysql.err.OperationalError(2013, "Lost connection"))
        True
    """
    for candidate in _chain(err):
        if _mysql_code(candidate) in MYSQL_CONNECTION_CODES:
            return True
        state = _sqlstate(candidate)
        if type(candidate).__name__ in _PG_CONNECTION_NAMES or (state or "").startswith("08"):
            return True
    return False


def _is_conflict(err: BaseException) -> bool:
    for candidate in _chain(err):
        if _mysql_code(candidate) in MYSQL_CONFLICT_CODES:
            return True
        if _sqlstate(candidate) in PG_CONFLICT_STATES:
            return True
        if type(candidate).__name__ == "OperationalError" and _SQLITE_BUSY.search(str(candidate)):
            return True
    return False


def is_transient(err: BaseException) -> bool:
    """Whether the transaction that raised ``err`` may succeed when run again.

    Example:
        >>> import pymysql
        >>> is_transient(pymysql.err.OperationalError(1213, "Deadlock found"))
        True
        >>> is_transient(ValueError("bad"))
        False
    """
    return _is_conflict(err) or is_connection_loss(err)


def retries_exhausted(
    err: BaseException, attempts: int, experiment_name: str | None, url_text: str = ""
) -> Exception:
    """The aestore error to raise (``from err``) when a transient error outlived its retries.

    Example:
        >>> import pymysql
        >>> e = retries_exhausted(pymysql.err.OperationalError(1213, "Deadlock"), 6, "exp")
        >>> type(e).__name__, e.experiment_name
        ('ConcurrentModificationError', 'exp')
    """
    if isinstance(err, DatabaseConnectionError):
        return err
    if is_connection_loss(err):
        return DatabaseConnectionError(
            f"Lost the connection to the database {url_text} in {attempts} attempts "
            f"({type(err).__name__}).".replace("  ", " ")
        )
    return ConcurrentModificationError(
        experiment_name,
        f"the transaction met a deadlock or lock timeout in each of {attempts} attempts "
        "(raise the retries with configure_retries()).",
    )


async def run_with_retries(
    transaction: Callable[[], Awaitable[T]],
    experiment_name: str | None = None,
    policy: RetryPolicy | None = None,
) -> T:
    """Await ``transaction()`` again after transient errors, with jittered backoff.

    ``transaction`` must run one whole transaction (its own session) and be safe to run again
    after a failure. Non-transient errors propagate at once.

    Example:
        >>> # names = await run_with_retries(lambda: read_names(), "my_experiment")
    """
    policy = policy or _policy
    attempt = 0
    while True:
        try:
            return await transaction()
        except Exception as err:
            if not is_transient(err):
                raise
            attempt += 1
            if attempt > policy.max_retries:
                raise retries_exhausted(err, attempt, experiment_name) from err
        await asyncio.sleep(policy.delay(attempt))
