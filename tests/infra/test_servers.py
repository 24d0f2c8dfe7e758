"""The database test servers and the ``db_url`` fixture behave as the test suite expects."""

import asyncio
import contextlib
import datetime as dt
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.asyncio import create_async_engine

from tests import servers

AT = dt.datetime(2024, 2, 29, 23, 59, 58, 123456)
TEXT = "🧪 ünïcode"

metadata = sa.MetaData()
samples = sa.Table(
    "samples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.String(50), nullable=False),
    # MariaDB's DATETIME drops the microseconds unless asked for 6 fractional digits.
    sa.Column("at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")),
)


@pytest.fixture(params=["mariadb", "postgresql"])
def server(request: pytest.FixtureRequest) -> servers.Server:
    return request.getfixturevalue(f"{request.param}_server")


async def test_roundtrip_4_byte_utf8_and_microseconds(db_url: str) -> None:
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(samples.insert().values(id=1, text=TEXT, at=AT))
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(samples.c.text, samples.c.at))).one()
    finally:
        await engine.dispose()
    assert tuple(row) == (TEXT, AT)


@pytest.mark.parametrize("round_", [1, 2])
async def test_each_test_starts_with_an_empty_database(db_url: str, round_: int) -> None:
    # Both rounds leave a table behind: whichever runs second fails if there was no reset.
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            assert await conn.run_sync(lambda c: sa.inspect(c).get_table_names()) == []
            await conn.execute(sa.text("CREATE TABLE leftover (x INTEGER)"))
            await conn.execute(sa.text("INSERT INTO leftover VALUES (1)"))
    finally:
        await engine.dispose()


async def test_server_listens_on_loopback_only(server: servers.Server) -> None:
    if server.external:
        pytest.skip("external server (AESTORE_TEST_*_URL): its address is not ours to choose")
    assert server.host == "127.0.0.1"
    assert sa.make_url(server.url).host == "127.0.0.1"
    query = "SELECT @@bind_address" if server.kind == "mariadb" else "SHOW listen_addresses"
    engine = create_async_engine(server.url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text(query))).scalar_one() == "127.0.0.1"
    finally:
        await engine.dispose()


async def test_server_checks_the_password(server: servers.Server) -> None:
    assert server.password and f":{server.password}@" in server.url
    if server.external:
        pytest.skip("external server (AESTORE_TEST_*_URL): may not check passwords")
    engine = create_async_engine(sa.make_url(server.url).set(password="wrong-password"))
    try:
        with pytest.raises(sa.exc.DBAPIError):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()


async def test_reset_closes_connections_left_open(server: servers.Server) -> None:
    """A connection leaked by a test, still holding locks, must not block the next reset."""
    await asyncio.to_thread(server.reset_database)
    engine = create_async_engine(server.url)
    conn = await engine.connect()
    try:
        await conn.execute(sa.text("CREATE TABLE locked (x INTEGER)"))
        await conn.commit()
        await conn.execute(sa.text("INSERT INTO locked VALUES (1)"))  # open transaction
        started = time.monotonic()
        await asyncio.wait_for(asyncio.to_thread(server.reset_database), timeout=30)
        assert time.monotonic() - started < 5
        with pytest.raises(sa.exc.DBAPIError):
            await conn.execute(sa.text("SELECT 1"))  # the reset closed it
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
        await engine.dispose()


def test_external_server_from_url() -> None:
    url = "postgresql+asyncpg://someone:p%40ss@db.example:6543/my_test"
    server = servers.external_server("postgresql", url)
    assert (server.host, server.port, server.user, server.password, server.database) == (
        "db.example",
        6543,
        "someone",
        "p@ss",
        "my_test",
    )
    assert server.external and server.url == url
    server.stop()  # never stops an external server: nothing to do, no error


@pytest.mark.parametrize(
    ("kind", "url", "problem"),
    [
        ("mariadb", "mysql+aiomysql://u:p@h/production", "must contain 'test'"),
        ("mariadb", "mysql+pymysql://u:p@h/x_test", "expected one of"),
        ("postgresql", "postgresql://u:p@h/x_test", "expected one of"),
    ],
    ids=["production-database", "sync-mysql-driver", "sync-postgresql-driver"],
)
def test_external_server_rejects_unsuitable_urls(kind: str, url: str, problem: str) -> None:
    with pytest.raises(servers.ServerError, match=problem):
        servers.external_server(kind, url)
