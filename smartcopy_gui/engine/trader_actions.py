"""§4 trader actions: open, close and leverage, each accepted whole or rejected, and
the copier orders each schedules for the trader's active copies."""

from __future__ import annotations

from ..domain import sizing as sz
from ..domain.enums import OutcomeAction, Side
from ..domain.events import CloseFields, Event, LeverageFields, OpenFields
from ..domain.numbers import fmt, is_multiple, money
from ..domain.positions import Position, average_entry, position_margin, realized_pnl
from .core import EngineCore, Rejected
from .liquidation import check_liquidations
from .state import FEE, REALIZED_PNL, Changes, CloseOrder, LeverageOrder, OpenOrder


def on_open(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(OpenFields)
    st = core.state
    trader = core.trader(p.trader)
    inst = core.instrument(p.symbol)
    symbol = inst.symbol
    side, qty, price, leverage, margin_mode = p.side, p.qty, p.price, p.leverage, p.margin_mode
    fee_rate = st.config.taker_fee if p.fee_rate is None else p.fee_rate
    if price <= 0:
        raise Rejected("price must be positive")
    if qty <= 0 or not is_multiple(qty, inst.qty_step) or qty < inst.min_qty:
        raise Rejected(f"qty {fmt(qty)} must be a positive multiple of {fmt(inst.qty_step)}"
                       f" and at least {fmt(inst.min_qty)} for {symbol}")
    core.check_leverage(leverage, inst)
    acc = trader.account
    pos = acc.positions.get(symbol)
    if pos is not None:
        if pos.side != side:
            raise Rejected(f"a {pos.side} position on {symbol} is open; close it before "
                           f"opening {side}")
        if pos.leverage != leverage:
            raise Rejected(f"leverage {fmt(leverage)} differs from the open {symbol} "
                           f"position's {fmt(pos.leverage)}")
        if pos.margin_mode != margin_mode:
            raise Rejected(f"margin mode {margin_mode} differs from the open {symbol} "
                           f"position's {pos.margin_mode}")
    margin = position_margin(qty, price, leverage)
    fee = money(qty * price * fee_rate)
    available = acc.available(st.prices)
    if margin + fee > available:
        raise Rejected(f"trader {trader.id!r} cannot afford margin {fmt(margin)} + fee "
                       f"{fmt(fee)} with {fmt(money(available))} available")
    equity = acc.equity(st.prices)
    if equity <= 0:
        raise Rejected(f"trader {trader.id!r} has no positive equity to open from")
    u = sz.utilization(qty, price, leverage, equity)
    core.post(acc, FEE, -fee, ch, ev.id, ev.ts)
    if pos is None:
        kind = OutcomeAction.OPEN
        pos = Position(symbol, side, qty, price, leverage, margin_mode, ev.id,
                       opened_ts=ev.ts, realized=-fee)
        acc.positions[symbol] = pos
    else:
        kind = OutcomeAction.INCREASE
        pos.set(pos.qty + qty, average_entry(pos.qty, pos.entry, qty, price), leverage)
        pos.realized -= fee
    ch.positions[(acc.id, symbol)] = pos
    st.prices[symbol] = price
    ch.prices[symbol] = price
    core.schedule(ch, trader, kind, ev.id, ev.ts, OpenOrder(
        trader=trader.id, symbol=symbol, cycle=pos.cycle, side=side, price=price,
        leverage=leverage, margin_mode=margin_mode, u=u, qty=qty))
    check_liquidations(core, symbol, ev.id, ev.ts, ch)


def on_close(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(CloseFields)
    st = core.state
    trader = core.trader(p.trader)
    inst = core.instrument(p.symbol)
    symbol = inst.symbol
    acc = trader.account
    pos = acc.positions.get(symbol)
    if pos is None:
        raise Rejected(f"trader {trader.id!r} has no open {symbol} position")
    price = p.price
    if price <= 0:
        raise Rejected("price must be positive")
    qty = pos.qty if p.qty is None else p.qty
    if qty <= 0 or not is_multiple(qty, inst.qty_step):
        raise Rejected(f"qty {fmt(qty)} must be a positive multiple of {fmt(inst.qty_step)}")
    if qty > pos.qty:
        raise Rejected(f"qty {fmt(qty)} exceeds the open {symbol} position of {fmt(pos.qty)}")
    fee_rate = st.config.taker_fee if p.fee_rate is None else p.fee_rate
    before = pos.qty
    pos.realized += core.post(acc, REALIZED_PNL, realized_pnl(pos.side, pos.entry, price, qty),
                              ch, ev.id, ev.ts)
    pos.realized += core.post(acc, FEE, -(qty * price * fee_rate), ch, ev.id, ev.ts)
    if qty == before:
        del acc.positions[symbol]
        ch.positions[(acc.id, symbol)] = None
        ch.close_cycle(acc.id, pos, ev.ts, "close")
    else:
        pos.set(before - qty, pos.entry, pos.leverage)
        ch.positions[(acc.id, symbol)] = pos
    st.prices[symbol] = price
    ch.prices[symbol] = price
    core.schedule(ch, trader, OutcomeAction.CLOSE, ev.id, ev.ts, CloseOrder(
        trader=trader.id, symbol=symbol, cycle=pos.cycle, side=Side(pos.side), closed=qty,
        before=before, full=qty == before, reason=None, price=price))
    check_liquidations(core, symbol, ev.id, ev.ts, ch)


def on_leverage(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(LeverageFields)
    st = core.state
    trader = core.trader(p.trader)
    inst = core.instrument(p.symbol)
    leverage = p.leverage
    core.check_leverage(leverage, inst)
    acc = trader.account
    pos = acc.positions.get(inst.symbol)
    if pos is None or pos.leverage == leverage:
        return  # accepted; nothing changes (every open names its own leverage)
    increase = position_margin(pos.qty, pos.entry, leverage) - pos.margin
    if increase > 0 and increase > acc.available(st.prices):
        raise Rejected(f"trader {trader.id!r} cannot afford the margin increase of "
                       f"{fmt(increase)} for leverage {fmt(leverage)}")
    pos.set(pos.qty, pos.entry, leverage)
    st.dirty.add(acc.id)
    ch.positions[(acc.id, inst.symbol)] = pos
    core.schedule(ch, trader, OutcomeAction.LEVERAGE, ev.id, ev.ts, LeverageOrder(
        trader=trader.id, symbol=inst.symbol, cycle=pos.cycle, leverage=leverage))
