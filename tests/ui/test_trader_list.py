"""The trader list: window switch, search, numeric sorting and the Copy button."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smartcopy_gui.store.stats import PeriodStats, TraderStats
from smartcopy_gui.ui.qt import Qt, QtCore
from smartcopy_gui.ui.shared import LIGHT
from smartcopy_gui.ui.trader_list import COPY_COLUMN, TraderListView

# The offscreen platform warns on every show(); it says nothing about the widget.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def period(days: int, roi: str | None, pnl: str, win: str | None = "0.5",
           drawdown: str = "0.05", sharpe: str | None = "1.2") -> PeriodStats:
    return PeriodStats(days=days, pnl=pnl, roi=roi, win_rate=win, closed_positions=12,
                       max_drawdown=drawdown, sharpe=sharpe)


# The PnL of each ROI for a trader who started every window with 10,000 USDT.
PNL = {"0.02": "200", "0.09": "900", "1.00": "10000", "-0.05": "-500", "0.10": "1000",
       "0.20": "2000", "0.07": "700", "-0.15": "-1500", "0.01": "100", "-0.30": "-3000",
       "0.05": "500", "0.3": "3000"}


def trader(trader_id: str, name: str, roi7: str, roi30: str, roi90: str,
           copiers: int = 3) -> TraderStats:
    """A trader whose PnL in each window is its ROI × 10,000."""
    periods = {days: period(days, roi, PNL.get(roi, "0"))
               for days, roi in ((7, roi7), (30, roi30), (90, roi90))}
    return TraderStats(trader=trader_id, name=name, equity="10500", balance="10000",
                       aum="25000.5", copiers=copiers, profit_share="0.1",
                       earned_profit_share="12.5", days_active=120, copiers_pnl="-350.25",
                       periods=periods)


# ROIs chosen so that string order differs from numeric order (9% vs 10% vs 100%).
ALICE = trader("t-alice", "Alice", "0.02", "0.09", "1.00")
BOB = trader("t-bob", "Bob the Builder", "-0.05", "0.10", "0.20")
CAROL = trader("t-carol", "Carol", "0.07", "1.00", "-0.15")
DAVE = trader("x-dave", "Dave", "0.01", "-0.30", "0.05")
TRADERS = [ALICE, BOB, CAROL, DAVE]


@pytest.fixture
def view(qtbot):
    widget = TraderListView()
    qtbot.addWidget(widget)
    widget.resize(1200, 320)
    widget.set_traders(TRADERS)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def headers(view: TraderListView) -> list[str]:
    model = view.table.model()
    return [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]


def column(view: TraderListView, header: str) -> list[str]:
    """What the table shows in a column, top to bottom."""
    model = view.table.model()
    c = headers(view).index(header)
    return [model.index(r, c).data() for r in range(model.rowCount())]


def click_header(qtbot, view: TraderListView, header: str) -> None:
    bar = view.table.horizontalHeader()
    section = headers(view).index(header)
    x = bar.sectionViewportPosition(section) + bar.sectionSize(section) // 2
    qtbot.mouseClick(bar.viewport(), Qt.MouseButton.LeftButton,
                     pos=QtCore.QPoint(x, bar.height() // 2))


def click_cell(qtbot, view: TraderListView, row: int, col: int) -> None:
    rect = view.table.visualRect(view.table.model().index(row, col))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_columns_and_default_window(view):
    assert headers(view)[:11] == ["Trader", "ROI", "PnL", "Win rate", "Max\ndrawdown",
                                  "Sharpe", "AUM", "Copiers", "Profit\nshare", "Days\nactive",
                                  "Copiers'\nPnL"]
    assert view.period == 30
    assert view.findChild(type(view.period_switch.group.button(30)), "period_30").isChecked()
    row = column(view, "Trader").index("Alice")
    shown = [view.table.model().index(row, c).data() for c in range(11)]
    assert shown == ["Alice", "+9.00%", "900.00", "50.0%", "5.00%", "1.20", "25,000.50", "3",
                     "10%", "120", "-350.25"]


def test_roi_and_pnl_are_green_or_red(view):
    model = view.table.model()
    roi = headers(view).index("ROI")
    colors = {model.index(r, 0).data(): model.index(r, roi).data(Qt.ItemDataRole.ForegroundRole)
              for r in range(model.rowCount())}
    assert colors["Alice"] == LIGHT.green
    assert colors["Dave"] == LIGHT.red


def test_sorting_by_roi_is_numeric_both_ways(qtbot, view):
    ascending = ["-30.00%", "+9.00%", "+10.00%", "+100.00%"]
    descending = ascending[::-1]
    assert column(view, "ROI") == descending  # best first until the user sorts
    click_header(qtbot, view, "ROI")
    assert column(view, "ROI") == ascending
    click_header(qtbot, view, "ROI")
    assert column(view, "ROI") == descending
    click_header(qtbot, view, "Trader")
    assert column(view, "Trader") == ["Alice", "Bob the Builder", "Carol", "Dave"]
    click_header(qtbot, view, "ROI")
    assert column(view, "ROI") in (ascending, descending)


def test_a_trader_without_a_figure_sorts_below_the_others(qtbot, view):
    young = trader("t-erin", "Erin", "0.01", "0.01", "0.01")
    young.periods[30] = replace(young.periods[30], roi=None, sharpe=None)
    view.set_traders(TRADERS + [young])
    assert column(view, "ROI") == ["+100.00%", "+10.00%", "+9.00%", "-30.00%", "—"]
    click_header(qtbot, view, "ROI")
    assert column(view, "ROI") == ["—", "-30.00%", "+9.00%", "+10.00%", "+100.00%"]


def test_sorting_by_pnl_is_numeric(qtbot, view):
    click_header(qtbot, view, "PnL")
    values = column(view, "PnL")
    if values[0].startswith("-"):
        click_header(qtbot, view, "PnL")
        values = column(view, "PnL")
    assert values == ["10,000.00", "1,000.00", "900.00", "-3,000.00"]


def test_search_filters_by_name_or_id(qtbot, view):
    qtbot.keyClicks(view.search, "BOB")
    assert column(view, "Trader") == ["Bob the Builder"]
    view.search.clear()
    qtbot.keyClicks(view.search, "x-")  # only Dave's id starts like this
    assert column(view, "Trader") == ["Dave"]
    view.search.clear()
    qtbot.keyClicks(view.search, "zz")
    assert column(view, "Trader") == []
    assert view.status.text() == "No trader matches “zz”"
    view.search.clear()
    assert sorted(column(view, "Trader")) == ["Alice", "Bob the Builder", "Carol", "Dave"]


def test_period_switch_changes_the_numbers(qtbot, view):
    def alice(header: str) -> str:
        return column(view, header)[column(view, "Trader").index("Alice")]

    assert alice("ROI") == "+9.00%"
    with qtbot.waitSignal(view.period_changed) as blocker:
        qtbot.mouseClick(view.period_switch.group.button(90), Qt.MouseButton.LeftButton)
    assert blocker.args == [90]
    assert view.period == 90
    assert alice("ROI") == "+100.00%"
    assert alice("PnL") == "10,000.00"
    qtbot.mouseClick(view.period_switch.group.button(7), Qt.MouseButton.LeftButton)
    assert alice("ROI") == "+2.00%"
    assert not view.period_switch.group.button(30).isChecked()


def test_copy_button_emits_the_row_trader(qtbot, view):
    row = column(view, "Trader").index("Carol")
    assert view.table.model().index(row, COPY_COLUMN).data() == "Copy"
    with qtbot.waitSignal(view.copy_requested) as blocker:
        click_cell(qtbot, view, row, COPY_COLUMN)
    assert blocker.args == ["t-carol"]


def test_selection_emits_and_survives_updates(qtbot, view):
    row = column(view, "Trader").index("Bob the Builder")
    with qtbot.waitSignal(view.trader_selected) as blocker:
        click_cell(qtbot, view, row, 0)
    assert blocker.args == ["t-bob"]

    click_header(qtbot, view, "ROI")
    order_before = column(view, "Trader")
    bob = replace(BOB, copiers=9)
    with qtbot.assertNotEmitted(view.trader_selected):
        view.set_traders([ALICE, bob, CAROL, DAVE])
    assert view.selected_trader() == "t-bob"
    assert column(view, "Trader") == order_before  # the sort is kept
    assert column(view, "Copiers")[order_before.index("Bob the Builder")] == "9"


def test_draws_every_column_unclipped(qtbot, view, tmp_path):
    many = TRADERS + [trader(f"t-{i}", f"Trader {i}", "0.01", f"0.0{i}", "0.3", copiers=i)
                      for i in range(1, 6)]
    view.set_traders(many)
    click_cell(qtbot, view, 1, 0)
    qtbot.wait(50)
    assert view.grab().save(str(tmp_path / "trader_list.png"))
    model, header = view.table.model(), view.table.horizontalHeader()
    for c in range(model.columnCount()):
        for r in range(model.rowCount()):
            text = model.index(r, c).data()
            assert view.table.fontMetrics().horizontalAdvance(text) < header.sectionSize(c), \
                text


def test_enter_on_a_row_copies_its_trader(qtbot, view):
    row = column(view, "Trader").index("Carol")
    click_cell(qtbot, view, row, 0)
    with qtbot.waitSignal(view.copy_requested) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert blocker.args == ["t-carol"]


def test_focus_search_puts_the_cursor_in_the_search_box(qtbot, view):
    view.search.setText("bob")
    view.activateWindow()
    view.focus_search()
    qtbot.waitUntil(view.search.hasFocus, timeout=1000)
    assert view.search.selectedText() == "bob"  # typing replaces the last search


def arrow_rows(view: TraderListView, header_text: str) -> list[int]:
    """How many dark pixels each row of the sort arrow has, top to bottom (the arrow
    is drawn in the right third of its section, away from the centred title)."""
    header = view.table.horizontalHeader()
    section = headers(view).index(header_text)
    image = header.grab().toImage()
    x0, width = header.sectionViewportPosition(section), header.sectionSize(section)
    counts = [sum(1 for x in range(x0 + 2 * width // 3, x0 + width - 2)
                  if image.pixelColor(x, y).lightness() < 128)
              for y in range(image.height())]
    return [n for n in counts if n]


def test_the_sort_arrow_points_the_way_the_values_run(qtbot, view):
    rows = arrow_rows(view, "ROI")  # best first: a descending sort
    assert rows[0] > rows[-1]  # ▼ widest at the top
    click_header(qtbot, view, "ROI")
    rows = arrow_rows(view, "ROI")
    assert rows[0] < rows[-1]  # ▲ for ascending


def test_a_narrow_list_drops_the_least_needed_columns_instead_of_scrolling(qtbot, view):
    header = view.table.horizontalHeader()

    def hidden() -> list[str]:
        return [h for c, h in enumerate(headers(view)) if header.isSectionHidden(c)]

    view.resize(816, 320)  # the trader list's width in a 1366×768 window
    qtbot.waitUntil(lambda: hidden() != [])
    assert view.table.horizontalScrollBar().maximum() == 0  # nothing off to the side
    assert "Days\nactive" in hidden()
    assert not {"Trader", "ROI", "PnL", "Win rate", "Max\ndrawdown"} & set(hidden())

    view.resize(1900, 320)
    qtbot.waitUntil(lambda: hidden() == [])
    assert view.table.horizontalScrollBar().maximum() == 0
