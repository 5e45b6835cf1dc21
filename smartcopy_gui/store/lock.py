"""One writer per database: an exclusive lock on ``<db>.lock`` held while writing.

The lock file says who holds it (pid and what: SmartCopy, a replay, an import), so a
second writer is told who to close. The operating system drops the lock when the
holder's process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import DatabaseBusy

FILE_MODE = 0o600


class WriterLock:
    """The exclusive lock on one database file, taken by ``acquire`` or refused."""

    def __init__(self, db_path: str | Path, holder: str) -> None:
        self.db_path = Path(db_path)
        self.path = Path(f"{db_path}.lock")
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise DatabaseBusy naming the process that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise DatabaseBusy(f"the database {self.db_path} is open in "
                               f"{_describe(held_by)}; close it there and try again") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.holder}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (the file stays: removing it would race the next writer)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _describe(held_by: str) -> str:
    """``"1234 a replay"`` → ``"a replay (pid 1234)"``."""
    pid, _, what = held_by.partition(" ")
    if not pid.isdigit():
        return "another SmartCopy process"
    return f"{what or 'SmartCopy'} (pid {pid})"
