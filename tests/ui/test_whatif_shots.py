"""Pictures of the what-if in the app: the copy wizard's amount page with "the last 30
days with this copy" and the trader detail's "How the amount changes the copy", from
the real window over a simulated history, light and dark.

    python -m tests.ui.test_whatif_shots docs/screenshots   # 90 days, both themes

The test renders them from a short history into tmp_path: the pictures are drawn,
with the what-if's figures and the sweep's marker on them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import pytest  # noqa: E402

SHOT_DAYS = 90
TRADER = "meanrev"


async def _until(cond: Callable[[], Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {cond}")
        await asyncio.sleep(0.05)


def render(out_dir: Path, days: int = SHOT_DAYS, theme: str = "light",
           whatif_days: int = 30) -> list[Path]:
    """whatif-wizard-THEME.png and whatif-sweep-THEME.png in ``out_dir``."""
    import qasync

    from smartcopy_gui.bootstrap import session_factory
    from smartcopy_gui.ui.controller import Controller
    from smartcopy_gui.ui.main_window import MainWindow
    from smartcopy_gui.ui.qt import QSettings, QtWidgets

    out_dir.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    shots: list[Path] = []

    def grab(widget: Any, name: str) -> None:
        path = out_dir / f"{name}-{theme}.png"
        widget.grab().save(str(path))
        shots.append(path)

    async def shoot(controller: Controller, window: MainWindow) -> None:
        await controller.start(days)
        controller.timer.stop()  # the world holds still for the pictures
        await _until(lambda: window.trader_list.model.rowCount() > 0)
        window.trader_list.select_trader(TRADER)
        window.on_trader_selected(TRADER)
        sweep = window.trader_detail.sweep
        await _until(lambda: sweep.swept is not None or (
            sweep.trader == TRADER and "Replaying" not in sweep.note.text()))
        await asyncio.sleep(0.3)
        grab(window.trader_detail, "whatif-sweep")
        window.on_copy_requested(TRADER)
        await _until(lambda: window.wizard is not None and window.wizard.isVisible())
        wizard = window.wizard
        assert wizard is not None
        wizard.resize(800, 860)
        wizard.next()
        page = wizard.amount_page
        page.whatif.period.setCurrentIndex(page.whatif.period.findData(whatif_days))
        page.investment.edit.setText("1000")
        await _until(lambda: "Final equity" in page.whatif.figures_text()
                     and not page.whatif.state.text())
        await asyncio.sleep(0.3)
        grab(wizard, "whatif-wizard")
        wizard.reject()
        await controller.stop()

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "layout.ini"), QSettings.Format.IniFormat)
        settings.setValue("ui/theme", theme)
        controller = Controller(session_factory(Path(tmp) / "shots.db", 7))
        window = MainWindow(controller, settings)
        window.resize(1920, 1080)
        window.split_docks()
        window.show()
        try:
            loop.run_until_complete(shoot(controller, window))
        finally:
            window.close()
            window.deleteLater()
            loop.close()
            asyncio.set_event_loop(None)
    return shots


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_whatif_pictures_are_drawn(qapp, tmp_path):
    shots = render(tmp_path, days=9, whatif_days=7)
    assert [p.name for p in shots] == ["whatif-sweep-light.png", "whatif-wizard-light.png"]
    for path in shots:
        assert path.stat().st_size > 20_000, path


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    for name in ("light", "dark"):
        for shot in render(target, theme=name):
            print(shot)
