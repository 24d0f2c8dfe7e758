"""Helpers of the SQL store tests: counting the statements a save or load runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from aestore.storage.sqa_store import db


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """Collect the SQL statements run on the current engine (executemany counts once)."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def writes(statements: list[str]) -> list[str]:
    """The statements that change data."""
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [s for s in statements if s.lstrip().upper().startswith(verbs)]


def tables_written(statements: list[str]) -> list[tuple[str, str]]:
    """(verb, table) of every write, in order."""
    out = []
    for statement in writes(statements):
        words = statement.replace("(", " ").split()
        verb = words[0].upper()
        table = words[2] if verb in ("INSERT", "DELETE") else words[1]
        out.append((verb, table.strip('`"')))
    return out


@contextmanager
def failing_statement(table: str, verb: str = "INSERT") -> Iterator[None]:
    """Make the first ``verb`` statement on ``table`` raise ``RuntimeError("injected ...")``."""

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(verb) and table in statement:
            raise RuntimeError(f"injected failure on {verb} {table}")

    engine = db.get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def failing_commit() -> Iterator[None]:
    """Make every commit raise before it reaches the database (its outcome looks unknown)."""

    def on_commit(conn: Any) -> None:
        raise RuntimeError("injected commit failure")

    engine = db.get_engine().sync_engine
    event.listen(engine, "commit", on_commit)
    try:
        yield
    finally:
        event.remove(engine, "commit", on_commit)
