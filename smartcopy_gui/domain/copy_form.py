"""The copy wizard's and the deposit box's rules, without Qt: how a typed amount is
read and checked, what the user confirmed, and the confirmation summary.

Every money or quantity field of the app reads its text with ``parse_amount_text``
(the scenario format's decimal syntax: ASCII digits, an optional sign, a point, an
exponent, nothing else) and is checked by a ``NumberRule``: a message for anything
it refuses, never an exception. The engine checks the copy rules again (§5).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Protocol

from .formats import fmt_pct, fmt_qty, fmt_usdt
from .preview import PreviewRow
from .words import (
    MODE_WORDS,
    OUTCOME_STATUS_WORDS,
    in_sentence,
    mode_words,
    outcome_status_words,
    reason_words,
)

SMART, FIXED_AMOUNT, FIXED_RATIO = "smart", "fixed_amount", "fixed_ratio"
COPIED, COPIED_MIN_QTY, COPIED_REDUCED, SKIPPED = (
    "copied", "copied_min_qty", "copied_reduced", "skipped")
USDT_PLACES = 8  # the ledger's posting unit
# The most any amount field takes: far beyond any account, well inside what the
# ledger holds (integer counts of 1e-8 USDT in 64 bits, about 9.2e10 USDT).
MAX_USDT = Decimal(10) ** 10
MAX_RATIO = Decimal(1000)
# A percentage field's places: 1e-6 % is far finer than any price moves, and keeps
# "1e-999999999" from reaching the engine as a fraction that underflows to 0.
PERCENT_PLACES = 6
DEFAULT_SLIPPAGE_PCT = "0.5"
NO_POSITIONS = "The trader has no open positions: your copy starts with their next trade"

# ---------------------------------------------------------------------- reading numbers
# The scenario format's decimal syntax, ASCII digits only (\d would take any script's).
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def parse_amount_text(text: str) -> Decimal:
    """A decimal in the scenario format's syntax ("250", "-3", ".5", "1e3"); ValueError
    naming the text for anything else ("1,000", "250%", "5_000", "١٢", "nan").

    The same rule as ``domain.numbers.parse_decimal_text``, which will replace it."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal number")
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal holds
        raise ValueError(f"{text!r} is out of range") from None


def decimal_places(value: Decimal) -> int:
    """Significant decimal places: 1.50 → 1, 1e-9 → 9, 1e3 → 0."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite: parse_amount_text never gives NaN
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing)) if any(digits) else 0


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
    required field (None: optional). ``below`` is an exclusive upper bound with its
    own message; ``maximum`` an inclusive one, said with ``unit``."""

    subject: str
    example: str
    required: str | None = None
    below: Decimal | None = None
    below_error: str = ""
    max_places: int | None = None
    maximum: Decimal | None = None
    unit: str = ""

    def check(self, text: str) -> Checked:
        text = text.strip()
        if not text:
            return Checked(None, self.required or "")
        try:
            value = parse_amount_text(text)
        except ValueError:
            return Checked(None, self._out_of_range(text)
                           or f"Enter a number, e.g. {self.example}")
        if value <= 0:
            return Checked(None, f"{self.subject} must be positive")
        if self.maximum is not None and value > self.maximum:
            return Checked(None, self._too_large())
        if self.below is not None and value >= self.below:
            return Checked(None, self.below_error)
        if self.max_places is not None and decimal_places(value) > self.max_places:
            return Checked(None, f"Use at most {self.max_places} decimal places")
        return Checked(value)


    def _out_of_range(self, text: str) -> str:
        """The message for a number written in the right syntax whose exponent the
        parser refuses ("1e999999999999999999999"): too large, or too many places."""
        match = _DECIMAL.fullmatch(text)
        if match is None or match.group(3) is None:
            return ""
        if "-" not in match.group(3):  # a huge positive exponent
            return self._too_large()
        return f"Use at most {self.max_places} decimal places" if self.max_places else ""

    def _too_large(self) -> str:
        return f"{self.subject} can be at most {fmt_usdt(self.maximum)}{self.unit}" \
            if self.maximum is not None else f"{self.subject} is too large"


def usdt_rule(subject: str, example: str, required: str | None = None) -> NumberRule:
    """A USDT amount: positive, at most ``MAX_USDT``, in whole posting units."""
    return NumberRule(subject, example, required, max_places=USDT_PLACES, maximum=MAX_USDT,
                      unit=" USDT")


DEPOSIT_RULE = usdt_rule("The deposit", "1000", "Enter an amount")
INVESTMENT_RULE = usdt_rule("The investment", "250", "Enter an investment amount")
AMOUNT_RULE = usdt_rule("The margin per order", "50", "Enter the margin per order")
RATIO_RULE = NumberRule("The ratio", "0.1", "Enter the ratio", maximum=MAX_RATIO)
SLIPPAGE_RULE = NumberRule("The slippage limit", "0.5", below=Decimal(100),
                           below_error="The slippage limit must be below 100%",
                           max_places=PERCENT_PLACES)
MAX_MARGIN_RULE = usdt_rule("The max margin per order", "100")
STOP_LOSS_RULE = NumberRule("The stop-loss", "20", below=Decimal(100),
                            below_error="The stop-loss must be below 100%",
                            max_places=PERCENT_PLACES)


def check_investment(text: str, minimum: Decimal, balance: Decimal) -> Checked:
    """The investment: a USDT amount, at least ``minimum``, at most ``balance``."""
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


def percent(value: Decimal | None) -> Decimal | None:
    """A percentage as a fraction: 0.5 → 0.005 (exact)."""
    return None if value is None else value.scaleb(-2)


# ---------------------------------------------------------------------- what was confirmed
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


# ---------------------------------------------------------------------- the preview in words
# Beyond this relative gap between the copy's utilization and the trader's, a copied
# row says why (the fee kept aside alone makes it ~0.6% smaller at 10×).
UTILIZATION_GAP = Decimal("0.02")


def preview_status(row: PreviewRow) -> str:
    """The status of a preview row, as the activity log would say it."""
    return outcome_status_words(row.status)


def preview_note(row: PreviewRow, mode: str) -> str:
    """Why a preview row's copy differs from the trader's position ("" when it does not)."""
    if row.status == SKIPPED:
        return reason_words(row.reason or "insufficient_funds")
    if row.status == COPIED_MIN_QTY:
        return "Raised to the minimum quantity: a larger share than the trader's"
    if row.status == COPIED_REDUCED:
        return "Reduced to the funds left in the copy account"
    if mode == FIXED_AMOUNT:
        return "Fixed amount: the same margin whatever the trader's share"
    if mode == FIXED_RATIO:
        return "Fixed ratio: a fraction of the trader's quantity"
    if row.trader_utilization and abs(row.copier_utilization - row.trader_utilization) \
            > UTILIZATION_GAP * row.trader_utilization:
        return ("Rounded down to the quantity step (or capped by the max margin per "
                "order)")
    return ""


# ---------------------------------------------------------------------- the summary
class SummaryInputs(Protocol):
    """What the summary needs of the trader's book (``session.PreviewInputs`` has it)."""

    @property
    def trader_name(self) -> str: ...

    @property
    def contract_balance(self) -> Decimal: ...

    @property
    def positions(self) -> Sequence[object]: ...


def _row(label: str, value: str) -> str:
    return (f"<tr><td style='padding: 2px 16px 2px 0'><i>{html.escape(label)}</i>"
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


def summary_html(inputs: SummaryInputs, request: CopyRequest,
                 rows: Sequence[PreviewRow], as_of: str = "") -> str:
    """The confirmation: the amount, the settings and what will be synced. ``as_of``
    ("12:00:05 UTC") says when the trader's positions were read."""
    name = html.escape(inputs.trader_name)
    mode = MODE_WORDS.get(request.mode, request.mode)
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
    positions_title = "The trader's open positions" + (f" as of {as_of}" if as_of else " now")
    parts = [f"<h3 style='margin-bottom: 4px'>Copy {name} in {mode_words(request.mode)} "
             f"mode</h3>", "<table>", *settings, _section("What will be synced"), *synced,
             _section(positions_title)]
    for r in rows:
        yours = ("not copied (" + in_sentence(reason_words(r.reason or "insufficient_funds"))
                 + ")" if r.status == SKIPPED else
                 f"you {fmt_pct(r.copier_utilization, 2, signed=False)} "
                 f"(qty {fmt_qty(r.copier_qty)})")
        note = in_sentence(OUTCOME_STATUS_WORDS[r.status]) \
            if r.status in (COPIED_MIN_QTY, COPIED_REDUCED) else None
        parts.append(_row(
            r.symbol,
            f"{r.side} · {fmt_qty(r.leverage)}× · {r.margin_mode} · position ratio "
            f"trader {fmt_pct(r.trader_utilization, 2, signed=False)} → "
            f"{html.escape(yours)}" + (f" — <i>{note}</i>" if note else "")))
    parts.append("</table>")
    if not inputs.positions:
        parts.append(f"<p>{html.escape(NO_POSITIONS)}.</p>")
    else:
        parts.append("<p><i>These positions are already open and are not opened in your "
                     "copy: it follows the trader's next trades.</i></p>")
    return "".join(parts)
