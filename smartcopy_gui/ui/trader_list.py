"""The trader list: every trader's track record over a chosen window, searchable and
sortable, with a "Copy" button on each row.

A pure view: ``set_traders`` feeds it; it emits ``trader_selected`` and
``copy_requested`` (trader ids). Figures are defined in docs/stats.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..store.stats import PERIODS, TraderStats
from .models import KEY_ROLE, SORT_ROLE, Column, RowTableModel
from .qt import QModelIndex, QSortFilterProxyModel, Qt, QtCore, QtGui, QtWidgets, Signal, Slot
from .shared import (
    DASH,
    ColumnCollapser,
    fit_columns,
    fmt_money,
    fmt_pct,
    fmt_share,
    mute,
    point_sort_arrows,
    signed_color,
)

log = logging.getLogger("smartcopy.ui")

DEFAULT_PERIOD = 30
COPY_TEXT = "Copy"


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@dataclass(frozen=True)
class TraderRow:
    """One trader as the list shows it, with the figures of one window."""

    trader: str
    name: str
    roi: Decimal | None
    pnl: Decimal | None
    win_rate: Decimal | None
    max_drawdown: Decimal | None
    sharpe: Decimal | None
    aum: Decimal
    copiers: int
    profit_share: Decimal
    days_active: int
    copiers_pnl: Decimal


def trader_row(stats: TraderStats, days: int) -> TraderRow:
    """The row of ``stats`` over the ``days`` window (empty figures if it has none)."""
    period = stats.periods.get(days)
    return TraderRow(
        trader=stats.trader, name=stats.name,
        roi=_dec(period.roi) if period else None,
        pnl=_dec(period.pnl) if period else None,
        win_rate=_dec(period.win_rate) if period else None,
        max_drawdown=_dec(period.max_drawdown) if period else None,
        sharpe=_dec(period.sharpe) if period else None,
        aum=Decimal(stats.aum), copiers=stats.copiers,
        profit_share=Decimal(stats.profit_share), days_active=stats.days_active,
        copiers_pnl=Decimal(stats.copiers_pnl))


def fmt_sharpe(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:.2f}"


TRADER_COLUMNS = [
    Column("Trader", lambda r: r.name),
    Column("ROI", lambda r: r.roi, fmt_pct, signed_color, True,
           tooltip="PnL / equity at the window's start"),
    Column("PnL", lambda r: r.pnl, fmt_money, signed_color, True,
           tooltip="Equity now − equity at the window's start (USDT)"),
    Column("Win rate", lambda r: r.win_rate, lambda v: fmt_pct(v, 1, signed=False),
           align_right=True,
           tooltip="Closed positions with a positive result / closed positions"),
    Column("Max\ndrawdown", lambda r: r.max_drawdown, lambda v: fmt_pct(v, 2, signed=False),
           align_right=True,
           tooltip="Largest fall from a running peak of daily closing equity"),
    Column("Sharpe", lambda r: r.sharpe, fmt_sharpe, align_right=True,
           tooltip="Mean / standard deviation of daily returns, annualised by √365"),
    Column("AUM", lambda r: r.aum, fmt_money, align_right=True,
           tooltip="The trader's wallet plus the investments of its active copies (USDT)"),
    Column("Copiers", lambda r: r.copiers, align_right=True, tooltip="Active copies"),
    Column("Profit\nshare", lambda r: r.profit_share, fmt_share, align_right=True,
           tooltip="Share of a copy's new net realized profit paid to the trader"),
    Column("Days\nactive", lambda r: r.days_active, align_right=True,
           tooltip="Whole days since the trader was registered"),
    Column("Copiers'\nPnL", lambda r: r.copiers_pnl, fmt_money, signed_color, True,
           tooltip="Sum of the PnL of all its copies, active and ended (USDT)"),
    Column("", lambda r: COPY_TEXT, tooltip="Copy this trader"),
]
COPY_COLUMN = len(TRADER_COLUMNS) - 1
# Columns whose values never outgrow their header: sized to fit, without the money floor.
BOUNDED_COLUMNS = tuple(i for i, c in enumerate(TRADER_COLUMNS) if c.header in (
    "Win rate", "Sharpe", "Copiers", "Profit\nshare", "Days\nactive"))

# When the list is too narrow for every column, these go first, in this order (and come
# back when it widens), so the figures a copier chooses by never scroll out of view.
COLLAPSIBLE_COLUMNS = tuple(next(i for i, c in enumerate(TRADER_COLUMNS) if c.header == h)
                            for h in ("Days\nactive", "Copiers'\nPnL", "Profit\nshare",
                                      "Copiers", "AUM", "Sharpe"))


class TraderFilterProxy(QSortFilterProxyModel):
    """Filters on name or id (the fixed string, case-insensitive) and sorts on
    ``SORT_ROLE`` values: numbers as numbers, text without case, empty figures lowest."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # noqa: N802
        pattern = self.filterRegularExpression()
        if not pattern.pattern():
            return True
        row: TraderRow = self.sourceModel().rows[source_row]
        return bool(pattern.match(row.name).hasMatch() or pattern.match(row.trader).hasMatch())

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # noqa: N802
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        a_empty, b_empty = a in (None, ""), b in (None, "")
        if a_empty or b_empty:
            return a_empty and not b_empty
        if isinstance(a, str) or isinstance(b, str):
            return str(a).casefold() < str(b).casefold()
        return bool(a < b)


class CopyButtonDelegate(QtWidgets.QStyledItemDelegate):
    """Paints a push button in its column and emits ``clicked(index)`` on a click."""

    clicked = Signal(QModelIndex)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._pressed: QtCore.QPersistentModelIndex | None = None

    def _button_rect(self, rect: QtCore.QRect) -> QtCore.QRect:
        return rect.adjusted(4, 2, -4, -2)

    def paint(self, painter: QtGui.QPainter, option: QtWidgets.QStyleOptionViewItem,
              index: QModelIndex) -> None:
        button = QtWidgets.QStyleOptionButton()
        button.rect = self._button_rect(option.rect)
        button.text = str(index.data() or COPY_TEXT)
        button.state = QtWidgets.QStyle.StateFlag.State_Enabled
        if self._pressed is not None and self._pressed == index:
            button.state |= QtWidgets.QStyle.StateFlag.State_Sunken
        else:
            button.state |= QtWidgets.QStyle.StateFlag.State_Raised
        widget = option.widget
        style = widget.style() if widget is not None else QtWidgets.QApplication.style()
        style.drawControl(QtWidgets.QStyle.ControlElement.CE_PushButton, button, painter, widget)

    def sizeHint(self, option: QtWidgets.QStyleOptionViewItem,  # noqa: N802
                 index: QModelIndex) -> QtCore.QSize:
        width = option.fontMetrics.horizontalAdvance(COPY_TEXT) + 36
        return QtCore.QSize(width, option.fontMetrics.height() + 10)

    def editorEvent(self, event: QtCore.QEvent, model: QtCore.QAbstractItemModel,  # noqa: N802
                    option: QtWidgets.QStyleOptionViewItem, index: QModelIndex) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.Type.MouseButtonPress:
            if self._button_rect(option.rect).contains(event.position().toPoint()):
                self._pressed = QtCore.QPersistentModelIndex(index)
                return True
        elif kind == QtCore.QEvent.Type.MouseButtonRelease:
            pressed, self._pressed = self._pressed, None
            if (pressed is not None and pressed == index
                    and self._button_rect(option.rect).contains(event.position().toPoint())):
                self.clicked.emit(index)
                return True
        elif kind == QtCore.QEvent.Type.MouseButtonDblClick:
            return True  # a fast second click is not a second request
        return False


class PeriodSwitch(QtWidgets.QWidget):
    """Three exclusive buttons: 7D, 30D, 90D. Emits ``period_changed(days)``."""

    period_changed = Signal(int)

    def __init__(self, periods: Sequence[int] = PERIODS, default: int = DEFAULT_PERIOD,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.group = QtWidgets.QButtonGroup(self)
        self.group.setExclusive(True)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for days in periods:
            button = QtWidgets.QPushButton(f"{days}D", objectName=f"period_{days}")
            button.setCheckable(True)
            button.setChecked(days == default)
            button.setToolTip(f"Show ROI, PnL, win rate, drawdown and Sharpe over {days} days")
            self.group.addButton(button, days)
            layout.addWidget(button)
        self.group.idToggled.connect(self.on_group_id_toggled)

    @property
    def period(self) -> int:
        return self.group.checkedId()

    def set_period(self, days: int) -> None:
        button = self.group.button(days)
        if button is None:
            raise ValueError(f"no {days}-day window; choose one of "
                             f"{[self.group.id(b) for b in self.group.buttons()]}")
        button.setChecked(True)

    @Slot(int, bool)
    def on_group_id_toggled(self, days: int, checked: bool) -> None:
        if checked:
            self.period_changed.emit(days)


class TraderListView(QtWidgets.QWidget):
    """Traders with their figures over the chosen window.

    Signals: ``trader_selected(trader id)`` when the current row moves to another
    trader; ``copy_requested(trader id)`` from a row's Copy button.
    """

    trader_selected = Signal(str)
    copy_requested = Signal(str)
    period_changed = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._stats: list[TraderStats] = []
        self._selected: str | None = None
        self._fit_due = False
        self.model = RowTableModel(TRADER_COLUMNS, key=lambda r: r.trader,
                                   tooltip=lambda r: f"{r.name}: Enter or Copy to copy this trader",
                                   parent=self)
        self.proxy = TraderFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.period_switch = PeriodSwitch(parent=self)
        self.search = QtWidgets.QLineEdit(objectName="trader_search")
        self.search.setPlaceholderText("Search traders")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(280)
        self.copy_delegate = CopyButtonDelegate(self)
        self.table = self._build_table()
        self.collapser = ColumnCollapser(self.table, [(c,) for c in COLLAPSIBLE_COLUMNS])
        self.status = QtWidgets.QLabel(objectName="traders_status")
        mute(self.status)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Window:"))
        top.addWidget(self.period_switch)
        top.addSpacing(16)
        top.addWidget(self.search, 1)
        top.addStretch(1)
        top.addWidget(self.status)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

        self.period_switch.period_changed.connect(self.on_period_changed)
        self.search.textChanged.connect(self.on_search_text_changed)
        self.copy_delegate.clicked.connect(self.on_copy_delegate_clicked)
        self.table.selectionModel().currentRowChanged.connect(self.on_current_row_changed)
        self.model.rowsInserted.connect(self.on_model_rows_inserted)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # Enter on a row: copy it
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.on_enter_activated)
        self._update_status()

    def _build_table(self) -> QtWidgets.QTableView:
        table = QtWidgets.QTableView(objectName="traders_table")
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        point_sort_arrows(table)
        table.sortByColumn(TRADER_COLUMNS.index(self._column("ROI")),
                           Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 12)
        table.horizontalHeader().setStretchLastSection(False)
        table.setItemDelegateForColumn(COPY_COLUMN, self.copy_delegate)
        # The Copy button sits next to the name, so it is in view however narrow the dock.
        table.horizontalHeader().moveSection(COPY_COLUMN, 1)
        return table

    @staticmethod
    def _column(header: str) -> Column:
        return next(c for c in TRADER_COLUMNS if c.header == header)

    # ------------------------------------------------------------------ API
    @property
    def period(self) -> int:
        """The window, in days, of the ROI, PnL, win rate, drawdown and Sharpe columns."""
        return self.period_switch.period

    @period.setter
    def period(self, days: int) -> None:
        self.period_switch.set_period(days)

    def set_traders(self, traders: Sequence[TraderStats]) -> None:
        """Show these traders; the selection, sort and search are kept."""
        self._stats = list(traders)
        self._show_rows()

    def selected_trader(self) -> str | None:
        """The id of the selected trader, if any (and not hidden by the search)."""
        rows = self.table.selectionModel().selectedRows()
        return str(rows[0].data(KEY_ROLE)) if rows else None

    def top_trader(self) -> str | None:
        """The id of the first trader as the list is sorted and searched, if any."""
        if self.proxy.rowCount() == 0:
            return None
        return str(self.proxy.index(0, 0).data(KEY_ROLE))

    def focus_search(self) -> None:
        """Put the cursor in the search box, its text selected (Ctrl+F)."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def select_trader(self, trader: str) -> None:
        """Make ``trader`` the current row (emits ``trader_selected`` if it changed)."""
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(KEY_ROLE) == trader:
                self.table.selectRow(row)
                return

    # ------------------------------------------------------------------ slots
    @Slot(int)
    def on_period_changed(self, days: int) -> None:
        log.debug("trader list window: %s days", days)
        self._show_rows()
        self.period_changed.emit(days)

    @Slot(str)
    def on_search_text_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_status()

    @Slot(QModelIndex)
    def on_copy_delegate_clicked(self, index: QModelIndex) -> None:
        trader = index.data(KEY_ROLE)
        if trader is not None:
            log.info("copy requested from the trader list: %s", trader)
            self.copy_requested.emit(str(trader))

    @Slot()
    def on_enter_activated(self) -> None:
        current = self.table.currentIndex()
        trader = current.data(KEY_ROLE) if current.isValid() else None
        if trader is not None:
            log.info("copy requested with Enter in the trader list: %s", trader)
            self.copy_requested.emit(str(trader))

    @Slot(QModelIndex, QModelIndex)
    def on_current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        trader = current.data(KEY_ROLE) if current.isValid() else None
        if trader is not None and trader != self._selected:
            self._selected = str(trader)
            self.trader_selected.emit(self._selected)

    @Slot(QModelIndex, int, int)
    def on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self._fit_due = True

    # ------------------------------------------------------------------ helpers
    def _show_rows(self) -> None:
        days = self.period
        self.model.set_rows([trader_row(s, days) for s in self._stats])
        if self._fit_due:  # new traders are rare; never resize on value updates
            self._fit_due = False
            self.collapser.refit(self._fit_columns)
        self._update_status()

    def _fit_columns(self) -> None:
        fit_columns(self.table, numeric_sample="-00,000.00", bounded=BOUNDED_COLUMNS)
        self.table.horizontalHeader().resizeSection(COPY_COLUMN, self.copy_delegate.sizeHint(
            self._view_option(), QModelIndex()).width())

    def _view_option(self) -> QtWidgets.QStyleOptionViewItem:
        option = QtWidgets.QStyleOptionViewItem()
        option.initFrom(self.table)
        return option

    def _update_status(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        text = self.search.text().strip()
        if total == 0:
            self.status.setText("No traders yet")
        elif shown == 0:
            self.status.setText(f"No trader matches “{text}”")
        elif shown < total:
            self.status.setText(f"{shown} of {total} traders")
        else:
            self.status.setText(f"{total} traders")
