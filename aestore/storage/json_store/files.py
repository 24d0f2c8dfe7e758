"""Atomic, durable, cancellation-safe file writes and reads for the JSON store.

What :func:`write_atomic` guarantees for ``path``:

- **Atomic.** The bytes go to a temp file in the same folder (``.<name>.<random>.tmp``), which
  is flushed, fsynced and then ``os.replace``d over ``path``; on POSIX the folder is fsynced
  after the replace. A reader sees the old document or the new one, never a mix.
- **Nothing left behind.** A write that fails (disk full, permissions, a directory in the way)
  or is cancelled removes its temp file. The blocking work is one job in a thread, in two
  steps: (1) take the lock, write and fsync the temp file (a big document is encoded in this
  step, piece by piece as it is written, see :data:`Document`); (2) replace, fsync the folder,
  release the lock. A cancel that arrives while the job runs does not abandon it: the job
  checks for a cancel between the steps (step 1 is then undone and step 2 skipped), the
  awaiting task waits for the job to stop, and only then does ``CancelledError`` propagate.
  So a cancelled write leaves the old file, or - when the cancel came once step 2 had
  started - the new one.
- **One writer at a time**, across processes and threads: an exclusive ``fcntl.flock`` on a
  sidecar ``<path>.lock``, held from the temp file's creation to the replace. The lock is
  polled without blocking (``LOCK_NB`` in the I/O pool, then ``asyncio.sleep`` with backoff),
  so waiting never blocks the event loop or parks a pool thread, and a cancelled waiter gives
  up at once. The last write to take the lock is the one left on disk. Readers need no lock:
  ``os.replace`` already shows them whole files.
- **No lock file left behind.** The holder unlinks ``<path>.lock`` before releasing it. That is
  safe because every taker checks, once it holds the lock, that the file it locked is still
  the one at ``<path>.lock`` (same device and inode) and starts over otherwise. A writer that
  crashes leaves ``<path>.lock`` (its lock dies with it); the next writer takes it and
  removes it. Without ``fcntl`` (Windows) there is no cross-process lock; the replace is
  still atomic.
- **Missing folders are created**, as ``mkdir -p`` would, the first time a file is saved
  there. A path whose parent is a file, not a folder, is an error.
- **Permissions kept.** A replaced file keeps its permission bits; a new one gets the umask's.
- **Symlinks followed**: callers resolve ``path`` first, so saving through a symlink
  updates the file it points to instead of replacing the link.

Blocking calls run on one persistent, module-level thread pool (:func:`io_executor`), never on
the event loop's default executor: ``asyncio.run()`` makes a new loop, and with it a new
default executor whose threads would be started and joined on every call.

Why not aiofiles for writes: aiofiles awaits ``run_in_executor`` futures directly, so when the
awaiting task is cancelled the thread's call is abandoned while it still runs. On a write
path that means a temp file created after the cleanup already ran (left behind for good), or
the file closed while a write is still using its descriptor. :func:`run_blocking` runs the same
kind of call on the same kind of pool, but waits for it and undoes it before honouring the
cancel. Reads, which have nothing to undo, use aiofiles' thread wrapper (:func:`read_file`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import hashlib
import os
import random
import secrets
import stat
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiofiles.os

from aestore.exceptions import JSONFileNotFoundError, JSONStoreIOError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_SUFFIX",
    "TEMP_SUFFIX",
    "Document",
    "io_error",
    "io_executor",
    "path_lock",
    "read_file",
    "resolve_path",
    "run_blocking",
    "write_atomic",
]

T = TypeVar("T")

LOCK_SUFFIX = ".lock"
TEMP_SUFFIX = ".tmp"

# Enough threads for a few saves' blocking calls and CPU-heavy encodes at once; the encodes
# share the GIL anyway, so more threads would not make them faster.
_MAX_WORKERS = min(8, (os.cpu_count() or 1) + 4)
# Polling the file lock: the first retry comes soon (a small save holds it for ~1 ms, a big one
# while it is encoded and written), later ones back off so a long wait costs few wake-ups.
_LOCK_POLL_FIRST = 0.0005
_LOCK_POLL_MAX = 0.02

# --- the thread pool ---------------------------------------------------------------------------

_executor: ThreadPoolExecutor | None = None
_executor_guard = threading.Lock()


def io_executor() -> ThreadPoolExecutor:
    """The persistent thread pool that runs the JSON store's blocking calls.

    Created on first use and kept for the life of the process, so saving inside
    ``asyncio.run()`` starts no threads after the first time.

    Example:
        >>> io_executor() is io_executor()
        True
    """
    global _executor
    pool = _executor
    if pool is None:
        with _executor_guard:
            pool = _executor
            if pool is None:
                pool = _executor = ThreadPoolExecutor(
                    max_workers=_MAX_WORKERS, thread_name_prefix="aestore-json"
                )
    return pool


def _reset_after_fork() -> None:
    # A forked child inherits the pool object but not its threads; it must make its own.
    global _executor, _executor_guard
    _executor = None
    _executor_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


async def run_blocking(
    fn: Callable[..., T],
    *args: Any,
    undo: Callable[[T], object] | None = None,
    always: bool = False,
    on_cancel: Callable[[], object] | None = None,
) -> T:
    """Run ``fn(*args)`` in :func:`io_executor` without ever abandoning it.

    If the calling task is cancelled while ``fn`` runs, ``on_cancel()`` is called at once
    in the event loop's thread (when given: e.g. to set a flag ``fn`` checks), ``fn`` is
    allowed to finish, then ``undo(result)`` runs (when given and ``fn`` succeeded), and only
    then is ``CancelledError`` raised. A call the pool had not started yet is dropped, unless
    ``always`` (for clean-ups, which must run whatever happens). So when this returns or
    raises, ``fn`` is no longer running and its effect is known.

    Example:
        >>> import asyncio
        >>> asyncio.run(run_blocking(sum, [1, 2, 3]))
        6
    """
    loop = asyncio.get_running_loop()
    job = io_executor().submit(fn, *args)
    waiter = asyncio.wrap_future(job, loop=loop)
    try:
        # shield: a cancel must not cancel `waiter`, or the result we may need to undo is lost.
        return await asyncio.shield(waiter)
    except asyncio.CancelledError:
        if on_cancel is not None:
            on_cancel()
        if not always and job.cancel():
            raise  # never started
        await _wait_ignoring_cancel(waiter)
        if undo is not None and not waiter.cancelled() and waiter.exception() is None:
            cleanup = asyncio.wrap_future(io_executor().submit(undo, waiter.result()), loop=loop)
            await _wait_ignoring_cancel(cleanup)
            if not cleanup.cancelled():
                cleanup.exception()  # consumed: the cancel is what this call reports
        elif not waiter.cancelled():
            waiter.exception()
        raise


async def _wait_ignoring_cancel(fut: asyncio.Future[Any]) -> None:
    while not fut.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([fut])


# --- paths and errors --------------------------------------------------------------------------


def resolve_path(filepath: str | os.PathLike[str]) -> str:
    """The absolute path with symlinks resolved: the file a save replaces or a load reads.

    Example:
        >>> resolve_path("/tmp/../tmp/x.json")
        '/tmp/x.json'
    """
    path = os.fspath(filepath)
    if not isinstance(path, str) or not path or "\0" in path:
        # Caught here: the OS would answer with a bare ValueError, or "" would mean the cwd.
        raise JSONStoreIOError(
            "Not a usable file path (empty, not text, or with a NUL character)", repr(path)
        )
    return os.path.realpath(path)


_HINTS = {
    getattr(errno, name): hint
    for name, hint in [
        ("ENOSPC", "the disk is full; free some space and save again"),
        ("EDQUOT", "the disk quota is exceeded"),
        ("EACCES", "check the permissions of the file and its folder"),
        ("EPERM", "check the permissions of the file and its folder"),
        ("EROFS", "the file system is read-only"),
        ("EISDIR", "the path is a directory; give a file path"),
        ("ENOTDIR", "a component of the path is a file, not a folder"),
    ]
    if hasattr(errno, name)
}


def io_error(
    exc: OSError, filepath: str | os.PathLike[str], action: str
) -> JSONFileNotFoundError | JSONStoreIOError:
    """Translate an ``OSError`` met while ``action``-ing ``filepath`` into aestore's error.

    A missing file to load becomes :class:`JSONFileNotFoundError`; anything else
    :class:`JSONStoreIOError`, which keeps ``errno`` and ``strerror``.

    Example:
        >>> err = io_error(OSError(28, "No space left on device"), "e.json", "save")
        >>> err.errno, err.filepath
        (28, 'e.json')
        >>> print(err)
        Cannot save experiment: No space left on device (the disk is full; free some space and save again) (file e.json)
    """  # noqa: E501
    if action == "load" and isinstance(exc, FileNotFoundError):
        return JSONFileNotFoundError(filepath)
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = _HINTS.get(exc.errno) if exc.errno is not None else None
    message = f"Cannot {action} experiment: {reason}" + (f" ({hint})" if hint else "")
    error = JSONStoreIOError(message, filepath)
    error.errno = exc.errno
    error.strerror = exc.strerror
    return error


# --- per-path locks within one process ---------------------------------------------------------

# {event loop: {resolved path: lock}}. Keyed weakly on both sides: a lock lives while a save
# holds or awaits it, and a dead loop's locks go with it. asyncio.Lock binds to the loop that
# first waits on it, so each loop (e.g. each asyncio.run()) gets its own.
_path_locks: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakValueDictionary[str, asyncio.Lock]
] = weakref.WeakKeyDictionary()
_path_locks_guard = threading.Lock()


def path_lock(path: str) -> asyncio.Lock:
    """The running loop's ``asyncio.Lock`` for ``path`` (a resolved path).

    Saves on one path from one loop take it in call order (``asyncio.Lock`` is FIFO).

    Example:
        >>> import asyncio
        >>> async def same():
        ...     return path_lock("/tmp/a.json") is path_lock("/tmp/a.json")
        >>> asyncio.run(same())
        True
    """
    loop = asyncio.get_running_loop()
    with _path_locks_guard:
        locks = _path_locks.get(loop)
        if locks is None:
            locks = _path_locks[loop] = weakref.WeakValueDictionary()
        lock = locks.get(path)
        if lock is None:
            lock = locks[path] = asyncio.Lock()
        return lock


# --- the cross-process file lock ---------------------------------------------------------------


def _open_creating_parents(path: str, flags: int, mode: int = 0o666) -> int:
    try:
        return os.open(path, flags, mode)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return os.open(path, flags, mode)


def _try_lock(lock_path: str) -> int | None:
    """The descriptor of ``lock_path`` locked exclusively, or None if another holds it."""
    assert fcntl is not None
    while True:
        fd = _open_creating_parents(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = os.fstat(fd)
            try:
                current = os.stat(lock_path)
            except FileNotFoundError:
                current = None
        except BaseException as exc:
            os.close(fd)
            if isinstance(exc, BlockingIOError):
                return None
            raise
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            return fd
        # The previous holder removed this file before releasing it: lock the new one.
        os.close(fd)


def _unlock(fd: int, lock_path: str) -> None:
    # Unlink while still holding the lock: anyone who then locks the old file sees it is gone.
    with contextlib.suppress(OSError):
        os.unlink(lock_path)
    os.close(fd)


# --- writing -----------------------------------------------------------------------------------


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


Document = bytes | Callable[[], Iterable[bytes | memoryview]]
"""What :func:`write_atomic` writes: bytes, or a function that makes the pieces (called in
the I/O thread once the lock is held, so a document can be encoded as it is written)."""

# Pieces written between two hints to the kernel to start storing them (see _write_pieces).
_WRITEBACK_STEP = 256 * 1024
_SYNC_FILE_RANGE_WRITE = 2


def _find_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """Linux's ``sync_file_range`` (not in ``os``), or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # pragma: no cover - a libc without it
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_sync_file_range = _find_sync_file_range()


def _write_pieces(fd: int, pieces: Iterable[bytes | memoryview]) -> None:
    """Write the pieces in order, asking the kernel every few hundred KB to start storing
    what is written (``sync_file_range(SYNC_FILE_RANGE_WRITE)``: it returns at once). The
    disk then works while the next pieces are encoded, and the fsync that follows waits only
    for the last ones: for a 10 MB document ~0.5 ms instead of ~6 ms. Only a hint: the fsync
    is what makes the file durable."""
    start = written = 0
    try:
        for piece in pieces:
            _write_all(fd, piece)
            written += len(piece)
            if _sync_file_range is not None and written - start >= _WRITEBACK_STEP:
                _sync_file_range(fd, start, written - start, _SYNC_FILE_RANGE_WRITE)
                start = written
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # a generator stopped half-way releases what it holds now


# Temp and lock names add up to 19 characters to the file's name: a long (legal) name is
# shortened to a prefix plus a digest so theirs stay within the file system's NAME_MAX (255).
_NAME_ROOM = 200


def _short(name: str) -> str:
    """``name`` itself, or a prefix and a digest of it when it is too long to extend."""
    if len(name.encode()) <= _NAME_ROOM:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return name.encode()[:120].decode(errors="ignore") + "~" + digest


def _write_temp(path: str, data: Document) -> str:
    """Write ``data`` to a new fsynced temp file next to ``path``; return the temp's path."""
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{_short(name)}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    try:
        existing = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        existing = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_BINARY", 0)
    fd = _open_creating_parents(temp, flags)
    try:
        if existing is not None and stat.S_ISREG(existing.st_mode) and hasattr(os, "fchmod"):
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))
        if isinstance(data, bytes):
            _write_all(fd, data)
        else:
            _write_pieces(fd, data())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _remove_quietly(temp)
        raise
    os.close(fd)
    return temp


def _replace(temp: str, path: str) -> None:
    """Move ``temp`` over ``path`` and make the rename durable."""
    try:
        os.replace(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    if os.name == "posix":
        _fsync_folder(os.path.dirname(path))


def _fsync_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems cannot sync a directory; the rename itself has happened.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class _Write:
    """One write's state, handed from step to step. The steps run one after the other in one
    pool job; ``cancelled`` is set from the event loop's thread when the awaiting task is
    cancelled, and read by the job between its steps."""

    __slots__ = ("cancelled", "data", "lock_fd", "lock_path", "path", "temp")

    def __init__(self, path: str, data: Document) -> None:
        self.path = path
        self.data = data
        folder, name = os.path.split(path)
        self.lock_path = os.path.join(folder, _short(name) + LOCK_SUFFIX)
        self.lock_fd: int | None = None
        self.temp: str | None = None
        self.cancelled = False


def _write_job(write: _Write) -> bool:
    """The whole blocking write, in the pool: False if another writer holds the lock (nothing
    done), else True once step 2 ran or, for a write cancelled during step 1, was skipped."""
    if not _lock_and_write_temp(write):
        return False
    if write.cancelled:
        _discard(write)
    else:
        _replace_and_unlock(write)
    return True


def _lock_and_write_temp(write: _Write) -> bool:
    """Step 1: take the file lock (False if another writer has it), write the temp file."""
    if fcntl is not None:
        write.lock_fd = _try_lock(write.lock_path)
        if write.lock_fd is None:
            return False
    try:
        write.temp = _write_temp(write.path, write.data)
    except BaseException:
        _release(write)
        raise
    return True


def _replace_and_unlock(write: _Write) -> None:
    """Step 2: move the temp file over the target, fsync the folder, release the lock."""
    temp, write.temp = write.temp, None
    assert temp is not None
    try:
        _replace(temp, write.path)
    finally:
        _release(write)


def _discard(write: _Write) -> None:
    """Undo step 1, for a write cancelled or failed before step 2 ran. The lock is released
    even when the temp file can't be removed (its error propagates)."""
    try:
        if write.temp is not None:
            temp, write.temp = write.temp, None
            _remove_quietly(temp)
    finally:
        _release(write)


def _release(write: _Write) -> None:
    if write.lock_fd is not None:
        fd, write.lock_fd = write.lock_fd, None
        _unlock(fd, write.lock_path)


def _cancel_write(write: _Write) -> None:
    # Runs in the event loop's thread; the job reads it between its steps. A cancel that
    # comes after that check finds step 2 under way, and the new file stays.
    write.cancelled = True


async def write_atomic(path: str, data: Document) -> None:
    """Replace the file at ``path`` (resolved, see :func:`resolve_path`) with ``data``.

    Atomic, durable, serialised with other writers and safe to cancel, as the module
    docstring describes. Raises ``OSError`` as is; callers translate it with :func:`io_error`.
    ``data`` may be a function that returns the document's pieces: it is called in the I/O
    thread with the lock held, and the pieces are written as they come (an exception it
    raises removes the temp file and propagates).

    Example:
        >>> import asyncio, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "e.json")
        >>> asyncio.run(write_atomic(path, b"{}"))
        >>> open(path, "rb").read()
        b'{}'
    """
    write = _Write(path, data)
    # One thread hop per attempt: the job itself skips step 2 when the cancel came during
    # step 1, so the only cancel points out here are before the job starts and while the
    # lock is polled.
    delay = _LOCK_POLL_FIRST
    while not await run_blocking(_write_job, write, on_cancel=lambda: _cancel_write(write)):
        await asyncio.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, _LOCK_POLL_MAX)


# --- reading -----------------------------------------------------------------------------------


def _read_whole(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


_read_in_pool = aiofiles.os.wrap(_read_whole)


async def read_file(path: str) -> bytes:
    """The whole content of the file at ``path``, read in :func:`io_executor`.

    Open, read and close are one job in the pool (one thread hop, not one per call as with
    an ``aiofiles.open`` file object). Raises ``OSError`` as is; callers translate it with
    :func:`io_error`.

    Example:
        >>> import asyncio, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "e.json")
        >>> asyncio.run(write_atomic(path, b"[1]"))
        >>> asyncio.run(read_file(path))
        b'[1]'
    """
    data: bytes = await _read_in_pool(path, executor=io_executor())
    return data
