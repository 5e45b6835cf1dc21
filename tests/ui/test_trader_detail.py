"""The trader detail: title, equity curve, open positions, recent trades, copiers."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from smartcopy_gui.session import CopyRow, PositionView
from smartcopy_gui.store.stats import PeriodStats, TraderStats
from smartcopy_gui.ui.qt import Qt, QtGui
from smartcopy_gui.ui.shared import LIGHT
from smartcopy_gui.ui.trader_detail import TraderDetailView

# The offscreen platform warns on every show(); it says nothing about the widget.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

DAY = 86_400_000
T0 = 1_714_521_600_000  # 2024-05-01T00:00:00Z

STATS = TraderStats(
    trader="t-alice", name="Alice", equity="10512.3", balance="10000", aum="35000",
    copiers=2, profit_share="0.1", earned_profit_share="4.2", days_active=42,
    copiers_pnl="123.45",
    periods={d: PeriodStats(d, "512.3", "0.0512", "0.6", 10, "0.03", "1.5") for d in (7, 30, 90)})
CURVE = [(T0 + i * DAY, D(10000) + D(i * 12)) for i in range(30)] + [(T0 + 30 * DAY, D("10512.3"))]


def position(side="long", leverage=D(10), margin_mode="isolated", qty=D("0.5"), entry=D(60000),
             liq_price=D("54271.36"), upnl=D("150"), roi=D("0.05"), symbol="BTCUSDT"):
    values = dict(side=side, leverage=leverage, margin_mode=margin_mode, qty=qty, entry=entry,
                  liq_price=liq_price, upnl=upnl, roi=roi, margin=qty * entry / leverage,
                  utilization=D("0.3"), symbol=symbol)
    return PositionView(**values)


POSITIONS = [position(),
             position("short", D(5), "cross", D(2), D(3000), None, D("-40.5"), D("-0.0338"),
                      "ETHUSDT")]
TRADES = [
    {"symbol": "SOLUSDT", "side": "long", "opened_ts": T0 + 3 * DAY, "closed_ts": T0 + 4 * DAY,
     "result": D("85.12"), "how": "close"},
    {"symbol": "BTCUSDT", "side": "short", "opened_ts": T0 + DAY, "closed_ts": T0 + 2 * DAY,
     "result": D("-300"), "how": "liquidation"},
]
COPIERS = [
    CopyRow(1, "t-alice", "Alice", "smart", "active", D(1000), D("1051.2"), D("51.2"),
            D("0.0512"), D(0)),
    CopyRow(4, "t-alice", "Alice", "fixed_ratio", "cancelled", D(500), D(0), D("-20"),
            D("-0.04"), D(480)),
]


@pytest.fixture
def view(qtbot):
    widget = TraderDetailView()
    qtbot.addWidget(widget)
    widget.resize(900, 620)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def rows(table) -> list[list[str]]:
    model = table.model()
    return [[model.index(r, c).data() for c in range(model.columnCount())]
            for r in range(model.rowCount())]


def test_before_a_trader_is_shown_nothing_can_be_copied(view):
    assert "Select a trader" in view.title.text()
    assert not view.copy_button.isEnabled()


def test_shows_title_curve_and_tables(view):
    view.show_trader(STATS, CURVE, POSITIONS, TRADES, COPIERS)

    assert view.title.text() == "Alice"
    assert "Profit share 10%" in view.subtitle.text()
    assert "42 days active" in view.subtitle.text()

    xs, ys = view.chart.curve.getData()
    assert len(xs) == len(CURVE)
    assert xs[0] == T0 / 1000 and ys[-1] == pytest.approx(10512.3)
    assert view.chart.currentWidget() is view.chart.plot

    positions = rows(view.positions.table)
    assert [r[1:] for r in positions] == [
        ["long", "10×", "isolated", "0.5", "60,000.00", "54,271.36", "150.00", "+5.00%"],
        ["short", "5×", "cross", "2", "3,000.00", "—", "-40.50", "-3.38%"]]
    assert [r[0] for r in positions] == ["BTCUSDT", "ETHUSDT"]

    assert rows(view.trades.table) == [
        ["SOLUSDT", "long", "2024-05-04 00:00", "2024-05-05 00:00", "85.12", "Closed"],
        ["BTCUSDT", "short", "2024-05-02 00:00", "2024-05-03 00:00", "-300.00", "Liquidated"]]
    assert rows(view.copiers.table) == [
        ["#1", "Smart", "Active", "1,000.00", "1,051.20", "51.20", "+5.12%"],
        ["#4", "Fixed ratio", "Cancelled", "500.00", "0.00", "-20.00", "-4.00%"]]
    assert [view.tabs.tabText(i) for i in range(3)] == [
        "Open positions (2)", "Recent trades (2)", "Copiers (2)"]


def test_empty_tables_say_so(view):
    view.show_trader(STATS, [], [], [], [])
    assert view.positions.currentWidget() is view.positions.empty
    assert view.positions.empty.text() == "No open positions."
    assert view.chart.currentWidget() is view.chart.empty


def test_copy_this_trader_emits_the_trader(qtbot, view):
    view.show_trader(STATS, CURVE, POSITIONS, TRADES, COPIERS)
    assert view.copy_button.text() == "Copy this trader"
    with qtbot.waitSignal(view.copy_requested) as blocker:
        qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["t-alice"]


def test_draws_the_curve_and_each_tab(qtbot, view, tmp_path):
    view.show_trader(STATS, CURVE, POSITIONS, TRADES, COPIERS)
    path = tmp_path / "trader_detail.png"
    assert view.grab().save(str(path)) and path.stat().st_size > 10_000
    chart = view.chart.plot.grab().toImage()
    drawn = {chart.pixelColor(x, y).name() for x in range(chart.width())
             for y in range(0, chart.height(), 2)}
    assert LIGHT.trader_pen in drawn  # the equity curve is drawn in its pen
    for tab, table in enumerate((view.positions.table, view.trades.table,
                                 view.copiers.table)):
        view.tabs.setCurrentIndex(tab)
        assert table.isVisible() and table.model().rowCount() == 2
        model, header = table.model(), table.horizontalHeader()
        for c in range(model.columnCount() - 1):  # the last one stretches
            for r in range(2):
                text = model.index(r, c).data()
                assert table.fontMetrics().horizontalAdvance(text) < header.sectionSize(c), \
                    text


def test_date_labels_never_overlap(qtbot, view):
    curve = [(T0 + i * DAY, D(10000) + D(i % 7)) for i in range(92)]  # Jan to April
    view.show_trader(STATS, curve, [], [], [])
    for width in (520, 900, 1400):
        view.resize(width, 620)
        axis = view.chart.plot.getAxis("bottom")
        image = view.chart.plot.grab().toImage()
        painter = QtGui.QPainter(image)
        try:
            _, _, texts = axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        rects = [spec[0] for spec in texts]
        assert len(rects) >= 3, width  # still labelled
        assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:]), \
            (width, [spec[2] for spec in texts])
