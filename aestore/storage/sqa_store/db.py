"""The engine and session factory: ``init_engine_and_session_factory`` and friends.

One call configures the store; engines are then made lazily, one per running event loop. An
async driver's pooled connections belong to the loop that opened them, so an engine used from
a second loop (a script with several ``asyncio.run`` calls, a test suite with a loop per test)
would fail with "attached to a different loop": instead each loop gets its own engine, built
from the same settings. Its pooled connections are closed just before that loop closes (its
``close`` is wrapped), and engines of loops that have closed are dropped.

Dialect defaults: MySQL/MariaDB engines get ``pool_pre_ping`` and ``pool_recycle`` of 1800s
(below MySQL's default ``wait_timeout`` of 28800s and most hosted providers' 3600s) and
``charset=utf8mb4``; SQLite connections turn on foreign keys (the cascades rely on them), a
30s busy timeout and WAL journaling.

Bad inputs fail as :class:`~aestore.exceptions.SQAConfigError`, never as a raw SQLAlchemy
error: a URL whose dialect or driver can't be loaded or isn't async (``mysql+pymysql``),
invalid engine arguments, a ``creator`` that isn't callable or whose result can't be awaited
(a synchronous connection factory; it fails on first connect). URLs in messages and in
:func:`database_key` never show a password, nor password-like query values (``?password=``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from aestore.exceptions import EngineNotInitializedError, SQAConfigError
from aestore.storage.sqa_store.db_errors import safe_url, scrub, secrets_of, translate_db_errors
from aestore.storage.sqa_store.sqa_classes import SQABase

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_SQLITE_FILE",
    "connection_scope",
    "create_all_tables",
    "dispose_engine",
    "get_engine",
    "get_session_factory",
    "init_engine_and_session_factory",
    "session_scope",
]

DATABASE_URL_ENV = "AESTORE_DATABASE_URL"
DEFAULT_SQLITE_FILE = "aestore.db"
MYSQL_POOL_RECYCLE_SECONDS = 1800
SQLITE_BUSY_TIMEOUT_MS = 30_000
ASYNC_DRIVERS_HINT = (
    "use an async driver: mysql+aiomysql://, postgresql+asyncpg://, sqlite+aiosqlite:///"
)
CREATOR_HINT = (
    "creator must be an async connection factory, e.g. "
    "`async def creator(): return await aiomysql.connect(...)`"
)


class _Settings:
    """How to build an engine; engines per event loop."""

    def __init__(
        self,
        url: URL,
        creator: Callable[[], Awaitable[Any]] | None,
        echo: bool,
        engine_kwargs: dict[str, Any],
    ) -> None:
        self.url = url
        self.creator = creator
        self.echo = echo
        self.engine_kwargs = engine_kwargs
        self.by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[AsyncEngine, async_sessionmaker[AsyncSession]]
        ] = weakref.WeakKeyDictionary()
        self.unclaimed: tuple[AsyncEngine, async_sessionmaker[AsyncSession]] | None = None
        # database_key(), computed once: every save looks it up (rendering costs ~15 us).
        self.key = safe_url(url)
        if creator is not None:
            self.key += f"#creator={id(creator)}"

    def same_as(self, other: _Settings) -> bool:
        return (
            self.url == other.url
            and self.creator is other.creator
            and self.echo == other.echo
            and self.engine_kwargs == other.engine_kwargs
        )

    def build(self) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
        kwargs = dict(self.engine_kwargs)
        backend = self.url.get_backend_name()
        if backend in ("mysql", "mariadb"):
            kwargs.setdefault("pool_pre_ping", True)
            kwargs.setdefault("pool_recycle", MYSQL_POOL_RECYCLE_SECONDS)
        if self.creator is not None:
            kwargs["async_creator"] = _async_creator(self.creator)
        try:
            engine = create_async_engine(self.url, echo=self.echo, **kwargs)
        except (sa_exc.ArgumentError, sa_exc.InvalidRequestError, ImportError, TypeError) as err:
            raise _engine_config_error(err, self.url) from (None if _leaks(err, self.url) else err)
        if backend == "sqlite":
            in_memory = self.url.database in (None, "", ":memory:")
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas(in_memory))
        factory = async_sessionmaker(engine, expire_on_commit=False)
        return engine, factory

    def for_current_loop(self) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        # Threads that each run their own event loop share these settings: the lookup, the
        # hand-over of the unclaimed engine and the clean-up of dead loops happen under a lock.
        with _SETTINGS_LOCK:
            if loop is None:
                if self.unclaimed is None:
                    self.unclaimed = self.build()
                return self.unclaimed
            found = self.by_loop.get(loop)
            if found is None:
                self._drop_closed_loops()
                if self.unclaimed is not None:
                    found, self.unclaimed = self.unclaimed, None
                else:
                    found = self.build()
                self.by_loop[loop] = found
                _dispose_when_closed(loop, found[0])
            return found

    def _drop_closed_loops(self) -> None:
        for loop in [lp for lp in list(self.by_loop) if lp.is_closed()]:
            entry = self.by_loop.pop(loop, None)
            if entry is not None:
                # The pooled connections belong to the dead loop: forget them, don't close them.
                entry[0].sync_engine.dispose(close=False)


_settings: _Settings | None = None
_SETTINGS_LOCK = threading.RLock()


def _dispose_when_closed(loop: asyncio.AbstractEventLoop, engine: AsyncEngine) -> None:
    """Close ``engine``'s pooled connections in ``loop`` just before the loop closes.

    ``asyncio.run`` stops its loop and then calls ``loop.close()``; a connection still pooled
    then would be garbage-collected later, outside any loop, and its driver would complain
    ("Event loop is closed"). Wrapping this loop's ``close`` lets the pool close cleanly.
    """
    original = loop.close

    def close() -> None:
        if not loop.is_closed() and not loop.is_running():
            # Best effort: the loop is going away whatever happens here.
            with contextlib.suppress(Exception):
                loop.run_until_complete(engine.dispose())
        original()

    with contextlib.suppress(AttributeError):  # a loop that forbids it: GC cleans up
        loop.close = close  # type: ignore[method-assign]


def _leaks(err: BaseException, url: URL) -> bool:
    """Whether ``err``'s text shows one of the URL's secrets (then it is not chained)."""
    return any(secret in f"{err} {err!r}" for secret in secrets_of(url))


def _engine_config_error(err: BaseException, url: URL) -> SQAConfigError:
    driver_problem = isinstance(err, (sa_exc.NoSuchModuleError, ImportError)) or (
        isinstance(err, sa_exc.InvalidRequestError) and "async" in str(err)
    )
    hint = f" ({ASYNC_DRIVERS_HINT})" if driver_problem else ""
    return SQAConfigError(
        scrub(f"Cannot make an engine for {safe_url(url)}: {type(err).__name__}: {err}", url) + hint
    )


def _is_async_function(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with an ``async def __call__``
    )


def _async_creator(creator: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """``creator``, or, if it isn't an ``async def``, a wrapper checking what it returns.

    A plain function returning an awaitable (``lambda: aiomysql.connect(...)``) is fine; one
    returning a connection (``lambda: sqlite3.connect(...)``) gets :class:`SQAConfigError`
    (and its connection closed) instead of "can't be used in 'await' expression".
    """
    if _is_async_function(creator):
        return creator

    async def checked() -> Any:
        made: Any = creator()
        if inspect.isawaitable(made):
            return await made
        with contextlib.suppress(Exception):
            made.close()
        raise SQAConfigError(
            f"{CREATOR_HINT}; it returned a {type(made).__module__}.{type(made).__qualname__}, "
            "not an awaitable."
        )

    return checked


def _sqlite_pragmas(in_memory: bool) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    return on_connect


def _resolve_url(
    url: str | URL | None, creator: Callable[[], Awaitable[Any]] | None, dialect: str | None
) -> URL:
    if url is None and creator is not None:
        url = f"{dialect or 'mysql+aiomysql'}://"
    elif url is None:
        url = os.environ.get(DATABASE_URL_ENV) or (
            f"sqlite+aiosqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
        )
    try:
        parsed = make_url(url)
    except Exception as err:
        # The text may hold a password: don't echo it.
        raise SQAConfigError(
            "Not a valid database URL; expected dialect+driver://user:password@host:port/db "
            "(e.g. mysql+aiomysql://..., sqlite+aiosqlite:///path.db)."
        ) from None if "@" in str(url) else err
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def init_engine_and_session_factory(
    url: str | URL | None = None,
    creator: Callable[[], Awaitable[Any]] | None = None,
    echo: bool = False,
    force_init: bool = False,
    dialect: str | None = None,
    **engine_kwargs: Any,
) -> None:
    """Configure the SQL store's engine; connections are opened lazily, on first use.

    ``url`` is an SQLAlchemy async URL. ``creator`` is an async connection factory (used as
    SQLAlchemy's ``async_creator``); with only a creator, the dialect is MySQL via aiomysql
    unless ``dialect`` (``"postgresql+asyncpg"``, ``"sqlite+aiosqlite"``) says otherwise. With
    neither, ``$AESTORE_DATABASE_URL``, else the SQLite file ``aestore.db`` in the working
    directory. Calling it again with the same arguments does nothing; with other arguments
    (or ``force_init=True``) it replaces the engine.

    Example:
        >>> init_engine_and_session_factory(url="sqlite+aiosqlite:///:memory:")
        >>> get_engine().dialect.name
        'sqlite'
    """
    global _settings
    if creator is not None and not callable(creator):
        raise SQAConfigError(f"{CREATOR_HINT}; got a {type(creator).__name__}.")
    new = _Settings(_resolve_url(url, creator, dialect), creator, echo, engine_kwargs)
    if _settings is not None and not force_init and _settings.same_as(new):
        return
    new.unclaimed = new.build()  # builds now (fails now on bad arguments), connects later
    old, _settings = _settings, new
    if old is not None:
        _forget(old)


_closing: set[asyncio.Future[Any]] = set()  # dispose() tasks of replaced engines


def _forget(settings: _Settings) -> None:
    """Drop a replaced configuration's engines, closing their connections where possible."""
    for loop, (engine, _) in list(settings.by_loop.items()):
        if loop.is_closed():
            engine.sync_engine.dispose(close=False)
        elif loop.is_running():
            # Close them in the loop that owns them (init is sync: schedule, don't wait).
            future = asyncio.run_coroutine_threadsafe(engine.dispose(), loop)
            wrapped = asyncio.wrap_future(future, loop=loop) if _on_loop(loop) else None
            if wrapped is not None:
                _closing.add(wrapped)
                wrapped.add_done_callback(_closing.discard)
        else:
            with contextlib.suppress(Exception):
                loop.run_until_complete(engine.dispose())
    if settings.unclaimed is not None:
        settings.unclaimed[0].sync_engine.dispose(close=False)  # never connected
    settings.by_loop.clear()
    settings.unclaimed = None


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _require() -> _Settings:
    if _settings is None:
        raise EngineNotInitializedError()
    return _settings


def get_engine() -> AsyncEngine:
    """The engine for the running event loop (built on first use in that loop).

    Example:
        >>> init_engine_and_session_factory(url="sqlite+aiosqlite:///:memory:")
        >>> type(get_engine()).__name__
        'AsyncEngine'
    """
    return _require().for_current_loop()[0]


def get_session_factory() -> async_sessionmaker[AsyncSession]:
    """The ``async_sessionmaker(expire_on_commit=False)`` of the running loop's engine.

    Example:
        >>> # async with get_session_factory()() as session: ...
    """
    return _require().for_current_loop()[1]


def database_key() -> str:
    """Identifies the configured database (its URL, password masked): keys bookkeeping.

    Example:
        >>> init_engine_and_session_factory(url="sqlite+aiosqlite:///x.db")
        >>> database_key()
        'sqlite+aiosqlite:///x.db'
    """
    return _require().key


async def _shielded(awaitable: Awaitable[Any]) -> None:
    """Await cleanup even if the task is cancelled again meanwhile."""
    task = asyncio.ensure_future(awaitable)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    """A session that commits on success, rolls back on error and always closes.

    Driver errors inside are translated (missing tables, unreachable database).

    Example:
        >>> # async with session_scope() as session:
        >>> #     await session.execute(select(SQAExperiment.name))
    """
    settings = _require()
    _engine, factory = settings.for_current_loop()
    session = factory()
    try:
        with translate_db_errors(settings.url):
            yield session
            await session.commit()
    except BaseException:
        await _shielded(session.rollback())
        raise
    finally:
        await _shielded(session.close())


@asynccontextmanager
async def connection_scope() -> AsyncIterator[AsyncConnection]:
    """A Core connection in a transaction: commits on success, rolls back on error, closes.

    Saves use it instead of :func:`session_scope`: they run Core statements only, and the ORM
    session's own bookkeeping costs ~0.1 ms per transaction. Driver errors are translated.

    Example:
        >>> # async with connection_scope() as conn:
        >>> #     await conn.execute(update(TRIALS).where(...).values(...))
    """
    settings = _require()
    engine, _factory = settings.for_current_loop()
    conn = engine.connect()
    try:
        with translate_db_errors(settings.url):
            await conn.start()
            yield conn
            await conn.commit()
    except BaseException:
        if conn.sync_connection is not None:
            await _shielded(conn.rollback())
        raise
    finally:
        if conn.sync_connection is not None:
            await _shielded(conn.close())


async def create_all_tables() -> None:
    """Create aestore's tables where missing (safe to run again).

    Example:
        >>> # await create_all_tables()
    """
    settings = _require()
    engine = get_engine()
    with translate_db_errors(settings.url):
        async with engine.begin() as conn:
            await conn.run_sync(SQABase.metadata.create_all)


async def dispose_engine() -> None:
    """Close the engine's connections and forget the configuration.

    Example:
        >>> # await dispose_engine()
    """
    global _settings
    settings, _settings = _settings, None
    if settings is None:
        return
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    mine = settings.by_loop.pop(loop) if loop is not None and loop in settings.by_loop else None
    _forget(settings)
    if mine is not None:
        await mine[0].dispose()
