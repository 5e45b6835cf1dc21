"""Live positions: each copy's position next to its trader's, how far they diverge, and
the trader's ROI against the copier's over time.

Divergence colours (the copier's view: green when the copy does as well or better):

- Entry Δ (bps): the copier's fill against the trader's, positive when the copier paid
  more for a long or got less for a short. Green at ≤ 0, amber when more than
  ``ENTRY_AMBER_BPS`` worse, red when more than ``ENTRY_RED_BPS`` worse. The default
  world's 500 ms delay and 2 bps impact usually cost a few bps.
- Util C/T: the copier's margin share of its copy account over the trader's share of
  its own. Green within ×/÷ ``UTIL_GREEN`` of 1, amber beyond ×/÷ ``UTIL_AMBER``, red
  beyond ×/÷ ``UTIL_RED`` (the copy then risks twice, or half, what the trader does).
- Liq Δ: copier's liquidation price minus the trader's. Green when the copier's is as
  far from the market or further (lower for a long, higher for a short); amber when
  closer by more than ``LIQ_AMBER`` of the trader's liquidation price, red beyond
  ``LIQ_RED``.
- ROI Δ (percentage points): copier's ROI minus the trader's. Green at ≥ 0, amber
  more than ``ROI_AMBER`` behind, red more than ``ROI_RED`` behind.

Updates are coalesced: ``update_pairs`` and ``add_roi_sample`` only store; a timer
applies the latest state at most every ``FLUSH_MS`` so a fast world stays smooth.
"""

from __future__ import annotations

import html
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..session import PositionPair, PositionView
from .models import KEY_ROLE, Column, RowTableModel
from .qt import QModelIndex, Qt, QtCore, QtGui, QTimer, QtWidgets, Signal, Slot, pg
from .shared import (
    DASH,
    ColumnCollapser,
    DateAxis,
    colors,
    fit_columns,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_qty,
    mute,
    signed_color,
    style_plot,
)

log = logging.getLogger("smartcopy.ui")

FLUSH_MS = 250
ROI_HISTORY = 2_000  # points kept per copy

ENTRY_AMBER_BPS = Decimal(5)
ENTRY_RED_BPS = Decimal(20)
UTIL_GREEN = Decimal("1.10")
UTIL_AMBER = Decimal("1.5")
UTIL_RED = Decimal(2)
LIQ_AMBER = Decimal("0.01")
LIQ_RED = Decimal("0.05")
ROI_AMBER = Decimal("0.02")
ROI_RED = Decimal("0.10")

NO_POSITIONS = "No open positions. Copy a trader to see its positions next to yours."
NO_POSITIONS_YET = ("Your copies hold no positions right now: they open one when their "
                    "trader next does.")


# ---------------------------------------------------------------------- divergence grading
def grade(worse_by: Decimal | None, amber: Decimal, red: Decimal) -> QtGui.QColor | None:
    """Green when the copy is not worse, amber/red beyond the thresholds, else none."""
    if worse_by is None:
        return None
    if worse_by <= 0:
        return colors().green
    return colors().red if worse_by > red else colors().amber if worse_by > amber else None


def entry_worse_bps(pair: PositionPair) -> Decimal | None:
    """How many bps worse the copier's entry is than the trader's (negative: better)."""
    if pair.entry_diff_bps is None or pair.copier_pos is None:
        return None
    return pair.entry_diff_bps if pair.copier_pos.side == "long" else -pair.entry_diff_bps


def utilization_color(pair: PositionPair) -> QtGui.QColor | None:
    ratio = pair.utilization_ratio
    if ratio is None or ratio <= 0:
        return None
    factor = max(ratio, 1 / ratio)
    if factor <= UTIL_GREEN:
        return colors().green
    if factor > UTIL_RED:
        return colors().red
    return colors().amber if factor > UTIL_AMBER else None


def liq_closer_by(pair: PositionPair) -> Decimal | None:
    """How much closer to the market the copier's liquidation price is, as a share of the
    trader's (negative: further away, safer)."""
    tp, cp = pair.trader_pos, pair.copier_pos
    if pair.liq_diff is None or tp is None or cp is None or not tp.liq_price:
        return None
    closer = pair.liq_diff if cp.side == "long" else -pair.liq_diff
    return closer / tp.liq_price


def roi_behind(pair: PositionPair) -> Decimal | None:
    return None if pair.roi_diff is None else -pair.roi_diff


# ---------------------------------------------------------------------- formatting
def fmt_position(pv: PositionView | None) -> str:
    """Side, leverage and margin mode in one cell: "long 20× cross"."""
    if pv is None:
        return DASH
    return f"{pv.side} {fmt_qty(pv.leverage)}× {pv.margin_mode}"


def fmt_margin(pv: PositionView | None) -> str:
    """Margin and its share of the account: "125.00 · 12.5%"."""
    if pv is None:
        return DASH
    return f"{fmt_money(pv.margin)} · {fmt_pct(pv.utilization, 1, signed=False)}"


def fmt_signed_price(value: Decimal | None) -> str:
    """A price difference: two places unless it is below one."""
    if value is None:
        return DASH
    size = abs(value)
    places = 2 if size >= 1 or not size else 4 if size >= Decimal("0.01") else 6
    return f"{value:+,.{places}f}"


def fmt_worse_bps(value: Decimal | None) -> str:
    """How much worse the copy's entry is, the same way for a long and a short:
    "2.0 worse", "1.5 better", "same"."""
    if value is None:
        return DASH
    if value == 0:
        return "same"
    return f"{abs(value):.1f} {'worse' if value > 0 else 'better'}"


def fmt_ratio(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:.2f}×"


def fmt_pp(value: Decimal | None) -> str:
    """A difference of two ratios, in percentage points."""
    return DASH if value is None else f"{value * 100:+.2f}"


# ---------------------------------------------------------------------- the table model
TRADER, COPIER, DIVERGENCE = "trader", "copier", "divergence"


@dataclass(frozen=True)
class PairColumn(Column):
    """A column of the pair table: its group (trader, copier, divergence) and a colour
    rule that sees the whole pair (divergence depends on the position's side)."""

    group: str = ""
    row_color: Callable[[PositionPair], QtGui.QColor | None] | None = None


def _both(metric: str, of: Callable[[PositionView], Any], text: Callable[[Any], str],
          color: Callable[[Any], QtGui.QColor | None] | None = None, tooltip: str | None = None,
          align_right: bool = True) -> list[PairColumn]:
    """The trader's and the copier's column of one metric, next to each other."""

    def getter(side: Callable[[PositionPair], PositionView | None]
               ) -> Callable[[PositionPair], Any]:
        return lambda p: None if side(p) is None else of(side(p))  # type: ignore[arg-type]

    return [
            PairColumn(f"{metric}\n{who}", getter(side), text, color, align_right, tooltip,
                       group=who)
            for who, side in ((TRADER, lambda p: p.trader_pos), (COPIER, lambda p: p.copier_pos))
    ]


def pair_columns(copy_label: Callable[[int], str]) -> list[PairColumn]:
    """The pair table's columns; ``copy_label`` names a copy by its id."""
    return [
    PairColumn("Copy", lambda p: copy_label(p.copy_id)),
    PairColumn("Symbol", lambda p: p.symbol),
    *_both("Position", fmt_position, lambda v: "—" if v is None else v, align_right=False,
           tooltip="Side, leverage and margin mode"),
    *_both("Qty", lambda v: v.qty, fmt_qty),
    *_both("Entry", lambda v: v.entry, fmt_price),
    PairColumn("Entry Δ\nbps", entry_worse_bps, fmt_worse_bps, align_right=True,
               group=DIVERGENCE,
               row_color=lambda p: grade(entry_worse_bps(p), ENTRY_AMBER_BPS, ENTRY_RED_BPS),
               tooltip="How much worse (or better) the copy's entry price is than the "
                       "trader's, in basis points: higher for a long, lower for a short "
                       "is worse"),
    *_both("Liq. price", lambda v: v.liq_price, fmt_price,
           tooltip="Liquidation price (— when there is none or the side is not held)"),
    PairColumn("Liq. Δ\nC − T", lambda p: p.liq_diff, fmt_signed_price, align_right=True,
               group=DIVERGENCE,
               row_color=lambda p: grade(liq_closer_by(p), LIQ_AMBER, LIQ_RED),
               tooltip="Copier's liquidation price − trader's"),
    *_both("uPnL", lambda v: v.upnl, fmt_money, signed_color),
    *_both("ROI", lambda v: v.roi, fmt_pct, signed_color, tooltip="Unrealized PnL / margin"),
    PairColumn("ROI Δ\npp", lambda p: p.roi_diff, fmt_pp, align_right=True,
               group=DIVERGENCE,
               row_color=lambda p: grade(roi_behind(p), ROI_AMBER, ROI_RED),
               tooltip="Copier's ROI − trader's, in percentage points"),
    *_both("Margin · util.", lambda v: v, fmt_margin,
           tooltip="Margin and its share of the account's equity"),
    PairColumn("Util.\nC / T", lambda p: p.utilization_ratio, fmt_ratio, align_right=True,
               group=DIVERGENCE, row_color=utilization_color,
               tooltip="Copier's margin utilization / trader's: 1.00× risks the same share"),
    PairColumn("Why they differ", lambda p: p.why),
    ]


# When the table is too narrow, these go first, in this order: the reason is also
# written out under the table, and the divergence columns say what the rest would.
COLLAPSE_ORDER = (("Why they differ",),
                  *((f"{metric}\n{TRADER}", f"{metric}\n{COPIER}")
                    for metric in ("Margin · util.", "uPnL", "Qty")))


class PairTableModel(RowTableModel):
    """Position pairs keyed by (copy id, symbol), with grouped, tinted side columns."""

    def __init__(self, parent: Any = None) -> None:
        self.labels: dict[int, str] = {}
        self.pair_columns = pair_columns(self.copy_label)
        super().__init__(self.pair_columns, key=lambda p: (p.copy_id, p.symbol),
                         tooltip=lambda p: p.why, parent=parent)

    def copy_label(self, copy_id: int) -> str:
        """A copy's label ("Dmitri Averages · Smart · #1"); "#1" until it is known."""
        return self.labels.get(copy_id, f"#{copy_id}")

    def set_labels(self, labels: dict[int, str]) -> None:
        if labels != self.labels:
            self.labels = dict(labels)
            if self.rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 0))

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ForegroundRole:
            group = self.pair_columns[section].group
            theme = colors()
            return (theme.trader_ink if group == TRADER
                    else theme.copier_ink if group == COPIER else None)
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid():
            col = self.pair_columns[index.column()]
            if role == Qt.ItemDataRole.ForegroundRole and col.row_color is not None:
                return col.row_color(self.rows[index.row()])
            if role == Qt.ItemDataRole.BackgroundRole:
                theme = colors()
                return (theme.trader_tint if col.group == TRADER
                        else theme.copier_tint if col.group == COPIER else None)
        return super().data(index, role)


# ---------------------------------------------------------------------- the ROI chart
class RoiChart(QtWidgets.QWidget):
    """Trader ROI against copier ROI over time for one copy, with a copy picker."""

    copy_selected = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.copy_combo = QtWidgets.QComboBox(objectName="roi_copy")
        self.copy_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.plot = pg.PlotWidget(axisItems={"bottom": DateAxis()})
        self.plot.setObjectName("roi_plot")
        self.plot.setMinimumSize(320, 110)
        # The view's antialiasing only smooths the axes and the grid, which are straight
        # lines (the curves antialias themselves): without it a redraw costs a third less.
        self.plot.setAntialiasing(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("left", "ROI (%)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # no "(x0.001)" on percents
        self.plot.setLabel("bottom", "time (UTC)")
        # One row at the top: a short chart keeps its zero line clear of the labels.
        self.plot.addLegend(offset=(8, 2), colCount=2)
        self.trader_curve = self.plot.plot(name="Trader")
        self.copier_curve = self.plot.plot(name="Copier (you)")
        self.zero_line = pg.InfiniteLine(pos=0, angle=0)
        self.plot.addItem(self.zero_line)
        self.apply_theme()
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("ROI since the copy started:"))
        top.addWidget(self.copy_combo)
        top.addStretch(1)
        self.empty = QtWidgets.QLabel("Your copy's ROI and its trader's appear here "
                                      "once a copy is running.", objectName="roi_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mute(self.empty)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.plot)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.copy_combo.currentIndexChanged.connect(self.on_current_index_changed)

    def apply_theme(self) -> None:
        """Draw the chart in the theme's colours."""
        theme = colors()
        style_plot(self.plot)
        self.trader_curve.setPen(pg.mkPen(theme.trader_pen, width=2))
        self.copier_curve.setPen(pg.mkPen(theme.copier_pen, width=2))
        self.zero_line.setPen(pg.mkPen(theme.zero_line))

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:  # the theme was switched
            self.apply_theme()

    def selected_copy(self) -> int | None:
        data = self.copy_combo.currentData()
        return None if data is None else int(data)

    def ensure_copy(self, copy_id: int, label: str, replace: bool = False) -> None:
        """Offer ``copy_id`` in the picker, kept in id order. An existing entry takes
        ``label`` when ``replace`` or when it only had its bare "#id"."""
        i = self.copy_combo.findData(copy_id)
        if i < 0:
            at = sum(1 for j in range(self.copy_combo.count())
                     if int(self.copy_combo.itemData(j)) < copy_id)
            self.copy_combo.insertItem(at, label, copy_id)
            return
        text = self.copy_combo.itemText(i)
        if text != label and (replace or text == f"#{copy_id}"):
            self.copy_combo.setItemText(i, label)

    def select(self, copy_id: int) -> None:
        i = self.copy_combo.findData(copy_id)
        if i >= 0:
            self.copy_combo.setCurrentIndex(i)

    def show_history(self, history: Sequence[tuple[int, Decimal, Decimal]]) -> None:
        self.stack.setCurrentWidget(self.plot if history else self.empty)
        xs = [ts / 1000 for ts, _, _ in history]
        self.trader_curve.setData(xs, [float(t * 100) for _, t, _ in history])
        self.copier_curve.setData(xs, [float(c * 100) for _, _, c in history])
        # Fit the axes now: left to the paint, pyqtgraph's auto-range changes the axes
        # while painting, and they ask for a second full redraw of the chart.
        self.plot.getViewBox().prepareForPaint()

    @Slot(int)
    def on_current_index_changed(self, index: int) -> None:
        copy_id = self.selected_copy()
        if copy_id is not None:
            self.copy_selected.emit(copy_id)


# ---------------------------------------------------------------------- the panel
class PositionsPanel(QtWidgets.QWidget):
    """Each copy's positions beside its trader's, divergence, and an ROI chart.

    Feed it with ``update_pairs`` and ``add_roi_sample``; it emits ``copy_selected`` when
    the user picks a copy (table row or chart picker).
    """

    copy_selected = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PairTableModel(self)
        self.table = self._build_table()
        headers = [c.header for c in self.model.columns]
        self.collapser = ColumnCollapser(
            self.table, [[headers.index(h) for h in group] for group in COLLAPSE_ORDER])
        self._fit_columns()  # the headers fit before any row arrives
        self.hint = mute(QtWidgets.QLabel(NO_POSITIONS, objectName="positions_hint"))
        # The "why" of the selected row (the first when none is), in full: the table's
        # last column is often scrolled out of view on a narrow window.
        self.why = QtWidgets.QLabel(objectName="positions_why")
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.why.hide()
        self.chart = RoiChart()
        self._history: dict[int, deque[tuple[int, Decimal, Decimal]]] = {}
        self._pending: list[PositionPair] | None = None
        self._chart_dirty = False
        self._fit_due = False
        self._shown_copy: int | None = None
        self.flush_timer = QTimer(self)
        self.flush_timer.setSingleShot(True)
        self.flush_timer.setInterval(FLUSH_MS)
        self.flush_timer.timeout.connect(self.on_flush_timer_timeout)

        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.hint)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.why)
        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.chart)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([300, 200])  # in proportion until the user drags it
        self.splitter.setChildrenCollapsible(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

        self.table.selectionModel().currentRowChanged.connect(self.on_current_row_changed)
        self.model.rowsInserted.connect(self.on_model_rows_inserted)
        self.chart.copy_selected.connect(self.on_chart_copy_selected)

    def _fit_columns(self) -> None:
        self.collapser.refit(lambda: fit_columns(self.table, "-0,000.00"))

    def _build_table(self) -> QtWidgets.QTableView:
        table = QtWidgets.QTableView(objectName="positions_table")
        table.setModel(self.model)
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(False)
        table.setWordWrap(False)
        table.setMinimumHeight(90)  # header and a few rows, however small the dock
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    # ------------------------------------------------------------------ feeding
    def update_pairs(self, pairs: Iterable[PositionPair]) -> None:
        """Store the latest pairs; the timer shows them (only the last of a burst)."""
        self._pending = list(pairs)
        self._schedule()

    def add_roi_sample(self, copy_id: int, ts_ms: int, trader_roi: Decimal,
                       copier_roi: Decimal) -> None:
        """Record one point of a copy's ROI history (the last ``ROI_HISTORY`` are kept)."""
        history = self._history.get(copy_id)
        if history is None:
            history = self._history[copy_id] = deque(maxlen=ROI_HISTORY)
            self.chart.ensure_copy(copy_id, f"#{copy_id}")
        history.append((ts_ms, trader_roi, copier_roi))
        if copy_id == self.chart.selected_copy():
            self._chart_dirty = True
            self._schedule()

    def set_copies(self, labels: Sequence[tuple[int, str]], active: int = 0) -> None:
        """Name the copies in the table and the chart's picker, e.g. ``[(1, "Alice ·
        Smart · #1")]``; ``active`` copies are running (the hint then says they hold
        nothing yet rather than suggest copying someone)."""
        self.model.set_labels(dict(labels))
        for copy_id, label in labels:
            self.chart.ensure_copy(copy_id, label, replace=True)
        self.hint.setText(NO_POSITIONS_YET if active else NO_POSITIONS)

    def roi_history(self, copy_id: int) -> list[tuple[int, Decimal, Decimal]]:
        """The kept (ts ms, trader ROI, copier ROI) points of a copy, oldest first."""
        return list(self._history.get(copy_id, ()))

    def selected_copy(self) -> int | None:
        return self.chart.selected_copy()

    def select_copy(self, copy_id: int) -> None:
        self.chart.select(copy_id)

    def flush(self) -> None:
        """Apply what was stored since the last flush (the timer calls this)."""
        if self._pending is not None:
            pairs, self._pending = self._pending, None
            self.model.set_rows(pairs)
            if self._fit_due:
                self._fit_due = False
                self._fit_columns()
            for copy_id in sorted({p.copy_id for p in pairs}):
                self.chart.ensure_copy(copy_id, self.model.copy_label(copy_id))
            self.hint.setVisible(not pairs)
            self._show_why()
        if self._chart_dirty:
            self._chart_dirty = False
            selected = self.chart.selected_copy()
            self.chart.show_history(self.roi_history(selected) if selected is not None else [])

    def _show_why(self) -> None:
        current = self.table.currentIndex()
        if current.isValid():
            row = current.row()
        else:  # no row picked: the first of the copy the chart shows, else the first
            chosen = self.chart.selected_copy()
            row = next((i for i, p in enumerate(self.model.rows) if p.copy_id == chosen), 0)
        if row >= self.model.rowCount():
            self.why.hide()
            return
        pair: PositionPair = self.model.rows[row]
        label = html.escape(self.model.copy_label(pair.copy_id))
        self.why.setText(f"<b>Why {label} · {pair.symbol} differs:</b> "
                         f"{html.escape(pair.why)}")
        self.why.show()

    def _schedule(self) -> None:
        if not self.flush_timer.isActive():
            self.flush_timer.start()

    # ------------------------------------------------------------------ slots
    @Slot()
    def on_flush_timer_timeout(self) -> None:
        self.flush()

    @Slot(QModelIndex, int, int)
    def on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self._fit_due = True  # applied once at the end of the flush

    @Slot(QModelIndex, QModelIndex)
    def on_current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            copy_id, _symbol = current.siblingAtColumn(0).data(KEY_ROLE)
            self.chart.select(copy_id)
        self._show_why()

    @Slot(int)
    def on_chart_copy_selected(self, copy_id: int) -> None:
        self.chart.show_history(self.roi_history(copy_id))
        self._chart_dirty = False
        self._show_why()
        if copy_id != self._shown_copy:
            self._shown_copy = copy_id
            self.copy_selected.emit(copy_id)

