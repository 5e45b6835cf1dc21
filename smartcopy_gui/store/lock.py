"""One writer per database: an exclusive lock on ``<db>.lock`` held while writing.

The lock file says who holds it (pid and what: SmartCopy, a replay, an import), so a
second writer is told who to close. The operating system drops the lock when the
holder's process ends, however it ends: ``flock`` on POSIX, ``msvcrt.locking`` on
Windows (there on one byte far past the holder's line, which stays readable).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import DatabaseBusy

FILE_MODE = 0o600
_WINDOWS_LOCK_OFFSET = 1 << 20  # the byte Windows locks: past any holder line

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _read_holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 200).decode("utf-8", "replace").strip()


def _write_holder(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text.encode())


class WriterLock:
    """The exclusive lock on one database file, taken by ``acquire`` or refused."""

    def __init__(self, db_path: str | Path, holder: str) -> None:
        self.db_path = Path(db_path)
        self.path = Path(f"{db_path}.lock")
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise DatabaseBusy naming the process that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), FILE_MODE)
        try:
            locked = _try_lock(fd)
            if not locked:
                held_by = _read_holder(fd)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            os.close(fd)
            raise DatabaseBusy(f"the database {self.db_path} is open in "
                               f"{_describe(held_by)}; close it there and try again")
        _write_holder(fd, f"{os.getpid()} {self.holder}\n")
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (the file stays: removing it would race the next writer)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None


def _describe(held_by: str) -> str:
    """``"1234 a replay"`` → ``"a replay (pid 1234)"``."""
    pid, _, what = held_by.partition(" ")
    if not pid.isdigit():
        return "another SmartCopy process"
    return f"{what or 'SmartCopy'} (pid {pid})"
