"""Engine set-up, tables, sessions, and the engine's life across event loops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import inspect, text

from aestore.exceptions import EngineNotInitializedError, SQAConfigError
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.sqa_classes import SQABase

TABLES = sorted(SQABase.metadata.tables)


@pytest.fixture
async def engine_url(db_url: str) -> AsyncIterator[str]:
    db.init_engine_and_session_factory(url=db_url, force_init=True)
    yield db_url
    await db.dispose_engine()


async def _table_names() -> list[str]:
    async with db.get_engine().connect() as conn:
        return sorted(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_create_all_tables_creates_every_table(engine_url: str) -> None:
    await db.create_all_tables()
    assert set(TABLES) <= set(await _table_names())


async def test_create_all_tables_is_idempotent(engine_url: str) -> None:
    await db.create_all_tables()
    await db.create_all_tables()
    assert set(TABLES) <= set(await _table_names())


async def test_session_scope_commits_on_success(engine_url: str) -> None:
    await db.create_all_tables()
    async with db.session_scope() as session:
        await session.execute(
            text(
                "INSERT INTO ae_experiments (name, instance_token, version, is_test, time_created)"
                " VALUES ('a', 't', 1, false, '2026-01-01 00:00:00')"
            )
        )
    async with db.session_scope() as session:
        count = (await session.execute(text("SELECT COUNT(*) FROM ae_experiments"))).scalar()
    assert count == 1


async def test_session_scope_rolls_back_on_error(engine_url: str) -> None:
    await db.create_all_tables()
    with pytest.raises(RuntimeError, match="boom"):
        async with db.session_scope() as session:
            await session.execute(
                text(
                    "INSERT INTO ae_experiments (name, instance_token, version, is_test, "
                    "time_created) VALUES ('a', 't', 1, false, '2026-01-01 00:00:00')"
                )
            )
            raise RuntimeError("boom")
    async with db.session_scope() as session:
        count = (await session.execute(text("SELECT COUNT(*) FROM ae_experiments"))).scalar()
    assert count == 0


async def test_get_engine_before_init_raises() -> None:
    await db.dispose_engine()
    with pytest.raises(EngineNotInitializedError, match="init_engine_and_session_factory"):
        db.get_engine()


def test_creator_alone_defaults_to_mysql() -> None:
    async def creator() -> None:  # never called: connections are lazy
        raise AssertionError

    db.init_engine_and_session_factory(creator=creator, force_init=True)
    try:
        assert db.get_engine().dialect.name == "mysql"
    finally:
        asyncio.run(db.dispose_engine())


def test_creator_with_dialect_uses_that_dialect() -> None:
    async def creator() -> None:
        raise AssertionError

    db.init_engine_and_session_factory(
        creator=creator, dialect="postgresql+asyncpg", force_init=True
    )
    try:
        assert db.get_engine().dialect.name == "postgresql"
    finally:
        asyncio.run(db.dispose_engine())


def test_default_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(db.DATABASE_URL_ENV, f"sqlite+aiosqlite:///{tmp_path}/env.db")
    db.init_engine_and_session_factory(force_init=True)
    try:
        assert db.get_engine().url.database == f"{tmp_path}/env.db"
    finally:
        asyncio.run(db.dispose_engine())


def test_default_url_is_sqlite_file_in_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.delenv(db.DATABASE_URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    db.init_engine_and_session_factory(force_init=True)
    try:
        assert db.get_engine().url.database == str(tmp_path / db.DEFAULT_SQLITE_FILE)
    finally:
        asyncio.run(db.dispose_engine())


def test_mysql_engine_gets_pre_ping_recycle_and_utf8mb4() -> None:
    db.init_engine_and_session_factory(url="mysql+aiomysql://u:pw@localhost/x", force_init=True)
    try:
        engine = db.get_engine()
        assert (
            engine.sync_engine.pool._pre_ping,
            engine.sync_engine.pool._recycle,
            engine.url.query["charset"],
        ) == (True, db.MYSQL_POOL_RECYCLE_SECONDS, "utf8mb4")
    finally:
        asyncio.run(db.dispose_engine())


async def test_sqlite_connections_enforce_foreign_keys(tmp_path) -> None:
    db.init_engine_and_session_factory(url=f"sqlite+aiosqlite:///{tmp_path}/fk.db", force_init=True)
    try:
        async with db.get_engine().connect() as conn:
            values = [
                (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("foreign_keys", "busy_timeout", "journal_mode")
            ]
        assert values == [1, db.SQLITE_BUSY_TIMEOUT_MS, "wal"]
    finally:
        await db.dispose_engine()


def test_invalid_url_is_a_config_error() -> None:
    with pytest.raises(SQAConfigError, match="valid database URL"):
        db.init_engine_and_session_factory(url="not a url", force_init=True)


def test_engine_works_across_event_loops(db_url: str) -> None:
    db.init_engine_and_session_factory(url=db_url, force_init=True)

    async def create_and_count() -> int:
        await db.create_all_tables()
        async with db.session_scope() as session:
            return int(
                (await session.execute(text("SELECT COUNT(*) FROM ae_trials"))).scalar() or 0
            )

    try:
        assert [asyncio.run(create_and_count()) for _ in range(3)] == [0, 0, 0]
    finally:
        asyncio.run(db.dispose_engine())
