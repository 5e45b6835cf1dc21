"""The writer lock on Windows (msvcrt.locking instead of fcntl.flock), run here with a
stand-in msvcrt: a second writer is refused naming the first, which can then hand over."""

from __future__ import annotations

import fcntl
import importlib.util
import sys
import types

import pytest

from smartcopy_gui.store.errors import DatabaseBusy


def _fake_msvcrt() -> types.ModuleType:
    """msvcrt's locking, done with flock so two opens in one process exclude each other."""
    msvcrt = types.ModuleType("msvcrt")
    msvcrt.LK_NBLCK, msvcrt.LK_UNLCK = 2, 0  # type: ignore[attr-defined]

    def locking(fd: int, mode: int, nbytes: int) -> None:
        if mode == msvcrt.LK_UNLCK:  # type: ignore[attr-defined]
            fcntl.flock(fd, fcntl.LOCK_UN)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PermissionError(13, "Permission denied") from None  # what Windows raises

    msvcrt.locking = locking  # type: ignore[attr-defined]
    return msvcrt


@pytest.fixture
def windows_lock(monkeypatch):
    """smartcopy_gui/store/lock.py as Windows imports it (a separate module object)."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "msvcrt", _fake_msvcrt())
    import smartcopy_gui.store.lock as posix_lock

    spec = importlib.util.spec_from_file_location("smartcopy_gui.store._lock_win",
                                                  posix_lock.__file__)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert not hasattr(module, "fcntl")  # the POSIX-only module is not imported
    return module


def test_on_windows_a_second_writer_is_told_who_holds_the_database(windows_lock, tmp_path):
    db = tmp_path / "smartcopy.db"
    first = windows_lock.WriterLock(db, "a replay")
    first.acquire()
    second = windows_lock.WriterLock(db, "SmartCopy")
    with pytest.raises(DatabaseBusy, match=r"open in a replay \(pid \d+\); close it there"):
        second.acquire()
    first.release()
    second.acquire()  # once the first lets go
    second.release()
