"""Bad engine inputs fail as SQAConfigError; secrets in a URL's query string stay hidden."""

from __future__ import annotations

import socket
import sqlite3
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy.engine import make_url

from aestore.exceptions import DatabaseConnectionError, SQAConfigError
from aestore.samples import make_experiment
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store.db_errors import safe_url, scrub
from aestore.storage.sqa_store.load import list_experiments, load_experiment
from aestore.storage.sqa_store.save import save_experiment
from tests.servers import PASSWORD, Server

SECRET = "s3cr3t-Value"


@pytest.fixture(autouse=True)
async def forget_engine() -> AsyncIterator[None]:
    yield
    await db.dispose_engine()


# --------------------------------------------------------------------------- creator


async def test_synchronous_creator_is_a_config_error_not_a_type_error(tmp_path: Path) -> None:
    opened: list[sqlite3.Connection] = []

    def creator() -> sqlite3.Connection:
        opened.append(sqlite3.connect(tmp_path / "x.db"))
        return opened[-1]

    db.init_engine_and_session_factory(
        creator=creator,  # type: ignore[arg-type]
        dialect="sqlite+aiosqlite",
        force_init=True,
    )
    with pytest.raises(SQAConfigError, match=r"async connection factory.*sqlite3\.Connection"):
        await db.create_all_tables()
    with pytest.raises(sqlite3.ProgrammingError):  # the stray connection was closed
        opened[0].execute("SELECT 1")


def test_creator_that_is_not_callable_is_rejected_at_once() -> None:
    with pytest.raises(SQAConfigError, match="async connection factory"):
        db.init_engine_and_session_factory(
            creator="sqlite:///x.db",  # type: ignore[arg-type]
            dialect="sqlite+aiosqlite",
            force_init=True,
        )


@pytest.mark.parametrize("kind", ["async def", "lambda returning an awaitable"])
async def test_async_creators_work(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x.db"

    async def async_creator() -> Any:
        return await aiosqlite.connect(path)

    creator = async_creator if kind == "async def" else (lambda: aiosqlite.connect(path))
    db.init_engine_and_session_factory(creator=creator, dialect="sqlite+aiosqlite", force_init=True)
    await db.create_all_tables()
    await save_experiment(make_experiment(num_trials=2))
    assert len((await load_experiment("demo_experiment")).trials) == 2


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        (f"mysql+pymysql://u:{SECRET}@127.0.0.1/db", "async driver"),
        (f"postgresql+psycopg2://u:{SECRET}@127.0.0.1/db", "async driver"),
        ("sqlite:///x.db", "async driver"),
        (f"mysql+nodriver://u:{SECRET}@127.0.0.1/db?password={SECRET}", "async driver"),
        (f"http://u:{SECRET}@x/?token={SECRET}", "async driver"),
    ],
)
def test_url_without_a_usable_async_driver_is_a_config_error(url: str, hint: str) -> None:
    with pytest.raises(SQAConfigError, match=hint) as info:
        db.init_engine_and_session_factory(url=url, force_init=True)
    assert isinstance(info.value, ValueError)
    assert SECRET not in _everything_shown(info.value)


def test_invalid_engine_argument_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(SQAConfigError, match="not_an_option"):
        db.init_engine_and_session_factory(
            url=f"sqlite+aiosqlite:///{tmp_path}/x.db", force_init=True, not_an_option=1
        )


@pytest.mark.parametrize("key", ["password", "PASSWORD", "passwd", "pwd", "secret", "token"])
def test_password_like_query_values_are_masked(key: str) -> None:
    url = make_url(f"postgresql+asyncpg://u:pw@127.0.0.1:1/db?{key}={SECRET}&ssl=disable")
    shown = safe_url(url)
    assert SECRET not in shown and "pw" not in shown.split("@")[0]
    assert f"{key}=***" in shown and "ssl=disable" in shown
    assert scrub(f"error: {SECRET} / {url.render_as_string(False)}", url).count(SECRET) == 0
    db.init_engine_and_session_factory(url=url, force_init=True)
    assert SECRET not in db.database_key()


# --------------------------------------------------------------------------- real servers


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _causes(err: BaseException) -> Iterator[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        yield current
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])


def _everything_shown(err: BaseException) -> str:
    parts = ["".join(traceback.format_exception(err))]
    for cause in _causes(err):
        parts.extend([str(cause), repr(cause), repr(cause.args)])
    return "\n".join(parts)


def _query_password_url(server: Server, port: int | None = None) -> str:
    url = make_url(server.url).set(password=None)
    if port is not None:
        url = url.set(port=port)
    return url.render_as_string(hide_password=False) + (
        f"{'&' if url.query else '?'}password={PASSWORD}"
    )


@pytest.fixture(params=["mariadb", "postgresql"])
def server(request: pytest.FixtureRequest) -> Server:
    server: Server = request.getfixturevalue(f"{request.param}_server")
    server.reset_database()
    return server


async def test_password_in_the_query_string_connects(server: Server) -> None:
    db.init_engine_and_session_factory(url=_query_password_url(server), force_init=True)
    assert PASSWORD not in db.database_key()
    await db.create_all_tables()
    assert await list_experiments() == []


@pytest.mark.parametrize("failure", ["wrong_port", "wrong_password"])
async def test_password_in_the_query_string_never_shows_in_errors(
    server: Server, failure: str
) -> None:
    if failure == "wrong_port":
        url = _query_password_url(server, port=_closed_port())
        secret = PASSWORD
    else:
        url = _query_password_url(server).replace(PASSWORD, f"{PASSWORD}-wrong")
        secret = f"{PASSWORD}-wrong"
    db.init_engine_and_session_factory(url=url, force_init=True)
    with pytest.raises(DatabaseConnectionError) as info:
        await list_experiments()
    shown = _everything_shown(info.value) + db.database_key() + repr(db.get_engine())
    assert PASSWORD not in shown and secret not in shown
    assert "password=***" in str(info.value)
