"""What a what-if reports per hypothetical copy, from the engine's own records.

Definitions:
- equity curve: the investment at T, the copy's equity at each day's close (the
  engine's daily snapshots), and its value at the end (its equity, or what was
  released if the copy ended), each beside the trader's ROI since T;
- pnl, roi: the end value against the investment (domain/stats.py); max drawdown over
  the curve; fees, funding (net) and profit share paid, as the report sums them;
- outcomes: counts by status and reason; liquidations: the copy's liquidated positions;
- entry slippage: per copied open, the copier's fill against the trader's price in
  basis points, positive when worse for the copier (higher for a long, lower for a
  short), averaged;
- utilization ratio: per copied open, (the fill's margin / the copy's equity just
  before it) / the trader's utilization of the open it followed; 1 is a faithful copy,
  above 1 a bump to the minimum, below 1 a reduction;
- money-limited: an outcome a larger investment could change — bumped to the minimum
  quantity, reduced, or skipped for insufficient funds or an unaffordable leverage
  change (slippage skips and a cycle already open at T happen at any amount);
- tracking error: the copy's ROI − the trader's ROI over the window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain import sizing as sz
from ..domain import stats
from ..domain.events import format_ts
from ..domain.numbers import ZERO, fmt, money
from ..domain.positions import LONG
from ..engine.state import FEE, FUNDING, PROFIT_SHARE
from .runner import OPENS, CopyRecord, Fill, Run

DAY_MS = 86_400_000
RATIO = Decimal("0.000001")
BPS = Decimal("0.01")
MONEY_LIMITED = frozenset({sz.COPIED_MIN_QTY, sz.COPIED_REDUCED, sz.INSUFFICIENT_FUNDS,
                           sz.LEVERAGE_NOT_SYNCED})
EXECUTED = frozenset({sz.COPIED, sz.COPIED_MIN_QTY, sz.COPIED_REDUCED})


def _ratio(x: Decimal | None) -> str | None:
    return fmt(x.quantize(RATIO)) if x is not None else None


@dataclass(frozen=True)
class CurvePoint:
    """The copy's value at one time, beside the trader's ROI since T."""

    ts: int
    equity: Decimal
    trader_roi: Decimal | None


@dataclass
class CopyFigures:
    """Everything a what-if says about one hypothetical copy."""

    mode: str
    investment: Decimal
    settings: dict[str, Decimal]
    status: str
    final_equity: Decimal
    pnl: Decimal
    roi: Decimal | None
    trader_roi: Decimal | None
    max_drawdown: Decimal
    fees: Decimal
    funding: Decimal
    profit_share: Decimal
    outcomes: list[tuple[str, str | None, int]]
    liquidations: int
    mean_entry_slippage_bps: Decimal | None
    utilization_mean: Decimal | None
    utilization_max: Decimal | None
    money_limited: int
    equity_curve: list[CurvePoint]
    fills: list[Fill]
    smallest_clean_investment: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tracking_error(self) -> Decimal | None:
        if self.roi is None or self.trader_roi is None:
            return None
        return self.roi - self.trader_roi

    def as_json(self, with_fills: bool = True) -> dict[str, Any]:
        """The JSON edge: decimals as strings, times as ISO-8601."""
        out: dict[str, Any] = {
            "mode": self.mode, "investment": fmt(self.investment),
            **{k: fmt(v) for k, v in self.settings.items()},
            "status": self.status, "final_equity": fmt(self.final_equity),
            "pnl": fmt(self.pnl), "roi": _ratio(self.roi),
            "trader_roi": _ratio(self.trader_roi), "tracking_error": _ratio(self.tracking_error),
            "max_drawdown": _ratio(self.max_drawdown), "fees": fmt(self.fees),
            "funding": fmt(self.funding), "profit_share": fmt(self.profit_share),
            "outcomes": [{"status": s, "reason": r, "count": n} for s, r, n in self.outcomes],
            "liquidations": self.liquidations,
            "money_limited_outcomes": self.money_limited,
            "mean_entry_slippage_bps": fmt(self.mean_entry_slippage_bps.quantize(BPS))
            if self.mean_entry_slippage_bps is not None else None,
            "utilization_ratio": {"mean": _ratio(self.utilization_mean),
                                  "max": _ratio(self.utilization_max)},
            "equity_curve": [{"ts": format_ts(p.ts), "equity": fmt(p.equity),
                              "trader_roi": _ratio(p.trader_roi)} for p in self.equity_curve],
        }
        if self.mode == "smart":
            out["smallest_clean_investment"] = fmt(self.smallest_clean_investment)
        if with_fills:
            out["fills"] = [{"ts": format_ts(f.ts), "symbol": f.symbol, "action": f.action,
                             "side": f.side, "status": f.status, "reason": f.reason,
                             "qty": fmt(f.qty), "price": fmt(f.price),
                             "trader_price": fmt(f.trader_price)} for f in self.fills]
        return out


def money_limited(record: CopyRecord) -> int:
    """How many of the copy's outcomes a larger investment could have changed."""
    return sum(1 for _, status, reason, _ in record.outcomes
               if status in MONEY_LIMITED or reason in MONEY_LIMITED)


def entry_slippage_bps(fill: Fill) -> Decimal | None:
    """The copier's fill against the trader's price in bps, positive when worse."""
    if fill.action not in OPENS or fill.status not in EXECUTED or not fill.trader_price \
            or fill.price is None:
        return None
    diff = fill.price - fill.trader_price if fill.side == LONG else fill.trader_price - fill.price
    return diff / fill.trader_price * 10_000


def figures(run: Run) -> list[CopyFigures]:
    """The figures of every hypothetical copy of a run, in plan order."""
    st = run.state
    trader = st.traders[run.trader]
    trader_days = dict(run.trader_snapshots)
    trader_end = trader.account.equity(st.prices)
    out = []
    for record in run.copies:
        copy = st.copies[record.copy_id]
        if copy.active:
            final = money(copy.account.equity(st.prices))
        else:
            final = copy.released
        curve = [CurvePoint(run.start_ts, copy.investment, ZERO)]
        for day, equity in record.snapshots:
            close = (day + 1) * DAY_MS
            if close < run.end_ts:  # a close at the very end: the end point says it
                curve.append(CurvePoint(close, equity, _roi(run, trader_days.get(day))))
        curve.append(CurvePoint(run.end_ts, final,
                                _roi(run, trader_end)))
        fills = run.fills(record)
        slippages = [s for s in map(entry_slippage_bps, fills) if s is not None]
        ratios = [copy_u / trader_u for trader_u, copy_u in record.utilization if trader_u]
        counts = Counter((status, reason) for _, status, reason, _ in record.outcomes)
        t = copy.totals
        settings = {k: v for k, v in (("amount", copy.amount), ("ratio", copy.ratio),
                                      ("max_slippage", copy.max_slippage),
                                      ("max_margin_per_order", copy.max_margin_per_order),
                                      ("stop_loss", copy.stop_loss)) if v is not None}
        out.append(CopyFigures(
            mode=copy.mode, investment=copy.investment, settings=settings,
            status=copy.status, final_equity=final,
            pnl=stats.pnl(copy.investment, final), roi=stats.roi(copy.investment, final),
            trader_roi=_roi(run, trader_end),
            max_drawdown=stats.max_drawdown([p.equity for p in curve]),
            fees=-t.get(FEE, ZERO), funding=t.get(FUNDING, ZERO),
            profit_share=-t.get(PROFIT_SHARE, ZERO),
            outcomes=[(s, r, n) for (s, r), n in sorted(
                counts.items(), key=lambda item: (-item[1], item[0][0], item[0][1] or ""))],
            liquidations=sum(1 for f in fills if f.action == "liquidation"),
            mean_entry_slippage_bps=sum(slippages, ZERO) / len(slippages) if slippages
            else None,
            utilization_mean=sum(ratios, ZERO) / len(ratios) if ratios else None,
            utilization_max=max(ratios) if ratios else None,
            money_limited=money_limited(record),
            equity_curve=curve, fills=fills))
    return out


def _roi(run: Run, trader_equity: Decimal | None) -> Decimal | None:
    if trader_equity is None:
        return None
    return stats.roi(run.trader_start_equity, trader_equity)
