"""The controller's start when the disk fills during the first launch, and two
refreshes racing for the activity log."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from smartcopy_gui.bootstrap import session_factory
from smartcopy_gui.session import ActivityRow, Session, SessionSnapshot
from smartcopy_gui.ui.controller import Controller


def run(coro):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def test_a_disk_filling_up_during_the_first_launch_is_reported_not_hung(qtbot, db_path):
    make = session_factory(db_path)

    def session_on_a_full_disk(upgrade_progress=None) -> Session:
        session = make(upgrade_progress)
        pages = session.store.conn.execute("PRAGMA page_count").fetchone()[0]
        session.store.conn.execute(f"PRAGMA max_page_count={pages + 5}")
        return session

    controller = Controller(session_on_a_full_disk)
    failed: list[str] = []
    started: list[bool] = []
    controller.start_failed.connect(failed.append)
    controller.started.connect(lambda: started.append(True))
    run(controller.start(2))
    run(controller.stop())
    assert started == []
    [message] = failed
    assert "disk is full" in message and str(db_path) in message


class RowsSession:
    """A session whose activity log gains three rows after the start."""

    def __init__(self) -> None:
        self.rows: list[ActivityRow] = []

    def add_rows(self) -> None:
        self.rows = [ActivityRow(seq, 0, 1, "alice", "BTCUSDT", "open", "copied", None,
                                 "0.1", "60000", f"e{seq}") for seq in (1, 2, 3)]

    def activity(self, after_seq: int = 0, limit: int = 5000) -> list[ActivityRow]:
        return [r for r in self.rows if r.seq > after_seq][:limit]

    def snapshot(self) -> SessionSnapshot:
        return SessionSnapshot(0, Decimal(0))

    def roi_samples(self) -> list[tuple[int, int, Decimal, Decimal]]:
        return []

    def trader_stats(self) -> list[object]:
        return []

    def needs_backfill(self) -> bool:
        return False

    def close(self) -> None:
        pass


def test_overlapping_refreshes_never_show_an_outcome_twice(qtbot):
    session = RowsSession()
    controller = Controller(lambda _progress=None: session)  # type: ignore[arg-type, return-value]
    shown: list[int] = []
    controller.updated.connect(lambda update: shown.extend(r.seq for r in update.activity))

    async def deposit_and_tick() -> None:
        await controller.start()
        session.add_rows()
        # A deposit's refresh and a clock tick's, both asked before either returns.
        await asyncio.gather(controller.refresh(), controller.refresh())
        await controller.stop()

    run(deposit_and_tick())
    assert shown == [1, 2, 3]


def test_an_older_database_is_upgraded_with_its_progress_in_the_window(qtbot, tmp_path,
                                                                      monkeypatch):
    """A database written by an earlier version is converted when the app opens it, and
    the window's progress bar says so while it runs (here: from the first step on)."""
    import gzip

    from smartcopy_gui.store import store as store_module
    from smartcopy_gui.ui.main_window import MainWindow
    from smartcopy_gui.ui.qt import QSettings
    from tests.test_store_migration import OLD_DB

    monkeypatch.setattr(store_module, "PROGRESS_AFTER_S", 0.0)
    db = tmp_path / "old.db"
    db.write_bytes(gzip.decompress(OLD_DB.read_bytes()))
    db.chmod(0o600)
    controller = Controller(session_factory(db))
    window = MainWindow(controller, QSettings(str(tmp_path / "s.ini"),
                                              QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    shown: list[str] = []
    controller.upgrade_progress.connect(
        lambda done, total: shown.append(window.statusBar().currentMessage()))

    async def open_and_close() -> None:
        await controller.start(0)
        await controller.stop()

    run(open_and_close())
    qtbot.waitUntil(lambda: bool(shown))  # the engine thread's signals, delivered
    assert "Upgrading your database" in shown[-1]
    assert window.progress.format().startswith("Upgrading the database")
