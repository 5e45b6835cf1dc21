"""Uncaught errors from any thread end as a dialog and a log entry, not a silent freeze."""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading

import pytest

from smartcopy_gui.ui.crash import CrashReporter
from smartcopy_gui.ui.qt import QtWidgets


@pytest.fixture
def reporter(qtbot, tmp_path):
    crash = CrashReporter(str(tmp_path / "smartcopy.log"))
    crash.install()
    yield crash
    crash.uninstall()
    for w in QtWidgets.QApplication.topLevelWidgets():
        if w.objectName() == "crash_dialog":
            w.close()


def crash_dialog():
    return next((w for w in QtWidgets.QApplication.topLevelWidgets()
                 if w.objectName() == "crash_dialog" and w.isVisible()), None)


def test_a_worker_thread_error_shows_a_dialog_and_is_logged(qtbot, reporter, caplog):
    def work():
        raise ValueError("engine blew up")

    with caplog.at_level(logging.CRITICAL, logger="smartcopy.crash"):
        t = threading.Thread(target=work, name="engine_0")
        t.start()
        t.join()
        qtbot.waitUntil(lambda: crash_dialog() is not None, timeout=3000)
    box = crash_dialog()
    assert "ValueError: engine blew up" in box.text()
    assert reporter.log_path in box.text()
    assert "Traceback" in box.detailedText() and "work" in box.detailedText()
    [record] = [r for r in caplog.records if r.name == "smartcopy.crash"]
    assert "engine_0" in record.getMessage() and "engine blew up" in record.getMessage()


def test_a_main_thread_error_goes_through_the_installed_hook(qtbot, reporter):
    assert sys.excepthook == reporter.excepthook
    try:
        raise KeyError("missing")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: crash_dialog() is not None, timeout=3000)
    assert "KeyError" in crash_dialog().text()
    assert reporter.reported == ["KeyError: 'missing'"]


def test_uninstall_restores_the_previous_hooks(tmp_path):
    before = (sys.excepthook, threading.excepthook)
    crash = CrashReporter(str(tmp_path / "x.log"))
    crash.install()
    assert sys.excepthook != before[0]
    crash.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def test_a_database_error_does_not_claim_the_data_is_safe(qtbot, reporter):
    def work():
        raise sqlite3.DatabaseError("database disk image is malformed")

    t = threading.Thread(target=work, name="engine_0")
    t.start()
    t.join()
    qtbot.waitUntil(lambda: crash_dialog() is not None, timeout=3000)
    text = crash_dialog().text()
    assert "database disk image is malformed" in text
    assert "safe" not in text and "not known" in text


def test_an_error_outside_the_database_says_the_data_is_safe(qtbot, reporter):
    try:
        raise ValueError("a panel blew up")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: crash_dialog() is not None, timeout=3000)
    assert "Your data is safe" in crash_dialog().text()
