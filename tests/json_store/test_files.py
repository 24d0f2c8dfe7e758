"""The file machinery under the JSON store: atomic writes, cancellation, locks, errors."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aestore.exceptions import JSONFileNotFoundError, JSONStoreIOError
from aestore.storage.json_store import files
from tests.json_store.conftest import junk_files

OLD = b'{"version": "old"}'
NEW = b'{"version": "new", "pad": "' + b"x" * 2_000_000 + b'"}'


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "experiment.json"
    path.write_bytes(OLD)
    return path


def lock_is_free(path: Path) -> bool:
    fd = files._try_lock(str(path) + files.LOCK_SUFFIX)
    if fd is None:
        return False
    files._unlock(fd, str(path) + files.LOCK_SUFFIX)
    return True


class Gate:
    """Stands in for one of the module's blocking steps and holds it until the test says go."""

    def __init__(self, step: Callable[..., Any]) -> None:
        self.step = step
        self.entered = threading.Event()
        self.go = threading.Event()
        self.finished = threading.Event()

    def __call__(self, *args: Any) -> Any:
        self.entered.set()
        self.go.wait(timeout=30)
        try:
            return self.step(*args)
        finally:
            self.finished.set()


# --- writing ---------------------------------------------------------------------------------


async def test_write_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    await files.write_atomic(str(path), NEW)
    assert path.read_bytes() == NEW


async def test_write_replaces_the_file(target: Path) -> None:
    await files.write_atomic(str(target), NEW)
    assert target.read_bytes() == NEW


@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "replaced-file"])
async def test_write_leaves_no_temp_or_lock_file(tmp_path: Path, existing: bool) -> None:
    path = tmp_path / "experiment.json"
    if existing:
        path.write_bytes(OLD)
    await files.write_atomic(str(path), NEW)
    assert junk_files(tmp_path, {"experiment.json"}) == []


async def test_write_creates_missing_folders(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "2026" / "experiment.json"
    await files.write_atomic(str(path), OLD)
    assert path.read_bytes() == OLD


async def test_write_under_a_file_fails_with_enotdir(tmp_path: Path) -> None:
    (tmp_path / "plain_file").write_bytes(b"")
    with pytest.raises(OSError) as info:
        await files.write_atomic(str(tmp_path / "plain_file" / "experiment.json"), OLD)
    assert info.value.errno == errno.ENOTDIR


async def test_write_keeps_the_replaced_files_permissions(target: Path) -> None:
    target.chmod(0o640)
    await files.write_atomic(str(target), NEW)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


async def test_new_file_gets_the_umask_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        await files.write_atomic(str(tmp_path / "e.json"), OLD)
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "e.json").stat().st_mode) == 0o644


def test_resolve_path_follows_symlinks(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_bytes(OLD)
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    assert files.resolve_path(tmp_path / "link.json") == str((tmp_path / "real.json").resolve())


# --- failures mid-write leave the old file and no temp file ----------------------------------


async def test_disk_full_during_write_keeps_the_old_file(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = 0

    def write_then_fill_the_disk(fd: int, data: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data[:4096]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write_then_fill_the_disk)
    with pytest.raises(OSError) as info:
        await files.write_atomic(str(target), NEW)
    assert (info.value.errno, target.read_bytes(), calls) == (errno.ENOSPC, OLD, 2)


async def test_disk_full_during_write_leaves_no_temp_file(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(OSError):
        await files.write_atomic(str(target), NEW)
    assert junk_files(target.parent, {target.name}) == []


async def test_fsync_error_keeps_the_old_file_and_no_temp(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        await files.write_atomic(str(target), NEW)
    assert (target.read_bytes(), junk_files(target.parent, {target.name})) == (OLD, [])


async def test_directory_in_the_way_fails_and_leaves_no_temp(tmp_path: Path) -> None:
    (tmp_path / "experiment.json").mkdir()
    with pytest.raises(IsADirectoryError):
        await files.write_atomic(str(tmp_path / "experiment.json"), NEW)
    assert junk_files(tmp_path, {"experiment.json"}) == []


# --- cancellation ----------------------------------------------------------------------------

# The blocking calls of a write, in order; a cancel while one runs leaves OLD or NEW.
STEPS = [
    pytest.param("_lock_and_write_temp", OLD, id="step-1"),
    pytest.param("_try_lock", OLD, id="step-1-taking-the-lock"),
    pytest.param("_write_temp", OLD, id="step-1-writing-the-temp-file"),
    pytest.param("_replace_and_unlock", NEW, id="step-2"),
    pytest.param("_replace", NEW, id="step-2-replacing"),
    pytest.param("_unlock", NEW, id="step-2-releasing-the-lock"),
]


async def cancel_during(
    step: str, target: Path, monkeypatch: pytest.MonkeyPatch, pause: float = 0.0
) -> tuple[Gate, bool]:
    """Cancel a write while ``step`` runs (held at a gate); return the gate and whether the
    task was still waiting for the step ``pause`` seconds after the cancel."""
    gate = Gate(getattr(files, step))
    monkeypatch.setattr(files, step, gate)
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    await asyncio.to_thread(gate.entered.wait, 30)
    task.cancel()
    if pause:
        await asyncio.sleep(pause)
    still_waiting = not task.done()
    gate.go.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    return gate, still_waiting


@pytest.mark.parametrize(("step", "expected"), STEPS)
async def test_cancel_during_a_step_leaves_old_or_new_file(
    target: Path, monkeypatch: pytest.MonkeyPatch, step: str, expected: bytes
) -> None:
    await cancel_during(step, target, monkeypatch)
    assert target.read_bytes() == expected


@pytest.mark.parametrize(("step", "expected"), STEPS)
async def test_cancel_during_a_step_leaves_no_junk_and_a_free_lock(
    target: Path, monkeypatch: pytest.MonkeyPatch, step: str, expected: bytes
) -> None:
    await cancel_during(step, target, monkeypatch)
    assert (junk_files(target.parent, {target.name}), lock_is_free(target)) == ([], True)


@pytest.mark.parametrize(("step", "expected"), STEPS)
async def test_cancel_waits_for_the_running_step(
    target: Path, monkeypatch: pytest.MonkeyPatch, step: str, expected: bytes
) -> None:
    # 20 ms: time for a wrong implementation to give up on the step.
    gate, still_waiting = await cancel_during(step, target, monkeypatch, pause=0.02)
    assert (still_waiting, gate.finished.is_set()) == (True, True)


async def test_cancel_between_the_steps_keeps_the_old_file_and_leaves_no_junk(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Step 1 has written and fsynced the temp file; the cancel comes before step 2 starts.
    step_1_done, cancelled = threading.Event(), threading.Event()
    real_step_1 = files._lock_and_write_temp

    def step_1_then_wait(write: Any) -> bool:
        taken = real_step_1(write)
        step_1_done.set()
        cancelled.wait(30)
        return taken

    monkeypatch.setattr(files, "_lock_and_write_temp", step_1_then_wait)
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    await asyncio.to_thread(step_1_done.wait, 30)
    task.cancel()
    await asyncio.sleep(0.01)  # the task handles the cancel while the job is between steps
    cancelled.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (
        target.read_bytes(),
        junk_files(target.parent, {target.name}),
        lock_is_free(target),
    ) == (
        OLD,
        [],
        True,
    )


async def test_a_write_is_one_job_in_the_pool(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both steps run in one pool job: one thread hop per save, not one per step.
    submitted: list[Any] = []
    pool = files.io_executor()
    real_submit = pool.submit

    def counting_submit(fn: Any, *args: Any) -> Any:
        submitted.append(fn)
        return real_submit(fn, *args)

    monkeypatch.setattr(pool, "submit", counting_submit)
    await files.write_atomic(str(target), NEW)
    assert (submitted, target.read_bytes()) == ([files._write_job], NEW)


async def test_a_cancelled_write_whose_temp_file_cannot_be_removed_still_frees_the_lock(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: str) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(files, "_remove_quietly", refuse)
    await cancel_during("_write_temp", target, monkeypatch)
    assert (target.read_bytes(), lock_is_free(target)) == (OLD, True)


async def test_cancel_before_the_write_starts_keeps_the_old_file(target: Path) -> None:
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert target.read_bytes() == OLD


@pytest.mark.parametrize("ticks", [1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 22, 30, 40, 60, 100, 200])
async def test_cancel_after_loop_iterations_leaves_a_whole_file_and_no_junk(
    target: Path, ticks: int
) -> None:
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    for _ in range(ticks):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):  # it may have finished already
        await task
    outcome = {OLD: "old", NEW: "new"}.get(target.read_bytes(), "torn")
    assert (outcome in {"old", "new"}, junk_files(target.parent, {target.name})) == (True, [])


@pytest.mark.parametrize("delay", [0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.008, 0.013])
async def test_cancel_after_a_delay_leaves_a_whole_file_and_no_junk(
    target: Path, delay: float
) -> None:
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    await asyncio.sleep(delay)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):  # it may have finished already
        await task
    outcome = {OLD: "old", NEW: "new"}.get(target.read_bytes(), "torn")
    assert (outcome in {"old", "new"}, junk_files(target.parent, {target.name})) == (True, [])


async def test_cancel_after_the_write_finished_keeps_the_new_file(target: Path) -> None:
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    await asyncio.wait([task])
    task.cancel()
    await task
    assert target.read_bytes() == NEW


# --- run_blocking ----------------------------------------------------------------------------


async def test_run_blocking_returns_the_result() -> None:
    assert await files.run_blocking(divmod, 7, 2) == (3, 1)


async def test_run_blocking_raises_the_calls_error() -> None:
    with pytest.raises(ZeroDivisionError):
        await files.run_blocking(divmod, 1, 0)


async def test_run_blocking_undoes_a_call_finished_after_a_cancel() -> None:
    gate = Gate(lambda: "resource")
    undone: list[str] = []
    task = asyncio.create_task(files.run_blocking(gate, undo=undone.append))
    await asyncio.to_thread(gate.entered.wait, 30)
    task.cancel()
    gate.go.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert undone == ["resource"]


@pytest.fixture
def busy_single_thread_pool(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the I/O pool one thread, busy until the test sets the returned event."""
    pool = ThreadPoolExecutor(max_workers=1)
    release = threading.Event()
    pool.submit(release.wait, 30)
    monkeypatch.setattr(files, "_executor", pool)
    yield release
    release.set()
    pool.shutdown(wait=True)


async def test_run_blocking_drops_a_call_cancelled_before_it_started(
    busy_single_thread_pool: threading.Event,
) -> None:
    ran: list[bool] = []
    task = asyncio.create_task(files.run_blocking(ran.append, True))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    busy_single_thread_pool.set()
    await asyncio.to_thread(files._executor.shutdown, True)  # type: ignore[union-attr]
    assert ran == []


async def test_run_blocking_always_runs_a_clean_up_cancelled_before_it_started(
    busy_single_thread_pool: threading.Event,
) -> None:
    ran: list[bool] = []
    task = asyncio.create_task(files.run_blocking(ran.append, True, always=True))
    await asyncio.sleep(0.01)
    task.cancel()
    busy_single_thread_pool.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ran == [True]


def test_writes_in_fresh_event_loops_create_no_thread_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(files.write_atomic(str(tmp_path / "e.json"), OLD))  # the pool exists now
    created: list[ThreadPoolExecutor] = []
    real_init = ThreadPoolExecutor.__init__

    def counting_init(self: ThreadPoolExecutor, *args: Any, **kwargs: Any) -> None:
        created.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(ThreadPoolExecutor, "__init__", counting_init)
    for _ in range(20):
        asyncio.run(files.write_atomic(str(tmp_path / "e.json"), OLD))
    assert created == []


# --- the file lock ---------------------------------------------------------------------------


def hold_lock(path: Path) -> int:
    fd = os.open(str(path) + files.LOCK_SUFFIX, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


async def test_write_waits_for_the_lock_holder(target: Path) -> None:
    fd = hold_lock(target)
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    await asyncio.sleep(0.1)
    content_while_held = target.read_bytes()
    os.close(fd)
    await task
    assert (content_while_held, target.read_bytes()) == (OLD, NEW)


async def test_writer_waiting_for_the_lock_can_be_cancelled(target: Path) -> None:
    fd = hold_lock(target)
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    os.close(fd)
    assert target.read_bytes() == OLD


async def test_stale_lock_file_is_taken_and_removed(target: Path) -> None:
    Path(str(target) + files.LOCK_SUFFIX).write_bytes(b"")  # left by a crashed writer
    await files.write_atomic(str(target), NEW)
    assert (target.read_bytes(), junk_files(target.parent, {target.name})) == (NEW, [])


async def test_lock_on_a_lock_file_replaced_meanwhile_is_not_trusted(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer locks a lock file that another writer has just removed and re-created:
    it must notice and wait for the lock on the new file instead."""
    lock_path = str(target) + files.LOCK_SUFFIX
    real_flock = fcntl.flock
    other: list[int] = []

    def flock_after_another_writer_took_over(fd: int, operation: int) -> None:
        if not other:
            os.unlink(lock_path)
            other.append(os.open(lock_path, os.O_RDWR | os.O_CREAT))
            real_flock(other[0], fcntl.LOCK_EX)
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_another_writer_took_over)
    task = asyncio.create_task(files.write_atomic(str(target), NEW))
    await asyncio.sleep(0.1)
    content_while_other_holds = target.read_bytes()
    os.close(other[0])
    await task
    assert (content_while_other_holds, target.read_bytes()) == (OLD, NEW)


def test_contended_path_lock_works_in_consecutive_event_loops(tmp_path: Path) -> None:
    path = str(tmp_path / "e.json")
    used: list[asyncio.Lock] = []  # keeps each run's lock alive into the next run

    async def contend() -> bool:
        lock = files.path_lock(path)
        used.append(lock)
        async with lock:  # a second acquirer must wait, which binds the lock to this loop
            waiter = asyncio.create_task(lock.acquire())
            await asyncio.sleep(0)
        await waiter
        lock.release()
        return True

    # A lock bound to the first, closed loop would raise RuntimeError in the second run.
    assert [asyncio.run(contend()), asyncio.run(contend())] == [True, True]


async def test_path_lock_is_one_lock_per_path() -> None:
    first, again = files.path_lock("/a.json"), files.path_lock("/a.json")
    other = files.path_lock("/b.json")
    assert (first is again, first is other) == (True, False)


# --- reading and errors ----------------------------------------------------------------------


async def test_read_file_returns_the_bytes(target: Path) -> None:
    assert await files.read_file(str(target)) == OLD


async def test_read_file_of_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await files.read_file(str(tmp_path / "missing.json"))


def test_missing_file_on_load_becomes_json_file_not_found() -> None:
    error = files.io_error(FileNotFoundError(errno.ENOENT, "No such file"), "e.json", "load")
    assert (type(error), error.filepath) == (JSONFileNotFoundError, "e.json")


@pytest.mark.parametrize(
    "code",
    [errno.ENOSPC, errno.EACCES, errno.EISDIR, errno.ENOTDIR, errno.EIO, errno.ENOENT],
    ids=["ENOSPC", "EACCES", "EISDIR", "ENOTDIR", "EIO", "ENOENT-on-save"],
)
def test_os_errors_become_json_store_io_errors_keeping_errno(code: int) -> None:
    error = files.io_error(OSError(code, os.strerror(code)), "dir/e.json", "save")
    assert (type(error), error.errno, error.filepath) == (JSONStoreIOError, code, "dir/e.json")


def test_io_error_message_names_the_file_and_the_reason() -> None:
    error = files.io_error(OSError(errno.ENOSPC, "No space left on device"), "e.json", "save")
    assert "e.json" in str(error) and "No space left on device" in str(error)
