"""The copy wizard: choose a mode, enter the investment and settings with a live
preview, then confirm what will be synced.

A pure view built from a ``PreviewInputs`` (a detached copy of the trader's book);
callers ``open()`` it and listen to ``confirmed(CopyRequest)``. The rules it checks
before anything is submitted are those of copy-rules §5; the engine checks them again.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from ..domain.copy_form import (
    AMOUNT_RULE,
    COPIED_MIN_QTY,
    COPIED_REDUCED,
    DEFAULT_SLIPPAGE_PCT,
    FIXED_AMOUNT,
    FIXED_RATIO,
    INVESTMENT_RULE,
    MAX_MARGIN_RULE,
    NO_POSITIONS,
    RATIO_RULE,
    SKIPPED,
    SLIPPAGE_RULE,
    SMART,
    STOP_LOSS_RULE,
    Checked,
    CopyRequest,
    check_investment,
    percent,
    preview_note,
    preview_status,
    summary_html,
)
from ..domain.preview import PreviewRow
from ..domain.words import MODE_LINES, in_sentence, mode_words
from ..session import PreviewInputs
from ..whatif.report import CopyFigures
from .models import Column, RowTableModel
from .qt import QObject, Qt, QtGui, QTimer, QtWidgets, Signal, Slot
from .shared import (
    colors,
    error_style,
    fit_columns,
    fmt_balance,
    fmt_leverage,
    fmt_money,
    fmt_pct,
    fmt_qty,
    fmt_usdt,
    mute,
    side_color,
)
from .whatif_views import ENTER_INVESTMENT, WhatIfPanel

__all__ = ["CopyRequest", "CopyWizard", "WhatIfQuery", "MODE_PAGE", "AMOUNT_PAGE",
           "CONFIRM_PAGE"]

log = logging.getLogger("smartcopy.ui")

MODE_PAGE, AMOUNT_PAGE, CONFIRM_PAGE = 0, 1, 2
ENTER_AMOUNT = "Enter a valid investment to preview how your copy would size the " \
               "trader's positions."
WHATIF_DEBOUNCE_MS = 300  # a what-if starts once the typing has paused this long


@dataclass(frozen=True)
class WhatIfQuery:
    """A what-if the amount page asks for: request number ``seq`` (later ones
    supersede it), the copy as entered, and the window in days."""

    seq: int
    request: CopyRequest
    days: int


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
        self.error.setStyleSheet(error_style())
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
STATUS_TIPS = {
    COPIED_MIN_QTY: "The sized quantity is below the instrument's minimum, so the minimum "
                    "is used: your copy risks a larger share than the trader.",
    COPIED_REDUCED: "Your copy could not afford the full size: it is reduced to the "
                    "available funds.",
    SKIPPED: "Your copy could not afford even the minimum quantity: this position would "
             "not be copied.",
}


def status_color(row: PreviewRow) -> QtGui.QColor | None:
    if row.status == SKIPPED:
        return colors().red
    return colors().amber if row.status in (COPIED_MIN_QTY, COPIED_REDUCED) \
        else colors().green


def _copied(row: PreviewRow, value: Decimal) -> Decimal | None:
    return None if row.status == SKIPPED else value


def preview_columns() -> list[Column]:
    """The preview table's columns (why a row differs is written under the table)."""
    return [
        Column("Symbol", lambda r: r.symbol),
        Column("Side", lambda r: r.side, color=side_color),
        Column("Leverage", lambda r: r.leverage, fmt_leverage, align_right=True),
        Column("Trader qty", lambda r: r.trader_qty, fmt_qty, align_right=True),
        Column("Your qty", lambda r: _copied(r, r.copier_qty), fmt_qty, align_right=True),
        Column("Your margin", lambda r: _copied(r, r.copier_margin), fmt_money,
               align_right=True, tooltip="Quantity × price / leverage (USDT)"),
        Column("Trader util.", lambda r: r.trader_utilization,
               lambda v: fmt_pct(v, 2, signed=False), align_right=True,
               tooltip="The position's margin / the trader's equity"),
        Column("Your util.", lambda r: _copied(r, r.copier_utilization),
               lambda v: fmt_pct(v, 2, signed=False), align_right=True,
               tooltip="Your copy's margin / your investment"),
        Column("Status", lambda r: r, preview_status, status_color),
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
        for mode in (SMART, FIXED_AMOUNT, FIXED_RATIO):
            name = mode_words(mode)
            radio = QtWidgets.QRadioButton(name, objectName=f"mode_{mode}")
            font = radio.font()
            font.setBold(True)
            radio.setFont(font)
            line = QtWidgets.QLabel(MODE_LINES[mode], objectName=f"mode_{mode}_line")
            line.setWordWrap(True)
            mute(line).setContentsMargins(24, 0, 0, 0)
            self.group.addButton(radio)
            self.radios[mode] = radio
            layout.addWidget(radio, 0, Qt.AlignmentFlag.AlignLeft)  # clickable where it shows
            layout.addWidget(line)
            layout.addSpacing(8)
        self.radios[SMART].setChecked(True)
        self.refusal = QtWidgets.QLabel(objectName="mode_refusal")
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet(f"{error_style()}; font-weight: bold")
        self.refusal.setVisible(inputs.active_mode is not None)
        layout.addWidget(self.refusal)
        layout.addStretch(1)
        if inputs.active_mode is not None:
            active = mode_words(inputs.active_mode)
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
    typed, over a preview of the trader's open positions sized for this copy, and what
    the copy would have done over the last days (``whatif_requested(WhatIfQuery)``, sent
    once the typing pauses; the answer goes to ``whatif``)."""

    whatif_requested = Signal(object)

    def __init__(self, inputs: PreviewInputs, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.inputs = inputs
        self.mode = SMART
        self.whatif_seq = 0
        self.whatif = WhatIfPanel()
        self.whatif_timer = QTimer(self)
        self.whatif_timer.setSingleShot(True)
        self.whatif_timer.setInterval(WHATIF_DEBOUNCE_MS)
        self.whatif_timer.timeout.connect(self.on_whatif_timer_timeout)
        self.whatif.period_changed.connect(self.on_whatif_period_changed)
        self.preview_rows: list[PreviewRow] = []
        self.setTitle("Amount")
        self.setSubTitle(f"How much to invest in copying {inputs.trader_name}.")
        minimum = fmt_usdt(inputs.min_investment, ROUND_CEILING)
        self.investment = NumberField(
            "investment", "Investment (USDT)",
            lambda text: check_investment(text, self.inputs.min_investment,
                                          self.inputs.contract_balance),
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

        self.balance_hint = mute(QtWidgets.QLabel(objectName="balance_hint"))
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

        self.preview_model = RowTableModel(preview_columns(),
                                           key=lambda r: r.symbol,
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
        mute(self.preview_empty).setContentsMargins(12, 12, 12, 12)
        self.preview_stack = QtWidgets.QStackedWidget()
        self.preview_stack.addWidget(self.preview_empty)
        self.preview_stack.addWidget(self.preview_table)
        preview_title = QtWidgets.QLabel(
            "<b>Preview at current prices</b> — the trader's open positions, sized for "
            "this copy. Positions already open are not copied: your copy follows the "
            "trader's next trades.")
        preview_title.setWordWrap(True)
        self.as_of_label = mute(QtWidgets.QLabel(objectName="preview_as_of"))
        # Why a row's copy differs from the trader's share, in full under the table.
        self.preview_notes = QtWidgets.QLabel(objectName="preview_notes")
        self.preview_notes.setWordWrap(True)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.balance_hint)
        layout.addLayout(grid)
        layout.addSpacing(6)
        layout.addWidget(preview_title)
        layout.addWidget(self.as_of_label)
        layout.addWidget(self.preview_stack, 1)
        layout.addWidget(self.preview_notes)
        layout.addWidget(self.whatif, 2)
        self.set_inputs(inputs)
        self.set_mode(SMART)

    def set_inputs(self, inputs: PreviewInputs, as_of: str = "") -> None:
        """Preview against a newer read of the trader's book and the balance, taken at
        ``as_of`` ("12:00:05 UTC"): the world keeps trading while the wizard is open."""
        self.inputs = inputs
        self.balance_hint.setText(
            f"Contract balance: {fmt_balance(inputs.contract_balance)} USDT · minimum "
            f"investment {fmt_usdt(inputs.min_investment, ROUND_CEILING)} USDT")
        self.as_of_label.setText(f"As of {as_of}" if as_of else "")
        self.as_of_label.setVisible(bool(as_of))
        self.investment.refresh()
        self.update_preview()
        self.completeChanged.emit()

    # ------------------------------------------------------------------ state
    def set_mode(self, mode: str) -> None:
        """Show the fields ``mode`` uses."""
        self.mode = mode
        self.amount.set_shown(mode == FIXED_AMOUNT)
        self.ratio.set_shown(mode == FIXED_RATIO)
        self.max_margin.set_shown(mode != FIXED_RATIO)  # no effect in fixed ratio
        self.update_preview()
        self.completeChanged.emit()
        self.schedule_whatif()

    def schedule_whatif(self) -> None:
        """Ask for a what-if of what is entered once the typing has paused."""
        self.whatif_timer.start()  # restarts: only the last change in a burst runs

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
        investment = INVESTMENT_RULE.check(self.investment.edit.text()).value
        mode_field = {FIXED_AMOUNT: self.amount, FIXED_RATIO: self.ratio}.get(self.mode)
        sizable = (investment is not None
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
        self.preview_rows = rows
        self.preview_model.set_rows(rows)
        notes = [(r.symbol, preview_note(r, self.mode)) for r in rows]
        self.preview_notes.setText("<br>".join(
            f"<b>{html.escape(symbol)}</b>: {html.escape(note)}" for symbol, note in notes
            if note))
        self.preview_notes.setVisible(any(note for _, note in notes))
        self.preview_stack.setCurrentWidget(self.preview_table if rows else self.preview_empty)
        if rows:  # a handful of rows, re-sized per keystroke: a status can grow longer
            fit_columns(self.preview_table, "000,000.00")

    # ------------------------------------------------------------------ slots
    @Slot()
    def on_field_changed(self) -> None:
        self.update_preview()
        self.completeChanged.emit()
        self.schedule_whatif()

    @Slot(int)
    def on_whatif_period_changed(self, _days: int) -> None:
        self.schedule_whatif()

    @Slot()
    def on_whatif_timer_timeout(self) -> None:
        self.whatif_seq += 1
        request = self.request()
        if request is None:
            invalid = next(f for f in self.shown_fields() if not f.checked().ok)
            if not invalid.edit.text().strip():
                self.whatif.show_error(self.whatif_seq, ENTER_INVESTMENT
                                       if invalid is self.investment else
                                       f"{invalid.checked().error} to see what this copy "
                                       "would have done.", error=False)
            else:
                self.whatif.show_error(self.whatif_seq, f"{invalid.label.text()}: "
                                       f"{in_sentence(invalid.checked().error)}")
            return
        self.whatif.set_running(True)
        self.whatif_requested.emit(WhatIfQuery(self.whatif_seq, request, self.whatif.days))


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
        self.request: CopyRequest | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)

    def show_summary(self, request: CopyRequest | None, rows: Sequence[PreviewRow],
                     as_of: str = "") -> None:
        """Summarise ``request``; None (what was entered no longer holds, e.g. the
        balance fell below the investment) says so and disables Confirm."""
        self.request = request
        if request is None:
            self.summary.setHtml("<p><b>What you entered no longer holds</b> (your balance "
                                 "or the trader's positions changed): go back to the "
                                 "amount step.</p>")
        else:
            self.summary.setHtml(summary_html(self.inputs, request, rows, as_of))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self.request is not None

    def summary_text(self) -> str:
        return self.summary.toPlainText()


# ---------------------------------------------------------------------- the wizard
class CopyWizard(QtWidgets.QWizard):
    """Copy one trader in three steps. Open it with ``open()``; on Confirm it emits
    ``confirmed(CopyRequest)`` and closes."""

    confirmed = Signal(object)
    whatif_requested = Signal(object)  # WhatIfQuery: answer with show_whatif / _error

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
        self.setMinimumSize(760, 660)  # fits a 1366×768 screen
        self.as_of = ""
        self.mode_page.mode_changed.connect(self.on_mode_changed)
        self.amount_page.whatif_requested.connect(self.whatif_requested)
        self.currentIdChanged.connect(self.on_current_id_changed)
        self.accepted.connect(self.on_accepted)

    @property
    def mode(self) -> str:
        return self.mode_page.mode

    def request(self) -> CopyRequest | None:
        """The copy as entered so far (None while the amount step is invalid)."""
        return self.amount_page.request()

    def set_inputs(self, inputs: PreviewInputs, as_of: str) -> None:
        """Refresh the preview and the summary from a newer read of the trader's book
        and the balance, taken at ``as_of`` ("12:00:05 UTC")."""
        self.inputs = inputs
        self.as_of = as_of
        self.confirm_page.inputs = inputs
        self.amount_page.set_inputs(inputs, as_of)
        if self.currentId() == CONFIRM_PAGE:
            self.show_summary()

    def show_summary(self) -> None:
        self.confirm_page.show_summary(self.request(), self.amount_page.preview_rows,
                                       self.as_of)

    def show_whatif(self, query: WhatIfQuery, figures: CopyFigures) -> bool:
        """The answer to ``query``; False when a newer one is already shown."""
        return self.amount_page.whatif.show_result(query.seq, figures)

    def show_whatif_error(self, query: WhatIfQuery, message: str) -> bool:
        """Why ``query`` could not run, in place; False when a newer answer shows."""
        return self.amount_page.whatif.show_error(query.seq, message)

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
            self.show_summary()

    @Slot()
    def on_accepted(self) -> None:
        request = self.request()
        if request is None:  # Confirm is only reachable through a complete amount step
            log.warning("copy wizard accepted without a valid request")
            return
        log.info("copy confirmed: %s", request)
        self.confirmed.emit(request)
