"""The main window: menus, toolbar (clock, speed, pause, balance, deposit), dockable
panels, the status bar and desktop notifications."""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from qasync import asyncSlot

from .. import __version__
from ..domain.copy_form import DEPOSIT_RULE
from ..domain.formats import fmt_usdt
from ..session import Session, SessionSnapshot
from ..store import StoreError
from ..store.stats import TraderStats
from ..whatif.runner import WhatIfError
from .activity_log import ActivityLog
from .controller import SPEEDS, Controller, LiveUpdate
from .copies_panel import CopiesPanel
from .copy_wizard import CopyRequest, CopyWizard, WhatIfQuery
from .icons import app_icon
from .notifications import CopyAlerts, Notifier, TrayNotifier
from .positions_panel import PositionsPanel
from .qt import QSettings, Qt, QtCore, QtGui, QtWidgets, Slot
from .settings import AppSettings, SettingsDialog
from .shared import error_style, fmt_balance
from .theme import SYSTEM, THEMES, apply_theme
from .trader_detail import TraderDetailView
from .trader_list import TraderListView
from .whatif_views import SWEEP_DAYS

log = logging.getLogger("smartcopy.ui")

SHORTCUTS = [
    ("Ctrl+F", "Search the trader list"),
    ("Enter", "Copy the selected trader (in the trader list)"),
    ("Ctrl+D", "Deposit to your contract account"),
    ("Ctrl+E", "Export the activity log as CSV"),
    ("Space", "Pause or resume the simulated world"),
    ("Ctrl+,", "Settings (theme, notifications)"),
    ("F1", "This list"),
    ("Ctrl+W", "Close the window"),
    ("Ctrl+Q", "Quit"),
]


def speed_text(speed: int) -> str:
    return "real time" if speed == 1 else f"{speed}×"


class DepositDialog(QtWidgets.QDialog):
    """Asks for a deposit amount; OK only with a valid one, and a message in place
    for anything else (never an error dialog)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Deposit to contract account")
        self.amount = QtWidgets.QLineEdit(objectName="deposit_amount")
        self.amount.setPlaceholderText("USDT, e.g. 1000")
        self.error = QtWidgets.QLabel(objectName="deposit_error")
        self.error.setStyleSheet(error_style())
        self.error.setWordWrap(True)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Amount (USDT)", self.amount)
        form.addRow("", self.error)
        form.addRow(self.buttons)
        self.setMinimumWidth(420)
        self.amount.textChanged.connect(self.on_text_changed)
        self.on_text_changed("")

    def value(self) -> Decimal | None:
        return DEPOSIT_RULE.check(self.amount.text()).value

    def message(self) -> str:
        """What is wrong with the typed amount ("" when it is fine or empty)."""
        return self.error.text()

    def accept(self) -> None:
        if self.value() is not None:  # Enter in the field with a bad amount does nothing
            super().accept()

    @Slot(str)
    def on_text_changed(self, text: str) -> None:
        checked = DEPOSIT_RULE.check(text)
        self.error.setText(checked.error if text.strip() else "")
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setEnabled(
            checked.value is not None)


def scrolling(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a scroll area: on a small screen its dock can be shorter than the
    widget's minimum and scrolls, rather than push the window past the screen."""
    area = QtWidgets.QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setMinimumSize(120, 60)
    return area


def default_size() -> QtCore.QSize:
    """The first launch's window: most of the screen, up to 1920 × 1080 (the trader
    list's columns and the positions' divergence all fit from about 1800 wide); 1440 ×
    900 where the screen says nothing useful (offscreen, or smaller than 1280 × 720)."""
    screen = QtGui.QGuiApplication.primaryScreen()
    avail = screen.availableGeometry() if screen is not None else None
    if avail is None or avail.width() < 1280 or avail.height() < 720:
        return QtCore.QSize(1440, 900)
    return QtCore.QSize(min(1920, avail.width() * 92 // 100),
                        min(1080, avail.height() * 92 // 100))


class MainWindow(QtWidgets.QMainWindow):
    """Trader list, trader detail, live positions, copies and activity, as docks.

    ``settings`` is where the layout, theme, speed and the like are kept (the user's
    SmartCopy settings by default); ``notifier`` shows desktop notifications (the
    system tray's by default)."""

    def __init__(self, controller: Controller, settings: QSettings | None = None,
                 notifier: Notifier | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.app_settings = AppSettings(settings)
        self.settings = self.app_settings.qsettings
        self.setWindowTitle("SmartCopy — copy trading, side by side")
        icon = app_icon()
        self.setWindowIcon(icon)
        QtWidgets.QApplication.setWindowIcon(icon)  # the wizard and dialogs too
        self.setDockNestingEnabled(True)
        self.dark = apply_theme(self.app_settings.theme)
        controller.set_speed(self.app_settings.speed(SPEEDS, controller.speed))
        self._stats: dict[str, TraderStats] = {}
        self._detail_trader: str | None = None
        self.wizard: CopyWizard | None = None
        self.dialog: QtWidgets.QDialog | None = None  # the one open dialog of the menus
        self._build_views()
        self._build_toolbar()
        self._build_menus()
        self._build_status()
        self.alerts = CopyAlerts(notifier or TrayNotifier(self.windowIcon(), self))
        self.alerts.enabled = self.app_settings.notifications
        self._wire()
        self.resize(default_size())
        self.split_docks()
        self._restore_layout()

    # ------------------------------------------------------------------ building
    def _dock(self, title: str, widget: QtWidgets.QWidget, area: Qt.DockWidgetArea
              ) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_views(self) -> None:
        self.trader_list = TraderListView()
        self.trader_detail = TraderDetailView()
        self.positions = PositionsPanel()
        self.copies = CopiesPanel()
        self.activity = ActivityLog()
        self.activity.export_dir = self.app_settings.export_dir
        self.setCentralWidget(None)
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.trader_dock = self._dock("Traders", scrolling(self.trader_list), left)
        self.detail_dock = self._dock("Trader detail", scrolling(self.trader_detail), right)
        self.positions_dock = self._dock("Live positions", scrolling(self.positions), bottom)
        self.copies_dock = self._dock("Copies", scrolling(self.copies), bottom)
        self.activity_dock = self._dock("Activity", scrolling(self.activity), bottom)
        self.tabifyDockWidget(self.positions_dock, self.copies_dock)
        self.tabifyDockWidget(self.copies_dock, self.activity_dock)
        self.positions_dock.raise_()

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("World")
        bar.setObjectName("toolbar_world")
        bar.setMovable(False)
        self.pause_action = QtGui.QAction("Pause", self, checkable=True)
        self.pause_action.setObjectName("pause")
        self.pause_action.setToolTip("Pause or resume the simulated world (Space)")
        self.pause_action.setShortcut(QtGui.QKeySequence(Qt.Key.Key_Space))
        bar.addAction(self.pause_action)
        bar.addWidget(QtWidgets.QLabel(" Speed "))
        self.speed_box = QtWidgets.QComboBox(objectName="speed")
        for speed in SPEEDS:
            self.speed_box.addItem(speed_text(speed), speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(self.controller.speed))
        bar.addWidget(self.speed_box)
        bar.addSeparator()
        self.clock = QtWidgets.QLabel(" — ", objectName="clock")
        self.clock.setToolTip("Simulated market time (UTC)")
        bar.addWidget(self.clock)
        bar.addSeparator()
        self.balance = QtWidgets.QLabel("Contract balance: —", objectName="balance")
        bar.addWidget(self.balance)
        self.deposit_action = QtGui.QAction("Deposit…", self)
        self.deposit_action.setObjectName("deposit")
        self.deposit_action.setShortcut(QtGui.QKeySequence("Ctrl+D"))
        bar.addAction(self.deposit_action)

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file = menus.addMenu("&File")
        file.addAction(self.deposit_action)
        self.export_action = file.addAction("Export activity…")
        self.export_action.setObjectName("export_activity")
        self.export_action.setShortcut(QtGui.QKeySequence("Ctrl+E"))
        file.addSeparator()
        self.settings_action = file.addAction("Settings…")
        self.settings_action.setObjectName("settings")
        self.settings_action.setShortcut(QtGui.QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QtGui.QAction.MenuRole.PreferencesRole)
        file.addSeparator()
        self.close_action = file.addAction("Close window")
        self.close_action.setShortcut(QtGui.QKeySequence.StandardKey.Close)
        self.quit_action = file.addAction("Quit")
        self.quit_action.setObjectName("quit")
        self.quit_action.setShortcut(QtGui.QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QtGui.QAction.MenuRole.QuitRole)

        view = menus.addMenu("&View")
        for dock in (self.trader_dock, self.detail_dock, self.positions_dock,
                     self.copies_dock, self.activity_dock):
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self.find_action = view.addAction("Search traders")
        self.find_action.setObjectName("find_trader")
        self.find_action.setShortcut(QtGui.QKeySequence.StandardKey.Find)
        theme_menu = view.addMenu("Theme")
        self.theme_actions = QtGui.QActionGroup(self)
        for code, name in THEMES.items():
            action = theme_menu.addAction(name)
            action.setCheckable(True)
            action.setData(code)
            action.setObjectName(f"theme_{code}")
            action.setChecked(code == self.app_settings.theme)
            self.theme_actions.addAction(action)
        speed_menu = view.addMenu("Speed")
        self.speed_actions = QtGui.QActionGroup(self)
        for speed in SPEEDS:
            action = speed_menu.addAction(speed_text(speed))
            action.setCheckable(True)
            action.setData(speed)
            action.setChecked(speed == self.controller.speed)
            self.speed_actions.addAction(action)
        view.addAction(self.pause_action)

        help_menu = menus.addMenu("&Help")
        self.shortcuts_action = help_menu.addAction("Keyboard shortcuts")
        self.shortcuts_action.setObjectName("shortcuts")
        self.shortcuts_action.setShortcut(QtGui.QKeySequence(Qt.Key.Key_F1))
        self.about_action = help_menu.addAction("About SmartCopy")
        self.about_action.setObjectName("about")
        self.about_action.setMenuRole(QtGui.QAction.MenuRole.AboutRole)

    def _build_status(self) -> None:
        self.progress = QtWidgets.QProgressBar(objectName="backfill_progress")
        self.progress.setMaximumWidth(320)
        self.progress.setFormat("Building market history… %p%")
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().showMessage("Starting…")

    def _wire(self) -> None:
        c = self.controller
        c.backfill_progress.connect(self.on_backfill_progress)
        c.upgrade_progress.connect(self.on_upgrade_progress)
        c.started.connect(self.on_started)
        c.updated.connect(self.on_updated)
        c.action_failed.connect(self.on_action_failed)
        c.copy_cancelled.connect(self.on_copy_cancelled)
        c.deposited.connect(self.on_deposited)
        self.pause_action.toggled.connect(self.on_pause_toggled)
        self.speed_box.currentIndexChanged.connect(self.on_speed_changed)
        self.speed_actions.triggered.connect(self.on_speed_action_triggered)
        self.theme_actions.triggered.connect(self.on_theme_action_triggered)
        self.deposit_action.triggered.connect(self.on_deposit_triggered)
        self.export_action.triggered.connect(self.on_export_triggered)
        self.settings_action.triggered.connect(self.on_settings_triggered)
        self.close_action.triggered.connect(self.close)
        self.quit_action.triggered.connect(self.close)
        self.find_action.triggered.connect(self.on_find_triggered)
        self.shortcuts_action.triggered.connect(self.on_shortcuts_triggered)
        self.about_action.triggered.connect(self.on_about_triggered)
        self.activity.exported.connect(self.on_activity_exported)
        QtGui.QGuiApplication.styleHints().colorSchemeChanged.connect(
            self.on_color_scheme_changed)
        self.trader_list.trader_selected.connect(self.on_trader_selected)
        self.trader_list.copy_requested.connect(self.on_copy_requested)
        self.trader_detail.copy_requested.connect(self.on_copy_requested)
        self.copies.cancel_requested.connect(self.on_cancel_requested)

    def split_docks(self) -> None:
        """The first launch's layout at the window's size: trader list and detail 60/40
        side by side over the live panels, 52/48 in height."""
        self.resizeDocks([self.trader_dock, self.detail_dock],
                         [self.width() * 60 // 100, self.width() * 40 // 100],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.trader_dock, self.positions_dock],
                         [self.height() * 52 // 100, self.height() * 48 // 100],
                         Qt.Orientation.Vertical)

    # ------------------------------------------------------------------ layout persistence
    def _restore_layout(self) -> None:
        geometry = self.settings.value("main/geometry")
        state = self.settings.value("main/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def save_layout(self) -> None:
        self.settings.setValue("main/geometry", self.saveGeometry())
        self.settings.setValue("main/state", self.saveState())
        self.settings.sync()

    # ------------------------------------------------------------------ controller → view
    @Slot(int, int)
    def on_upgrade_progress(self, done: int, total: int) -> None:
        self.progress.setFormat("Upgrading the database… %p%")
        self.progress.show()
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.statusBar().showMessage(f"Upgrading your database to this version of SmartCopy "
                                     f"(step {done} of {total}); nothing is lost…")

    @Slot(int, int)
    def on_backfill_progress(self, done: int, total: int) -> None:
        self.progress.setFormat("Building market history… %p%")
        self.progress.show()
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.statusBar().showMessage(f"First launch: simulating {total} days of market "
                                     f"history ({done}/{total})…")

    @Slot()
    def on_started(self) -> None:
        self.progress.hide()
        self.statusBar().showMessage("Live: the simulated world is running", 5000)

    @Slot(object)
    def on_updated(self, update: LiveUpdate) -> None:
        snap: SessionSnapshot = update.snapshot
        self.clock.setText(self.sim_time(snap.sim_ts).strftime(" %Y-%m-%d %H:%M:%S UTC "))
        self.balance.setText(f"Contract balance: {fmt_balance(snap.contract_balance)} USDT")
        labels = dict(update.copy_labels)
        active = sum(1 for c in snap.copies if c.status == "active")
        self.positions.set_copies(update.copy_labels, active)
        self.positions.update_pairs(snap.pairs)
        for copy_id, ts, trader_roi, copier_roi in update.roi:
            self.positions.add_roi_sample(copy_id, ts, trader_roi, copier_roi)
        self.copies.set_copies(snap.copies)
        self.activity.set_copies(update.copy_labels)
        if update.activity:
            self.activity.append(update.activity)
        self.alerts.update(update.activity, snap.copies,
                           lambda copy_id: labels.get(copy_id, f"#{copy_id}"))
        if update.stats is not None:
            self._stats = {s.trader: s for s in update.stats}
            self.trader_list.set_traders(update.stats)
            if self._detail_trader is None and update.stats:
                # Start on the list's top row (the best ROI), selected, so the detail
                # beside it is the trader the list highlights. Its detail is shown just
                # below: the selection's own signal would read it a second time.
                self._detail_trader = self.trader_list.top_trader() or update.stats[0].trader
                with QtCore.QSignalBlocker(self.trader_list):
                    self.trader_list.select_trader(self._detail_trader)
            if self._detail_trader is not None:
                self.controller.spawn(self._show_detail(self._detail_trader))
            if self.wizard is not None and self.wizard.isVisible():
                self.controller.spawn(self.refresh_wizard(self.wizard, snap.sim_ts))

    @staticmethod
    def sim_time(sim_ts: int) -> datetime:
        return datetime.fromtimestamp(sim_ts / 1000, tz=UTC)

    async def refresh_wizard(self, wizard: CopyWizard, sim_ts: int) -> None:
        """Re-read the trader's book and the balance for an open copy wizard: the world
        keeps trading while the user types."""
        inputs = await self.controller.call(Session.preview_inputs, wizard.inputs.trader)
        if wizard.isVisible():
            wizard.set_inputs(inputs, self.sim_time(sim_ts).strftime("%H:%M:%S UTC"))

    @Slot(str, str)
    def on_action_failed(self, title: str, message: str) -> None:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, message,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setObjectName("action_failed")
        box.open()

    @Slot(str, object)
    def on_copy_cancelled(self, trader_name: str, released: Any) -> None:
        self.copies.show_released(trader_name, released)

    @Slot(object)
    def on_deposited(self, amount: Decimal) -> None:
        self.statusBar().showMessage(
            f"Deposited {fmt_usdt(amount)} USDT into your contract account", 8000)

    # ------------------------------------------------------------------ user → controller
    @Slot(bool)
    def on_pause_toggled(self, paused: bool) -> None:
        self.controller.set_paused(paused)
        self.pause_action.setText("Resume" if paused else "Pause")

    @Slot(int)
    def on_speed_changed(self, index: int) -> None:
        speed = int(self.speed_box.itemData(index))
        self.controller.set_speed(speed)
        self.app_settings.set_speed(speed)
        for action in self.speed_actions.actions():
            action.setChecked(action.data() == speed)

    @Slot(QtGui.QAction)
    def on_speed_action_triggered(self, action: QtGui.QAction) -> None:
        self.speed_box.setCurrentIndex(self.speed_box.findData(action.data()))

    @Slot(QtGui.QAction)
    def on_theme_action_triggered(self, action: QtGui.QAction) -> None:
        self.set_theme(str(action.data()))

    @Slot(Qt.ColorScheme)
    def on_color_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        if self.app_settings.theme == SYSTEM:  # the desktop switched light/dark
            self.set_theme(SYSTEM)

    def set_theme(self, theme: str) -> None:
        """Switch to ``theme`` (system, light, dark) now and at the next launch."""
        self.app_settings.theme = theme
        self.dark = apply_theme(theme)
        for chart in (self.positions.chart, self.trader_detail.chart,
                      self.trader_detail.sweep):
            chart.apply_theme()  # now, even while hidden (the palette event waits)
        for action in self.theme_actions.actions():
            action.setChecked(action.data() == theme)

    @Slot()
    def on_deposit_triggered(self) -> None:
        dialog = DepositDialog(self)
        dialog.accepted.connect(lambda: self._deposit(dialog))
        self._open(dialog)

    def _deposit(self, dialog: DepositDialog) -> None:
        amount = dialog.value()
        if amount is not None:
            self.controller.spawn(self.controller.deposit(amount))

    @Slot()
    def on_export_triggered(self) -> None:
        self.activity_dock.show()
        self.activity_dock.raise_()
        self.activity.on_export_button_clicked()

    @Slot(str, int)
    def on_activity_exported(self, path: str, count: int) -> None:
        self.app_settings.export_dir = Path(path).parent
        self.activity.export_dir = Path(path).parent
        self.statusBar().showMessage(f"Exported {count:,} outcomes to {path}", 8000)

    @Slot()
    def on_settings_triggered(self) -> None:
        dialog = SettingsDialog(self.app_settings.theme, self.app_settings.notifications, self)
        dialog.accepted.connect(lambda: self._apply_settings(dialog))
        self._open(dialog)

    def _apply_settings(self, dialog: SettingsDialog) -> None:
        self.set_theme(dialog.theme)
        self.app_settings.notifications = dialog.notifications
        self.alerts.enabled = dialog.notifications

    @Slot()
    def on_find_triggered(self) -> None:
        self.trader_dock.show()
        self.trader_dock.raise_()
        self.trader_list.focus_search()

    @Slot()
    def on_shortcuts_triggered(self) -> None:
        rows = "".join(f"<tr><td style='padding-right: 16px'><b>{html.escape(keys)}</b></td>"
                       f"<td>{html.escape(what)}</td></tr>" for keys, what in SHORTCUTS)
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.NoIcon, "Keyboard shortcuts",
                                    f"<table>{rows}</table>",
                                    QtWidgets.QMessageBox.StandardButton.Close, self)
        box.setObjectName("shortcuts_box")
        self._open(box)

    @Slot()
    def on_about_triggered(self) -> None:
        session = self.controller.session
        data = session.store.path if session is not None else "—"
        logs = next((h.baseFilename for name in ("", "smartcopy")
                     for h in logging.getLogger(name).handlers
                     if isinstance(h, logging.FileHandler)), "—")
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.NoIcon, "About SmartCopy",
            f"<h3>SmartCopy {html.escape(__version__)}</h3>"
            "<p>Copy trading on simulated USDT-margined perpetuals: copy a trader and "
            "watch your positions next to theirs.</p>"
            f"<p><b>Data:</b> {html.escape(str(data))}<br>"
            f"<b>Log:</b> {html.escape(str(logs))}</p>",
            QtWidgets.QMessageBox.StandardButton.Close, self)
        box.setObjectName("about_box")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._open(box)

    def _open(self, dialog: QtWidgets.QDialog) -> None:
        if self.dialog is not None:  # one of the menus' dialogs at a time
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()

    @Slot(str)
    def on_trader_selected(self, trader: str) -> None:
        self._detail_trader = trader
        self.controller.spawn(self._show_detail(trader))

    async def _show_detail(self, trader: str) -> None:
        stats = self._stats.get(trader)
        if stats is None:
            return
        c = self.controller
        curve = await c.call(Session.equity_curve, trader)
        positions = await c.call(Session.trader_positions, trader)
        trades = await c.call(Session.recent_trades, trader)
        copiers = await c.call(Session.copiers_of, trader)
        self.trader_detail.show_trader(stats, curve, positions, trades, copiers)
        if self.trader_detail.sweep.trader != trader:  # once per trader shown
            self.trader_detail.sweep.show_pending(trader)
            self.controller.spawn(self._show_sweep(trader))

    @asyncSlot(str)
    async def on_copy_requested(self, trader: str) -> None:
        inputs = await self.controller.call(Session.preview_inputs, trader)
        if self.wizard is not None:  # one wizard at a time
            self.wizard.close()
            self.wizard.deleteLater()
        self.wizard = CopyWizard(inputs, self)
        self.wizard.confirmed.connect(self.on_copy_confirmed)
        self.wizard.whatif_requested.connect(self.on_whatif_requested)
        self.wizard.open()

    @Slot(object)
    def on_whatif_requested(self, query: WhatIfQuery) -> None:
        wizard = self.wizard
        if wizard is not None:
            self.controller.spawn(self.run_whatif(wizard, query))

    async def run_whatif(self, wizard: CopyWizard, query: WhatIfQuery) -> None:
        """Run the wizard's what-if off the GUI thread; show its answer (or what was
        wrong) in the wizard, unless a newer what-if superseded it."""
        try:
            figures = await self.controller.whatif(query.request, query.days)
        except (WhatIfError, StoreError) as exc:
            wizard.show_whatif_error(query, str(exc))
            return
        if figures is not None:
            wizard.show_whatif(query, figures)

    async def _show_sweep(self, trader: str) -> None:
        """The trader detail's sweep chart, computed off the GUI thread (kept per trader
        and window by the controller)."""
        chart = self.trader_detail.sweep
        try:
            sweep = await self.controller.sweep(trader, SWEEP_DAYS)
        except (WhatIfError, StoreError) as exc:
            if self.trader_detail.trader == trader:
                chart.show_error(trader, str(exc))
            return
        if sweep is not None and self.trader_detail.trader == trader:
            chart.show_sweep(sweep)

    @asyncSlot(object)
    async def on_copy_confirmed(self, request: CopyRequest) -> None:
        if await self.controller.copy(request):
            self.positions_dock.raise_()
            stats = self._stats.get(request.trader)
            name = stats.name if stats is not None else request.trader
            self.statusBar().showMessage(f"Now copying {name}", 5000)

    @asyncSlot(str)
    async def on_cancel_requested(self, trader: str) -> None:
        await self.controller.cancel(trader)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        self.save_layout()
        super().closeEvent(event)
