"""``smartcopy --screenshot DIR``: each main view, with the demo world, as PNG.

Runs offscreen on a temporary database: builds the simulated history, deposits,
copies two traders, lets the world run live a little, and grabs every view.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from .session import Session

SHOT_DAYS = 90


def render_all(out_dir: Path, days: int = SHOT_DAYS, seed: int = 7,
               size: tuple[int, int] = (1920, 1080), theme: str = "light") -> list[Path]:
    """Write the PNGs into ``out_dir`` (the window at ``size``, in ``theme``); returns
    their paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    import qasync

    from .bootstrap import session_factory
    from .ui.controller import Controller
    from .ui.main_window import MainWindow
    from .ui.qt import QSettings, QtWidgets

    out_dir.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "layout.ini"), QSettings.Format.IniFormat)
        settings.setValue("ui/theme", theme)
        controller = Controller(session_factory(Path(tmp) / "shots.db", seed))
        window = MainWindow(controller, settings)
        window.resize(*size)
        window.split_docks()
        window.show()
        try:
            with loop:
                return loop.run_until_complete(_shoot(app, controller, window, out_dir, days))
        finally:
            window.close()


async def _settle(app: Any, ms: int = 400) -> None:
    await asyncio.sleep(ms / 1000)
    app.processEvents()


async def _shoot(app: Any, controller: Any, window: Any, out: Path, days: int) -> list[Path]:
    from .ui.copy_wizard import CopyWizard

    shots: list[Path] = []

    def grab(widget: Any, name: str) -> None:
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        shots.append(path)

    await controller.start(days)
    controller.timer.stop()  # drive the clock by hand for repeatable pictures
    stats = await controller.call(Session.trader_stats)
    ranked = sorted(stats, key=lambda s: s.periods[90].roi or Decimal(-1), reverse=True)
    await controller.deposit(Decimal("5000"))
    inputs = await controller.call(Session.preview_inputs, ranked[0].trader)
    wizard = CopyWizard(inputs, window)
    confirmed: list[Any] = []
    wizard.confirmed.connect(confirmed.append)
    wizard.whatif_requested.connect(lambda q: controller.spawn(window.run_whatif(wizard, q)))
    wizard.resize(760, 620)
    wizard.open()
    await _settle(app)
    grab(wizard, "wizard-1-mode")
    wizard.next()
    from .ui.qt import QtWidgets

    investment = wizard.findChild(QtWidgets.QLineEdit, "investment")
    if investment is not None:
        investment.setText("1000")
    await _settle(app)  # the what-if of the last 30 days starts once the typing pauses
    for _ in range(300):
        if not wizard.amount_page.whatif.state.text():  # no longer "Updating…"
            break
        await _settle(app, 100)
    grab(wizard, "wizard-2-amount")
    wizard.next()
    await _settle(app)
    grab(wizard, "wizard-3-confirm")
    wizard.accept()
    await _settle(app)
    for request in confirmed:
        await controller.copy(request)
    from .ui.copy_wizard import CopyRequest

    await controller.copy(CopyRequest(ranked[1].trader, "fixed_amount", Decimal("800"),
                                      Decimal("60"), None, Decimal("0.005"), None, None))
    # Run the world on until the copies hold positions next to their traders (see below
    # for how long), so the live panel has something to compare; the ROI chart has
    # the history since the copies started.
    controller.set_speed(600)
    holding: set[int] = set()
    for step in range(12 * 24 * 12):  # at most twelve days, five minutes a step
        await controller.tick(5 * 60_000, with_stats=False)
        snap = await controller.call(Session.snapshot)
        holding = {p.copy_id for p in snap.pairs if p.copier_pos is not None}
        # Both copies holding is best; after two days one of them will do.
        if len(holding) >= 2 or (holding and step >= 2 * 24 * 12):
            break
    await controller.refresh(with_stats=True)
    await _settle(app, 800)
    window.positions.table.selectRow(0)  # its chart and its reason, as a user's click would
    await _settle(app)
    window.trader_list.setFocus()
    grab(window, "main-window")
    grab(window.trader_list, "trader-list")
    window.on_trader_selected(ranked[0].trader)
    await _settle(app, 800)
    for _ in range(300):  # its sweep chart: the what-ifs run off the GUI thread
        if window.trader_detail.sweep.swept is not None:
            break
        await _settle(app, 100)
    grab(window.trader_detail, "trader-detail")
    window.positions_dock.raise_()
    await _settle(app, 600)
    grab(window.positions, "live-positions")
    window.copies_dock.raise_()
    await _settle(app)
    grab(window.copies, "copies")
    window.activity_dock.raise_()
    await _settle(app)
    grab(window.activity, "activity")
    await controller.stop()
    return shots
