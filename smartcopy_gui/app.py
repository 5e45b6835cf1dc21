"""The composition root: builds the session, the controller and the windows.

``smartcopy`` (no arguments) starts the desktop app on the embedded default: the
simulated market and traders, and a local database in the user data directory.
``main`` is the program's entry point: the headless commands go to ``cli``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from . import cli
from .bootstrap import DEFAULT_SEED, session_factory
from .logs import configure_logging
from .paths import default_db_path, log_path

log = logging.getLogger("smartcopy.app")

# The exit status of an app that could not use its database (as the cli's).
EXIT_DATABASE = cli.EXIT_DATABASE


def main(argv: list[str] | None = None) -> int:
    """``smartcopy [COMMAND]``: the desktop app, or a headless command."""
    return cli.main(argv, gui=_gui_command)


def _gui_command(args: argparse.Namespace) -> int:
    if args.screenshot:
        from .screenshots import render_all

        render_all(Path(args.screenshot), size=args.size, theme=args.theme)
        return 0
    return run_gui(getattr(args, "db", None), seed=getattr(args, "seed", DEFAULT_SEED))


def run_gui(db_path: Path | str | None = None, seed: int = DEFAULT_SEED,
            backfill_days: int = 90, quit_after_ms: int | None = None) -> int:
    """Run the desktop app until its window closes; returns the exit status: 0, or
    ``EXIT_DATABASE`` when the database could not be used (a dialog said why)."""
    os.environ.setdefault("QT_API", "pyside6")
    import qasync

    from .ui.controller import Controller
    from .ui.crash import CrashReporter
    from .ui.main_window import MainWindow
    from .ui.qt import QTimer, QtWidgets

    logs = configure_logging() or log_path()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    app.setApplicationName("SmartCopy")
    app.setOrganizationName("SmartCopy")
    # Closing the window must not end the Qt loop that qasync runs on before _main has
    # stopped the controller (saved the world, closed the store): _main ends the loop.
    app.setQuitOnLastWindowClosed(False)
    crash = CrashReporter(str(logs))
    crash.install()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(crash.asyncio_handler)
    controller = Controller(session_factory(db_path or default_db_path(), seed))
    window = MainWindow(controller)
    failures: list[str] = []
    dialogs: list[Any] = []

    def on_start_failed(message: str) -> None:
        failures.append(message)
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Critical, "SmartCopy cannot start",
            f"SmartCopy cannot use its database.\n\n{message}",
            QtWidgets.QMessageBox.StandardButton.Close, window)
        box.setObjectName("start_failed_dialog")
        box.setInformativeText(f"Nothing was changed. The log is {logs}.")
        box.finished.connect(window.close)
        dialogs.append(box)
        box.open()

    controller.start_failed.connect(on_start_failed)
    window.show()
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    if quit_after_ms is not None:
        QTimer.singleShot(quit_after_ms, window.close)
    # Ctrl+C in the terminal or a TERM from the session closes the window as the user
    # would: the world is saved and the store closed.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: QTimer.singleShot(0, window.close))
    wake = QTimer()  # Python runs signal handlers only when it runs: wake it up
    wake.timeout.connect(lambda: None)
    wake.start(250)
    try:
        with loop:
            loop.run_until_complete(_main(controller, closed, backfill_days))
    finally:
        crash.uninstall()
    if failures:
        log.error("SmartCopy closed without starting: %s", failures[0])
        return EXIT_DATABASE
    log.info("SmartCopy closed cleanly")
    return 0


async def _main(controller: Any, closed: asyncio.Event, backfill_days: int) -> None:
    start = asyncio.ensure_future(controller.start(backfill_days))
    await closed.wait()
    if not start.done():
        # Closed during the first-launch backfill: it ends after the current simulated
        # day, and the next launch carries on from there.
        controller.interrupt()
        await asyncio.gather(start, return_exceptions=True)
    await controller.stop()


if __name__ == "__main__":
    sys.exit(main())
