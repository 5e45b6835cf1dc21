"""The copies panel: the copier's copies and cancelling one after a confirmation."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from smartcopy_gui.session import CopyRow
from smartcopy_gui.ui.copies_panel import CopiesPanel
from smartcopy_gui.ui.qt import Qt, QtWidgets

# The offscreen platform warns on every show(); it says nothing about the widget.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

ALICE = CopyRow(copy_id=1, trader="t-alice", trader_name="Alice", mode="smart",
                status="active", investment=D(1000), equity=D("1123.45"), pnl=D("123.45"),
                roi=D("0.1235"), released=D(0))
BOB = CopyRow(copy_id=2, trader="t-bob", trader_name="Bob", mode="fixed_amount",
              status="cancelled", investment=D(500), equity=D(0), pnl=D("-42.10"),
              roi=D("-0.0842"), released=D("457.90"))


@pytest.fixture
def panel(qtbot):
    widget = CopiesPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.set_copies([ALICE, BOB])
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def texts(panel: CopiesPanel, row: int) -> list[str]:
    model = panel.table.model()
    return [model.index(row, c).data() for c in range(model.columnCount())]


def click_row(qtbot, panel: CopiesPanel, row: int) -> None:
    rect = panel.table.visualRect(panel.table.model().index(row, 1))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def button(box: QtWidgets.QMessageBox, text: str) -> QtWidgets.QAbstractButton:
    return next(b for b in box.buttons() if b.text() == text)


def test_copies_show_their_money(panel):
    assert texts(panel, 0) == ["Alice · Smart · #1", "Active", "1,000.00", "1,123.45",
                               "123.45", "+12.35%", "0.00"]
    assert texts(panel, 1) == ["Bob · Fixed amount · #2", "Cancelled", "500.00", "0.00",
                               "-42.10", "-8.42%", "457.90"]


def test_a_copy_that_ends_shows_its_status_whole(qtbot):
    widget = CopiesPanel()
    qtbot.addWidget(widget)
    widget.set_copies([ALICE])  # sized while "Active"
    widget.set_copies([replace(ALICE, status="cancelled")])
    widget.show()
    width = widget.table.horizontalHeader().sectionSize(1)
    assert widget.table.fontMetrics().horizontalAdvance("Cancelled") < width  # not "Can…"


def test_cancel_is_enabled_only_for_an_active_selected_copy(qtbot, panel):
    assert not panel.cancel_button.isEnabled()  # nothing selected
    click_row(qtbot, panel, 1)
    assert not panel.cancel_button.isEnabled()  # Bob's copy has ended
    click_row(qtbot, panel, 0)
    assert panel.cancel_button.isEnabled()

    panel.set_copies([replace(ALICE, status="cancelled"), BOB])  # ended meanwhile
    assert not panel.cancel_button.isEnabled()


def test_confirming_the_cancel_emits_the_trader(qtbot, panel):
    click_row(qtbot, panel, 0)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)

    box = panel.confirm_box
    assert box is not None and box.isVisible()
    said = f"{box.text()} {box.informativeText()}"
    assert "closes all of this copy's positions at market" in said
    assert "settles the profit share with Alice" in said
    assert "releases the remaining funds to your contract account" in said
    assert {b.text() for b in box.buttons()} == {"Cancel copy", "Keep copying"}

    with qtbot.waitSignal(panel.cancel_requested, timeout=1000) as blocker:
        qtbot.mouseClick(button(box, "Cancel copy"), Qt.MouseButton.LeftButton)
    assert blocker.args == ["t-alice"]
    assert not box.isVisible()


def test_keep_copying_emits_nothing(qtbot, panel):
    click_row(qtbot, panel, 0)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    box = panel.confirm_box
    with qtbot.assertNotEmitted(panel.cancel_requested):
        qtbot.mouseClick(button(box, "Keep copying"), Qt.MouseButton.LeftButton)
    assert not box.isVisible()


def test_show_released_tells_the_amount(qtbot, panel):
    panel.show_released("Alice", D("1118.2"))

    box = panel.released_box
    assert box.isVisible()
    assert box.text() == "Released 1,118.20 USDT to your contract account."
    assert "Alice" in box.informativeText()
    assert "Released 1,118.20 USDT to your contract account" in panel.status.text()
    qtbot.mouseClick(box.button(QtWidgets.QMessageBox.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)
    assert not box.isVisible()
    assert "Released 1,118.20 USDT" in panel.status.text()  # kept after the message


def test_draws_every_cell_unclipped(qtbot, panel, tmp_path):
    carol = CopyRow(3, "t-carol", "Carol the Scalper", "fixed_ratio", "active", D(25000),
                    D("24380.12"), D("-619.88"), D("-0.0248"), D(0))
    panel.set_copies([ALICE, BOB, carol])
    click_row(qtbot, panel, 0)
    panel.show_released("Bob", D("457.90"))
    panel.released_box.close()
    qtbot.wait(50)
    path = tmp_path / "copies_panel.png"
    assert panel.grab().save(str(path)) and path.stat().st_size > 5_000
    model, header = panel.table.model(), panel.table.horizontalHeader()
    for c in range(model.columnCount()):  # no "Can…" for Cancelled
        for r in range(model.rowCount()):
            text = model.index(r, c).data()
            assert panel.table.fontMetrics().horizontalAdvance(text) < header.sectionSize(c), \
                text

    click_row(qtbot, panel, 0)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitExposed(panel.confirm_box)
    qtbot.wait(50)
    assert panel.confirm_box.grab().save(str(tmp_path / "confirm.png"))
    assert "Carol" not in panel.confirm_box.text() and "Alice" in panel.confirm_box.text()
    panel.confirm_box.close()
