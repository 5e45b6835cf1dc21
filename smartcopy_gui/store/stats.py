"""Trader and copy statistics, read from the store (daily equity, closed cycles,
outcomes) and the engine's current state. Definitions: domain/stats.py, docs/stats.md."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain import stats as st
from ..domain.numbers import ZERO, fmt, money
from ..domain.positions import LONG, Account
from ..engine.state import BALANCE, State
from .store import Store

DAY_MS = 86_400_000
PERIODS = (7, 30, 90)
RATIO = Decimal("0.000001")
SHARPE = Decimal("0.0001")


def _ratio(x: Decimal | None, unit: Decimal = RATIO) -> Decimal | None:
    return x.quantize(unit) if x is not None else None


def _text(x: Decimal) -> str:
    return fmt(x) or "0"


@dataclass(frozen=True)
class PeriodStats:
    """One trader's figures over one window (ratios rounded as the list shows them)."""

    days: int
    pnl: Decimal
    roi: Decimal | None
    win_rate: Decimal | None
    closed_positions: int
    max_drawdown: Decimal
    sharpe: Decimal | None

    def as_json(self) -> dict[str, Any]:
        return {"days": self.days, "pnl": _text(self.pnl), "roi": fmt(self.roi),
                "win_rate": fmt(self.win_rate), "closed_positions": self.closed_positions,
                "max_drawdown": _text(self.max_drawdown), "sharpe": fmt(self.sharpe)}


@dataclass(frozen=True)
class TraderStats:
    """A trader's track record as a trader list shows it."""

    trader: str
    name: str
    equity: Decimal
    balance: Decimal
    aum: Decimal
    copiers: int
    profit_share: Decimal
    earned_profit_share: Decimal
    days_active: int
    copiers_pnl: Decimal
    periods: dict[int, PeriodStats]

    def as_json(self) -> dict[str, Any]:
        """The JSON edge: decimals as the report writes them."""
        return {"trader": self.trader, "name": self.name, "equity": _text(self.equity),
                "balance": _text(self.balance), "aum": _text(self.aum),
                "copiers": self.copiers, "profit_share": _text(self.profit_share),
                "earned_profit_share": _text(self.earned_profit_share),
                "days_active": self.days_active, "copiers_pnl": _text(self.copiers_pnl),
                "periods": {str(k): v.as_json() for k, v in self.periods.items()}}


def copy_pnl(state: State, copy_id: int) -> Decimal:
    """What a copy has made: equity − investment while active, released − investment after."""
    copy = state.copies[copy_id]
    if copy.active:
        return money(copy.account.equity(state.prices)) - copy.investment
    return copy.released - copy.investment


def trader_stats(store: Store, state: State, now_ts: int,
                 periods: tuple[int, ...] = PERIODS) -> list[TraderStats]:
    """Every trader's statistics at ``now_ts`` over each window in ``periods``."""
    today = now_ts // DAY_MS
    out = []
    for trader in state.traders.values():
        acc = trader.account
        equity_now = money(acc.equity(state.prices))
        opening, first_ts = store.funded(acc.id, (BALANCE, "investment"))
        longest = max(periods)
        series = store.equity_series(acc.id, today - longest - 1)
        by_day = dict(series)
        period_stats = {}
        for days in periods:
            start_day = today - days  # the close of this day starts the window
            start_equity = by_day.get(start_day)
            if start_equity is None:
                earlier = [eq for d, eq in series if d <= start_day]
                start_equity = earlier[-1] if earlier else opening
            curve = [start_equity] + [eq for d, eq in series if d > start_day] + [equity_now]
            results = store.closed_results(acc.id, now_ts - days * DAY_MS)
            period_stats[days] = PeriodStats(
                days=days,
                pnl=st.pnl(start_equity, equity_now),
                roi=_ratio(st.roi(start_equity, equity_now)),
                win_rate=_ratio(st.win_rate(results)),
                closed_positions=len(results),
                max_drawdown=st.max_drawdown(curve).quantize(RATIO),
                sharpe=_ratio(st.sharpe(curve), SHARPE),
            )
        copies = [c for c in state.copies.values() if c.trader == trader.id]
        active = [c for c in copies if c.active]
        out.append(TraderStats(
            trader=trader.id,
            name=trader.name,
            equity=equity_now,
            balance=acc.wallet,
            aum=acc.wallet + sum((c.investment for c in active), ZERO),
            copiers=len(active),
            profit_share=trader.profit_share,
            earned_profit_share=trader.earned.wallet,
            days_active=(now_ts - first_ts) // DAY_MS if first_ts is not None else 0,
            copiers_pnl=sum((copy_pnl(state, c.id) for c in copies), ZERO),
            periods=period_stats,
        ))
    return out


@dataclass(frozen=True)
class CopyStats:
    """A copy's PnL and ROI, and how it diverged from its trader."""

    copy_id: int
    copier: str
    trader: str
    mode: str
    status: str
    investment: Decimal
    pnl: Decimal
    roi: Decimal | None
    mean_entry_slippage_bps: Decimal | None
    utilization_ratio: Decimal | None
    by_status: dict[str, int]
    by_reason: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        """The JSON edge: decimals as the report writes them."""
        return {"copy_id": self.copy_id, "copier": self.copier, "trader": self.trader,
                "mode": self.mode, "status": self.status,
                "investment": fmt(self.investment), "pnl": fmt(self.pnl),
                "roi": fmt(self.roi),
                "divergence": {
                    "mean_entry_slippage_bps": fmt(self.mean_entry_slippage_bps),
                    "utilization_ratio": fmt(self.utilization_ratio),
                    "by_status": self.by_status,
                    "by_reason": self.by_reason,
                }}


def copy_stats(store: Store, state: State) -> list[CopyStats]:
    """Per copy: PnL, ROI and how it diverged from its trader."""
    out = []
    for copy in state.copies.values():
        pnl = copy_pnl(state, copy.id)
        by_status: dict[str, int] = {}
        by_reason: dict[str, int] = {}
        slippages: list[Decimal] = []
        for o in store.copy_outcomes(copy.id):
            by_status[o.status] = by_status.get(o.status, 0) + 1
            if o.reason:
                by_reason[o.reason] = by_reason.get(o.reason, 0) + 1
            if (o.action in ("open", "increase") and o.status != "skipped"
                    and o.price is not None and o.ref_price is not None):
                move = (Decimal(o.price) - Decimal(o.ref_price)) / Decimal(o.ref_price)
                # Worse for the copier is positive: buying higher, or selling lower.
                slippages.append(move if o.side == LONG else -move)
        trader_acc = state.traders[copy.trader].account
        mean_bps = (sum(slippages, ZERO) / Decimal(len(slippages)) * 10_000
                    if slippages else None)
        out.append(CopyStats(
            copy_id=copy.id, copier=copy.copier, trader=copy.trader, mode=copy.mode,
            status=copy.status, investment=copy.investment, pnl=pnl,
            roi=_ratio(pnl / copy.investment) if copy.investment > 0 else None,
            mean_entry_slippage_bps=_ratio(mean_bps, Decimal("0.01")),
            utilization_ratio=_ratio(_utilization_ratio(state, copy.id, trader_acc)),
            by_status=by_status, by_reason=by_reason))
    return out


def _utilization_ratio(state: State, copy_id: int, trader_acc: Account) -> Decimal | None:
    """Copier's margin/equity over the trader's, both now; None when either is flat."""
    copy = state.copies[copy_id]
    if not copy.active:
        return None

    def utilization(acc: Account) -> Decimal | None:
        margins = sum((p.margin for p in acc.positions.values()), ZERO)
        equity = acc.equity(state.prices)
        if margins == 0 or equity <= 0:
            return None
        return margins / equity

    mine, theirs = utilization(copy.account), utilization(trader_acc)
    if mine is None or theirs is None:
        return None
    return mine / theirs


__all__ = ["trader_stats", "copy_stats", "copy_pnl", "TraderStats", "PeriodStats", "CopyStats"]
