"""What-if views: the copy wizard's "the last 30 days with this copy" panel and the
trader detail's "How the amount changes the copy" chart.

Pure views: they draw what a what-if (``whatif.report.CopyFigures``) or a sweep
(``session.WhatIfSweep``) says; the controller computes them off the GUI thread.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from decimal import Decimal

from ..domain.words import in_sentence, mode_words, outcome_status_words, reason_words
from ..session import WhatIfSweep
from ..whatif.report import CopyFigures
from ..whatif.sweep import SWEEP_MODES
from .qt import Qt, QtCore, QtGui, QtWidgets, Signal, Slot, pg
from .shared import (
    DateAxis,
    colors,
    error_style,
    fmt_money,
    fmt_pct,
    fmt_usdt,
    mute,
    style_plot,
)

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
SWEEP_DAYS = 30
FIGURES_WIDTH = 270
ENTER_INVESTMENT = "Enter an investment to see what this copy would have done."
# One pen style per mode in the sweep chart (the colour says ROI or tracking error).
MODE_STYLES = {"smart": Qt.PenStyle.SolidLine, "fixed_amount": Qt.PenStyle.DashLine,
               "fixed_ratio": Qt.PenStyle.DotLine}


def _pct_points(values: Sequence[Decimal | None]) -> list[float]:
    """Ratios as percentages for drawing only (None: a gap)."""
    return [float(v * 100) if v is not None else math.nan for v in values]


def outcome_lines(f: CopyFigures) -> list[str]:
    """Each (status, reason) count in the app's words: "2 × Skipped (the trader…)"."""
    out = []
    for status, reason, count in f.outcomes:
        why = reason_words(reason, status)
        out.append(f"{count} × {outcome_status_words(status)}"
                   + (f" ({in_sentence(why)})" if why else ""))
    return out


def figures_html(f: CopyFigures) -> str:
    """The key figures and the outcome counts of one what-if."""
    def row(label: str, value: str) -> str:
        return f"<tr><td>{label}</td><td align='right'>&nbsp;&nbsp;{value}</td></tr>"

    rows = [row("Final equity", f"{fmt_money(f.final_equity)} USDT"),
            row("PnL", f"{fmt_money(f.pnl)} USDT"),
            row("ROI", f"{fmt_pct(f.roi)}"),
            row("Trader ROI", f"{fmt_pct(f.trader_roi)}"),
            row("Fees", f"{fmt_money(f.fees)} USDT"),
            row("Funding", f"{fmt_money(f.funding)} USDT"),
            row("Profit share", f"{fmt_money(f.profit_share)} USDT")]
    if f.liquidations:
        rows.append(row("Liquidations", str(f.liquidations)))
    outcomes = outcome_lines(f)
    counts = "<br>".join(html.escape(line) for line in outcomes) if outcomes \
        else "No trades of the trader to copy in this window."
    return f"<table cellspacing='0'>{''.join(rows)}</table><p>{counts}</p>"


class WhatIfPanel(QtWidgets.QWidget):
    """The last N days with this copy: copy ROI beside the trader's, the key figures
    and the outcome counts. ``period_changed(days)`` when the user picks 7/30/90 days.
    Results carry the number of the request they answer: an older one than the newest
    shown is dropped."""

    period_changed = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("whatif_panel")
        self.shown_seq = 0  # the request whose answer is on screen
        self.title = QtWidgets.QLabel(objectName="whatif_title")
        self.period = QtWidgets.QComboBox(objectName="whatif_period")
        for days in PERIODS:
            self.period.addItem(f"{days} days", days)
        self.period.setCurrentIndex(PERIODS.index(DEFAULT_PERIOD))
        self.period.setToolTip("The window of the trader's recorded history to replay")
        self.state = mute(QtWidgets.QLabel(objectName="whatif_state"))
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.period)
        head.addStretch(1)
        head.addWidget(self.state)

        self.plot = pg.PlotWidget(axisItems={"bottom": DateAxis()})
        self.plot.setObjectName("whatif_plot")
        self.plot.setMinimumSize(300, 150)
        self.plot.setAntialiasing(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("left", "ROI (%)")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.addLegend(offset=(8, 8))
        self.copy_curve = self.plot.plot(name="Your copy")
        self.trader_curve = self.plot.plot(name="Trader")
        self.figures = QtWidgets.QLabel(objectName="whatif_figures")
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setWordWrap(True)
        self.figures.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message = QtWidgets.QLabel(objectName="whatif_message")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # The figures or, in their place, why there are none; the plot beside them keeps
        # its size whichever shows (laying it out anew as answers come would stall).
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.figures)
        self.stack.setFixedWidth(FIGURES_WIDTH)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.plot, 1)
        row.addWidget(self.stack)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(head)
        layout.addLayout(row, 1)
        self.apply_theme()
        self._set_title()
        self.show_message(ENTER_INVESTMENT)
        self.period.currentIndexChanged.connect(self.on_period_current_index_changed)

    @property
    def days(self) -> int:
        return int(self.period.currentData())

    def _set_title(self) -> None:
        self.title.setText(f"<b>The last {self.days} days with this copy</b> — a replay of "
                           "the trader's recorded history:")

    def apply_theme(self) -> None:
        style_plot(self.plot)
        theme = colors()
        self.copy_curve.setPen(pg.mkPen(theme.copier_pen, width=2))
        self.trader_curve.setPen(pg.mkPen(theme.trader_pen, width=2))

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:  # the theme was switched
            self.apply_theme()
            if self.message.styleSheet():  # an error: red in the new theme
                self.message.setStyleSheet(error_style())

    # ------------------------------------------------------------------ API
    def set_running(self, running: bool) -> None:
        self.state.setText("Updating…" if running else "")

    def show_message(self, text: str, error: bool = False) -> None:
        """A sentence in place of the chart: why there is no what-if."""
        self.message.setText(text)
        self.message.setStyleSheet(error_style() if error else "")
        if not error:
            mute(self.message)
        self.copy_curve.setData([], [])
        self.trader_curve.setData([], [])
        self.stack.setCurrentWidget(self.message)

    def show_error(self, seq: int, text: str, error: bool = True) -> bool:
        """What was wrong with request ``seq`` (``error``: in red); False (dropped) when a
        newer one shows."""
        if seq < self.shown_seq:
            return False
        self.shown_seq = seq
        self.set_running(False)
        self.show_message(text[:1].upper() + text[1:], error=error)
        return True

    def show_result(self, seq: int, f: CopyFigures) -> bool:
        """The answer to request ``seq``; False (dropped) when a newer one shows."""
        if seq < self.shown_seq:
            return False
        self.shown_seq = seq
        self.set_running(False)
        xs = [p.ts / 1000 for p in f.equity_curve]
        inv = f.investment
        self.copy_curve.setData(xs, _pct_points([(p.equity - inv) / inv if inv else None
                                                 for p in f.equity_curve]))
        self.trader_curve.setData(xs, _pct_points([p.trader_roi for p in f.equity_curve]),
                                  connect="finite")
        self.plot.enableAutoRange()
        self.figures.setText(figures_html(f))
        self.stack.setCurrentWidget(self.figures)
        return True

    def figures_text(self) -> str:
        """The figures as plain text on one line (what a user reads)."""
        doc = QtGui.QTextDocument()
        doc.setHtml(self.figures.text())
        return " ".join(doc.toPlainText().split())

    @Slot(int)
    def on_period_current_index_changed(self, _index: int) -> None:
        self._set_title()
        self.period_changed.emit(self.days)


class SweepChart(QtWidgets.QWidget):
    """How the amount changes the copy: ROI and tracking error (copy ROI − trader ROI)
    against the investment on a log axis, one line per mode, the smallest clean smart
    investment marked."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep_chart")
        self.trader: str | None = None
        self.title = QtWidgets.QLabel(
            f"<b>How the amount changes the copy</b> — the last {SWEEP_DAYS} days replayed "
            "for each investment and mode", objectName="sweep_title")
        self.title.setWordWrap(True)
        self.note = mute(QtWidgets.QLabel(objectName="sweep_note"))
        self.note.setWordWrap(True)
        self.plots: list[pg.PlotWidget] = []
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.markers: list[pg.InfiniteLine] = []
        charts = QtWidgets.QHBoxLayout()
        for what, label in (("roi", "Copy ROI (%)"), ("tracking", "Tracking error (pp)")):
            plot = pg.PlotWidget()
            plot.setObjectName(f"sweep_{what}_plot")
            plot.setMinimumSize(220, 150)
            plot.setAntialiasing(False)
            plot.setLogMode(x=True, y=False)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setLabel("left", label)
            plot.setLabel("bottom", "investment (USDT)")
            plot.setMouseEnabled(x=False, y=False)
            if what == "roi":
                plot.addLegend(offset=(-8, -8))  # bottom right: the lines level off above
            for mode in SWEEP_MODES:
                self.curves[(what, mode)] = plot.plot(name=mode_words(mode))
            marker = pg.InfiniteLine(angle=90, movable=False)
            marker.setVisible(False)
            plot.addItem(marker)
            self.markers.append(marker)
            self.plots.append(plot)
            charts.addWidget(plot)
        # The plots stay laid out whatever shows: an answer only redraws their lines (a
        # first layout of two plots while the what-ifs run would stall the window).
        self.charts = QtWidgets.QWidget()
        self.charts.setLayout(charts)
        charts.setContentsMargins(0, 0, 0, 0)
        self.swept: WhatIfSweep | None = None  # the sweep drawn, if any
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.charts, 1)
        layout.addWidget(self.note)
        self.note.setMinimumHeight(2 * self.note.fontMetrics().lineSpacing() + 4)
        self.apply_theme()
        self.show_message("Select a trader to see how the amount changes a copy of it.")

    def apply_theme(self) -> None:
        theme = colors()
        for plot in self.plots:
            style_plot(plot)
        for (what, mode), curve in self.curves.items():
            pen = theme.copier_pen if what == "roi" else theme.trader_pen
            curve.setPen(pg.mkPen(pen, width=2, style=MODE_STYLES[mode]))
        for marker in self.markers:
            marker.setPen(pg.mkPen(theme.green.name(), width=1, style=Qt.PenStyle.DashLine))

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            self.apply_theme()

    def show_message(self, text: str) -> None:
        """A sentence under empty plots: why there is no sweep (yet)."""
        self.swept = None
        for curve in self.curves.values():
            curve.setData([], [])
        for marker in self.markers:
            marker.setVisible(False)
        for plot in self.plots:  # empty: the amounts it will span, no made-up values
            plot.setXRange(1, 5, padding=0)  # 10 … 100,000 USDT (log axis)
            plot.getAxis("left").setStyle(showValues=False)
        self.note.setText(text)

    def show_pending(self, trader: str) -> None:
        self.trader = trader
        self.show_message("Replaying the trader's history for each amount…")

    def show_error(self, trader: str, text: str) -> None:
        self.trader = trader
        self.show_message(text[:1].upper() + text[1:])

    def show_sweep(self, sweep: WhatIfSweep) -> None:
        self.trader = sweep.trader
        self.swept = sweep
        for (what, mode), curve in self.curves.items():
            copies = [f for f in sweep.copies if f.mode == mode]
            xs = [float(f.investment) for f in copies]
            ys = _pct_points([f.roi if what == "roi" else f.tracking_error for f in copies])
            curve.setData(xs, ys, connect="finite")
        smallest = sweep.smallest_clean
        for marker in self.markers:
            marker.setVisible(smallest is not None)
            if smallest is not None:
                marker.setValue(math.log10(float(smallest)))
        for plot in self.plots:
            plot.getAxis("left").setStyle(showValues=True)
            plot.enableAutoRange()
        self.note.setText(
            f"Dashed green line: the smallest clean investment in {mode_words('smart')} "
            f"mode, {fmt_usdt(smallest)} USDT — from there up, nothing was bumped to the "
            "minimum, reduced or skipped for want of money." if smallest is not None else
            f"{mode_words('smart')} mode had orders bumped, reduced or skipped for want "
            f"of money at every amount up to 100,000 USDT.")
