"""Database servers for the tests, and the ``db_url`` fixture running a test on each backend.

Backends: sqlite, mariadb, postgresql. MariaDB and PostgreSQL are throwaway servers from
``tests/servers.py``, started on first use and stopped at the end of the session.

Environment variables:

- ``AESTORE_TEST_BACKENDS=sqlite,postgresql``: run only these backends (local use only).
- ``CI=true`` or ``AESTORE_REQUIRE_SERVERS=1``: a server that can't be started fails the
  tests that need it instead of skipping them, and all backends must run.
- ``AESTORE_TEST_MARIADB_URL`` / ``AESTORE_TEST_POSTGRESQL_URL``: use that running server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import servers  # the repo root is on sys.path: pythonpath = ["."] in pyproject

ALL_BACKENDS = ("sqlite", "mariadb", "postgresql")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


SERVERS_REQUIRED = _env_flag("CI") or _env_flag("AESTORE_REQUIRE_SERVERS")

_backends: list[str] = list(ALL_BACKENDS)
_started: list[servers.Server] = []


def pytest_configure(config: pytest.Config) -> None:
    global _backends
    raw = os.environ.get("AESTORE_TEST_BACKENDS", "")
    selected = [name.strip() for name in raw.split(",") if name.strip()] or list(ALL_BACKENDS)
    unknown = sorted(set(selected) - set(ALL_BACKENDS))
    if unknown:
        raise pytest.UsageError(
            f"AESTORE_TEST_BACKENDS: unknown backend(s) {unknown}; known: {list(ALL_BACKENDS)}"
        )
    if SERVERS_REQUIRED and set(selected) != set(ALL_BACKENDS):
        raise pytest.UsageError(
            f"AESTORE_TEST_BACKENDS={raw!r}, but servers are required (CI or "
            "AESTORE_REQUIRE_SERVERS is set): every backend must run"
        )
    _backends = [name for name in ALL_BACKENDS if name in selected]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_url", _backends, indirect=True)


def _session_server(kind: str, start: Callable[[], servers.Server]) -> Iterator[servers.Server]:
    if kind not in _backends:
        pytest.skip(f"{kind} is excluded by AESTORE_TEST_BACKENDS")
    try:
        server = start()
    except Exception as exc:
        if SERVERS_REQUIRED and not isinstance(exc, servers.ServerError):
            raise  # unexpected: keep the traceback
        problem = str(exc) if isinstance(exc, servers.ServerError) else repr(exc)
    else:
        _started.append(server)
        yield server
        server.stop()
        return
    if SERVERS_REQUIRED:
        pytest.fail(f"could not start the {kind} test server: {problem}", pytrace=False)
    pytest.skip(
        f"no {kind} test server: {problem.splitlines()[0]} (install: scripts/install_servers.sh;"
        " or exclude it with AESTORE_TEST_BACKENDS)"
    )


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[servers.Server]:
    yield from _session_server("mariadb", servers.start_mariadb)


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[servers.Server]:
    yield from _session_server("postgresql", servers.start_postgresql)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLAlchemy async URL of an empty database; the test runs once per backend."""
    backend: str = request.param
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/test.db"
    server: servers.Server = request.getfixturevalue(f"{backend}_server")
    server.reset_database()
    return server.url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for server in _started:
        how = "external" if server.external else f"started in {server.startup_seconds:.2f}s"
        where = f"{server.host}:{server.port}"
        terminalreporter.write_line(f"{server.kind} test server on {where} ({how})")
