"""One trader in detail: equity curve, how the amount changes a copy of it (the
what-if sweep), open positions, recent trades and how its copiers are doing, with a
"Copy this trader" button.

A pure view: ``show_trader`` feeds it; it emits ``copy_requested(trader id)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..domain.words import CLOSE_WORDS, copy_status_words, mode_words, words
from ..session import CopyRow, PositionView
from ..store.stats import TraderStats
from .copies_panel import status_color
from .models import Column, RowTableModel
from .qt import Qt, QtCore, QtGui, QtWidgets, Signal, Slot, pg
from .shared import (
    DASH,
    DateAxis,
    colors,
    fit_columns,
    fmt_leverage,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_qty,
    fmt_share,
    mute,
    side_color,
    signed_color,
    style_plot,
)
from .whatif_views import SweepChart

log = logging.getLogger("smartcopy.ui")

NO_TRADER = "Select a trader in the list to see its record."


def fmt_time(ms: int | None) -> str:
    """A UTC timestamp in ms as "2024-06-01 12:00"."""
    if ms is None:
        return DASH
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def how_color(how: str | None) -> QtGui.QColor | None:
    return colors().red if how == "liquidation" else colors().muted if how == "cancel" \
        else None


@dataclass(frozen=True)
class HeldPosition:
    """One of the trader's open positions, keyed by its symbol."""

    key: Hashable
    symbol: str | None
    view: PositionView


POSITION_COLUMNS = [
    Column("Symbol", lambda h: h.symbol or "—"),
    Column("Side", lambda h: h.view.side, color=side_color),
    Column("Leverage", lambda h: h.view.leverage, fmt_leverage, align_right=True),
    Column("Margin mode", lambda h: h.view.margin_mode),
    Column("Qty", lambda h: h.view.qty, fmt_qty, align_right=True),
    Column("Entry", lambda h: h.view.entry, fmt_price, align_right=True),
    Column("Liq. price", lambda h: h.view.liq_price, fmt_price, align_right=True,
           tooltip="Liquidation price (— when there is none)"),
    Column("uPnL", lambda h: h.view.upnl, fmt_money, signed_color, True,
           tooltip="Unrealized PnL at the last price (USDT)"),
    Column("ROI", lambda h: h.view.roi, fmt_pct, signed_color, True,
           tooltip="Unrealized PnL / margin"),
]

TRADE_COLUMNS = [
    Column("Symbol", lambda t: t["symbol"]),
    Column("Side", lambda t: t["side"], color=side_color),
    Column("Opened", lambda t: t["opened_ts"], fmt_time, tooltip="UTC"),
    Column("Closed", lambda t: t["closed_ts"], fmt_time, tooltip="UTC"),
    Column("Result", lambda t: t["result"], fmt_money, signed_color, True,
           tooltip="Realized PnL − fees + funding of the position cycle (USDT)"),
    Column("How", lambda t: t["how"], lambda v: words(CLOSE_WORDS, v), how_color),
]

COPIER_COLUMNS = [
    Column("Copy", lambda r: r.copy_id, lambda v: f"#{v}"),
    Column("Mode", lambda r: r.mode, mode_words),
    Column("Status", lambda r: r.status, copy_status_words, status_color),
    Column("Investment", lambda r: r.investment, fmt_money, align_right=True),
    Column("Equity", lambda r: r.equity, fmt_money, align_right=True,
           tooltip="Copy wallet plus unrealized PnL (0 once the copy ended)"),
    Column("PnL", lambda r: r.pnl, fmt_money, signed_color, True),
    Column("ROI", lambda r: r.roi, fmt_pct, signed_color, True, tooltip="PnL / investment"),
]


def _trade_key(trade: dict[str, Any]) -> Hashable:
    return (trade["symbol"], trade["side"], trade["opened_ts"], trade["closed_ts"])


class TablePane(QtWidgets.QStackedWidget):
    """A table that shows a sentence instead when it has no rows."""

    def __init__(self, name: str, columns: Sequence[Column], key: Callable[[Any], Hashable],
                 empty_text: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RowTableModel(columns, key=key, parent=self)
        self.table = QtWidgets.QTableView(objectName=f"{name}_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = QtWidgets.QLabel(empty_text, objectName=f"{name}_empty")
        self.empty.setWordWrap(True)
        mute(self.empty).setContentsMargins(12, 12, 12, 12)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(self.empty)
        self.addWidget(self.table)

    def set_rows(self, rows: Sequence[Any]) -> None:
        fit = len(rows) != self.model.rowCount()
        self.model.set_rows(rows)
        self.setCurrentWidget(self.table if rows else self.empty)
        if fit and rows:  # rows came or went: rare next to value changes
            fit_columns(self.table)


class EquityChart(QtWidgets.QStackedWidget):
    """The trader's equity over time (floats for drawing only)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(axisItems={"bottom": DateAxis()})
        self.plot.setObjectName("equity_plot")
        self.plot.setMinimumSize(320, 130)
        # As in the ROI chart: the view's antialiasing only smooths the straight axes and
        # grid (the curve antialiases itself), and costs a third of each redraw.
        self.plot.setAntialiasing(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("left", "Equity (USDT)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "day (UTC)")
        self.plot.setMouseEnabled(x=True, y=False)
        self.curve = self.plot.plot(name="Equity")
        self.apply_theme()
        self.empty = QtWidgets.QLabel("No equity history yet.", objectName="equity_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mute(self.empty)
        self.addWidget(self.empty)
        self.addWidget(self.plot)

    def apply_theme(self) -> None:
        """Draw the chart in the theme's colours."""
        style_plot(self.plot)
        self.curve.setPen(pg.mkPen(colors().trader_pen, width=2))

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:  # the theme was switched
            self.apply_theme()

    def show_curve(self, curve: Sequence[tuple[int, Decimal]]) -> None:
        xs = [ts / 1000 for ts, _ in curve]
        ys = [float(equity) for _, equity in curve]  # display only
        self.curve.setData(xs, ys)
        self.setCurrentWidget(self.plot if curve else self.empty)
        if curve:
            self.plot.enableAutoRange()
            # Fit the axes now rather than during the paint, which would redraw twice.
            self.plot.getViewBox().prepareForPaint()


class TraderDetailView(QtWidgets.QWidget):
    """A trader's record. Signal: ``copy_requested(trader id)`` from "Copy this trader"."""

    copy_requested = Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._trader: str | None = None
        self.title = QtWidgets.QLabel(NO_TRADER, objectName="trader_title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QtWidgets.QLabel(objectName="trader_subtitle")
        mute(self.subtitle)
        self.subtitle.setWordWrap(True)
        self.copy_button = QtWidgets.QPushButton("Copy this trader", objectName="copy_trader")
        self.copy_button.setEnabled(False)
        self.copy_button.setDefault(True)
        self.chart = EquityChart()
        self.sweep = SweepChart()  # fed by the window, off the GUI thread
        self.positions = TablePane("trader_positions", POSITION_COLUMNS, lambda h: h.key,
                                   "No open positions.")
        self.trades = TablePane("trader_trades", TRADE_COLUMNS, _trade_key,
                                "No closed positions yet.")
        self.copiers = TablePane("trader_copiers", COPIER_COLUMNS, lambda r: r.copy_id,
                                 "Nobody has copied this trader yet.")
        self.tabs = QtWidgets.QTabWidget(objectName="trader_tabs")
        self.tabs.addTab(self.positions, "Open positions")
        self.tabs.addTab(self.trades, "Recent trades")
        self.tabs.addTab(self.copiers, "Copiers")

        heading = QtWidgets.QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(self.title)
        heading.addWidget(self.subtitle)
        top = QtWidgets.QHBoxLayout()
        top.addLayout(heading, 1)
        top.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.chart)
        self.splitter.addWidget(self.sweep)
        self.splitter.addWidget(self.tabs)
        self.splitter.setChildrenCollapsible(False)
        for pane in range(3):
            self.splitter.setStretchFactor(pane, 1)
        self.splitter.setSizes([240, 240, 240])  # in thirds until the user drags it
        self.tabs.setMinimumHeight(140)  # a header and a few rows however small the dock
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

        self.copy_button.clicked.connect(self.on_copy_button_clicked)

    # ------------------------------------------------------------------ API
    @property
    def trader(self) -> str | None:
        """The id of the trader shown, if any."""
        return self._trader

    def show_trader(self, stats: TraderStats, curve: Sequence[tuple[int, Decimal]],
                    positions: Sequence[PositionView], trades: Sequence[dict[str, Any]],
                    copiers: Sequence[CopyRow]) -> None:
        """Show one trader: its figures, equity curve (ms, equity), open positions,
        recent closed positions (``Session.recent_trades`` rows) and copies of it."""
        if stats.trader != self._trader:
            for pane in (self.positions, self.trades, self.copiers):
                pane.set_rows([])  # another trader: no row is the same one
        self._trader = stats.trader
        self.title.setText(stats.name)
        days = "day" if stats.days_active == 1 else "days"
        self.subtitle.setText(
            f"Profit share {fmt_share(Decimal(stats.profit_share))} · "
            f"{stats.days_active} {days} active · "
            f"equity {fmt_money(Decimal(stats.equity))} USDT · "
            f"AUM {fmt_money(Decimal(stats.aum))} USDT · "
            f"{stats.copiers} active {'copier' if stats.copiers == 1 else 'copiers'}")
        self.copy_button.setEnabled(True)
        self.copy_button.setToolTip(f"Open the copy wizard for {stats.name}")
        self.chart.show_curve(curve)
        held = [HeldPosition(p.symbol or i, p.symbol or None, p)
                for i, p in enumerate(positions)]
        self.positions.set_rows(held)
        self.trades.set_rows(list(trades))
        self.copiers.set_rows(list(copiers))
        self.tabs.setTabText(0, f"Open positions ({len(held)})")
        self.tabs.setTabText(1, f"Recent trades ({len(trades)})")
        self.tabs.setTabText(2, f"Copiers ({len(copiers)})")

    # ------------------------------------------------------------------ slots
    @Slot()
    def on_copy_button_clicked(self) -> None:
        if self._trader is not None:
            log.info("copy requested from the trader detail: %s", self._trader)
            self.copy_requested.emit(self._trader)
