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

    def session_on_a_full_disk() -> Session:
        session = make()
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
    controller = Controller(lambda: session)  # type: ignore[arg-type, return-value]
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
