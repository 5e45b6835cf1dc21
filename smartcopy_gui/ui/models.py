"""Declarative table models: a table is its columns and a row key, not cell code.

Rows are replaced wholesale with ``set_rows``; only rows whose values changed emit
``dataChanged``, rows are inserted and removed with the proper signals, and column
widths are never touched here (views decide when to resize).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .qt import QAbstractTableModel, QModelIndex, Qt, QtGui

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class Column:
    """One column: header, how to get the value from a row, how to show and colour it."""

    header: str
    value: Callable[[Any], Any]
    text: Callable[[Any], str] = lambda v: "" if v is None else str(v)
    color: Callable[[Any], QtGui.QColor | None] | None = None
    align_right: bool = False
    tooltip: str | None = None


class RowTableModel(QAbstractTableModel):
    """A table of rows described by ``columns`` and keyed by ``key``."""

    def __init__(self, columns: Sequence[Column], key: Callable[[Any], Hashable],
                 tooltip: Callable[[Any], str | None] | None = None,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.key = key
        self.row_tooltip = tooltip
        self.rows: list[Any] = []
        self._index: dict[Hashable, int] = {}

    # -- Qt interface
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            col = self.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.header
            if role == Qt.ItemDataRole.ToolTipRole:
                return col.tooltip
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(col.value(row))
        if role == SORT_ROLE:
            value = col.value(row)
            if isinstance(value, Decimal):
                return float(value)  # display: sorting only
            return value if value is not None else ""
        if role == Qt.ItemDataRole.ForegroundRole and col.color is not None:
            return col.color(col.value(row))
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and self.row_tooltip is not None:
            return self.row_tooltip(row)
        if role == KEY_ROLE:
            return self.key(row)
        return None

    # -- updates
    def set_rows(self, rows: Sequence[Any]) -> None:
        """Replace the rows: changed rows emit dataChanged, new and gone rows are
        inserted and removed. Order follows ``rows`` for new rows."""
        new_keys = [self.key(r) for r in rows]
        wanted = set(new_keys)
        for i in range(len(self.rows) - 1, -1, -1):
            if self.key(self.rows[i]) not in wanted:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self.rows[i]
                self.endRemoveRows()
        self._index = {self.key(r): i for i, r in enumerate(self.rows)}
        last_col = len(self.columns) - 1
        for key, row in zip(new_keys, rows):
            i = self._index.get(key)
            if i is None:
                at = len(self.rows)
                self.beginInsertRows(QModelIndex(), at, at)
                self.rows.append(row)
                self._index[key] = at
                self.endInsertRows()
            elif self.rows[i] != row:
                self.rows[i] = row
                self.dataChanged.emit(self.index(i, 0), self.index(i, last_col))

    def row_for_key(self, key: Hashable) -> Any:
        i = self._index.get(key)
        return self.rows[i] if i is not None else None
