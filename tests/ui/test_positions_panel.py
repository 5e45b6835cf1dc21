"""The live positions panel: trader and copier side by side, divergence, ROI chart."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from smartcopy_gui.session import PositionPair, PositionView
from smartcopy_gui.ui import positions_panel as pp
from smartcopy_gui.ui.positions_panel import PositionsPanel
from smartcopy_gui.ui.qt import Qt
from smartcopy_gui.ui.shared import LIGHT

GREEN, AMBER, RED = LIGHT.green, LIGHT.amber, LIGHT.red
LABELS = [(1, "Alice Trend · Smart · #1"), (2, "Bob Scalps · Fixed amount · #2")]
# The offscreen platform warns on every show(); it says nothing about the widget.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def view(side="long", leverage=D(20), margin_mode="cross", qty=D("0.5"), entry=D(60000),
         liq_price=D("57500.00"), upnl=D("500.00"), roi=D("0.3333"), margin=D(1500),
         utilization=D("0.15")) -> PositionView:
    return PositionView(side, leverage, margin_mode, qty, entry, liq_price, upnl, roi,
                        margin, utilization)


def pair(copy_id=1, trader="alice", symbol="BTCUSDT", tv=None, cv=None, why="copied 1:1",
         **divergence) -> PositionPair:
    values = {"entry_diff_bps": None, "utilization_ratio": None, "liq_diff": None,
              "roi_diff": None, **divergence}
    return PositionPair(copy_id, trader, symbol, tv, cv, why=why, **values)


def btc_pair() -> PositionPair:
    """A copy that filled 10 bps worse and risks twice the trader's share of equity."""
    return pair(
        tv=view(),
        cv=view(qty=D("0.01"), entry=D(60060), liq_price=D("57100.00"), upnl=D("9.40"),
                roi=D("0.3131"), margin=D("30.03"), utilization=D("0.30")),
        entry_diff_bps=D(10), utilization_ratio=D(2), liq_diff=D(-400),
        roi_diff=D("-0.0202"),
        why="filled 10.0 bps worse than the trader after the copy delay and price impact")


def eth_pair_uncopied() -> PositionPair:
    return pair(symbol="ETHUSDT",
                tv=view(side="short", leverage=D(10), margin_mode="isolated", qty=D(2),
                        entry=D(3000), liq_price=D("3290.50"), upnl=D(-40), roi=D("-0.0667"),
                        margin=D(600), utilization=D("0.06")),
                why="not copied: the copy account could not afford the minimum quantity")


def cell(panel: PositionsPanel, row: int, header: str, role=Qt.ItemDataRole.DisplayRole):
    model = panel.table.model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in
               range(model.columnCount())]
    return model.index(row, headers.index(header)).data(role)


def row_of(panel: PositionsPanel, symbol: str) -> int:
    model = panel.table.model()
    return next(r for r in range(model.rowCount()) if cell(panel, r, "Symbol") == symbol)


@pytest.fixture
def panel(qtbot):
    widget = PositionsPanel()
    qtbot.addWidget(widget)
    widget.resize(1400, 520)
    return widget


def show_pairs(qtbot, panel, pairs):
    panel.set_copies(LABELS, active=2)
    panel.update_pairs(pairs)
    qtbot.waitUntil(lambda: panel.table.model().rowCount() == len(pairs), timeout=2000)


def test_both_sides_are_shown_side_by_side(qtbot, panel):
    show_pairs(qtbot, panel, [btc_pair()])

    assert cell(panel, 0, "Copy") == "Alice Trend · Smart · #1"  # its name, never its id
    assert cell(panel, 0, "Position\ntrader") == "long 20× cross"
    assert cell(panel, 0, "Position\ncopier") == "long 20× cross"
    assert cell(panel, 0, "Qty\ntrader") == "0.5"
    assert cell(panel, 0, "Qty\ncopier") == "0.01"
    assert cell(panel, 0, "Entry\ntrader") == "60,000.00"
    assert cell(panel, 0, "Entry\ncopier") == "60,060.00"
    assert cell(panel, 0, "Liq. price\ntrader") == "57,500.00"
    assert cell(panel, 0, "Liq. price\ncopier") == "57,100.00"
    assert cell(panel, 0, "uPnL\ntrader") == "500.00"
    assert cell(panel, 0, "ROI\ncopier") == "+31.31%"
    assert cell(panel, 0, "Margin · util.\ntrader") == "1,500.00 · 15.0%"
    assert cell(panel, 0, "Margin · util.\ncopier") == "30.03 · 30.0%"
    assert not panel.hint.isVisibleTo(panel)


def test_divergence_numbers_and_colours(qtbot, panel):
    show_pairs(qtbot, panel, [btc_pair()])
    fg = Qt.ItemDataRole.ForegroundRole

    assert cell(panel, 0, "Entry Δ\nbps") == "10.0 worse"
    assert cell(panel, 0, "Entry Δ\nbps", fg) == AMBER  # 10 bps worse: beyond 5, within 20
    assert cell(panel, 0, "Util.\nC / T") == "2.00×"
    assert cell(panel, 0, "Util.\nC / T", fg) == AMBER
    assert cell(panel, 0, "Liq. Δ\nC − T") == "-400.00"
    assert cell(panel, 0, "Liq. Δ\nC − T", fg) == GREEN  # a long liquidated lower is safer
    assert cell(panel, 0, "ROI Δ\npp") == "-2.02"
    assert cell(panel, 0, "ROI Δ\npp", fg) == AMBER


def test_divergence_turns_red_and_green_at_the_thresholds(qtbot, panel):
    fg = Qt.ItemDataRole.ForegroundRole
    far = replace(btc_pair(), entry_diff_bps=D(25), utilization_ratio=D("0.4"),
                  liq_diff=D(3000), roi_diff=D("-0.15"))
    show_pairs(qtbot, panel, [far])
    assert [cell(panel, 0, h, fg) for h in ("Entry Δ\nbps", "Util.\nC / T", "Liq. Δ\nC − T",
                                            "ROI Δ\npp")] == [RED, RED, RED, RED]

    short = replace(btc_pair(), copier_pos=replace(btc_pair().copier_pos, side="short"),
                    entry_diff_bps=D(3), utilization_ratio=D("1.05"), liq_diff=D(10),
                    roi_diff=D("0.01"))
    panel.update_pairs([short])
    qtbot.waitUntil(lambda: cell(panel, 0, "ROI Δ\npp") == "+1.00", timeout=2000)
    # A short that sold 3 bps higher did better; its liquidation price is further away.
    assert cell(panel, 0, "Entry Δ\nbps") == "3.0 better"
    assert [cell(panel, 0, h, fg) for h in ("Entry Δ\nbps", "Util.\nC / T", "Liq. Δ\nC − T",
                                            "ROI Δ\npp")] == [GREEN, GREEN, GREEN, GREEN]


def test_a_worse_entry_reads_the_same_for_a_long_and_a_short(qtbot, panel):
    # The long paid 2 bps more, the short sold 2 bps lower: both filled worse.
    long_ = replace(btc_pair(), entry_diff_bps=D(2))
    short = replace(btc_pair(), copy_id=2,
                    copier_pos=replace(btc_pair().copier_pos, side="short"),
                    trader_pos=replace(btc_pair().trader_pos, side="short"),
                    entry_diff_bps=D(-2))
    show_pairs(qtbot, panel, [long_, short])
    assert [cell(panel, r, "Entry Δ\nbps") for r in range(2)] == ["2.0 worse", "2.0 worse"]


def test_row_tooltip_is_why(qtbot, panel):
    show_pairs(qtbot, panel, [btc_pair(), eth_pair_uncopied()])
    tip = Qt.ItemDataRole.ToolTipRole
    btc, eth = row_of(panel, "BTCUSDT"), row_of(panel, "ETHUSDT")
    assert cell(panel, btc, "Qty\ncopier", tip) == btc_pair().why
    assert cell(panel, eth, "Symbol", tip) == eth_pair_uncopied().why


def test_the_selected_rows_reason_is_spelled_out_under_the_table(qtbot, panel):
    panel.show()
    assert not panel.why.isVisible()  # nothing to explain yet
    show_pairs(qtbot, panel, [btc_pair(), eth_pair_uncopied()])
    btc, eth = row_of(panel, "BTCUSDT"), row_of(panel, "ETHUSDT")
    assert panel.why.isVisible()
    first = btc_pair() if btc == 0 else eth_pair_uncopied()
    assert first.why in panel.why.text()  # no row selected: the first row's reason

    rect = panel.table.visualRect(panel.table.model().index(eth, 1))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "ETHUSDT" in panel.why.text()
    assert eth_pair_uncopied().why in panel.why.text()

    show_pairs(qtbot, panel, [])
    qtbot.waitUntil(lambda: not panel.why.isVisible(), timeout=2000)


def test_with_no_row_picked_the_reason_follows_the_chart_s_copy(qtbot, panel):
    panel.show()
    bob = replace(btc_pair(), copy_id=2, trader="bob", why="bumped to the minimum quantity")
    show_pairs(qtbot, panel, [btc_pair(), bob])
    panel.add_roi_sample(1, 1_000, D(0), D(0))
    panel.add_roi_sample(2, 1_000, D(0), D(0))
    panel.select_copy(2)
    assert "Bob Scalps · Fixed amount · #2" in panel.why.text() and bob.why in panel.why.text()
    panel.select_copy(1)
    assert "Alice Trend · Smart · #1" in panel.why.text()
    assert btc_pair().why in panel.why.text()


def test_missing_side_shows_dash_and_the_reason(qtbot, panel):
    show_pairs(qtbot, panel, [eth_pair_uncopied()])

    assert cell(panel, 0, "Position\ntrader") == "short 10× isolated"
    for header in ("Position\ncopier", "Qty\ncopier", "Entry\ncopier", "Liq. price\ncopier",
                   "uPnL\ncopier", "ROI\ncopier", "Margin · util.\ncopier", "Entry Δ\nbps",
                   "ROI Δ\npp"):
        assert cell(panel, 0, header) == "—", header
    assert cell(panel, 0, "Why they differ") == (
        "not copied: the copy account could not afford the minimum quantity")


def test_updates_are_coalesced_into_one_model_update(qtbot, panel, monkeypatch):
    applied = []
    original = panel.model.set_rows
    monkeypatch.setattr(panel.model, "set_rows", lambda rows: (applied.append(list(rows)),
                                                               original(rows)))
    inserted = []
    panel.model.rowsInserted.connect(lambda *a: inserted.append(a))

    for i in range(100):
        btc = replace(btc_pair(), roi_diff=D(i) / 1000)
        panel.update_pairs([btc, eth_pair_uncopied()])
    assert panel.table.model().rowCount() == 0  # nothing shown before the timer fires

    with qtbot.waitSignal(panel.flush_timer.timeout, timeout=2000):
        pass
    assert len(applied) == 1
    assert len(inserted) == 2  # one per new row, once
    assert cell(panel, row_of(panel, "BTCUSDT"), "ROI Δ\npp") == "+9.90"  # the last update


def test_only_changed_rows_emit_data_changed(qtbot, panel):
    btc, eth = btc_pair(), eth_pair_uncopied()
    show_pairs(qtbot, panel, [btc, eth])
    changed_rows = []
    panel.model.dataChanged.connect(
        lambda top, bottom, roles=(): changed_rows.append((top.row(), bottom.row())))

    for i in range(20):
        panel.update_pairs([replace(btc, roi_diff=D(i) / 100), eth])
    with qtbot.waitSignal(panel.flush_timer.timeout, timeout=2000):
        pass

    btc_source_row = panel.model.rows.index(panel.model.row_for_key((1, "BTCUSDT")))
    assert changed_rows == [(btc_source_row, btc_source_row)]
    assert cell(panel, row_of(panel, "BTCUSDT"), "ROI Δ\npp") == "+19.00"


def test_columns_are_sized_when_rows_arrive_not_per_update(qtbot, panel, monkeypatch):
    calls = []
    monkeypatch.setattr(panel.table, "resizeColumnsToContents", lambda: calls.append(1))
    show_pairs(qtbot, panel, [btc_pair()])
    for i in range(3):
        panel.update_pairs([replace(btc_pair(), roi_diff=D(i))])
        with qtbot.waitSignal(panel.flush_timer.timeout, timeout=2000):
            pass
    assert calls == [1]
    show_pairs(qtbot, panel, [btc_pair(), eth_pair_uncopied()])  # a new position
    assert calls == [1, 1]


def test_roi_chart_shows_the_selected_copys_samples(qtbot, panel):
    other = replace(btc_pair(), copy_id=2, trader="bob")
    show_pairs(qtbot, panel, [btc_pair(), other])
    for i in range(5):
        panel.add_roi_sample(1, 1_700_000_000_000 + i * 1000, D(i) / 100, D(i) / 200)
        panel.add_roi_sample(2, 1_700_000_000_000 + i * 1000, D(-i) / 100, D(-i) / 50)
    panel.show()
    qtbot.waitExposed(panel)

    table = panel.table
    bob_row = next(r for r in range(2) if cell(panel, r, "Copy") == LABELS[1][1])
    rect = table.visualRect(table.model().index(bob_row, 2))
    with qtbot.waitSignal(panel.copy_selected, timeout=2000) as blocker:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [2]
    assert panel.chart.copy_combo.currentText() == LABELS[1][1]

    xs, trader_y = panel.chart.trader_curve.getData()
    _, copier_y = panel.chart.copier_curve.getData()
    assert list(xs) == [1_700_000_000 + i for i in range(5)]
    assert list(trader_y) == pytest.approx([-i for i in range(5)])  # percent
    assert list(copier_y) == pytest.approx([-2 * i for i in range(5)])

    # A new sample for the selected copy reaches the chart at the next flush.
    panel.add_roi_sample(2, 1_700_000_005_000, D("-0.05"), D("-0.12"))
    qtbot.waitUntil(lambda: len(panel.chart.copier_curve.getData()[1]) == 6, timeout=2000)
    assert panel.chart.copier_curve.getData()[1][-1] == pytest.approx(-12)


def test_picking_a_copy_in_the_combo_selects_it(qtbot, panel):
    panel.add_roi_sample(1, 1_000, D("0.01"), D("0.02"))
    panel.add_roi_sample(3, 1_000, D("0.03"), D("0.04"))
    panel.set_copies([(1, "Alice · Smart · #1"), (3, "Carol · Fixed amount · #3")])
    assert panel.selected_copy() == 1
    with qtbot.waitSignal(panel.copy_selected, timeout=1000) as blocker:
        panel.chart.copy_combo.setCurrentIndex(1)
    assert blocker.args == [3]
    assert panel.chart.copy_combo.currentText() == "Carol · Fixed amount · #3"
    assert list(panel.chart.copier_curve.getData()[1]) == pytest.approx([4])


def test_roi_history_is_bounded(qtbot, panel):
    for i in range(pp.ROI_HISTORY + 100):
        panel.add_roi_sample(1, i, D(0), D(0))
    history = panel.roi_history(1)
    assert len(history) == pp.ROI_HISTORY
    assert history[0][0] == 100


def test_empty_panel_tells_the_user_why(qtbot, panel):
    panel.show()
    assert panel.hint.isVisible()
    assert "Copy a trader" in panel.hint.text()


def test_the_copy_a_trader_hint_goes_once_a_copy_exists(qtbot, panel):
    panel.show()
    panel.set_copies(LABELS[:1], active=1)  # copying, but the trader holds nothing yet
    panel.flush()
    assert panel.hint.isVisible()
    assert "Copy a trader" not in panel.hint.text()
    assert "no positions right now" in panel.hint.text()
    show_pairs(qtbot, panel, [btc_pair()])
    assert not panel.hint.isVisible()


def test_draws_the_table_and_the_chart(qtbot, panel, tmp_path):
    sol = pair(copy_id=2, trader="bob", symbol="SOLUSDT",
               tv=view(side="short", leverage=D(5), qty=D(100), entry=D("145.20"),
                       liq_price=D("171.30"), upnl=D("-120.00"), roi=D("-0.0413"),
                       margin=D(2904), utilization=D("0.29")),
               cv=view(side="short", leverage=D(5), qty=D(3), entry=D("145.10"),
                       liq_price=D("168.90"), upnl=D("-3.90"), roi=D("-0.0448"),
                       margin=D("87.06"), utilization=D("0.087")),
               entry_diff_bps=D("-6.9"), utilization_ratio=D("0.30"), liq_diff=D("-2.40"),
               roi_diff=D("-0.0035"),
               why="filled 6.9 bps worse than the trader after the copy delay and price impact")
    show_pairs(qtbot, panel, [btc_pair(), eth_pair_uncopied(), sol])
    start = 1_717_200_000_000
    for i in range(300):
        panel.add_roi_sample(1, start + i * 60_000, D(i % 50) / 400 + D(i) / 1000,
                             D(i % 50) / 420 + D(i) / 1100)
    panel.flush()
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)
    path = tmp_path / "positions_panel.png"
    image = panel.grab().toImage()
    assert image.save(str(path)) and path.stat().st_size > 10_000
    # The chart draws both curves in their pens' colours, the table its tinted columns.
    chart = panel.chart.plot.grab().toImage()
    drawn = {chart.pixelColor(x, y).name() for x in range(chart.width())
             for y in range(0, chart.height(), 2)}
    assert {LIGHT.trader_pen, LIGHT.copier_pen} <= drawn
    table = panel.table.viewport().grab().toImage()
    cells = {table.pixelColor(x, 5).name() for x in range(table.width())}
    assert {LIGHT.trader_tint.name(), LIGHT.copier_tint.name()} <= cells


def test_a_narrow_table_drops_the_least_needed_columns_instead_of_scrolling(qtbot, panel):
    panel.show()
    show_pairs(qtbot, panel, [btc_pair(), eth_pair_uncopied()])
    header = panel.table.horizontalHeader()
    model = panel.table.model()

    def hidden() -> list[str]:
        return [model.headerData(c, Qt.Orientation.Horizontal)
                for c in range(model.columnCount()) if header.isSectionHidden(c)]

    panel.resize(1358, 520)  # the live positions panel in a 1366×768 window
    qtbot.waitUntil(lambda: hidden() != [])
    assert panel.table.horizontalScrollBar().maximum() == 0  # nothing off to the side
    assert "Why they differ" in hidden()  # it is written out under the table
    assert not {"Copy", "Symbol", "Entry Δ\nbps", "Liq. Δ\nC − T", "ROI Δ\npp",
                "Util.\nC / T"} & set(hidden())

    panel.resize(2560, 520)
    qtbot.waitUntil(lambda: hidden() == [])
    assert panel.table.horizontalScrollBar().maximum() == 0


def test_a_long_reason_is_elided_in_a_wide_table_not_dropped(qtbot, panel):
    panel.show()
    long_why = "filled 2.0 bps worse than the trader after the copy delay and price " \
               "impact; bumped up to the minimum quantity; " * 2
    show_pairs(qtbot, panel, [replace(btc_pair(), why=long_why)])
    header = panel.table.horizontalHeader()
    panel.resize(1910, 520)  # the panel at 1920×1080
    qtbot.waitUntil(lambda: panel.table.viewport().width() > 1800)
    assert not any(header.isSectionHidden(c) for c in range(header.count()))
    assert panel.table.horizontalScrollBar().maximum() == 0
