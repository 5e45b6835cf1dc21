"""Crashes surface as a dialog and a log entry, never as a silent freeze."""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

from ..store import StoreError
from .qt import QObject, QtWidgets, Signal, Slot

log = logging.getLogger("smartcopy.crash")


class CrashReporter(QObject):
    """Routes uncaught exceptions from any thread to a log entry and a dialog."""

    crashed = Signal(str, str, bool)  # summary, details, whether the data is known safe

    def __init__(self, log_path: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self.reported: list[str] = []
        self.crashed.connect(self.on_crashed)
        self._previous = (sys.excepthook, threading.excepthook)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def excepthook(self, exc_type: type[BaseException], exc: BaseException,
                   tb: TracebackType | None) -> None:
        self.report(exc_type, exc, tb, "main thread")

    def thread_excepthook(self, args: Any) -> None:
        where = args.thread.name if args.thread is not None else "a thread"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, where)

    def asyncio_handler(self, loop: Any, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is None:
            log.error("asyncio: %s", context.get("message"))
            return
        self.report(type(exc), exc, exc.__traceback__, "an async task")

    def report(self, exc_type: type[BaseException], exc: BaseException | None,
               tb: TracebackType | None, where: str) -> None:
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.critical("Uncaught exception in %s:\n%s", where, details)
        summary = f"{exc_type.__name__}: {exc}"
        self.reported.append(summary)
        # Every event is written whole or not at all, so an error anywhere but in the
        # database itself leaves the data as it was; a database error says nothing of it.
        known_safe = not isinstance(exc, StoreError | sqlite3.Error | OSError)
        # A queued signal: safe from any thread, shown by the GUI thread.
        self.crashed.emit(summary, details, known_safe)

    @Slot(str, str, bool)
    def on_crashed(self, summary: str, details: str, known_safe: bool) -> None:
        app = QtWidgets.QApplication.instance()
        if app is None:
            return
        data = ("Your data is safe: every event is saved whole or not at all."
                if known_safe else
                "The error came from reading or writing the database, so whether the last "
                "change was saved is not known: close SmartCopy and start it again to see.")
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Critical, "SmartCopy hit an error",
                                    f"{summary}\n\nThe details were written to {self.log_path}. "
                                    f"{data}", QtWidgets.QMessageBox.StandardButton.Ok)
        box.setObjectName("crash_dialog")
        box.setDetailedText(details)
        box.open()
        self._box = box
