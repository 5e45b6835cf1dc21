"""The composition root: builds the session, the controller and the windows.

``smartcopy`` (no arguments) starts the desktop app on the embedded default: the
simulated market and traders, and a local database in the user data directory.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs

from .engine.engine import Engine
from .gc_policy import tune_collector
from .session import Session

log = logging.getLogger("smartcopy.app")

DEFAULT_SEED = 7


def log_path() -> Path:
    """Where the app's log (crashes included) is written."""
    path = Path(platformdirs.user_log_dir("SmartCopy", appauthor=False)) / "smartcopy.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def setup_logging(path: Path) -> None:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def world_factory(seed: int) -> Callable[[Engine, int], Any]:
    """The embedded default world: the simulated market and traders."""
    from .sources.world import World

    def make(engine: Engine, _seed: int) -> Any:
        return World.open(engine, seed=seed)

    return make


def session_factory(db_path: Path | str, seed: int) -> Callable[[], Session]:
    def make() -> Session:
        return Session(db_path, seed=seed, world_factory=world_factory(seed))

    return make


def run_gui(db_path: Path | str | None = None, seed: int = DEFAULT_SEED,
            backfill_days: int = 90, quit_after_ms: int | None = None) -> int:
    """Run the desktop app until its window closes; returns the exit status."""
    os.environ.setdefault("QT_API", "pyside6")
    tune_collector()
    import qasync

    from .cli import default_db_path
    from .ui.controller import Controller
    from .ui.crash import CrashReporter
    from .ui.main_window import MainWindow
    from .ui.qt import QTimer, QtWidgets

    logs = log_path()
    setup_logging(logs)
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
