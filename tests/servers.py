"""Throwaway MariaDB and PostgreSQL servers for the test suite.

``start_mariadb()`` / ``start_postgresql()`` create a temporary data directory, start a
private server on 127.0.0.1 on a free port, create the database ``aestore_test`` owned by
the user ``aestore`` (password ``s3cret-pw``) and return a :class:`Server`. ``stop()``
stops the server and deletes the data directory.

If ``AESTORE_TEST_MARIADB_URL`` / ``AESTORE_TEST_POSTGRESQL_URL`` is set, that already
running server is used instead (nothing is started or stopped). Its user must be allowed
to drop and create the URL's database, whose name must contain "test".

The data is thrown away, so durability is switched off for speed. Server output goes to
``server.log`` in the data directory; a server that doesn't come up raises
:class:`ServerError` with the end of that log.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiomysql
import asyncpg
from sqlalchemy.engine import make_url

HOST = "127.0.0.1"
USER = "aestore"
PASSWORD = "s3cret-pw"
DATABASE = "aestore_test"
STARTUP_TIMEOUT = 60.0  # seconds; CI machines can be slow
TMP_PREFIX = "aestore-test-"

T = TypeVar("T")
_libc = ctypes.CDLL(None) if sys.platform == "linux" else None

ENV_URLS = {"mariadb": "AESTORE_TEST_MARIADB_URL", "postgresql": "AESTORE_TEST_POSTGRESQL_URL"}


class ServerError(RuntimeError):
    """A test server could not be found, started or reached."""


@dataclass
class Server:
    kind: str  # "mariadb" or "postgresql"
    host: str
    port: int
    user: str
    password: str
    database: str
    url: str  # SQLAlchemy async URL
    external: bool = False  # reused via AESTORE_TEST_*_URL: never stopped by us
    startup_seconds: float = 0.0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _tmpdir: Path | None = field(default=None, repr=False)

    def reset_database(self) -> None:
        """Drop and recreate the test database, closing connections left open in it."""
        reset = _reset_mariadb if self.kind == "mariadb" else _reset_postgresql
        _run_async(reset(self))

    def stop(self) -> None:
        """Stop the server and delete its data directory (idempotent; no-op if external)."""
        if self._process is not None:
            _terminate(self._process, signal.SIGTERM if self.kind == "mariadb" else signal.SIGINT)
            self._process = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- public API


def start_mariadb(extra_args: Sequence[str] = (), data_root: str | None = None) -> Server:
    """A throwaway MariaDB server, tuned for test speed (commits don't fsync).

    ``extra_args`` are appended to the server's command line and win over the defaults, e.g.
    ``["--innodb-flush-log-at-trx-commit=1", "--innodb-doublewrite=1"]`` for production
    durability (the concurrency benchmark's ``--durable``). ``data_root``: the folder for
    its data directory instead of /dev/shm (in RAM, where fsync costs nothing) -- a disk
    folder, for durability to cost what it costs.
    """
    if os.environ.get(ENV_URLS["mariadb"]):
        return external_server("mariadb", os.environ[ENV_URLS["mariadb"]])
    mariadbd = _find_binary("mariadbd")
    install_db = _find_binary("mariadb-install-db")
    started = time.monotonic()
    tmpdir = _make_tmpdir("mariadb", data_root)
    try:
        datadir, socket_path, log = tmpdir / "data", tmpdir / "mysqld.sock", tmpdir / "server.log"
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        innodb = ["--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M"]
        _check_call(
            [
                install_db,
                "--no-defaults",
                f"--datadir={datadir}",
                *as_root,
                *innodb,
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            log,
        )

        def command(port: int) -> list[str]:
            return [
                mariadbd,
                "--no-defaults",
                f"--datadir={datadir}",
                f"--socket={socket_path}",
                f"--pid-file={tmpdir / 'mysqld.pid'}",
                f"--port={port}",
                f"--bind-address={HOST}",
                "--skip-networking=0",
                "--skip-name-resolve",
                *as_root,
                *innodb,
                "--skip-log-bin",
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-doublewrite=0",
                "--max-connections=300",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                *extra_args,
            ]

        async def bootstrap(port: int) -> None:
            # root@localhost has no password; reachable through the unix socket only.
            conn = await aiomysql.connect(
                unix_socket=str(socket_path), user="root", connect_timeout=2, autocommit=True
            )
            try:
                async with conn.cursor() as cur:
                    await cur.execute(f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
                    # Full rights on aestore_test and on aestore_test* (for extra test dbs).
                    await cur.execute(
                        f"GRANT ALL PRIVILEGES ON `aestore\\_test%`.* TO '{USER}'@'%'"
                    )
                    await cur.execute(f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4")
            finally:
                await conn.ensure_closed()  # sends COM_QUIT: no "aborted connection" noise

        process, port = _launch(command, bootstrap, log)
        url = f"mysql+aiomysql://{USER}:{PASSWORD}@{HOST}:{port}/{DATABASE}?charset=utf8mb4"
        return _owned_server("mariadb", port, url, process, tmpdir, started)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise


def start_postgresql() -> Server:
    if os.environ.get(ENV_URLS["postgresql"]):
        return external_server("postgresql", os.environ[ENV_URLS["postgresql"]])
    bindir = _postgresql_bindir()
    started = time.monotonic()
    tmpdir = _make_tmpdir("postgresql")
    try:
        datadir, log = tmpdir / "data", tmpdir / "server.log"
        # PostgreSQL refuses to run as root: run it as the "postgres" system user.
        run_as = _unprivileged_user()
        if run_as is not None:
            shutil.chown(tmpdir, user=run_as.pw_uid, group=run_as.pw_gid)
        _check_call(
            [
                str(bindir / "initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
                "--no-instructions",
            ],
            log,
            user=run_as,
        )

        def command(port: int) -> list[str]:
            settings = {
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "max_connections": "300",
                "shared_buffers": "64MB",
            }
            return [
                str(bindir / "postgres"),
                "-D",
                str(datadir),
                "-k",
                str(tmpdir),
                "-h",
                HOST,
                "-p",
                str(port),
                *(arg for k, v in settings.items() for arg in ("-c", f"{k}={v}")),
            ]

        async def bootstrap(port: int) -> None:
            # Unix socket connections are trusted; TCP ones need a password (scram-sha-256).
            conn = await asyncpg.connect(
                host=str(tmpdir), port=port, user="postgres", database="postgres", timeout=2
            )
            try:
                await conn.execute(f"CREATE ROLE {USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'")
                await conn.execute(f"CREATE DATABASE {DATABASE} OWNER {USER}")
            finally:
                await conn.close()

        process, port = _launch(command, bootstrap, log, user=run_as)
        url = f"postgresql+asyncpg://{USER}:{PASSWORD}@{HOST}:{port}/{DATABASE}"
        return _owned_server("postgresql", port, url, process, tmpdir, started)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise


def external_server(kind: str, url: str) -> Server:
    """Describe an already running server given by an SQLAlchemy async URL."""
    parsed = make_url(url)
    drivers = {
        "mariadb": {"mysql+aiomysql", "mariadb+aiomysql"},
        "postgresql": {"postgresql+asyncpg"},
    }
    if parsed.drivername not in drivers[kind]:
        raise ServerError(
            f"{ENV_URLS[kind]}: expected one of {sorted(drivers[kind])} URLs, "
            f"got {parsed.drivername!r}"
        )
    database = parsed.database or ""
    # Every test drops this database: refuse names that don't look like a test database.
    if not re.fullmatch(r"\w*test\w*", database):
        raise ServerError(
            f"{ENV_URLS[kind]}: database name must contain 'test' "
            f"(it is dropped before every test), got {database!r}"
        )
    return Server(
        kind=kind,
        host=parsed.host or HOST,
        port=parsed.port or (3306 if kind == "mariadb" else 5432),
        user=parsed.username or "",
        password=parsed.password or "",
        database=database,
        url=url,
        external=True,
    )


# --------------------------------------------------------------------------- resetting


async def _reset_mariadb(server: Server) -> None:
    conn = await aiomysql.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        connect_timeout=10,
        autocommit=True,
    )
    try:
        async with conn.cursor() as cur:
            # Don't wait (by default: a year) for locks held by a leaked connection.
            await cur.execute("SET SESSION lock_wait_timeout = 10")
            await cur.execute(
                "SELECT id FROM information_schema.processlist"
                " WHERE user = %s AND db = %s AND id <> CONNECTION_ID()",
                (server.user, server.database),
            )
            for (thread_id,) in await cur.fetchall():
                with contextlib.suppress(aiomysql.Error):  # it may be gone already
                    await cur.execute(f"KILL CONNECTION {int(thread_id)}")
            await cur.execute(f"DROP DATABASE IF EXISTS `{server.database}`")
            await cur.execute(f"CREATE DATABASE `{server.database}` CHARACTER SET utf8mb4")
    finally:
        await conn.ensure_closed()  # sends COM_QUIT: no "aborted connection" noise


async def _reset_postgresql(server: Server) -> None:
    conn = await asyncpg.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database="postgres",
        timeout=10,
        ssl=False,
    )
    try:
        # WITH (FORCE) terminates connections left open in the database (PostgreSQL >= 13).
        await conn.execute(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{server.database}"')
    finally:
        await conn.close()


# --------------------------------------------------------------------------- helpers


def _run_async(coro: Awaitable[T]) -> T:
    """Run a coroutine to completion in a private thread and event loop.

    Safe to call while the calling thread has an event loop (e.g. pytest-asyncio's):
    that loop is neither used nor replaced.
    """

    async def main() -> T:
        return await coro

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _launch(
    command: Callable[[int], list[str]],
    bootstrap: Callable[[int], Awaitable[None]],
    log: Path,
    user: pwd.struct_passwd | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start the server on a free port and run ``bootstrap(port)`` once it accepts connections.

    Retries with another port if the chosen one was taken in the meantime.
    """
    for _attempt in range(3):
        port = _free_port()
        with open(log, "ab") as log_file:
            process = subprocess.Popen(
                command(port),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                process_group=0,  # Ctrl-C in the terminal must not reach the server
                preexec_fn=_die_with_parent,
                **_run_as(user),
            )
        try:
            _run_async(_wait_until_ready(process, port, bootstrap))
            return process, port
        except ServerError as exc:
            _terminate(process, signal.SIGKILL)
            if "already in use" not in _tail(log):
                raise ServerError(f"{exc}\n{_log_excerpt(log)}") from None
        except BaseException:
            _terminate(process, signal.SIGKILL)
            raise
    raise ServerError(f"could not find a free port\n{_log_excerpt(log)}")


async def _wait_until_ready(
    process: subprocess.Popen[bytes], port: int, bootstrap: Callable[[int], Awaitable[None]]
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            raise ServerError(f"server exited with code {process.returncode} during startup")
        try:
            await bootstrap(port)
            return
        except (OSError, aiomysql.OperationalError, asyncpg.CannotConnectNowError) as exc:
            last_error = exc  # not accepting connections yet
        if time.monotonic() > deadline:
            raise ServerError(
                f"server did not accept connections within {STARTUP_TIMEOUT:.0f}s "
                f"(last error: {last_error!r})"
            )
        await asyncio.sleep(0.05)


def _owned_server(
    kind: str, port: int, url: str, process: subprocess.Popen[bytes], tmpdir: Path, started: float
) -> Server:
    server = Server(
        kind=kind,
        host=HOST,
        port=port,
        user=USER,
        password=PASSWORD,
        database=DATABASE,
        url=url,
        startup_seconds=time.monotonic() - started,
        _process=process,
        _tmpdir=tmpdir,
    )
    atexit.register(server.stop)  # in case the caller never gets to stop it
    return server


def _check_call(args: list[str], log: Path, user: pwd.struct_passwd | None = None) -> None:
    with open(log, "ab") as log_file:
        result = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            check=False,
            **_run_as(user),
        )
    if result.returncode != 0:
        name = Path(args[0]).name
        raise ServerError(f"{name} failed with code {result.returncode}\n{_log_excerpt(log)}")


def _run_as(user: pwd.struct_passwd | None) -> dict[str, Any]:
    """Popen arguments to run a child process as ``user`` (None: as ourselves)."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _terminate(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _die_with_parent() -> None:
    """Runs in the child: get SIGKILLed if the test process dies without stopping us."""
    if _libc is not None:
        PR_SET_PDEATHSIG = 1
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _tmp_root() -> str:
    """Where data directories go: /dev/shm (RAM) if it's big enough, else the usual tmp dir.

    On a VM disk, CREATE DATABASE in PostgreSQL takes ~200ms even with fsync=off; in RAM
    ~15ms. Docker's default /dev/shm (64MB) is too small, hence the size check.
    """
    with contextlib.suppress(OSError):
        if os.access("/dev/shm", os.W_OK) and shutil.disk_usage("/dev/shm").free > 1 << 30:
            return "/dev/shm"
    return tempfile.gettempdir()


def _make_tmpdir(kind: str, root: str | None = None) -> Path:
    _remove_stale_tmpdirs()
    tmpdir = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{kind}-", dir=root or _tmp_root()))
    (tmpdir / "owner.pid").write_text(str(os.getpid()))
    return tmpdir


def _remove_stale_tmpdirs() -> None:
    """Delete data directories left behind by test processes that were killed."""
    for path in glob.glob(os.path.join(_tmp_root(), f"{TMP_PREFIX}*")):
        try:
            owner = int(Path(path, "owner.pid").read_text())
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (OSError, ValueError):
            pass  # not ours to judge (other user, half-written, ...)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _find_binary(name: str) -> str:
    # /usr/sbin is not on a normal user's PATH on Debian, but mariadbd lives there.
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    found = shutil.which(name, path=path)
    if found is None:
        raise ServerError(f"{name} not found (install it with scripts/install_servers.sh)")
    return found


def _postgresql_bindir() -> Path:
    # Debian/Ubuntu: /usr/lib/postgresql/<major>/bin; elsewhere initdb is usually on PATH.
    candidates = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda bindir: int(bindir.parent.name) if bindir.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    initdb = shutil.which("initdb")
    if initdb is None:
        raise ServerError(
            "PostgreSQL initdb not found (install it with scripts/install_servers.sh)"
        )
    return Path(initdb).parent


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerError("running as root, but there is no 'postgres' user to run PostgreSQL as")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _log_excerpt(log: Path) -> str:
    return f"--- last lines of {log.name} ---\n{_tail(log)}"
