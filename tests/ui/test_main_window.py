"""The main window without a running world: fits small screens, deposits, menus and
shortcuts, the theme and speed kept across restarts, notifications."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from smartcopy_gui.session import ActivityRow, CopyRow, PositionPair, SessionSnapshot
from smartcopy_gui.ui.controller import Controller, LiveUpdate
from smartcopy_gui.ui.main_window import DepositDialog, MainWindow
from smartcopy_gui.ui.notifications import CopyAlerts, TrayNotifier
from smartcopy_gui.ui.qt import QSettings, Qt, QtCore, QtGui, QtWidgets
from smartcopy_gui.ui.settings import SettingsDialog
from smartcopy_gui.ui.shared import DARK, LIGHT, colors
from smartcopy_gui.ui.theme import apply_theme

# The offscreen platform warns on every show(); it says nothing about the widget.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

T0 = 1_717_243_200_000  # 2024-06-01T12:00:00Z
ALICE = CopyRow(copy_id=1, trader="averager", trader_name="Dmitri Averages", mode="smart",
                status="active", investment=D(1000), equity=D(1000), pnl=D(0), roi=D(0),
                released=D(0))
LABELS = [(1, "Dmitri Averages · Smart · #1")]


class FakeNotifier:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def show(self, title: str, message: str) -> None:
        self.shown.append((title, message))


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def light_again():
    yield
    apply_theme("light")  # one QApplication for every test: leave it as found


def make_window(qtbot, settings, notifier=None) -> MainWindow:
    window = MainWindow(Controller(lambda _progress=None: None),  # type: ignore[arg-type]
                        settings, notifier or FakeNotifier())
    qtbot.addWidget(window)
    return window


def activate(qtbot, window: MainWindow) -> None:
    """Show the window and wait until it takes the keyboard (shortcuts need that)."""
    window.show()
    qtbot.waitUntil(lambda: (window.activateWindow(),
                             QtWidgets.QApplication.activeWindow() is window)[1],
                    timeout=2000)


@pytest.fixture
def window(qtbot, settings):
    return make_window(qtbot, settings)


def outcome(seq, action="open", status="copied", reason=None, symbol="BTCUSDT"):
    return ActivityRow(seq=seq, ts=T0 + seq, copy_id=1, trader="averager", symbol=symbol,
                       action=action, status=status, reason=reason, qty="0.01",
                       price="60000", event_id=f"e{seq}")


def update(copies=(ALICE,), activity=(), pairs=(), balance=D("6976.925")) -> LiveUpdate:
    snapshot = SessionSnapshot(T0, balance, list(pairs), list(copies))
    return LiveUpdate(snapshot, list(activity), [], copy_labels=LABELS)


# ---------------------------------------------------------------------- fits the screen
@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1366, 768)])
def test_the_window_fits_a_small_screen(qtbot, window, width, height):
    # The screen's available geometry: the size less a 40 px panel.
    available = QtCore.QSize(width, height - 40)
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert minimum.width() <= available.width() and minimum.height() <= available.height()
    window.resize(available)
    window.show()
    qtbot.waitExposed(window)
    assert window.size() == available
    # The bottom tabs, Cancel copy and the status bar are on screen.
    bottom = window.positions_dock.geometry()
    assert bottom.bottom() < window.statusBar().geometry().top()
    assert bottom.height() >= 150
    window.copies_dock.raise_()
    qtbot.waitUntil(window.copies.cancel_button.isVisible, timeout=1000)
    button = window.copies.cancel_button
    corner = button.mapTo(window, QtCore.QPoint(button.width(), button.height()))
    assert window.rect().contains(corner)
    assert window.statusBar().isVisible()


# ---------------------------------------------------------------------- deposits
@pytest.mark.parametrize(("typed", "message"), [
    ("1e309", "The deposit can be at most 10,000,000,000 USDT"),
    ("99999999999999999999", "The deposit can be at most 10,000,000,000 USDT"),
    ("0.000000001", "Use at most 8 decimal places"),
    ("250%", "Enter a number, e.g. 1000"),
    ("1,0,0", "Enter a number, e.g. 1000"),
    ("5_000", "Enter a number, e.g. 1000"),
])
def test_a_bad_deposit_gets_its_message_and_no_dialog(qtbot, window, typed, message):
    window.show()
    window.deposit_action.trigger()
    dialog = window.findChild(DepositDialog)
    qtbot.keyClicks(dialog.amount, typed)
    assert dialog.message() == message
    ok = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)  # Enter does not submit it either
    assert dialog.isVisible()
    assert window.findChildren(QtWidgets.QMessageBox) == []


def test_a_deposit_is_confirmed_in_the_status_bar(qtbot, window):
    window.show()
    window.deposit_action.trigger()
    dialog = window.findChild(DepositDialog)
    qtbot.keyClicks(dialog.amount, "1e3")  # the same verdict as in the wizard
    assert dialog.message() == "" and dialog.value() == D(1000)
    window.controller.deposited.emit(D(1000))  # what the controller says once applied
    assert window.statusBar().currentMessage() == \
        "Deposited 1,000 USDT into your contract account"


# ---------------------------------------------------------------------- names and words
def test_copies_are_named_by_trader_and_mode_everywhere(qtbot, window):
    window.on_updated(update(activity=[outcome(1)]))
    window.positions.flush()
    assert window.copies.model.index(0, 0).data() == "Dmitri Averages · Smart · #1"
    assert window.activity.table.model().index(0, 1).data() == "Dmitri Averages · Smart · #1"
    assert window.positions.chart.copy_combo.currentText() == "Dmitri Averages · Smart · #1"
    pair = PositionPair(1, "averager", "ETHUSDT", None, None, None, None, None, None, "x")
    window.on_updated(update(pairs=[pair]))
    window.positions.flush()
    assert window.positions.model.index(0, 0).data() == "Dmitri Averages · Smart · #1"
    assert window.balance.text() == "Contract balance: 6,976.92 USDT"  # as in the wizard


def test_the_hint_is_gone_once_a_copy_exists(qtbot, window):
    window.show()
    window.on_updated(update(copies=()))
    window.positions.flush()
    assert "Copy a trader" in window.positions.hint.text()
    window.on_updated(update())
    window.positions.flush()
    assert "Copy a trader" not in window.positions.hint.text()


# ---------------------------------------------------------------------- menus and keys
def test_the_menus_offer_the_desktop_basics(window):
    menus = {a.text().replace("&", ""): [x.text() for x in a.menu().actions() if x.text()]
             for a in window.menuBar().actions()}
    assert menus["File"][:2] == ["Deposit…", "Export activity…"]
    assert "Quit" in menus["File"] and "Settings…" in menus["File"]
    assert {"Traders", "Trader detail", "Live positions", "Copies", "Activity", "Theme",
            "Speed"} <= set(menus["View"])
    assert menus["Help"] == ["Keyboard shortcuts", "About SmartCopy"]
    assert window.quit_action.shortcut() == QtGui.QKeySequence("Ctrl+Q")
    assert not window.windowIcon().isNull()
    assert window.windowIcon().availableSizes()[-1].width() >= 256  # sharp on HiDPI docks


def test_f1_lists_the_shortcuts_and_about_names_the_version(qtbot, window):
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    box = window.findChild(QtWidgets.QMessageBox, "shortcuts_box")
    assert box is not None and box.isVisible()
    assert "Ctrl+F" in box.text() and "Search the trader list" in box.text()
    window.about_action.trigger()
    about = window.findChild(QtWidgets.QMessageBox, "about_box")
    assert "SmartCopy 0." in about.text() and "Data:" in about.text()


def test_ctrl_f_goes_to_the_trader_search_and_ctrl_q_quits(qtbot, window):
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.trader_list.search.hasFocus, timeout=1000)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=1000)


# ---------------------------------------------------------------------- kept across restarts
def test_the_theme_is_kept_after_a_restart(qtbot, settings):
    first = make_window(qtbot, settings)
    assert not colors().dark
    first.set_theme("dark")
    assert colors() is DARK
    first.close()
    apply_theme("light")  # as a new process would start

    second = make_window(qtbot, settings)
    assert colors() is DARK and second.dark
    palette = QtWidgets.QApplication.instance().palette()
    assert palette.color(QtGui.QPalette.ColorRole.Window).lightness() < 128
    assert second.findChild(QtGui.QAction, "theme_dark").isChecked()
    # The charts follow: a dark background, the dark theme's pens.
    chart = second.positions.chart.plot
    assert chart.backgroundBrush().color().name() == DARK.chart_background
    legend = chart.getPlotItem().legend
    assert all(DARK.chart_foreground in label.item.toHtml() for _, label in legend.items)
    second.set_theme("light")
    assert colors() is LIGHT
    assert chart.backgroundBrush().color().name() == LIGHT.chart_background
    assert all(LIGHT.chart_foreground in label.item.toHtml() for _, label in legend.items)


def test_the_speed_is_kept_after_a_restart(qtbot, settings):
    first = make_window(qtbot, settings)
    first.speed_box.setCurrentIndex(first.speed_box.findData(600))
    assert first.controller.speed == 600
    second = make_window(qtbot, settings)
    assert second.controller.speed == 600 and second.speed_box.currentData() == 600


# ---------------------------------------------------------------------- notifications
def test_a_liquidation_is_notified(qtbot, settings):
    notifier = FakeNotifier()
    window = make_window(qtbot, settings, notifier)
    # The first update carries the history of earlier launches: nothing to notify.
    window.on_updated(update(activity=[outcome(1, action="liquidation", status="done")]))
    assert notifier.shown == []
    window.on_updated(update(activity=[outcome(2)]))
    assert notifier.shown == []  # an ordinary copied open says nothing
    window.on_updated(update(activity=[outcome(3, action="liquidation", status="done")]))
    assert notifier.shown == [("Copy liquidated", "Dmitri Averages · Smart · #1: your "
                                                  "BTCUSDT position was liquidated.")]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_notifications_are_throttled_and_can_be_turned_off():
    notifier, clock = FakeNotifier(), Clock()
    alerts = CopyAlerts(notifier, min_interval_s=10, clock=clock)

    def label(copy_id: int) -> str:
        return "Dmitri Averages · Smart · #1"

    alerts.update([], [ALICE], label)
    skipped = outcome(1, action="close", status="skipped", reason="position_not_copied")
    alerts.update([skipped], [ALICE], label)
    assert notifier.shown == [(
        "Trader's close not copied",
        "Dmitri Averages · Smart · #1: the trader closed BTCUSDT but your copy did not — "
        "the opening of this position was not copied.")]
    stopped = replace(ALICE, status="stopped")
    alerts.update([outcome(2, action="liquidation", status="done")], [stopped], label)
    assert len(notifier.shown) == 1  # within 10 s of the last: held back, not lost
    clock.now += 10
    alerts.update([], [stopped], label)
    assert notifier.shown[1] == ("Copy liquidated", "Dmitri Averages · Smart · #1: your "
                                 "BTCUSDT position was liquidated. … and 1 more (see the "
                                 "Activity log).")
    alerts.enabled = False
    clock.now += 60
    alerts.update([outcome(3, action="liquidation", status="done")], [ALICE], label)
    assert len(notifier.shown) == 2


def test_a_stop_loss_stop_is_notified():
    notifier = FakeNotifier()
    alerts = CopyAlerts(notifier, clock=Clock())
    alerts.update([], [ALICE], lambda _: "Dmitri Averages · Smart · #1")
    alerts.update([], [replace(ALICE, status="stopped")],
                  lambda _: "Dmitri Averages · Smart · #1")
    assert notifier.shown == [("Copy stopped by its stop-loss", "Dmitri Averages · Smart · "
                               "#1 ended: its equity fell to the stop-loss.")]


def test_the_settings_dialog_turns_notifications_off_for_good(qtbot, settings):
    notifier = FakeNotifier()
    window = make_window(qtbot, settings, notifier)
    window.show()
    window.settings_action.trigger()
    dialog = window.findChild(SettingsDialog)
    assert dialog.notifications  # on by default
    dialog.notify_box.setChecked(False)
    dialog.theme_box.setCurrentIndex(dialog.theme_box.findData("dark"))
    dialog.accept()
    assert colors() is DARK
    window.on_updated(update())
    window.on_updated(update(activity=[outcome(2, action="liquidation", status="done")]))
    assert notifier.shown == []
    again = make_window(qtbot, settings, notifier)  # the next launch
    again.settings_action.trigger()
    dialog = again.findChild(SettingsDialog)
    assert not dialog.notifications and dialog.theme == "dark"


def test_the_export_starts_in_the_folder_last_used(qtbot, settings, tmp_path):
    window = make_window(qtbot, settings)
    window.show()
    window.export_action.trigger()
    dialog = window.findChild(QtWidgets.QFileDialog, "export_dialog")
    assert Path(dialog.directory().absolutePath()) == Path.home()  # never the program's
    folder = tmp_path / "exports"
    folder.mkdir()
    dialog.fileSelected.emit(str(folder / "mine.csv"))
    assert (folder / "mine.csv").is_file()
    dialog.close()
    again = make_window(qtbot, settings)  # the next launch
    again.show()
    again.export_action.trigger()
    dialog = again.findChild(QtWidgets.QFileDialog, "export_dialog")
    assert Path(dialog.directory().absolutePath()) == folder
    dialog.close()


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: no windows
def test_without_a_tray_the_notification_is_in_the_status_bar(qtbot, window):
    notifier = TrayNotifier(window.windowIcon(), window)
    window.show()
    notifier.show("Copy liquidated", "Dmitri Averages · Smart · #1: your BTCUSDT position "
                                     "was liquidated.")
    assert window.statusBar().currentMessage() == (
        "Copy liquidated: Dmitri Averages · Smart · #1: your BTCUSDT position was liquidated.")
    window.showMinimized()
    notifier.show_window()  # what a click on the tray icon or its message does
    assert not window.isMinimized()
