"""The main window: toolbar (clock, speed, pause, balance, deposit) and dockable panels."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from qasync import asyncSlot

from ..session import Session, SessionSnapshot
from ..store.stats import TraderStats
from .activity_log import ActivityLog
from .controller import SPEEDS, Controller, LiveUpdate
from .copies_panel import CopiesPanel
from .copy_wizard import CopyRequest, CopyWizard
from .models import fmt_money
from .positions_panel import PositionsPanel
from .qt import QSettings, Qt, QtCore, QtGui, QtWidgets, Slot
from .trader_detail import TraderDetailView
from .trader_list import TraderListView

log = logging.getLogger("smartcopy.ui")

SETTINGS_ORG = "SmartCopy"
SETTINGS_APP = "SmartCopy"


class DepositDialog(QtWidgets.QDialog):
    """Asks for a deposit amount; OK only with a positive number."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Deposit to contract account")
        self.amount = QtWidgets.QLineEdit(objectName="deposit_amount")
        self.amount.setPlaceholderText("USDT, e.g. 1000")
        self.error = QtWidgets.QLabel(objectName="deposit_error")
        self.error.setStyleSheet("color: #cf222e")
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Amount (USDT)", self.amount)
        form.addRow("", self.error)
        form.addRow(self.buttons)
        self.amount.textChanged.connect(self.on_text_changed)
        self.on_text_changed("")

    def value(self) -> Decimal | None:
        try:
            value = Decimal(self.amount.text().strip().replace(",", ""))
        except InvalidOperation:
            return None
        return value if value.is_finite() and value > 0 else None

    @Slot(str)
    def on_text_changed(self, text: str) -> None:
        ok = self.value() is not None
        self.error.setText("" if ok or not text.strip() else "Enter a positive amount")
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


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
    """Trader list, trader detail, live positions, copies and activity, as docks."""

    def __init__(self, controller: Controller, settings: QSettings | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.settings = settings or QSettings(SETTINGS_ORG, SETTINGS_APP)
        self.setWindowTitle("SmartCopy — copy trading, side by side")
        self.setDockNestingEnabled(True)
        self._stats: dict[str, TraderStats] = {}
        self._detail_trader: str | None = None
        self._build_views()
        self._build_toolbar()
        self._build_status()
        self._wire()
        self.resize(default_size())
        self.resizeDocks([self.trader_dock, self.detail_dock],
                         [self.width() * 60 // 100, self.width() * 40 // 100],
                         Qt.Orientation.Horizontal)
        self._restore_layout()

    # ------------------------------------------------------------------ building
    def _dock(self, title: str, widget: QtWidgets.QWidget, area: Qt.DockWidgetArea
              ) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_views(self) -> None:
        self.trader_list = TraderListView()
        self.trader_detail = TraderDetailView()
        self.positions = PositionsPanel()
        self.copies = CopiesPanel()
        self.activity = ActivityLog()
        self.setCentralWidget(None)
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.trader_dock = self._dock("Traders", self.trader_list, left)
        self.detail_dock = self._dock("Trader detail", self.trader_detail, right)
        self.positions_dock = self._dock("Live positions", self.positions, bottom)
        self.copies_dock = self._dock("Copies", self.copies, bottom)
        self.activity_dock = self._dock("Activity", self.activity, bottom)
        self.tabifyDockWidget(self.positions_dock, self.copies_dock)
        self.tabifyDockWidget(self.copies_dock, self.activity_dock)
        self.positions_dock.raise_()

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("World")
        bar.setObjectName("toolbar_world")
        bar.setMovable(False)
        self.pause_action = QtGui.QAction("Pause", self, checkable=True)
        self.pause_action.setObjectName("pause")
        self.pause_action.setToolTip("Pause or resume the simulated world")
        bar.addAction(self.pause_action)
        bar.addWidget(QtWidgets.QLabel(" Speed "))
        self.speed_box = QtWidgets.QComboBox(objectName="speed")
        for speed in SPEEDS:
            self.speed_box.addItem("real time" if speed == 1 else f"{speed}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(self.controller.speed))
        bar.addWidget(self.speed_box)
        bar.addSeparator()
        self.clock = QtWidgets.QLabel(" — ", objectName="clock")
        self.clock.setToolTip("Simulated market time (UTC)")
        self.clock.setMinimumWidth(190)
        bar.addWidget(self.clock)
        bar.addSeparator()
        self.balance = QtWidgets.QLabel("Contract balance: —", objectName="balance")
        self.balance.setMinimumWidth(230)
        bar.addWidget(self.balance)
        self.deposit_action = QtGui.QAction("Deposit…", self)
        self.deposit_action.setObjectName("deposit")
        bar.addAction(self.deposit_action)

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
        c.started.connect(self.on_started)
        c.updated.connect(self.on_updated)
        c.action_failed.connect(self.on_action_failed)
        c.copy_cancelled.connect(self.on_copy_cancelled)
        self.pause_action.toggled.connect(self.on_pause_toggled)
        self.speed_box.currentIndexChanged.connect(self.on_speed_changed)
        self.deposit_action.triggered.connect(self.on_deposit_triggered)
        self.trader_list.trader_selected.connect(self.on_trader_selected)
        self.trader_list.copy_requested.connect(self.on_copy_requested)
        self.trader_detail.copy_requested.connect(self.on_copy_requested)
        self.copies.cancel_requested.connect(self.on_cancel_requested)

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
    def on_backfill_progress(self, done: int, total: int) -> None:
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
        stamp = datetime.fromtimestamp(snap.sim_ts / 1000, tz=UTC)
        self.clock.setText(stamp.strftime(" %Y-%m-%d %H:%M:%S UTC "))
        self.balance.setText(f"Contract balance: {fmt_money(snap.contract_balance)} USDT")
        self.positions.update_pairs(snap.pairs)
        for copy_id, ts, trader_roi, copier_roi in update.roi:
            self.positions.add_roi_sample(copy_id, ts, trader_roi, copier_roi)
        self.copies.set_copies(snap.copies)
        self.activity.set_copies(update.copy_labels)
        self.positions.set_copies(update.copy_labels)
        if update.activity:
            self.activity.append(update.activity)
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

    @Slot(str, str)
    def on_action_failed(self, title: str, message: str) -> None:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, message,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setObjectName("action_failed")
        box.open()

    @Slot(str, object)
    def on_copy_cancelled(self, trader_name: str, released: Any) -> None:
        self.copies.show_released(trader_name, released)

    # ------------------------------------------------------------------ user → controller
    @Slot(bool)
    def on_pause_toggled(self, paused: bool) -> None:
        self.controller.set_paused(paused)
        self.pause_action.setText("Resume" if paused else "Pause")

    @Slot(int)
    def on_speed_changed(self, index: int) -> None:
        self.controller.set_speed(int(self.speed_box.itemData(index)))

    @Slot()
    def on_deposit_triggered(self) -> None:
        dialog = DepositDialog(self)
        dialog.accepted.connect(lambda: self._deposit(dialog))
        dialog.open()

    def _deposit(self, dialog: DepositDialog) -> None:
        amount = dialog.value()
        if amount is not None:
            self.controller.spawn(self.controller.deposit(amount))

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

    @asyncSlot(str)
    async def on_copy_requested(self, trader: str) -> None:
        inputs = await self.controller.call(Session.preview_inputs, trader)
        self.wizard = CopyWizard(inputs, self)
        self.wizard.confirmed.connect(self.on_copy_confirmed)
        self.wizard.open()

    @asyncSlot(object)
    async def on_copy_confirmed(self, request: CopyRequest) -> None:
        if await self.controller.copy(request):
            self.positions_dock.raise_()
            self.statusBar().showMessage(f"Now copying {request.trader}", 5000)

    @asyncSlot(str)
    async def on_cancel_requested(self, trader: str) -> None:
        await self.controller.cancel(trader)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        self.save_layout()
        super().closeEvent(event)
