"""Deleting experiments (every row of the experiment goes, through cascading foreign keys)."""

from __future__ import annotations

from sqlalchemy import delete, select

from aestore.exceptions import ExperimentNotFoundError
from aestore.storage.sqa_store.db import database_key, session_scope
from aestore.storage.sqa_store.retry import run_with_retries
from aestore.storage.sqa_store.save_plan import EXPERIMENTS
from aestore.storage.sqa_store.snapshot import forget_stored_experiment

__all__ = ["delete_experiment"]


async def delete_experiment(experiment_name: str) -> None:
    """Delete a stored experiment and everything it holds.

    Raises :class:`ExperimentNotFoundError` when no experiment has that name. Objects of the
    deleted experiment still in memory are stored whole again by their next save.

    Example:
        >>> # await delete_experiment("old_experiment")
    """
    key = database_key()
    found: list[int] = []  # the id an earlier attempt found (and may have deleted)

    async def delete_rows() -> int:
        async with session_scope() as session:
            eid = (
                await session.execute(
                    select(EXPERIMENTS.c.id).where(EXPERIMENTS.c.name == experiment_name)
                )
            ).scalar_one_or_none()
            if eid is None:
                if found:
                    # An earlier attempt's commit landed before its connection dropped: the
                    # experiment is gone, as asked.
                    return found[-1]
                raise ExperimentNotFoundError(experiment_name)
            found.append(int(eid))
            await session.execute(delete(EXPERIMENTS).where(EXPERIMENTS.c.id == eid))
            return int(eid)

    # Run again after a deadlock or a dropped connection.
    eid = await run_with_retries(delete_rows, experiment_name)
    forget_stored_experiment(key, eid)
