"""What the panels share: the theme's colours and the colour rules built on them,
column fitting, muted text, chart styling, and the number formatters (re-exported
from ``domain.formats`` so a panel has one place to import them from).

Colours are looked up when a cell or a chart is drawn (``colors()``), never frozen
at import, so switching between the light and the dark theme repaints in the new
colours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.formats import (
    DASH,
    fmt_balance,
    fmt_leverage,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_qty,
    fmt_share,
    fmt_usdt,
)
from .qt import Qt, QtCore, QtGui, QtWidgets, pg

__all__ = ["DASH", "fmt_balance", "fmt_leverage", "fmt_money", "fmt_share", "fmt_pct",
           "fmt_price", "fmt_qty", "fmt_usdt",
           "Colors", "LIGHT", "DARK", "colors", "set_colors", "is_dark_palette",
           "signed_color", "side_color", "fit_columns", "point_sort_arrows", "DateAxis",
           "mute", "style_plot", "error_style"]


@dataclass(frozen=True)
class Colors:
    """One theme's colours. Inks are for text, tints for cell backgrounds, pens for
    chart lines."""

    dark: bool
    green: QtGui.QColor
    red: QtGui.QColor
    amber: QtGui.QColor
    muted: QtGui.QColor
    trader_ink: QtGui.QColor
    copier_ink: QtGui.QColor
    trader_tint: QtGui.QColor
    copier_tint: QtGui.QColor
    trader_pen: str
    copier_pen: str
    chart_background: str
    chart_foreground: str
    zero_line: str


LIGHT = Colors(
    dark=False, green=QtGui.QColor("#1a7f37"), red=QtGui.QColor("#cf222e"),
    amber=QtGui.QColor("#9a6700"), muted=QtGui.QColor("#6e7781"),
    trader_ink=QtGui.QColor("#0550ae"), copier_ink=QtGui.QColor("#6639ba"),
    trader_tint=QtGui.QColor("#f1f6fd"), copier_tint=QtGui.QColor("#f7f3fd"),
    trader_pen="#0969da", copier_pen="#8250df", chart_background="#ffffff",
    chart_foreground="#24292f", zero_line="#afb8c1")
DARK = Colors(
    dark=True, green=QtGui.QColor("#3fb950"), red=QtGui.QColor("#f85149"),
    amber=QtGui.QColor("#d29922"), muted=QtGui.QColor("#8b949e"),
    trader_ink=QtGui.QColor("#79c0ff"), copier_ink=QtGui.QColor("#d2a8ff"),
    trader_tint=QtGui.QColor("#16233a"), copier_tint=QtGui.QColor("#241a38"),
    trader_pen="#58a6ff", copier_pen="#bc8cff", chart_background="#0d1117",
    chart_foreground="#c9d1d9", zero_line="#484f58")

_current: list[Colors] = [LIGHT]


def colors() -> Colors:
    """The colours of the theme in use."""
    return _current[0]


def set_colors(theme: Colors) -> None:
    """Use ``theme``'s colours from the next paint on (the theme module calls this)."""
    _current[0] = theme


def is_dark_palette(palette: QtGui.QPalette) -> bool:
    """Whether a palette draws light text on a dark window."""
    return palette.color(QtGui.QPalette.ColorRole.Window).lightness() < 128


def signed_color(value: Any) -> QtGui.QColor | None:
    """Green above zero, red below, none at zero or empty."""
    if value is None:
        return None
    return colors().green if value > 0 else colors().red if value < 0 else None


def side_color(side: str | None) -> QtGui.QColor | None:
    """Long in green, short in red."""
    return colors().green if side == "long" else colors().red if side == "short" else None


class ColumnCollapser(QtCore.QObject):
    """Keeps a table from scrolling sideways: while its columns do not fit its width,
    the ``collapsible`` groups of columns are hidden, least needed first (a group goes
    together: a trader's and a copier's column of one figure), and shown again once they
    fit. ``refit`` sizes the columns (with every one shown) and measures them; resizing
    the table re-decides. A stretched last column (a sentence, elided when long) needs
    room for its header or about 30 characters."""

    def __init__(self, table: QtWidgets.QTableView,
                 collapsible: Sequence[Sequence[int]]) -> None:
        super().__init__(table)
        self.table = table
        self.groups = [tuple(group) for group in collapsible]
        self.collapsible = tuple(section for group in self.groups for section in group)
        self._widths: list[int] = []
        self._viewport = table.viewport()
        self._viewport.installEventFilter(self)

    def refit(self, fit: Callable[[], None]) -> None:
        header = self.table.horizontalHeader()
        for section in self.collapsible:
            header.setSectionHidden(section, False)
        fit()
        self._widths = [header.sectionSize(c) for c in range(header.count())]
        if header.stretchLastSection() and self._widths:
            last = header.logicalIndex(header.count() - 1)
            self._widths[last] = max(header.sectionSizeHint(last),
                                     self.table.fontMetrics().horizontalAdvance("x" * 30))
        self.collapse()

    def collapse(self) -> None:
        if not self._widths:
            return
        header = self.table.horizontalHeader()
        room = self.table.viewport().width()
        width = sum(self._widths)
        hidden: set[int] = set()
        for group in self.groups:
            if width <= room:
                break
            hidden.update(group)
            width -= sum(self._widths[section] for section in group)
        for section in self.collapsible:
            if header.isSectionHidden(section) != (section in hidden):
                header.setSectionHidden(section, section in hidden)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Resize and watched is self._viewport:
            self.collapse()
        return super().eventFilter(watched, event)


def error_style() -> str:
    """A style sheet for a message that says what is wrong with an input."""
    return f"color: {colors().red.name()}"


def mute(label: QtWidgets.QLabel) -> QtWidgets.QLabel:
    """Draw a label's text in the palette's secondary colour (it follows the theme)."""
    label.setForegroundRole(QtGui.QPalette.ColorRole.PlaceholderText)
    return label


def style_plot(plot: Any) -> None:
    """Give a pyqtgraph PlotWidget the theme's background, axes and text."""
    theme = colors()
    plot.setBackground(theme.chart_background)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(theme.chart_foreground))
        axis.setTextPen(pg.mkPen(theme.chart_foreground))
    legend = plot.getPlotItem().legend
    if legend is not None:
        legend.setLabelTextColor(theme.chart_foreground)
        # A backing in the chart's colour keeps the labels readable where the curves
        # run under them (a short chart at 1366x768 puts them on the zero line).
        backing = QtGui.QColor(theme.chart_background)
        backing.setAlpha(220)
        legend.setBrush(pg.mkBrush(backing))
        for _sample, label in legend.items:  # existing labels redraw only when set again
            label.setText(label.text, color=theme.chart_foreground)


class SortArrowStyle(QtWidgets.QProxyStyle):
    """Draws a header's sort arrow pointing the way the values run: down for a
    descending sort (largest first), up for an ascending one. (Qt's styles draw the
    opposite: an "up" arrow, the largest at the top, for a descending sort.)"""

    def drawPrimitive(self, element: QtWidgets.QStyle.PrimitiveElement,  # noqa: N802
                      option: QtWidgets.QStyleOption, painter: QtGui.QPainter,
                      widget: QtWidgets.QWidget | None = None) -> None:
        if (element == QtWidgets.QStyle.PrimitiveElement.PE_IndicatorHeaderArrow
                and isinstance(option, QtWidgets.QStyleOptionHeader)):
            flipped = QtWidgets.QStyleOptionHeader(option)
            up, down = (QtWidgets.QStyleOptionHeader.SortIndicator.SortUp,
                        QtWidgets.QStyleOptionHeader.SortIndicator.SortDown)
            flipped.sortIndicator = down if option.sortIndicator == up else up
            option = flipped
        super().drawPrimitive(element, option, painter, widget)


def point_sort_arrows(table: QtWidgets.QTableView) -> None:
    """Make ``table``'s header draw its sort arrow in the direction of the sort."""
    header = table.horizontalHeader()
    style = SortArrowStyle(QtWidgets.QApplication.style().name())
    style.setParent(header)  # kept alive as long as the header
    header.setStyle(style)


class DateAxis(pg.DateAxisItem):  # type: ignore[misc]
    """A UTC date axis whose labels never overlap: pyqtgraph draws each level of
    ticks (months, then days…) without looking at the others, so "Apr" and "02" can
    land on each other. Labels that would touch one already placed are dropped (the
    coarser levels come first, so they are kept)."""

    GAP_PX = 6

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(utcOffset=0, **kwargs)

    def generateDrawSpecs(self, p: QtGui.QPainter) -> Any:  # noqa: N802
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis, ticks, texts = specs
        kept: list[Any] = []
        for spec in texts:
            rect = spec[0].adjusted(-self.GAP_PX / 2, 0, self.GAP_PX / 2, 0)
            if not any(rect.intersects(other[0]) for other in kept):
                kept.append(spec)
        return axis, ticks, kept


def fit_columns(table: QtWidgets.QTableView, numeric_sample: str = "-000,000.00",
                bounded: Iterable[int] = ()) -> None:
    """Size columns to their contents, numeric (right-aligned) ones at least as wide as
    ``numeric_sample`` so growing values are not elided, except the ``bounded`` columns,
    whose values cannot outgrow their header (a rate, a count of days). Call when rows
    are added, never per value update: resizing per tick is what makes busy tables lag."""
    table.resizeColumnsToContents()
    model, header = table.model(), table.horizontalHeader()
    floor = table.fontMetrics().horizontalAdvance(numeric_sample) + 12
    skip = set(bounded)
    for section in range(model.columnCount()):
        if section in skip:
            continue
        if model.index(0, section).data(Qt.ItemDataRole.TextAlignmentRole) is not None:
            header.resizeSection(section, max(header.sectionSize(section), floor))
