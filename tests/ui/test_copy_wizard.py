"""The copy wizard: mode, amount checked as typed with a live preview, confirmation."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from smartcopy_gui.domain.instruments import DEFAULT_INSTRUMENTS
from smartcopy_gui.domain.positions import Position
from smartcopy_gui.session import PreviewInputs
from smartcopy_gui.ui.copy_wizard import (
    AMOUNT_PAGE,
    CONFIRM_PAGE,
    MODE_PAGE,
    CopyRequest,
    CopyWizard,
)
from smartcopy_gui.ui.qt import Qt, QtWidgets

# The offscreen platform warns on every show(); it says nothing about the widget.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

BTC_LONG = Position("BTCUSDT", "long", D("0.5"), D(60000), D(10), "isolated", "c1")
ETH_SHORT = Position("ETHUSDT", "short", D(4), D(3000), D(20), "cross", "c2")
# Alice: equity 10,000, BTC long 0.5 @ 60,000 10× isolated (margin 3,000: u = 0.3).
INPUTS = PreviewInputs(
    trader="t-alice", trader_name="Alice", positions=[BTC_LONG], trader_equity=D(10000),
    prices={"BTCUSDT": D(60000), "ETHUSDT": D(3000)}, instruments=DEFAULT_INSTRUMENTS,
    taker_fee=D("0.0006"), min_investment=D(10), contract_balance=D(2000), active_mode=None)


def make_wizard(qtbot, inputs: PreviewInputs = INPUTS) -> CopyWizard:
    wizard = CopyWizard(inputs)
    qtbot.addWidget(wizard)
    wizard.resize(780, 640)
    wizard.open()
    qtbot.waitExposed(wizard)
    return wizard


@pytest.fixture
def wizard(qtbot):
    return make_wizard(qtbot)


def click(qtbot, button: QtWidgets.QAbstractButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def find(wizard: CopyWizard, kind, name: str):
    widget = wizard.findChild(kind, name)
    assert widget is not None, name
    return widget


def edit(wizard: CopyWizard, name: str) -> QtWidgets.QLineEdit:
    return find(wizard, QtWidgets.QLineEdit, name)


def error(wizard: CopyWizard, name: str) -> str:
    label = find(wizard, QtWidgets.QLabel, f"{name}_error")
    return label.text() if label.isVisible() else ""


def type_into(qtbot, wizard: CopyWizard, name: str, text: str) -> None:
    field = edit(wizard, name)
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field, text)


def go_to_amount(qtbot, wizard: CopyWizard, mode: str = "smart") -> None:
    click(qtbot, find(wizard, QtWidgets.QRadioButton, f"mode_{mode}"))
    click(qtbot, wizard.next_button())
    assert wizard.currentId() == AMOUNT_PAGE


def preview(wizard: CopyWizard) -> list[dict[str, str]]:
    model = find(wizard, QtWidgets.QTableView, "preview_table").model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    return [{h: model.index(r, c).data() for c, h in enumerate(headers)}
            for r in range(model.rowCount())]


def notes(wizard: CopyWizard) -> str:
    """Why preview rows differ from the trader, as written under the table."""
    label = find(wizard, QtWidgets.QLabel, "preview_notes")
    return label.text().replace("<br>", "\n").replace("<b>", "").replace("</b>", "") \
        if label.isVisible() else ""


# ---------------------------------------------------------------------- step 1
def test_smart_copy_is_the_default(wizard):
    assert wizard.currentId() == MODE_PAGE
    assert find(wizard, QtWidgets.QRadioButton, "mode_smart").isChecked()
    assert not find(wizard, QtWidgets.QRadioButton, "mode_fixed_amount").isChecked()
    line = find(wizard, QtWidgets.QLabel, "mode_smart_line").text()
    assert "capital utilization on your investment" in line
    assert find(wizard, QtWidgets.QLabel, "mode_fixed_amount_line").text() == \
        "Uses the same margin for every copied order"
    assert not find(wizard, QtWidgets.QLabel, "mode_refusal").isVisible()
    assert wizard.next_button().isEnabled()


def test_an_active_copy_refuses_mode_switching(qtbot):
    wizard = make_wizard(qtbot, replace(INPUTS, active_mode="smart"))
    refusal = find(wizard, QtWidgets.QLabel, "mode_refusal")
    assert refusal.isVisible()
    text = refusal.text()
    assert "You already copy Alice in Smart mode" in text
    assert "Mode switching during an active copy is not supported" in text
    assert "cancelled first (Copies panel → Cancel copy)" in text
    assert not wizard.next_button().isEnabled()
    assert not find(wizard, QtWidgets.QRadioButton, "mode_fixed_ratio").isEnabled()


# ---------------------------------------------------------------------- step 2
@pytest.mark.parametrize(("typed", "message"), [
    ("", "Enter an investment amount"),
    ("abc", "Enter a number, e.g. 250"),
    ("12x", "Enter a number, e.g. 250"),
    ("-50", "The investment must be positive"),
    ("0", "The investment must be positive"),
    ("9.99", "The minimum investment is 10 USDT"),
    ("2000.01", "Your contract balance is only 2,000 USDT — deposit first"),
    ("2,000", "Enter a number, e.g. 250"),
    ("250%", "Enter a number, e.g. 250"),
    ("1,0,0", "Enter a number, e.g. 250"),
    ("5_000", "Enter a number, e.g. 250"),
    ("1e309", "The investment can be at most 10,000,000,000 USDT"),
    ("99999999999999999999", "The investment can be at most 10,000,000,000 USDT"),
    ("0.000000001", "Use at most 8 decimal places"),
])
def test_an_invalid_investment_says_why_and_keeps_next_disabled(qtbot, wizard, typed, message):
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "1")  # then replace it with what is tested
    type_into(qtbot, wizard, "investment", typed)
    assert error(wizard, "investment") == message
    assert not wizard.next_button().isEnabled()


def test_a_valid_investment_enables_next(qtbot, wizard):
    go_to_amount(qtbot, wizard)
    assert edit(wizard, "investment").placeholderText() == "min 10 USDT"
    assert not wizard.next_button().isEnabled()
    type_into(qtbot, wizard, "investment", "2000")
    assert error(wizard, "investment") == ""
    assert wizard.next_button().isEnabled()
    type_into(qtbot, wizard, "investment", "1e3")  # the scenario format's syntax
    assert error(wizard, "investment") == ""
    assert wizard.request().investment == D(1000)


def test_fixed_amount_needs_a_valid_margin_per_order(qtbot, wizard):
    go_to_amount(qtbot, wizard, "fixed_amount")
    assert edit(wizard, "amount").isVisible()
    assert not edit(wizard, "ratio").isVisible()
    type_into(qtbot, wizard, "investment", "500")
    assert error(wizard, "amount") == "Enter the margin per order"
    assert not wizard.next_button().isEnabled()
    type_into(qtbot, wizard, "amount", "ten")
    assert error(wizard, "amount") == "Enter a number, e.g. 50"
    type_into(qtbot, wizard, "amount", "-1")
    assert error(wizard, "amount") == "The margin per order must be positive"
    assert not wizard.next_button().isEnabled()
    type_into(qtbot, wizard, "amount", "50")
    assert error(wizard, "amount") == ""
    assert wizard.next_button().isEnabled()


def test_fixed_ratio_asks_for_a_ratio_and_no_margin_cap(qtbot, wizard):
    go_to_amount(qtbot, wizard, "fixed_ratio")
    assert edit(wizard, "ratio").isVisible()
    assert not edit(wizard, "amount").isVisible()
    assert not edit(wizard, "max_margin_per_order").isVisible()  # no effect in this mode
    type_into(qtbot, wizard, "investment", "1000")
    assert error(wizard, "ratio") == "Enter the ratio"
    assert not wizard.next_button().isEnabled()
    type_into(qtbot, wizard, "ratio", "0.1")
    assert wizard.next_button().isEnabled()
    assert preview(wizard)[0]["Your qty"] == "0.05"


def test_optional_settings_are_checked_too(qtbot, wizard):
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "1000")
    assert edit(wizard, "max_slippage").text() == "0.5"
    type_into(qtbot, wizard, "stop_loss", "150")
    assert error(wizard, "stop_loss") == "The stop-loss must be below 100%"
    assert not wizard.next_button().isEnabled()
    type_into(qtbot, wizard, "stop_loss", "20")
    type_into(qtbot, wizard, "max_slippage", "a lot")
    assert error(wizard, "max_slippage") == "Enter a number, e.g. 0.5"
    assert not wizard.next_button().isEnabled()
    type_into(qtbot, wizard, "max_slippage", "1")
    type_into(qtbot, wizard, "max_margin_per_order", "0")
    assert error(wizard, "max_margin_per_order") == "The max margin per order must be positive"
    assert not wizard.next_button().isEnabled()
    type_into(qtbot, wizard, "max_margin_per_order", "")
    assert wizard.next_button().isEnabled()


# ---------------------------------------------------------------------- the preview
def test_preview_follows_the_typed_investment(qtbot, wizard):
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "1000")
    [row] = preview(wizard)
    # M = 0.3 × 1000 = 300 → floor_step(300 / (60000 × 0.1006)) = 0.049
    assert row["Symbol"] == "BTCUSDT" and row["Side"] == "long" and row["Leverage"] == "10×"
    assert row["Trader qty"] == "0.5" and row["Your qty"] == "0.049"
    assert row["Your margin"] == "294.00"
    assert row["Trader util."] == "30.00%" and row["Your util."] == "29.40%"
    assert row["Status"] == "Copied"
    assert notes(wizard) == ""  # 29.40% against 30.00%: only the fee kept aside

    type_into(qtbot, wizard, "investment", "10")  # M = 3: below one step
    [row] = preview(wizard)
    assert row["Your qty"] == "0.001"
    assert row["Status"] == "Copied at min. qty"
    assert row["Your util."] == "60.00%"
    assert notes(wizard).startswith("BTCUSDT: Raised to the minimum quantity")


def test_a_rounded_down_row_says_why_it_is_smaller_than_the_trader(qtbot, wizard):
    go_to_amount(qtbot, wizard)
    # M = 0.3 × 30 = 9 → floor_step(9 / (60000 × 0.1006)) = 0.001: 6.00 margin, 20% of 30
    type_into(qtbot, wizard, "investment", "30")
    [row] = preview(wizard)
    assert (row["Your qty"], row["Trader util."], row["Your util."]) == \
        ("0.001", "30.00%", "20.00%")
    assert row["Status"] == "Copied"
    assert notes(wizard).startswith("BTCUSDT: Rounded down to the quantity step")


def test_preview_marks_a_skip_when_even_the_minimum_is_unaffordable(qtbot):
    wizard = make_wizard(qtbot, replace(INPUTS, min_investment=D(5)))
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "5")  # 0.001 BTC costs 6.036 with the fee
    assert wizard.next_button().isEnabled()  # allowed, but nothing would be copied
    [row] = preview(wizard)
    assert row["Status"] == "Skipped"
    assert notes(wizard) == \
        "BTCUSDT: The copy account could not afford the minimum quantity"
    assert row["Your qty"] == "—"


def test_preview_marks_a_reduced_order(qtbot):
    wizard = make_wizard(qtbot, replace(INPUTS, positions=[BTC_LONG, ETH_SHORT]))
    go_to_amount(qtbot, wizard, "fixed_amount")
    type_into(qtbot, wizard, "investment", "100")
    type_into(qtbot, wizard, "amount", "80")  # BTC takes ~80, ETH gets what is left
    statuses = {r["Symbol"]: r["Status"] for r in preview(wizard)}
    assert statuses == {"BTCUSDT": "Copied", "ETHUSDT": "Copied, reduced"}


def test_preview_without_open_positions_says_the_copy_starts_later(qtbot):
    wizard = make_wizard(qtbot, replace(INPUTS, positions=[]))
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "100")
    empty = find(wizard, QtWidgets.QLabel, "preview_empty")
    assert empty.isVisible()
    assert empty.text() == ("The trader has no open positions: your copy starts with "
                            "their next trade")
    assert not find(wizard, QtWidgets.QTableView, "preview_table").isVisible()


# ---------------------------------------------------------------------- step 3
def test_confirm_emits_the_typed_copy(qtbot, wizard):
    go_to_amount(qtbot, wizard, "fixed_amount")
    type_into(qtbot, wizard, "investment", "250")
    type_into(qtbot, wizard, "amount", "50")
    type_into(qtbot, wizard, "max_slippage", "1.5")
    type_into(qtbot, wizard, "max_margin_per_order", "40")
    type_into(qtbot, wizard, "stop_loss", "20")
    click(qtbot, wizard.next_button())
    assert wizard.currentId() == CONFIRM_PAGE

    confirm = wizard.confirm_button()
    assert confirm.text() == "Confirm" and confirm.isVisible()
    summary = wizard.confirm_page.summary_text()
    for said in ("Copy Alice in Fixed amount mode", "250 USDT", "50 USDT margin",
                 "Direction", "Leverage", "Margin mode", "Position ratio",
                 "BTCUSDT", "long · 10× · isolated", "1.50%", "40 USDT",
                 "the copy ends when its equity falls to 200 USDT"):
        assert said in summary, said

    with qtbot.waitSignal(wizard.confirmed) as blocker:
        click(qtbot, confirm)
    assert blocker.args == [CopyRequest(
        trader="t-alice", mode="fixed_amount", investment=D("250"), amount=D("50"),
        ratio=None, max_slippage=D("0.015"), max_margin_per_order=D("40"),
        stop_loss=D("0.2"))]
    assert not wizard.isVisible()


def test_confirm_with_defaults(qtbot, wizard):
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "1000")
    click(qtbot, wizard.next_button())
    summary = wizard.confirm_page.summary_text()
    assert "your margin / equity follows the trader's (capital utilization)" in summary
    assert "trader 30.00% → you 29.40%" in summary
    with qtbot.waitSignal(wizard.confirmed) as blocker:
        click(qtbot, wizard.confirm_button())
    request = blocker.args[0]
    assert request == CopyRequest("t-alice", "smart", D(1000), None, None, D("0.005"),
                                  None, None)
    assert request.max_slippage == D("0.005")


def test_cancel_confirms_nothing(qtbot, wizard):
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "1000")
    with qtbot.assertNotEmitted(wizard.confirmed):
        click(qtbot, wizard.button(QtWidgets.QWizard.WizardButton.CancelButton))
    assert not wizard.isVisible()


def drawn_colors(widget, step: int = 4) -> set[int]:
    """The distinct colours of a grid of the widget's pixels, as drawn on screen."""
    image = widget.grab().toImage()
    return {image.pixel(x, y) for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)}


def test_each_step_draws_its_content(qtbot, tmp_path):
    wizard = make_wizard(qtbot, replace(INPUTS, positions=[BTC_LONG, ETH_SHORT]))
    assert wizard.grab().save(str(tmp_path / "wizard_1_mode.png"))
    assert (tmp_path / "wizard_1_mode.png").stat().st_size > 5_000
    assert len(drawn_colors(wizard)) > 20  # text and radio buttons, not a blank page
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "10")
    table = find(wizard, QtWidgets.QTableView, "preview_table")
    assert table.isVisible() and table.model().rowCount() == 2
    # Every preview cell fits its column at the wizard's default width (none elided).
    header = table.horizontalHeader()
    for column in range(table.model().columnCount()):
        for row in range(2):
            text = table.model().index(row, column).data() or ""
            assert table.fontMetrics().horizontalAdvance(text) < header.sectionSize(column), \
                (text, column)
    click(qtbot, wizard.next_button())
    summary = find(wizard, QtWidgets.QTextBrowser, "summary")
    assert summary.isVisible()
    assert "ETHUSDT" in wizard.confirm_page.summary_text()
    assert len(drawn_colors(summary.viewport())) > 5  # the summary's text is drawn


# ---------------------------------------------------------------------- while it is open
def test_a_newer_read_refreshes_the_preview_and_the_summary(qtbot, wizard):
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "1000")
    assert [r["Symbol"] for r in preview(wizard)] == ["BTCUSDT"]
    # The world trades on: the trader closed BTC and opened an ETH short meanwhile.
    wizard.set_inputs(replace(INPUTS, positions=[ETH_SHORT]), "12:00:05 UTC")
    assert [r["Symbol"] for r in preview(wizard)] == ["ETHUSDT"]
    assert find(wizard, QtWidgets.QLabel, "preview_as_of").text() == "As of 12:00:05 UTC"
    click(qtbot, wizard.next_button())
    summary = wizard.confirm_page.summary_text()
    assert "The trader's open positions as of 12:00:05 UTC" in summary
    assert "ETHUSDT" in summary and "BTCUSDT" not in summary
    # A later read while the summary is shown: it follows, BTC is back.
    wizard.set_inputs(replace(INPUTS, positions=[BTC_LONG]), "12:00:07 UTC")
    summary = wizard.confirm_page.summary_text()
    assert "as of 12:00:07 UTC" in summary and "BTCUSDT" in summary
    assert wizard.confirm_button().isEnabled()


def test_confirm_is_refused_when_the_balance_no_longer_covers_the_investment(qtbot, wizard):
    go_to_amount(qtbot, wizard)
    type_into(qtbot, wizard, "investment", "1500")
    click(qtbot, wizard.next_button())
    assert wizard.confirm_button().isEnabled()
    wizard.set_inputs(replace(INPUTS, contract_balance=D(1000)), "12:00:09 UTC")
    assert not wizard.confirm_button().isEnabled()
    assert "no longer holds" in wizard.confirm_page.summary_text()
    with qtbot.assertNotEmitted(wizard.confirmed):
        wizard.accept()


def test_the_balance_reads_the_same_on_every_step(qtbot):
    wizard = make_wizard(qtbot, replace(INPUTS, contract_balance=D("6976.925")))
    go_to_amount(qtbot, wizard)
    assert find(wizard, QtWidgets.QLabel, "balance_hint").text().startswith(
        "Contract balance: 6,976.92 USDT")
    type_into(qtbot, wizard, "investment", "1000")
    click(qtbot, wizard.next_button())
    assert "contract balance (6,976.92 USDT)" in wizard.confirm_page.summary_text()
