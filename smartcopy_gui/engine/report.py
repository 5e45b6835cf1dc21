"""The JSON report of scenario-format.md, built from engine state and stored rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain.events import format_ts
from ..domain.numbers import ZERO, exact, fmt, money
from ..domain.positions import Account, liq_price_of
from .state import FEE, FUNDING, LIQUIDATION, PROFIT_SHARE, REALIZED_PNL, State

LIQ_PRICE_UNIT = Decimal("1e-8")


@exact
def position_rows(account: Account, state: State) -> list[dict[str, Any]]:
    """The POSITION objects of an account, in symbol order."""
    rows = []
    for symbol in sorted(account.positions):
        pos = account.positions[symbol]
        price = state.prices[symbol]
        liq = liq_price_of(account, pos, state.instruments, state.prices)
        rows.append({
            "symbol": symbol,
            "side": pos.side,
            "qty": fmt(pos.qty),
            "entry_price": fmt(pos.entry),
            "leverage": fmt(pos.leverage),
            "margin_mode": pos.margin_mode,
            "margin": fmt(pos.margin),
            "liq_price": fmt(liq.quantize(LIQ_PRICE_UNIT)) if liq else None,
            "unrealized_pnl": fmt(money(pos.upnl(price))),
        })
    return rows


@exact
def build_report(state: State, outcomes: list[dict[str, Any]], rejected: list[dict[str, Any]],
                 deposit_accounts: list[str]) -> dict[str, Any]:
    """The report object, every decimal as a string."""
    accounts = {name: {"contract_balance": fmt(state.contracts[name].wallet)}
                for name in deposit_accounts}
    traders = {}
    for trader in state.traders.values():
        acc = trader.account
        traders[trader.id] = {
            "wallet": fmt(acc.wallet),
            "equity": fmt(money(acc.equity(state.prices))),
            "earned_profit_share": fmt(trader.earned.wallet),
            "positions": position_rows(acc, state),
        }
    copies = []
    for copy in state.copies.values():
        t = copy.totals
        active = copy.active
        copies.append({
            "copier": copy.copier,
            "trader": copy.trader,
            "mode": copy.mode,
            "status": copy.status,
            "investment": fmt(copy.investment),
            "wallet": fmt(copy.account.wallet) if active else "0",
            "equity": fmt(money(copy.account.equity(state.prices))) if active else "0",
            "realized_pnl": fmt(t.get(REALIZED_PNL, ZERO) + t.get(LIQUIDATION, ZERO)),
            "fees": fmt(-t.get(FEE, ZERO)),
            "funding": fmt(t.get(FUNDING, ZERO)),
            "profit_share": fmt(-t.get(PROFIT_SHARE, ZERO)),
            "released": fmt(copy.released),
            "positions": position_rows(copy.account, state) if active else [],
        })
    return {
        "accounts": accounts,
        "traders": traders,
        "copies": copies,
        "outcomes": [{
            "event_id": o["event_id"], "copier": o["copier"], "trader": o["trader"],
            "symbol": o["symbol"], "action": o["action"], "status": o["status"],
            "reason": o["reason"], "qty": _norm(o["qty"]), "price": _norm(o["price"]),
            "ts": format_ts(o["ts"]),
        } for o in outcomes],
        "rejected": rejected,
    }


def _norm(text: str | None) -> str | None:
    """A stored decimal string in the report's plain form ("60030.0" → "60030")."""
    return fmt(Decimal(text)) if text is not None else None
