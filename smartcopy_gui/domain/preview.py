"""What a trader's open positions would become for a copy of a given investment.

Used by the copy wizard before anything is committed: the same sizing rules as a
real copy (copy-rules §6), applied to the trader's current positions at the last
prices, against a fresh copy account of ``investment``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import sizing as sz
from .instruments import Instrument
from .numbers import ZERO, exact
from .positions import Position


@dataclass(frozen=True)
class PreviewRow:
    """One trader position and the copy it would give."""

    symbol: str
    side: str
    leverage: Decimal
    margin_mode: str
    trader_qty: Decimal
    trader_utilization: Decimal  # this position's margin / trader equity
    copier_qty: Decimal  # 0 when skipped
    copier_margin: Decimal
    copier_utilization: Decimal  # copier margin / investment
    status: str  # copied | copied_min_qty | copied_reduced | skipped
    reason: str | None  # insufficient_funds when skipped


@exact
def preview_copy(positions: list[Position], trader_equity: Decimal, prices: dict[str, Decimal],
                 instruments: dict[str, Instrument], investment: Decimal, mode: str,
                 taker: Decimal, amount: Decimal | None = None, ratio: Decimal | None = None,
                 max_margin_per_order: Decimal | None = None) -> list[PreviewRow]:
    """Size each of the trader's positions for a new copy, in symbol order.

    Positions are sized one after another against what the previous ones left
    available, as a copy opening them in that order would be.
    """
    available = investment
    rows = []
    for pos in sorted(positions, key=lambda p: p.symbol):
        inst = instruments[pos.symbol]
        price = prices[pos.symbol]
        cost = sz.unit_cost(price, pos.leverage, taker)
        u = (sz.utilization(pos.qty, pos.entry, pos.leverage, trader_equity)
             if trader_equity > 0 else ZERO)
        if mode == "fixed_ratio":
            qty = sz.ratio_steps(pos.qty, ratio or ZERO, inst.qty_step) * inst.qty_step
        else:
            target = sz.target_margin(mode, u, investment, amount, max_margin_per_order)
            qty = sz.size_for_margin(target, cost, inst.qty_step)
        qty, status = sz.apply_min_and_funds(qty, cost, available, inst.qty_step, inst.min_qty)
        skipped = status == sz.SKIPPED
        margin = qty * price / pos.leverage
        if not skipped:
            available -= qty * cost
        rows.append(PreviewRow(
            symbol=pos.symbol, side=pos.side, leverage=pos.leverage,
            margin_mode=pos.margin_mode, trader_qty=pos.qty, trader_utilization=u,
            copier_qty=qty, copier_margin=margin,
            copier_utilization=margin / investment if investment > 0 else ZERO,
            status=sz.SKIPPED if skipped else status,
            reason=sz.INSUFFICIENT_FUNDS if skipped else None))
    return rows
