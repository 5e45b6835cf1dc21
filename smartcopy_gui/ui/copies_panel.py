"""The copier's copies with their money, and cancelling one (after a confirmation)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from ..domain.words import copy_label, copy_status_words
from ..session import CopyRow
from .models import KEY_ROLE, Column, RowTableModel
from .qt import QModelIndex, QtGui, QtWidgets, Signal, Slot
from .shared import colors, fit_columns, fmt_money, fmt_pct, signed_color

log = logging.getLogger("smartcopy.ui")

ACTIVE = "active"
NO_COPIES = "You are not copying anyone yet: pick a trader in the trader list."
SELECT_HINT = "Select an active copy to cancel it."


def status_color(status: str) -> QtGui.QColor:
    """An active copy in green, an ended one muted."""
    return colors().green if status == ACTIVE else colors().muted


def row_label(row: CopyRow) -> str:
    return copy_label(row.copy_id, row.trader_name, row.mode)


COPY_COLUMNS = [
    Column("Copy", row_label),
    Column("Status", lambda r: r.status, copy_status_words, status_color),
    Column("Investment", lambda r: r.investment, fmt_money, align_right=True,
           tooltip="USDT moved from your contract account into this copy"),
    Column("Equity", lambda r: r.equity, fmt_money, align_right=True,
           tooltip="Copy wallet plus unrealized PnL (0 once the copy ended)"),
    Column("PnL", lambda r: r.pnl, fmt_money, signed_color, True),
    Column("ROI", lambda r: r.roi, fmt_pct, signed_color, True, tooltip="PnL / investment"),
    Column("Released", lambda r: r.released, fmt_money, align_right=True,
           tooltip="USDT returned to your contract account when the copy ended"),
]


def cancel_explanation(trader_name: str) -> str:
    return (f"Cancelling closes all of this copy's positions at market, settles the profit "
            f"share with {trader_name}, and releases the remaining funds to your contract "
            f"account.")


class CopiesPanel(QtWidgets.QWidget):
    """Copies of traders; "Cancel copy…" asks for confirmation, then emits
    ``cancel_requested(trader id)``. The controller answers with ``show_released``."""

    cancel_requested = Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RowTableModel(COPY_COLUMNS, key=lambda r: r.copy_id, parent=self)
        self.table = QtWidgets.QTableView(objectName="copies_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(
            QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        self.cancel_button = QtWidgets.QPushButton("Cancel copy…", objectName="cancel_copy")
        self.cancel_button.setToolTip("Close this copy's positions and take its funds back")
        self.cancel_button.setEnabled(False)
        self.status = QtWidgets.QLabel(NO_COPIES, objectName="copies_status")
        self.status.setWordWrap(True)
        self.confirm_box: QtWidgets.QMessageBox | None = None
        self.released_box: QtWidgets.QMessageBox | None = None
        self._confirm_button: QtWidgets.QAbstractButton | None = None
        self._confirm_trader: str | None = None
        self._fit_due = False
        self._statuses: list[str] = []

        actions = QtWidgets.QHBoxLayout()
        actions.addWidget(self.status, 1)
        actions.addWidget(self.cancel_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)

        self.table.selectionModel().selectionChanged.connect(self.on_selection_changed)
        self.cancel_button.clicked.connect(self.on_cancel_button_clicked)
        self.model.rowsInserted.connect(self.on_model_rows_inserted)

    # ------------------------------------------------------------------ feeding
    def set_copies(self, rows: Sequence[CopyRow]) -> None:
        """Show these copies (only changed rows repaint)."""
        self.model.set_rows(rows)
        statuses = [r.status for r in rows]
        if self._fit_due or statuses != self._statuses:  # a new copy or one ended: rare
            self._fit_due = False
            self._statuses = statuses
            fit_columns(self.table)
        self._update_cancel_button()
        if self.status.text() in (NO_COPIES, SELECT_HINT):  # not over a released message
            self.status.setText(SELECT_HINT if rows else NO_COPIES)

    def show_released(self, trader_name: str, amount: Decimal) -> None:
        """Tell the user a cancelled copy's funds are back, in a message and the status."""
        text = f"Released {fmt_money(amount)} USDT to your contract account."
        self.status.setText(f"Copy of {trader_name} cancelled. {text}")
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information,
                                    "Copy cancelled", text,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setObjectName("copy_released")
        box.setInformativeText(f"Your copy of {trader_name} has ended.")
        self._replace_box(self.released_box)
        self.released_box = box
        box.open()

    def selected_copy(self) -> CopyRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row: CopyRow | None = self.model.row_for_key(rows[0].data(KEY_ROLE))
        return row

    # ------------------------------------------------------------------ slots
    @Slot(QModelIndex, int, int)
    def on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self._fit_due = True

    @Slot()
    def on_selection_changed(self) -> None:
        self._update_cancel_button()

    @Slot()
    def on_cancel_button_clicked(self) -> None:
        row = self.selected_copy()
        if row is None or row.status != ACTIVE:
            return
        box = QtWidgets.QMessageBox(self)
        box.setObjectName("confirm_cancel")
        box.setIcon(QtWidgets.QMessageBox.Icon.Question)
        box.setWindowTitle("Cancel copy")
        box.setText(f"Cancel your copy of {row.trader_name}?")
        box.setInformativeText(cancel_explanation(row.trader_name))
        box.setStyleSheet("#qt_msgbox_label, #qt_msgbox_informativelabel { min-width: 26em; }")
        self._confirm_button = box.addButton(
            "Cancel copy", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep copying", QtWidgets.QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.buttonClicked.connect(self.on_confirm_box_button_clicked)
        self._confirm_trader = row.trader
        self._replace_box(self.confirm_box)
        self.confirm_box = box
        box.open()

    @Slot(QtWidgets.QAbstractButton)
    def on_confirm_box_button_clicked(self, button: QtWidgets.QAbstractButton) -> None:
        trader, self._confirm_trader = self._confirm_trader, None
        if button is self._confirm_button and trader is not None:
            log.info("user confirmed cancelling the copy of %s", trader)
            self.cancel_requested.emit(trader)

    @staticmethod
    def _replace_box(old: QtWidgets.QMessageBox | None) -> None:
        if old is not None:  # one of each at a time, not one per click
            old.close()
            old.deleteLater()

    def _update_cancel_button(self) -> None:
        row = self.selected_copy()
        self.cancel_button.setEnabled(row is not None and row.status == ACTIVE)

