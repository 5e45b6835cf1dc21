"""Sizing maths of §4–§6: utilization, fill prices, copier open and close quantities."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from .enums import CopyMode, OutcomeStatus, Reason
from .numbers import ONE, ZERO, ceil_tick, floor_step, floor_tick

BPS = Decimal("0.0001")
_SMART = CopyMode.SMART  # a module name: reading an enum member off its class is slow

# Outcome statuses and skip reasons (domain.enums), by their short names.
COPIED = OutcomeStatus.COPIED
COPIED_MIN_QTY = OutcomeStatus.COPIED_MIN_QTY
COPIED_REDUCED = OutcomeStatus.COPIED_REDUCED
SKIPPED = OutcomeStatus.SKIPPED
DONE = OutcomeStatus.DONE
POSITION_NOT_COPIED = Reason.POSITION_NOT_COPIED
SLIPPAGE_LIMIT = Reason.SLIPPAGE_LIMIT
INSUFFICIENT_FUNDS = Reason.INSUFFICIENT_FUNDS
LEVERAGE_NOT_SYNCED = Reason.LEVERAGE_NOT_SYNCED
COPY_INACTIVE = Reason.COPY_INACTIVE
TRADER_LIQUIDATED = Reason.TRADER_LIQUIDATED


def utilization(qty: Decimal, price: Decimal, leverage: Decimal, equity: Decimal) -> Decimal:
    """Capital utilization ratio u = (qty × price / leverage) / equity before the fill."""
    return (qty * price / leverage) / equity


def fill_price(base: Decimal, impact_bps: Decimal, is_buy: bool, tick: Decimal) -> Decimal:
    """The copier's fill: base × (1 ± impact), rounded against the copier to the tick."""
    impact = impact_bps * BPS
    if is_buy:
        return ceil_tick(base * (ONE + impact), tick)
    return floor_tick(base * (ONE - impact), tick)


def slippage_exceeded(is_long: bool, fill: Decimal, trader_price: Decimal,
                      max_slippage: Decimal) -> bool:
    """The slippage guard: strictly beyond the trader's price by more than max_slippage."""
    if is_long:
        return fill > trader_price * (ONE + max_slippage)
    return fill < trader_price * (ONE - max_slippage)


def unit_cost(fill: Decimal, leverage: Decimal, taker: Decimal) -> Decimal:
    """Margin plus fee per unit of quantity: fill × (1/leverage + taker)."""
    return fill * (ONE / leverage + taker)


def target_margin(mode: CopyMode | str, utilization_ratio: Decimal, equity: Decimal,
                  amount: Decimal | None, max_margin_per_order: Decimal | None) -> Decimal:
    """The margin M a copied open aims for (§5): u × copy-account equity in smart mode,
    the fixed amount in fixed_amount mode, capped by ``max_margin_per_order``."""
    target = utilization_ratio * equity if mode == _SMART else (amount or ZERO)
    if max_margin_per_order is not None and target > max_margin_per_order:
        return max_margin_per_order
    return target


def steps_for_margin(target_margin: Decimal, cost_per_step: Decimal) -> Decimal:
    """floor(M / cost of one step): the copier's open as a count of quantity steps
    (0 for a target that is not positive). ``cost_per_step`` = unit cost × qty_step."""
    if target_margin <= 0:
        return ZERO
    return (target_margin / cost_per_step).to_integral_value(ROUND_FLOOR)


def size_for_margin(target_margin: Decimal, cost_per_unit: Decimal, step: Decimal) -> Decimal:
    """qty = floor_step(M / (fill × (1/leverage + taker)))."""
    return steps_for_margin(target_margin, cost_per_unit * step) * step


def ratio_steps(trader_qty: Decimal, ratio: Decimal, step: Decimal) -> Decimal:
    """fixed_ratio: floor_step(trader qty × ratio), as a count of quantity steps."""
    return (trader_qty * ratio / step).to_integral_value(ROUND_FLOOR)


def apply_min_and_funds(qty: Decimal, cost_per_unit: Decimal, available: Decimal,
                        step: Decimal, min_qty: Decimal) -> tuple[Decimal, OutcomeStatus]:
    """Steps 3–4 of an open: bump to min_qty, then reduce to what the account affords.

    Returns (qty, status); qty is 0 with status SKIPPED (reason INSUFFICIENT_FUNDS) when
    even min_qty cannot be afforded.
    """
    status: OutcomeStatus = COPIED
    if qty < min_qty:
        qty = min_qty
        status = COPIED_MIN_QTY
    if qty * cost_per_unit > available:
        qty = floor_step(available / cost_per_unit, step) if available > 0 else step * 0
        if qty < min_qty:
            return qty * 0, SKIPPED
        status = COPIED_REDUCED
    return qty, status


def partial_close_qty(copier_qty: Decimal, closed: Decimal, trader_qty_before: Decimal,
                      step: Decimal, min_qty: Decimal) -> Decimal:
    """Copier close for a trader's partial close: round_step(copier qty × f), at least
    min_qty, and everything when what would remain is below min_qty.

    Runs once per copier of a close: the step is folded into the divisor, one division.
    """
    q = (copier_qty * closed / (trader_qty_before * step)).to_integral_value(
        ROUND_HALF_UP) * step
    if q < min_qty:
        q = min_qty
    if copier_qty - q < min_qty:
        q = copier_qty
    return q
