"""Trader and copy statistics, read from the store (daily equity, closed cycles,
outcomes) and the engine's current state. Definitions: domain/stats.py, docs/stats.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from ..domain import stats as st
from ..domain.numbers import ZERO, fmt, from_units, money
from ..domain.positions import LONG, Account
from ..engine.state import BALANCE, State
from .store import Store

DAY_MS = 86_400_000
PERIODS = (7, 30, 90)
RATIO = Decimal("0.000001")
SHARPE = Decimal("0.0001")


def _ratio(x: Decimal | None, unit: Decimal = RATIO) -> str | None:
    return fmt(x.quantize(unit)) if x is not None else None


@dataclass
class PeriodStats:
    """One trader's figures over one window."""

    days: int
    pnl: str
    roi: str | None
    win_rate: str | None
    closed_positions: int
    max_drawdown: str
    sharpe: str | None


@dataclass
class TraderStats:
    """A trader's track record as a trader list shows it."""

    trader: str
    name: str
    equity: str
    balance: str
    aum: str
    copiers: int
    profit_share: str
    earned_profit_share: str
    days_active: int
    copiers_pnl: str
    periods: dict[int, PeriodStats]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["periods"] = {str(k): asdict(v) for k, v in self.periods.items()}
        return out


def _equity_series(store: Store, account: str, from_day: int) -> list[tuple[int, Decimal]]:
    rows = store.db.conn.execute(
        "SELECT day, equity FROM equity_daily WHERE account=? AND day>=? ORDER BY day",
        (account, from_day))
    return [(day, from_units(units)) for day, units in rows]


def _opening_balance(store: Store, account: str) -> tuple[Decimal, int | None]:
    row = store.db.conn.execute(
        "SELECT SUM(amount), MIN(ts) FROM ledger WHERE account=? AND kind IN (?, ?)",
        (account, BALANCE, "investment")).fetchone()
    return (from_units(row[0]) if row[0] is not None else ZERO), row[1]


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
        opening, first_ts = _opening_balance(store, acc.id)
        longest = max(periods)
        series = _equity_series(store, acc.id, today - longest - 1)
        by_day = dict(series)
        period_stats = {}
        for days in periods:
            start_day = today - days  # the close of this day starts the window
            start_equity = by_day.get(start_day)
            if start_equity is None:
                earlier = [eq for d, eq in series if d <= start_day]
                start_equity = earlier[-1] if earlier else opening
            curve = [start_equity] + [eq for d, eq in series if d > start_day] + [equity_now]
            results = [from_units(r) for (r,) in store.db.conn.execute(
                "SELECT result FROM closed_positions WHERE account=? AND closed_ts>?",
                (acc.id, now_ts - days * DAY_MS))]
            period_stats[days] = PeriodStats(
                days=days,
                pnl=fmt(st.pnl(start_equity, equity_now)) or "0",
                roi=_ratio(st.roi(start_equity, equity_now)),
                win_rate=_ratio(st.win_rate(results)),
                closed_positions=len(results),
                max_drawdown=_ratio(st.max_drawdown(curve)) or "0",
                sharpe=_ratio(st.sharpe(curve), SHARPE),
            )
        copies = [c for c in state.copies.values() if c.trader == trader.id]
        active = [c for c in copies if c.active]
        out.append(TraderStats(
            trader=trader.id,
            name=trader.name,
            equity=fmt(equity_now) or "0",
            balance=fmt(acc.wallet) or "0",
            aum=fmt(acc.wallet + sum((c.investment for c in active), ZERO)) or "0",
            copiers=len(active),
            profit_share=fmt(trader.profit_share) or "0",
            earned_profit_share=fmt(trader.earned.wallet) or "0",
            days_active=(now_ts - first_ts) // DAY_MS if first_ts is not None else 0,
            copiers_pnl=fmt(sum((copy_pnl(state, c.id) for c in copies), ZERO)) or "0",
            periods=period_stats,
        ))
    return out


def copy_stats(store: Store, state: State) -> list[dict[str, Any]]:
    """Per copy: PnL, ROI and how it diverged from its trader."""
    conn = store.db.conn
    out = []
    for copy in state.copies.values():
        pnl = copy_pnl(state, copy.id)
        by_status: dict[str, int] = {}
        by_reason: dict[str, int] = {}
        slippages: list[Decimal] = []
        for status, reason, action, price, ref, side in conn.execute(
                "SELECT o.status, o.reason, g.action, g.price, g.ref_price, g.side "
                "FROM outcomes o JOIN outcome_groups g ON g.id = o.group_id "
                "WHERE o.copy_id=?", (copy.id,)):
            by_status[status] = by_status.get(status, 0) + 1
            if reason:
                by_reason[reason] = by_reason.get(reason, 0) + 1
            if (action in ("open", "increase") and status != "skipped" and price is not None
                    and ref is not None):
                move = (Decimal(price) - Decimal(ref)) / Decimal(ref)
                # Worse for the copier is positive: buying higher, or selling lower.
                slippages.append(move if side == LONG else -move)
        trader_acc = state.traders[copy.trader].account
        mean_bps = (sum(slippages, ZERO) / Decimal(len(slippages)) * 10_000
                    if slippages else None)
        out.append({
            "copy_id": copy.id,
            "copier": copy.copier,
            "trader": copy.trader,
            "mode": copy.mode,
            "status": copy.status,
            "investment": fmt(copy.investment),
            "pnl": fmt(pnl),
            "roi": _ratio(pnl / copy.investment) if copy.investment > 0 else None,
            "divergence": {
                "mean_entry_slippage_bps": _ratio(mean_bps, Decimal("0.01")),
                "utilization_ratio": _ratio(_utilization_ratio(state, copy.id, trader_acc)),
                "by_status": by_status,
                "by_reason": by_reason,
            },
        })
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


__all__ = ["trader_stats", "copy_stats", "copy_pnl", "TraderStats", "PeriodStats"]
