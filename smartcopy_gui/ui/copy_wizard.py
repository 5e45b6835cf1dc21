"""The copy wizard: choose a mode, enter the investment and settings with a live
preview, then confirm what will be synced.

A pure view built from a ``PreviewInputs`` (a detached copy of the trader's book);
callers ``open()`` it and listen to ``confirmed(CopyRequest)``. The rules it checks
before anything is submitted are those of copy-rules §5; the engine checks them again.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ..domain.preview import PreviewRow
from ..domain.sizing import COPIED_MIN_QTY, COPIED_REDUCED, INSUFFICIENT_FUNDS, SKIPPED
from ..session import PreviewInputs
from .models import AMBER, GREEN, RED, Column, RowTableModel, fmt_money, fmt_pct, fmt_qty
from .positions_panel import fit_columns
from .qt import QObject, Qt, QtGui, QtWidgets, Signal, Slot

log = logging.getLogger("smartcopy.ui")

SMART, FIXED_AMOUNT, FIXED_RATIO = "smart", "fixed_amount", "fixed_ratio"
MODE_NAMES = {SMART: "Smart Copy", FIXED_AMOUNT: "Fixed Amount", FIXED_RATIO: "Fixed Ratio"}
MODE_LINES = {
    SMART: "Follows direction, leverage and margin mode, sizing each order to the "
           "trader's capital utilization on your investment",
    FIXED_AMOUNT: "Uses the same margin for every copied order",
    FIXED_RATIO: "Copies a fixed fraction of the trader's quantity",
}
MODE_PAGE, AMOUNT_PAGE, CONFIRM_PAGE = 0, 1, 2
DEFAULT_SLIPPAGE_PCT = "0.5"
USDT_PLACES = 8  # the ledger's posting unit
NO_POSITIONS = "The trader has no open positions: your copy starts with their next trade"
ENTER_AMOUNT = "Enter a valid investment to preview how your copy would size the " \
               "trader's positions."
ERROR_STYLE = "color: #cf222e"
MUTED_STYLE = "color: #57606a"


@dataclass(frozen=True)
class CopyRequest:
    """What the user confirmed: the arguments of ``Session.copy``. Fractions, not
    percentages: a 0.5% slippage limit is ``Decimal("0.005")``."""

    trader: str
    mode: str
    investment: Decimal
    amount: Decimal | None = None
    ratio: Decimal | None = None
    max_slippage: Decimal | None = None
    max_margin_per_order: Decimal | None = None
    stop_loss: Decimal | None = None


# ---------------------------------------------------------------------- checking input
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def parse_number(text: str) -> Decimal | None:
    """A plain decimal number ("1,250.5", "-3", ".5"; "%" after it is allowed), or
    None when the text is not one. Never goes through a float."""
    cleaned = text.strip().removesuffix("%").strip().replace(",", "")
    if not _NUMBER.fullmatch(cleaned):
        return None
    return Decimal(cleaned)


def fmt_usdt(value: Decimal, rounding: str = ROUND_FLOOR) -> str:
    """An amount for a sentence: "10", "2,000", "1,234.56" (cents rounded ``rounding``)."""
    cents = value.quantize(Decimal("0.01"), rounding)
    return f"{cents:,.0f}" if cents == cents.to_integral_value() else f"{cents:,.2f}"


@dataclass(frozen=True)
class Checked:
    """A field's value (None when empty or invalid) and what is wrong with it."""

    value: Decimal | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class NumberRule:
    """How one numeric field is checked. ``required`` is the message for an empty
    required field (None: optional). ``below`` is an exclusive upper bound."""

    subject: str
    example: str
    required: str | None = None
    below: Decimal | None = None
    below_error: str = ""
    max_places: int | None = None

    def check(self, text: str) -> Checked:
        if not text.strip():
            return Checked(None, self.required or "")
        value = parse_number(text)
        if value is None:
            return Checked(None, f"Enter a number, e.g. {self.example}")
        if value <= 0:
            return Checked(None, f"{self.subject} must be positive")
        if self.max_places is not None and -value.as_tuple().exponent > self.max_places:
            return Checked(None, f"Use at most {self.max_places} decimal places")
        if self.below is not None and value >= self.below:
            return Checked(None, self.below_error)
        return Checked(value)


def check_investment(text: str, minimum: Decimal, balance: Decimal) -> Checked:
    """The investment: a positive number, at least ``minimum``, at most ``balance``."""
    checked = INVESTMENT_RULE.check(text)
    value = checked.value
    if value is None:
        return checked
    if value < minimum:
        return Checked(None, f"The minimum investment is {fmt_usdt(minimum, ROUND_CEILING)} "
                             f"USDT")
    if value > balance:
        return Checked(None, f"Your contract balance is only {fmt_usdt(balance)} USDT — "
                             f"deposit first")
    return checked


INVESTMENT_RULE = NumberRule("The investment", "250", "Enter an investment amount",
                             max_places=USDT_PLACES)
AMOUNT_RULE = NumberRule("The margin per order", "50", "Enter the margin per order",
                         max_places=USDT_PLACES)
RATIO_RULE = NumberRule("The ratio", "0.1", "Enter the ratio")
SLIPPAGE_RULE = NumberRule("The slippage limit", "0.5", below=Decimal(100),
                           below_error="The slippage limit must be below 100%")
MAX_MARGIN_RULE = NumberRule("The max margin per order", "100", max_places=USDT_PLACES)
STOP_LOSS_RULE = NumberRule("The stop-loss", "20", below=Decimal(100),
                            below_error="The stop-loss must be below 100%")


def percent(value: Decimal | None) -> Decimal | None:
    """A percentage as a fraction: 0.5 → 0.005 (exact)."""
    return None if value is None else value.scaleb(-2)


class NumberField(QObject):
    """A label, a line edit and its error shown beside it (three widgets for a grid
    row), checked as the user types: ``checker`` turns the text into a ``Checked``;
    ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, name: str, label: str, checker: Callable[[str], Checked],
                 placeholder: str = "", text: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.checker = checker
        self.label = QtWidgets.QLabel(label)
        self.edit = QtWidgets.QLineEdit(text, objectName=name)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setMinimumWidth(150)
        self.edit.setMaximumWidth(190)
        self.error = QtWidgets.QLabel(objectName=f"{name}_error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.label.setBuddy(self.edit)
        self.edit.textChanged.connect(self.on_edit_text_changed)
        self.refresh()

    def add_to(self, grid: QtWidgets.QGridLayout, row: int) -> None:
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.edit, row, 1)
        grid.addWidget(self.error, row, 2)

    def set_shown(self, shown: bool) -> None:
        for widget in (self.label, self.edit, self.error):
            widget.setVisible(shown)

    def is_shown(self) -> bool:
        return not self.edit.isHidden()

    def checked(self) -> Checked:
        return self.checker(self.edit.text())

    def refresh(self) -> None:
        self.error.setText(self.checked().error)

    @Slot(str)
    def on_edit_text_changed(self, text: str) -> None:
        self.refresh()
        self.changed.emit()


# ---------------------------------------------------------------------- the preview table
STATUS_WORDS = {
    COPIED_MIN_QTY: "bumped to minimum",
    COPIED_REDUCED: "reduced",
    SKIPPED: "skipped: insufficient funds",
}
STATUS_TIPS = {
    COPIED_MIN_QTY: "The sized quantity is below the instrument's minimum, so the minimum "
                    "is used: your copy risks a larger share than the trader.",
    COPIED_REDUCED: "Your copy could not afford the full size: it is reduced to the "
                    "available funds.",
    SKIPPED: "Your copy could not afford even the minimum quantity: this position would "
             "not be copied.",
}


def preview_status(row: PreviewRow) -> str:
    if row.status == SKIPPED and row.reason and row.reason != INSUFFICIENT_FUNDS:
        return f"skipped: {row.reason.replace('_', ' ')}"
    return STATUS_WORDS.get(row.status, "copied")


def status_color(status: str) -> QtGui.QColor | None:
    if status.startswith("skipped"):
        return RED
    return AMBER if status in (STATUS_WORDS[COPIED_MIN_QTY], STATUS_WORDS[COPIED_REDUCED]) \
        else GREEN


def _copied(row: PreviewRow, value: Decimal) -> Decimal | None:
    return None if row.status == SKIPPED else value


PREVIEW_COLUMNS = [
    Column("Symbol", lambda r: r.symbol),
    Column("Side", lambda r: r.side,
           color=lambda v: GREEN if v == "long" else RED if v == "short" else None),
    Column("Leverage", lambda r: r.leverage, lambda v: f"{fmt_qty(v)}×", align_right=True),
    Column("Trader qty", lambda r: r.trader_qty, fmt_qty, align_right=True),
    Column("Your qty", lambda r: _copied(r, r.copier_qty), fmt_qty, align_right=True),
    Column("Your margin", lambda r: _copied(r, r.copier_margin), fmt_money, align_right=True,
           tooltip="Quantity × price / leverage (USDT)"),
    Column("Trader util.", lambda r: r.trader_utilization,
           lambda v: fmt_pct(v, 2, signed=False), align_right=True,
           tooltip="The position's margin / the trader's equity"),
    Column("Your util.", lambda r: _copied(r, r.copier_utilization),
           lambda v: fmt_pct(v, 2, signed=False), align_right=True,
           tooltip="Your copy's margin / your investment"),
    Column("Status", preview_status, color=status_color),
]


# ---------------------------------------------------------------------- pages
class ModePage(QtWidgets.QWizardPage):
    """Step 1: Smart Copy, Fixed Amount or Fixed Ratio. Incomplete (Next disabled)
    when the copier already copies this trader."""

    mode_changed = Signal(str)

    def __init__(self, inputs: PreviewInputs, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.inputs = inputs
        self.setTitle("Copy mode")
        self.setSubTitle(f"How should your copy of {inputs.trader_name} size its orders?")
        self.group = QtWidgets.QButtonGroup(self)
        layout = QtWidgets.QVBoxLayout(self)
        self.radios: dict[str, QtWidgets.QRadioButton] = {}
        for mode, name in MODE_NAMES.items():
            radio = QtWidgets.QRadioButton(name, objectName=f"mode_{mode}")
            font = radio.font()
            font.setBold(True)
            radio.setFont(font)
            line = QtWidgets.QLabel(MODE_LINES[mode], objectName=f"mode_{mode}_line")
            line.setWordWrap(True)
            line.setStyleSheet(f"{MUTED_STYLE}; margin-left: 24px")
            self.group.addButton(radio)
            self.radios[mode] = radio
            layout.addWidget(radio, 0, Qt.AlignmentFlag.AlignLeft)  # clickable where it shows
            layout.addWidget(line)
            layout.addSpacing(8)
        self.radios[SMART].setChecked(True)
        self.refusal = QtWidgets.QLabel(objectName="mode_refusal")
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet(f"{ERROR_STYLE}; font-weight: bold")
        self.refusal.setVisible(inputs.active_mode is not None)
        layout.addWidget(self.refusal)
        layout.addStretch(1)
        if inputs.active_mode is not None:
            active = MODE_NAMES.get(inputs.active_mode, inputs.active_mode)
            self.refusal.setText(
                f"You already copy {inputs.trader_name} in {active} mode. Mode switching "
                f"during an active copy is not supported: the copy must be cancelled first "
                f"(Copies panel → Cancel copy).")
            if inputs.active_mode in self.radios:
                self.radios[inputs.active_mode].setChecked(True)
            for radio in self.radios.values():
                radio.setEnabled(False)
        self.group.buttonToggled.connect(self.on_group_button_toggled)

    @property
    def mode(self) -> str:
        return next(m for m, radio in self.radios.items() if radio.isChecked())

    def isComplete(self) -> bool:  # noqa: N802
        return self.inputs.active_mode is None

    @Slot(QtWidgets.QAbstractButton, bool)
    def on_group_button_toggled(self, button: QtWidgets.QAbstractButton, checked: bool) -> None:
        if checked:
            self.mode_changed.emit(self.mode)


class AmountPage(QtWidgets.QWizardPage):
    """Step 2: the investment, the mode's own field and optional settings, checked as
    typed, over a preview of the trader's open positions sized for this copy."""

    def __init__(self, inputs: PreviewInputs, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.inputs = inputs
        self.mode = SMART
        self.preview_rows: list[PreviewRow] = []
        self.setTitle("Amount")
        self.setSubTitle(f"How much to invest in copying {inputs.trader_name}.")
        minimum = fmt_usdt(inputs.min_investment, ROUND_CEILING)
        self.investment = NumberField(
            "investment", "Investment (USDT)",
            lambda text: check_investment(text, inputs.min_investment, inputs.contract_balance),
            f"min {minimum} USDT", parent=self)
        self.amount = NumberField("amount", "Margin per order (USDT)", AMOUNT_RULE.check,
                                  "e.g. 50", parent=self)
        self.ratio = NumberField("ratio", "Ratio of the trader's qty", RATIO_RULE.check,
                                 "e.g. 0.1 = 10%", parent=self)
        self.max_slippage = NumberField("max_slippage", "Max slippage (%)",
                                        SLIPPAGE_RULE.check, "0.5", DEFAULT_SLIPPAGE_PCT,
                                        parent=self)
        self.max_margin = NumberField("max_margin_per_order", "Max margin per order (USDT)",
                                      MAX_MARGIN_RULE.check, "no limit", parent=self)
        self.stop_loss = NumberField("stop_loss", "Stop-loss (% of investment)",
                                     STOP_LOSS_RULE.check, "none", parent=self)
        self.max_slippage.edit.setToolTip("Opens that would fill further than this from the "
                                          "trader's price are skipped")
        self.max_margin.edit.setToolTip("Caps the margin of each copied order")
        self.stop_loss.edit.setToolTip("The copy ends when its equity falls this far below "
                                       "the investment")
        self.fields = [self.investment, self.amount, self.ratio, self.max_slippage,
                       self.max_margin, self.stop_loss]
        for field in self.fields:
            field.changed.connect(self.on_field_changed)

        self.balance_hint = QtWidgets.QLabel(
            f"Contract balance: {fmt_money(inputs.contract_balance)} USDT · minimum "
            f"investment {minimum} USDT", objectName="balance_hint")
        self.balance_hint.setStyleSheet(MUTED_STYLE)
        grid = QtWidgets.QGridLayout()  # one grid, so that every field lines up
        grid.setColumnStretch(2, 1)
        grid.setHorizontalSpacing(10)
        for row, field in enumerate((self.investment, self.amount, self.ratio)):
            field.add_to(grid, row)
        options = QtWidgets.QLabel("Optional settings", objectName="optional_settings")
        bold = options.font()
        bold.setBold(True)
        options.setFont(bold)
        options.setContentsMargins(0, 8, 0, 0)
        grid.addWidget(options, 3, 0, 1, 3)
        for row, field in enumerate((self.max_slippage, self.max_margin, self.stop_loss), 4):
            field.add_to(grid, row)

        self.preview_model = RowTableModel(PREVIEW_COLUMNS, key=lambda r: r.symbol,
                                           tooltip=lambda r: STATUS_TIPS.get(r.status),
                                           parent=self)
        self.preview_table = QtWidgets.QTableView(objectName="preview_table")
        self.preview_table.setModel(self.preview_model)
        self.preview_table.verticalHeader().hide()
        self.preview_table.verticalHeader().setDefaultSectionSize(
            self.preview_table.fontMetrics().height() + 8)
        self.preview_table.horizontalHeader().setStretchLastSection(True)
        self.preview_table.setWordWrap(False)
        self.preview_table.setSelectionMode(
            QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.preview_table.setMinimumHeight(110)
        self.preview_empty = QtWidgets.QLabel(objectName="preview_empty")
        self.preview_empty.setWordWrap(True)
        self.preview_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_empty.setStyleSheet(f"{MUTED_STYLE}; padding: 12px")
        self.preview_stack = QtWidgets.QStackedWidget()
        self.preview_stack.addWidget(self.preview_empty)
        self.preview_stack.addWidget(self.preview_table)
        preview_title = QtWidgets.QLabel(
            "<b>Preview at current prices</b> — the trader's open positions, sized for "
            "this copy. Positions already open are not copied: your copy follows the "
            "trader's next trades.")
        preview_title.setWordWrap(True)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.balance_hint)
        layout.addLayout(grid)
        layout.addSpacing(6)
        layout.addWidget(preview_title)
        layout.addWidget(self.preview_stack, 1)
        self.set_mode(SMART)

    # ------------------------------------------------------------------ state
    def set_mode(self, mode: str) -> None:
        """Show the fields ``mode`` uses."""
        self.mode = mode
        self.amount.set_shown(mode == FIXED_AMOUNT)
        self.ratio.set_shown(mode == FIXED_RATIO)
        self.max_margin.set_shown(mode != FIXED_RATIO)  # no effect in fixed ratio
        self.update_preview()
        self.completeChanged.emit()

    def shown_fields(self) -> list[NumberField]:
        return [f for f in self.fields if f.is_shown()]

    def isComplete(self) -> bool:  # noqa: N802
        return all(f.checked().ok for f in self.shown_fields())

    def request(self) -> CopyRequest | None:
        """The copy as entered, or None while any shown field is invalid."""
        if not self.isComplete():
            return None
        investment = self.investment.checked().value
        assert investment is not None
        return CopyRequest(
            trader=self.inputs.trader, mode=self.mode, investment=investment,
            amount=self.amount.checked().value if self.mode == FIXED_AMOUNT else None,
            ratio=self.ratio.checked().value if self.mode == FIXED_RATIO else None,
            max_slippage=percent(self.max_slippage.checked().value
                                 or Decimal(DEFAULT_SLIPPAGE_PCT)),
            max_margin_per_order=(self.max_margin.checked().value
                                  if self.mode != FIXED_RATIO else None),
            stop_loss=percent(self.stop_loss.checked().value))

    def update_preview(self) -> None:
        """Size the trader's positions for what is typed (when it can be sized)."""
        investment = parse_number(self.investment.edit.text())
        mode_field = {FIXED_AMOUNT: self.amount, FIXED_RATIO: self.ratio}.get(self.mode)
        sizable = (investment is not None and investment > 0
                   and (mode_field is None or mode_field.checked().ok)
                   and (self.mode == FIXED_RATIO or self.max_margin.checked().ok))
        rows: list[PreviewRow] = []
        if not self.inputs.positions:
            self.preview_empty.setText(NO_POSITIONS)
        elif not sizable:
            self.preview_empty.setText(ENTER_AMOUNT)
        else:
            assert investment is not None
            rows = self.inputs.preview(
                self.mode, investment,
                amount=self.amount.checked().value if self.mode == FIXED_AMOUNT else None,
                ratio=self.ratio.checked().value if self.mode == FIXED_RATIO else None,
                max_margin_per_order=(self.max_margin.checked().value
                                      if self.mode != FIXED_RATIO else None))
        fit = len(rows) != self.preview_model.rowCount()
        self.preview_rows = rows
        self.preview_model.set_rows(rows)
        self.preview_stack.setCurrentWidget(self.preview_table if rows else self.preview_empty)
        if fit and rows:
            fit_columns(self.preview_table, "000,000.00")

    # ------------------------------------------------------------------ slots
    @Slot()
    def on_field_changed(self) -> None:
        self.update_preview()
        self.completeChanged.emit()


def _row(label: str, value: str) -> str:
    return (f"<tr><td style='padding: 2px 16px 2px 0; color: #57606a'>{html.escape(label)}"
            f"</td><td style='padding: 2px 0'>{value}</td></tr>")


def _section(title: str) -> str:
    return (f"<tr><td colspan='2' style='padding: 12px 0 2px 0'><b>{html.escape(title)}</b>"
            f"</td></tr>")


def sizing_sentence(request: CopyRequest) -> str:
    """How the copy sizes each order, in words."""
    if request.mode == FIXED_AMOUNT and request.amount is not None:
        return f"the same {fmt_usdt(request.amount)} USDT margin for every copied order"
    if request.mode == FIXED_RATIO and request.ratio is not None:
        return (f"{fmt_qty(request.ratio)} × the trader's quantity "
                f"({fmt_pct(request.ratio, 2, signed=False)}), rounded down to the "
                f"quantity step")
    return ("each order's margin is the trader's capital utilization (margin / equity) "
            "applied to your copy's equity, so your position ratio follows the trader's")


def summary_html(inputs: PreviewInputs, request: CopyRequest,
                 rows: Sequence[PreviewRow]) -> str:
    """The confirmation: the amount, the settings and what will be synced."""
    name = html.escape(inputs.trader_name)
    mode = MODE_NAMES.get(request.mode, request.mode)
    settings = [
        _row("Investment", f"<b>{fmt_usdt(request.investment)} USDT</b>, moved from your "
                           f"contract balance ({fmt_usdt(inputs.contract_balance)} USDT) "
                           f"into this copy's own account"),
        _row("Mode", f"<b>{mode}</b>: {html.escape(sizing_sentence(request))}"),
        _row("Max slippage", f"{fmt_pct(request.max_slippage, 2, signed=False)} — opens "
                             f"that would fill further from the trader's price are skipped"
             if request.max_slippage is not None else "0.50% (default)"),
    ]
    if request.mode != FIXED_RATIO:
        settings.append(_row("Max margin per order",
                             f"{fmt_usdt(request.max_margin_per_order)} USDT"
                             if request.max_margin_per_order is not None else "no limit"))
    if request.stop_loss is not None:
        floor = request.investment * (1 - request.stop_loss)
        settings.append(_row("Stop-loss", f"{fmt_pct(request.stop_loss, 2, signed=False)} of "
                                          f"the investment: the copy ends when its equity "
                                          f"falls to {fmt_usdt(floor)} USDT"))
    else:
        settings.append(_row("Stop-loss", "none"))
    ratio_words = {SMART: "your margin / equity follows the trader's (capital utilization)",
                   FIXED_AMOUNT: "not synced: every order uses the same margin",
                   FIXED_RATIO: "not synced: quantities are a fixed fraction of the "
                                "trader's"}[request.mode]
    synced = [
        _row("Direction", "long or short, as the trader"),
        _row("Leverage", "the trader's, per position, including later changes"),
        _row("Margin mode", "cross or isolated, as the trader"),
        _row("Position ratio", html.escape(ratio_words)),
    ]
    parts = [f"<h3 style='margin-bottom: 4px'>Copy {name} with {mode}</h3>", "<table>",
             *settings, _section("What will be synced"), *synced,
             _section("The trader's open positions now")]
    for r in rows:
        yours = ("not copied (insufficient funds)" if r.status == SKIPPED else
                 f"you {fmt_pct(r.copier_utilization, 2, signed=False)} "
                 f"(qty {fmt_qty(r.copier_qty)})")
        note = STATUS_WORDS.get(r.status) if r.status != SKIPPED else None
        parts.append(_row(
            r.symbol,
            f"{r.side} · {fmt_qty(r.leverage)}× · {r.margin_mode} · position ratio "
            f"trader {fmt_pct(r.trader_utilization, 2, signed=False)} → "
            f"{html.escape(yours)}" + (f" — <i>{note}</i>" if note else "")))
    parts.append("</table>")
    if not inputs.positions:
        parts.append(f"<p>{html.escape(NO_POSITIONS)}.</p>")
    else:
        parts.append("<p style='color: #57606a'>These positions are already open and are "
                     "not opened in your copy: it follows the trader's next trades.</p>")
    return "".join(parts)


class ConfirmPage(QtWidgets.QWizardPage):
    """Step 3: what will be synced, the amount and settings; Finish reads "Confirm"."""

    def __init__(self, inputs: PreviewInputs, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.inputs = inputs
        self.setTitle("Confirm")
        self.setSubTitle("Check what your copy will do, then confirm.")
        self.summary = QtWidgets.QTextBrowser(objectName="summary")
        self.summary.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.summary.setOpenLinks(False)
        self.summary.viewport().setAutoFillBackground(False)
        self.summary.setStyleSheet("QTextBrowser { background: transparent; }")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)

    def show_summary(self, request: CopyRequest, rows: Sequence[PreviewRow]) -> None:
        self.summary.setHtml(summary_html(self.inputs, request, rows))

    def summary_text(self) -> str:
        return self.summary.toPlainText()


# ---------------------------------------------------------------------- the wizard
class CopyWizard(QtWidgets.QWizard):
    """Copy one trader in three steps. Open it with ``open()``; on Confirm it emits
    ``confirmed(CopyRequest)`` and closes."""

    confirmed = Signal(object)

    def __init__(self, inputs: PreviewInputs, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.inputs = inputs
        self.setObjectName("copy_wizard")
        self.setWindowTitle(f"Copy {inputs.trader_name}")
        self.setWizardStyle(QtWidgets.QWizard.WizardStyle.ModernStyle)
        self.setOption(QtWidgets.QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QtWidgets.QWizard.WizardButton.FinishButton, "Confirm")
        self.mode_page = ModePage(inputs)
        self.amount_page = AmountPage(inputs)
        self.confirm_page = ConfirmPage(inputs)
        self.setPage(MODE_PAGE, self.mode_page)
        self.setPage(AMOUNT_PAGE, self.amount_page)
        self.setPage(CONFIRM_PAGE, self.confirm_page)
        self.setMinimumSize(720, 600)
        self.mode_page.mode_changed.connect(self.on_mode_changed)
        self.currentIdChanged.connect(self.on_current_id_changed)
        self.accepted.connect(self.on_accepted)

    @property
    def mode(self) -> str:
        return self.mode_page.mode

    def request(self) -> CopyRequest | None:
        """The copy as entered so far (None while the amount step is invalid)."""
        return self.amount_page.request()

    def next_button(self) -> QtWidgets.QAbstractButton:
        return self.button(QtWidgets.QWizard.WizardButton.NextButton)

    def confirm_button(self) -> QtWidgets.QAbstractButton:
        return self.button(QtWidgets.QWizard.WizardButton.FinishButton)

    @Slot(str)
    def on_mode_changed(self, mode: str) -> None:
        self.amount_page.set_mode(mode)

    @Slot(int)
    def on_current_id_changed(self, page_id: int) -> None:
        if page_id == AMOUNT_PAGE:
            self.amount_page.investment.edit.setFocus()
        elif page_id == CONFIRM_PAGE:
            request = self.request()
            if request is not None:
                self.confirm_page.show_summary(request, self.amount_page.preview_rows)

    @Slot()
    def on_accepted(self) -> None:
        request = self.request()
        if request is None:  # Confirm is only reachable through a complete amount step
            log.warning("copy wizard accepted without a valid request")
            return
        log.info("copy confirmed: %s", request)
        self.confirmed.emit(request)
