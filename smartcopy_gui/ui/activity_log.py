"""The activity log: every outcome of the copier's copies, what happened and why,
filterable by copy and status, exportable to CSV."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..domain.words import (
    ACTION_WORDS,
    OUTCOME_STATUS_WORDS,
    outcome_status_words,
    reason_words,
    words,
)
from ..session import ActivityRow
from .models import Column, RowTableModel
from .qt import QModelIndex, QSortFilterProxyModel, QtGui, QtWidgets, Signal, Slot
from .shared import DASH, colors, fit_columns

log = logging.getLogger("smartcopy.ui")

MAX_ROWS = 50_000
COPY_COLUMN, ACTION_COLUMN, STATUS_COLUMN = 1, 3, 4
STATUSES = [("All statuses", None),
            *((text, code) for code, text in OUTCOME_STATUS_WORDS.items())]


def iso_utc(ts_ms: int) -> str:
    """``2024-03-01T12:00:00.500Z``."""
    stamp = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{ts_ms % 1000:03d}Z"


def row_reason(row: ActivityRow) -> str:
    return reason_words(row.reason, row.status)


def status_color(status: str) -> QtGui.QColor | None:
    if status == "skipped":
        return colors().amber
    if status == "done":
        return colors().muted
    return colors().green if status.startswith("copied") else None


def dash(value: str | None) -> str:
    return DASH if not value else value


class ActivityModel(RowTableModel):
    """Outcome rows, appended in order and capped at ``MAX_ROWS`` (oldest dropped).

    Append-only: ``set_rows`` and ``row_for_key`` of the base class are not used here.
    """

    def __init__(self, copy_label: Any, parent: Any = None) -> None:
        columns = [
            Column("Time (UTC)", lambda r: r.ts, iso_utc),
            Column("Copy", lambda r: r.copy_id, copy_label),
            Column("Symbol", lambda r: r.symbol, dash),
            Column("Action", lambda r: r.action, lambda v: words(ACTION_WORDS, v)),
            Column("Status", lambda r: r.status, outcome_status_words, status_color),
            Column("Qty", lambda r: r.qty, dash, align_right=True),
            Column("Price", lambda r: r.price, dash, align_right=True),
            Column("Reason", row_reason),
        ]
        super().__init__(columns, key=lambda r: r.seq, parent=parent)

    def append_rows(self, rows: Sequence[ActivityRow]) -> None:
        if not rows:
            return
        rows = list(rows)[-MAX_ROWS:]
        overflow = len(self.rows) + len(rows) - MAX_ROWS
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self.rows[:overflow]
            self.endRemoveRows()
        at = len(self.rows)
        self.beginInsertRows(QModelIndex(), at, at + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def refresh_column(self, column: int) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, column), self.index(len(self.rows) - 1, column))


class ActivityFilter(QSortFilterProxyModel):
    """Keeps the rows of one copy and/or one status (None: all)."""

    def __init__(self, activity: ActivityModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.activity = activity
        self.setSourceModel(activity)
        self.copy_id: int | None = None
        self.status: str | None = None

    def set_filter(self, copy_id: int | None, status: str | None) -> None:
        self.beginFilterChange()
        self.copy_id, self.status = copy_id, status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # noqa: N802
        row: ActivityRow = self.activity.rows[source_row]
        return ((self.copy_id is None or row.copy_id == self.copy_id)
                and (self.status is None or row.status == self.status))


class ActivityLog(QtWidgets.QWidget):
    """Outcomes as they happen. Feed with ``append`` and ``set_copies``;
    ``export_csv(path)`` writes the rows the filters show."""

    exported = Signal(str, int)  # path, rows written

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: dict[int, str] = {}
        self.model = ActivityModel(self._copy_label, self)
        self.proxy = ActivityFilter(self.model, self)
        self.table = QtWidgets.QTableView(objectName="activity_table")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(
            QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.copy_combo = QtWidgets.QComboBox(objectName="activity_copy")
        self.copy_combo.addItem("All copies", None)
        self.copy_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status_combo = QtWidgets.QComboBox(objectName="activity_status")
        for text, code in STATUSES:
            self.status_combo.addItem(text, code)
        self.count_label = QtWidgets.QLabel(objectName="activity_count")
        self.export_button = QtWidgets.QPushButton("Export CSV…", objectName="export_csv")
        self.export_button.setToolTip("Save the rows shown (with the current filters) as CSV")
        self.message = QtWidgets.QLabel(objectName="activity_message")
        self.export_dialog: QtWidgets.QFileDialog | None = None
        self.export_dir = Path.home()  # where the save dialog starts
        self._sized = False
        self._follow = True  # keep the newest row in view until the user scrolls up

        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(QtWidgets.QLabel("Copy:"))
        bar.addWidget(self.copy_combo)
        bar.addSpacing(12)
        bar.addWidget(QtWidgets.QLabel("Status:"))
        bar.addWidget(self.status_combo)
        bar.addSpacing(12)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)

        self.copy_combo.currentIndexChanged.connect(self.on_filter_changed)
        self.status_combo.currentIndexChanged.connect(self.on_filter_changed)
        self.export_button.clicked.connect(self.on_export_button_clicked)
        self._update_count()

    # ------------------------------------------------------------------ feeding
    def append(self, rows: Sequence[ActivityRow]) -> None:
        """Add outcomes at the end (oldest first); keeps the last ``MAX_ROWS``."""
        if not rows:
            return
        bar = self.table.verticalScrollBar()
        if self.table.isVisible():
            self._follow = bar.value() >= bar.maximum()
        self.model.append_rows(rows)
        if not self._sized:
            fit_columns(self.table, "000,000.000")
            self._fit_copy_column()  # labels of copies with no rows yet count too
            # Room for every action and status word, not only those of the first rows.
            for column, table in ((ACTION_COLUMN, ACTION_WORDS),
                                  (STATUS_COLUMN, OUTCOME_STATUS_WORDS)):
                self._widen(column, table.values())
            self._sized = True
        if self._follow:
            self.table.scrollToBottom()
        self._update_count()

    def set_copies(self, labels: Sequence[tuple[int, str]]) -> None:
        """The copies to filter by, as (copy id, label); unchanged labels cost nothing."""
        labels = list(labels)
        if dict(labels) == self._labels:
            return
        self._labels.clear()
        self._labels.update(labels)
        for copy_id, label in labels:
            i = self.copy_combo.findData(copy_id)
            if i < 0:
                self.copy_combo.addItem(label, copy_id)
            elif self.copy_combo.itemText(i) != label:
                self.copy_combo.setItemText(i, label)
        self.model.refresh_column(COPY_COLUMN)
        self._fit_copy_column()

    def _fit_copy_column(self) -> None:
        """Widen the Copy column to its longest label (labels change rarely: a new copy)."""
        self._widen(COPY_COLUMN, self._labels.values())

    def _widen(self, column: int, texts: Iterable[str]) -> None:
        """Make ``column`` at least as wide as the longest of ``texts``."""
        header = self.table.horizontalHeader()
        widest = max((self.table.fontMetrics().horizontalAdvance(text) for text in texts),
                     default=0)
        if header.sectionSize(column) < widest + 16:
            header.resizeSection(column, widest + 16)

    def export_csv(self, path: str | Path) -> int:
        """Write the rows the filters show, with a header row; returns how many."""
        columns = self.model.columns
        count = self.proxy.rowCount()
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([c.header for c in columns])
            for i in range(count):
                row = self.model.rows[self.proxy.mapToSource(self.proxy.index(i, 0)).row()]
                writer.writerow(["" if text == "—" else text
                                 for text in (c.text(c.value(row)) for c in columns)])
        return count

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._follow:  # rows that arrived while hidden (a background dock tab)
            self.table.scrollToBottom()

    # ------------------------------------------------------------------ slots
    @Slot()
    def on_filter_changed(self) -> None:
        self.proxy.set_filter(self.copy_combo.currentData(), self.status_combo.currentData())
        self._update_count()

    @Slot()
    def on_export_button_clicked(self) -> None:
        dialog = QtWidgets.QFileDialog(self, "Export activity",
                                       str(self.export_dir / "activity.csv"),
                                       "CSV files (*.csv)")
        dialog.setObjectName("export_dialog")
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(self.on_export_dialog_file_selected)
        if self.export_dialog is not None:  # one dialog at a time, not one per click
            self.export_dialog.deleteLater()
        self.export_dialog = dialog
        dialog.open()

    @Slot(str)
    def on_export_dialog_file_selected(self, path: str) -> None:
        try:
            count = self.export_csv(path)
        except OSError as exc:
            log.warning("activity export to %s failed: %s", path, exc)
            self.message.setText(f"Could not write {path}: {exc.strerror or exc}")
            return
        self.message.setText(f"Exported {count:,} rows to {path}")
        self.exported.emit(path, count)

    def _copy_label(self, copy_id: int | None) -> str:
        if copy_id is None:
            return "—"
        return self._labels.get(copy_id, f"#{copy_id}")

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{total:,} outcomes" if shown == total
                                 else f"{shown:,} of {total:,} outcomes")
