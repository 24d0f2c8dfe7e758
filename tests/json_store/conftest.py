"""Helpers shared by the JSON store's file tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from aestore.storage.json_store.registry import DEFAULT_REGISTRY, JSONRegistry
from tests.fixtures import CustomMetric, CustomRunner

NOBODY = 65534


def junk_files(folder: Path, keep: set[str]) -> list[str]:
    """Names in ``folder`` other than ``keep``: leftover temp files or lock files."""
    return sorted(name for name in os.listdir(folder) if name not in keep)


@pytest.fixture
def unprivileged() -> Iterator[Callable[[], AbstractContextManager[None]]]:
    """A context manager under which file permissions apply, even when the tests run as root.

    As root it switches the effective user and group to ``nobody`` (for the whole process,
    pool threads included) and back; as anyone else it does nothing.
    """

    @contextmanager
    def switch() -> Iterator[None]:
        if os.geteuid() != 0:
            yield
            return
        os.setegid(NOBODY)
        os.seteuid(NOBODY)
        try:
            yield
        finally:
            os.seteuid(0)
            os.setegid(0)

    yield switch


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder that ``nobody`` may enter (pytest's tmp_path is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="aestore-test-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def registry() -> JSONRegistry:
    """The default registries plus the user classes of tests.fixtures (globals untouched)."""
    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(CustomMetric)
    registry.register_class(CustomRunner)
    return registry
