"""The activity log: outcomes in order, filters by copy and status, CSV export."""

from __future__ import annotations

import csv

import pytest

from smartcopy_gui.session import ActivityRow
from smartcopy_gui.ui import activity_log
from smartcopy_gui.ui.activity_log import ActivityLog
from smartcopy_gui.ui.qt import Qt

# The offscreen platform warns on every show(); it says nothing about the widget.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

T0 = 1_717_243_200_000  # 2024-06-01T12:00:00Z
LABELS = [(1, "Alice · Smart · #1"), (2, "Bob · Fixed amount · #2")]


def outcome(seq, copy_id, status, reason=None, action="open", symbol="BTCUSDT",
            qty="0.010", price="60030.0", trader=None) -> ActivityRow:
    trader = trader or {1: "t-alice", 2: "t-bob"}[copy_id]
    return ActivityRow(seq=seq, ts=T0 + seq * 500, copy_id=copy_id, trader=trader,
                       symbol=symbol, action=action, status=status, reason=reason, qty=qty,
                       price=price, event_id=f"e{seq}")


ROWS = [
    outcome(1, 1, "copied"),
    outcome(2, 2, "copied_min_qty", qty="0.001"),
    outcome(3, 1, "skipped", "slippage_limit", qty=None, price=None),
    outcome(4, 2, "skipped", "insufficient_funds", qty=None, price=None),
    outcome(5, 1, "copied_reduced", action="increase", qty="0.004"),
    outcome(6, 2, "done", action="cancel", symbol="ETHUSDT", qty="0.5", price="3001.2"),
]


@pytest.fixture
def log(qtbot):
    widget = ActivityLog()
    qtbot.addWidget(widget)
    widget.resize(1200, 360)
    widget.set_copies(LABELS)
    widget.append(ROWS)
    return widget


def column(log: ActivityLog, header: str) -> list[str]:
    model = log.table.model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in
               range(model.columnCount())]
    c = headers.index(header)
    return [model.index(r, c).data() for r in range(model.rowCount())]


def test_rows_show_time_reason_in_words_and_keep_order(log):
    assert column(log, "Time (UTC)")[:2] == ["2024-06-01T12:00:00.500Z",
                                             "2024-06-01T12:00:01.000Z"]
    assert column(log, "Copy")[:2] == ["Alice · Smart · #1", "Bob · Fixed amount · #2"]
    assert column(log, "Status") == ["Copied", "Copied at min. qty", "Skipped", "Skipped",
                                     "Copied, reduced", "Done"]
    assert column(log, "Reason")[2:4] == [
        "The price moved beyond the slippage limit",
        "The copy account could not afford the minimum quantity"]
    assert column(log, "Qty")[2] == "—"
    assert log.count_label.text() == "6 outcomes"

    log.append([outcome(7, 1, "copied", action="close")])
    assert column(log, "Action")[-1] == "Close"
    # Copies are named, never by a trader id ("t-alice").
    assert not any("t-" in text for r in range(log.table.model().rowCount())
                   for text in [log.table.model().index(r, c).data()
                                for c in range(log.table.model().columnCount())])


def test_filter_by_copy(qtbot, log):
    log.copy_combo.setCurrentIndex(log.copy_combo.findText("Bob · Fixed amount · #2"))
    assert column(log, "Copy") == ["Bob · Fixed amount · #2"] * 3
    assert log.count_label.text() == "3 of 6 outcomes"

    log.append([outcome(7, 1, "copied"), outcome(8, 2, "copied")])  # the filter holds
    assert column(log, "Time (UTC)")[-1] == "2024-06-01T12:00:04.000Z"
    assert len(column(log, "Copy")) == 4


def test_filter_by_status_and_both(qtbot, log):
    log.status_combo.setCurrentIndex(log.status_combo.findText("Skipped"))
    assert column(log, "Reason") == ["The price moved beyond the slippage limit",
                                     "The copy account could not afford the minimum quantity"]
    log.copy_combo.setCurrentIndex(log.copy_combo.findText("Alice · Smart · #1"))
    assert column(log, "Reason") == ["The price moved beyond the slippage limit"]
    log.copy_combo.setCurrentIndex(0)  # All copies
    log.status_combo.setCurrentIndex(0)  # All statuses
    assert len(column(log, "Copy")) == 6


def test_status_filter_offers_every_status(log):
    assert [log.status_combo.itemData(i) for i in range(log.status_combo.count())] == [
        None, "copied", "copied_min_qty", "copied_reduced", "skipped", "done"]


def test_new_copies_join_the_filter_once(log):
    log.set_copies(LABELS)
    assert log.copy_combo.count() == 3
    log.set_copies([*LABELS, (3, "Carol · Smart · #3")])
    assert [log.copy_combo.itemText(i) for i in range(log.copy_combo.count())] == [
        "All copies", "Alice · Smart · #1", "Bob · Fixed amount · #2", "Carol · Smart · #3"]


def test_export_csv_writes_the_filtered_rows(log, tmp_path):
    log.status_combo.setCurrentIndex(log.status_combo.findText("Skipped"))
    path = tmp_path / "activity.csv"

    assert log.export_csv(path) == 2

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["Time (UTC)", "Copy", "Symbol", "Action", "Status", "Qty", "Price", "Reason"],
        ["2024-06-01T12:00:01.500Z", "Alice · Smart · #1", "BTCUSDT", "Open",
         "Skipped", "", "", "The price moved beyond the slippage limit"],
        ["2024-06-01T12:00:02.000Z", "Bob · Fixed amount · #2", "BTCUSDT", "Open",
         "Skipped", "", "", "The copy account could not afford the minimum quantity"],
    ]


def test_export_button_opens_a_dialog_that_writes_the_file(qtbot, log, tmp_path):
    log.show()
    qtbot.waitExposed(log)
    qtbot.mouseClick(log.export_button, Qt.MouseButton.LeftButton)
    dialog = log.export_dialog
    assert dialog is not None and dialog.isVisible()  # non-blocking: we got here

    path = tmp_path / "out.csv"
    with qtbot.waitSignal(log.exported, timeout=2000) as blocker:
        dialog.fileSelected.emit(str(path))  # what choosing a file and Save does
    assert blocker.args == [str(path), 6]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 7
    assert log.message.text() == f"Exported 6 rows to {path}"
    dialog.close()


def test_export_failure_is_reported_not_raised(log, tmp_path):
    log.on_export_dialog_file_selected(str(tmp_path / "missing-dir" / "a.csv"))
    assert log.message.text().startswith("Could not write")


def test_rows_are_capped_oldest_first(log, monkeypatch):
    monkeypatch.setattr(activity_log, "MAX_ROWS", 4)
    log.append([outcome(7, 1, "copied"), outcome(8, 1, "copied")])
    assert log.model.rowCount() == 4
    assert [r.seq for r in log.model.rows] == [5, 6, 7, 8]


def last_row_visible(log: ActivityLog) -> bool:
    table = log.table
    rect = table.visualRect(table.model().index(table.model().rowCount() - 1, 0))
    return table.viewport().rect().contains(rect.center())


def test_newest_row_stays_in_view_unless_the_user_scrolled_up(qtbot, log):
    log.show()
    qtbot.waitExposed(log)
    log.append([outcome(100 + i, 1, "copied") for i in range(200)])
    assert last_row_visible(log)

    log.table.verticalScrollBar().setValue(0)  # the user reads older rows
    log.append([outcome(400, 1, "copied")])
    assert not last_row_visible(log)
    assert log.table.verticalScrollBar().value() == 0


def test_draws_every_column_unclipped(qtbot, log, tmp_path):
    more = [outcome(10 + i, 1 + i % 2, "copied", action=("open", "close")[i % 2],
                    symbol=("SOLUSDT", "BTCUSDT")[i % 2], qty="12.5", price="145.21")
            for i in range(6)]
    log.append(more + [outcome(30, 1, "skipped", "position_not_copied", action="close",
                               qty=None, price=None)])
    log.status_combo.setCurrentIndex(0)
    log.show()
    qtbot.waitExposed(log)
    qtbot.wait(50)
    path = tmp_path / "activity_log.png"
    assert log.grab().save(str(path)) and path.stat().st_size > 10_000
    # Every cell's text fits its column (the last one stretches): no "skip…".
    model, header = log.table.model(), log.table.horizontalHeader()
    for c in range(model.columnCount() - 1):
        widest = max(log.table.fontMetrics().horizontalAdvance(model.index(r, c).data())
                     for r in range(model.rowCount()))
        assert widest < header.sectionSize(c), model.headerData(c, Qt.Orientation.Horizontal)


def test_a_renamed_copy_label_is_shown_whole(qtbot, log):
    log.show()
    long_label = "Bob the Builder, swing trading with patience · Fixed amount · #2"
    log.set_copies([LABELS[0], (2, long_label)])
    bob = column(log, "Copy").index(long_label)
    index = log.table.model().index(bob, 1)
    assert index.data() == long_label
    needed = log.table.fontMetrics().horizontalAdvance(long_label)
    assert log.table.horizontalHeader().sectionSize(1) > needed  # not elided


def test_labels_named_before_the_first_rows_are_not_elided(qtbot):
    widget = ActivityLog()
    qtbot.addWidget(widget)
    widget.resize(1200, 360)
    long_label = "Bob the Builder, swing trading with patience · Fixed amount · #2"
    widget.set_copies([LABELS[0], (2, long_label)])
    widget.append([ROWS[0]])  # copy 1's row first: sizing must not shrink copy 2's label
    widget.append([ROWS[1]])
    widget.show()
    needed = widget.table.fontMetrics().horizontalAdvance(long_label)
    assert widget.table.horizontalHeader().sectionSize(1) > needed


def test_a_status_that_arrives_later_is_not_elided(qtbot):
    widget = ActivityLog()
    qtbot.addWidget(widget)
    widget.set_copies(LABELS)
    widget.append([ROWS[0]])  # sized on a "Copied" row
    widget.append([outcome(9, 1, "copied_min_qty", action="liquidation")])
    widget.show()
    model, header = widget.table.model(), widget.table.horizontalHeader()
    for header_text in ("Action", "Status"):
        c = [model.headerData(i, Qt.Orientation.Horizontal)
             for i in range(model.columnCount())].index(header_text)
        text = model.index(1, c).data()
        assert widget.table.fontMetrics().horizontalAdvance(text) < header.sectionSize(c), text
