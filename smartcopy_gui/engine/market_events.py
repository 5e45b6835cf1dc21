"""Events that set up the world and move the market: config, instruments, trader
registration, deposits, prices and funding."""

from __future__ import annotations

from decimal import Decimal

from ..domain.events import (
    ConfigFields,
    DepositFields,
    Event,
    FundingFields,
    InstrumentFields,
    PriceFields,
    TraderFields,
)
from ..domain.instruments import Instrument, Tier
from ..domain.numbers import ONE, ZERO, is_multiple
from ..domain.positions import LONG, Account, cross_funds
from .core import EngineCore, Rejected
from .liquidation import check_liquidations
from .state import BALANCE, DEPOSIT, FUNDING, Changes, Config, Trader

DEFAULT_PROFIT_SHARE = Decimal("0.10")


def on_config(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(ConfigFields)
    old = core.state.config
    new = Config(
        delay_ms=old.delay_ms if p.delay_ms is None else p.delay_ms,
        impact_bps=old.impact_bps if p.impact_bps is None else p.impact_bps,
        taker_fee=old.taker_fee if p.taker_fee is None else p.taker_fee,
        min_investment=old.min_investment if p.min_investment is None else p.min_investment,
    )
    if new.taker_fee >= ONE:
        raise Rejected("taker_fee must be below 1")
    core.state.config = new
    ch.config = new


def on_instrument(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(InstrumentFields)
    symbol, step, min_qty, tick, max_lev = p.symbol, p.qty_step, p.min_qty, p.tick, p.max_leverage
    if step <= 0 or tick <= 0:
        raise Rejected("qty_step and tick must be positive")
    if min_qty <= 0 or not is_multiple(min_qty, step):
        raise Rejected("min_qty must be a positive multiple of qty_step")
    if max_lev < 1:
        raise Rejected("max_leverage must be at least 1")
    tiers = tuple(Tier(c, m, a) for c, m, a in p.tiers)
    caps = [t.cap for t in tiers]
    if caps != sorted(caps) or len(set(caps)) != len(caps):
        raise Rejected("tier caps must increase")
    if any(t.mmr >= ONE for t in tiers):
        raise Rejected("a maintenance margin rate must be below 1")
    for acc in core.accounts():
        if symbol in acc.positions:
            raise Rejected(f"{symbol} has open positions; its terms cannot change now")
    inst = Instrument(symbol, step, min_qty, tick, max_lev, tiers)
    core.state.instruments[symbol] = inst
    ch.instruments[symbol] = inst


def on_trader(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(TraderFields)
    st = core.state
    if p.trader in st.traders:
        raise Rejected(f"trader {p.trader!r} is already registered")
    share = DEFAULT_PROFIT_SHARE if p.profit_share is None else p.profit_share
    if share >= ONE:
        raise Rejected("profit_share must be below 1")
    trader = Trader(p.trader, p.name, share, len(st.traders))
    st.traders[p.trader] = trader
    ch.traders[p.trader] = trader
    core.post(trader.account, BALANCE, p.balance, ch, ev.id, ev.ts)


def on_deposit(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(DepositFields)
    if p.amount <= 0:
        raise Rejected("a deposit must be positive")
    account = core.state.contracts.get(p.account)
    if account is None:
        account = core.state.contracts[p.account] = Account(f"contract:{p.account}")
    core.post(account, DEPOSIT, p.amount, ch, ev.id, ev.ts)


def on_price(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(PriceFields)
    core.instrument(p.symbol)
    if p.price <= 0:
        raise Rejected("a price must be positive")
    core.state.prices[p.symbol] = p.price
    ch.prices[p.symbol] = p.price
    check_liquidations(core, p.symbol, ev.id, ev.ts, ch)


def on_funding(core: EngineCore, ev: Event, ch: Changes) -> None:
    """§8: each position pays (or receives) qty × last price × rate. What is paid comes out
    of the account's free funds, max(0, wallet − Σ isolated margins); the rest is waived.
    The liquidation check of §7 follows."""
    p = ev.payload_as(FundingFields)
    symbol = p.symbol
    core.instrument(symbol)
    price = core.state.prices.get(symbol)
    if price is None:
        return  # nobody can hold a position in a symbol that never traded
    for acc, copy in core.funded_accounts():
        pos = acc.positions.get(symbol)
        if pos is None:
            continue
        amount = pos.qty * price * p.rate
        received = amount if pos.side != LONG else -amount
        if received < 0:
            received = -min(-received, max(ZERO, cross_funds(acc)))
        pos.realized += core.post(acc, FUNDING, received, ch, ev.id, ev.ts, copy)
        ch.positions[(acc.id, symbol)] = pos
    check_liquidations(core, symbol, ev.id, ev.ts, ch)
