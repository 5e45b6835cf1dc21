"""The life of a copy relation (§5, §8): copy, cancel or stop-loss, profit share."""

from __future__ import annotations

from collections.abc import Iterable

from ..domain import sizing as sz
from ..domain.enums import CopyMode, CopyStatus, OutcomeAction
from ..domain.events import CancelFields, CopyFields, Event
from ..domain.numbers import ONE, ZERO, fmt, money
from ..domain.positions import LONG, Account, realized_pnl
from .core import EngineCore, Rejected
from .state import (
    CANCELLED,
    DEFAULT_MAX_SLIPPAGE,
    FEE,
    INVESTMENT,
    PROFIT_SHARE,
    REALIZED_PNL,
    RELEASE,
    STOPPED,
    Changes,
    CopyRelation,
)


def on_copy(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(CopyFields)
    st = core.state
    copier, trader_id, mode = p.copier, p.trader, p.mode
    trader = core.trader(trader_id)
    for existing in trader.copies:
        if existing.copier == copier:
            if existing.mode != mode:
                raise Rejected(
                    f"mode switching during an active copy is not supported: {copier} "
                    f"copies {trader_id} in {existing.mode} mode; cancel that copy first, "
                    f"then copy again in {mode} mode")
            raise Rejected(f"{copier} already has an active copy of {trader_id}")
    investment = p.investment
    if investment < st.config.min_investment:
        raise Rejected(f"investment {fmt(investment)} is below the minimum of "
                       f"{fmt(st.config.min_investment)} USDT")
    contract = st.contracts.get(copier)
    balance = contract.wallet if contract else ZERO
    if investment > balance:
        raise Rejected(f"investment {fmt(investment)} exceeds {copier}'s contract balance "
                       f"of {fmt(balance)} USDT")
    if mode == CopyMode.FIXED_AMOUNT and not p.amount:
        raise Rejected("a fixed_amount copy needs a positive amount")
    if mode == CopyMode.FIXED_RATIO and not p.ratio:
        raise Rejected("a fixed_ratio copy needs a positive ratio")
    stop_loss = p.stop_loss
    if stop_loss is not None and not ZERO < stop_loss < ONE:
        raise Rejected("stop_loss must be a fraction between 0 and 1")
    max_margin = p.max_margin_per_order
    if max_margin is not None and max_margin <= 0:
        raise Rejected("max_margin_per_order must be positive")
    if contract is None:  # only with a zero investment and a zero minimum
        contract = st.contracts[copier] = Account(f"contract:{copier}")
    copy = CopyRelation(
        st.next_copy_id, copier, trader_id, mode, investment,
        amount=p.amount if mode == CopyMode.FIXED_AMOUNT else None,
        ratio=p.ratio if mode == CopyMode.FIXED_RATIO else None,
        max_slippage=DEFAULT_MAX_SLIPPAGE if p.max_slippage is None else p.max_slippage,
        max_margin_per_order=max_margin, stop_loss=stop_loss, created_ts=ev.ts)
    st.next_copy_id += 1
    st.copies[copy.id] = copy
    st.stop_loss_watch = None
    trader.copies.append(copy)
    core.post(contract, INVESTMENT, -investment, ch, ev.id, ev.ts)
    core.post(copy.account, INVESTMENT, investment, ch, ev.id, ev.ts, copy)
    ch.copies[copy.id] = copy


def on_cancel(core: EngineCore, ev: Event, ch: Changes) -> None:
    p = ev.payload_as(CancelFields)
    trader = core.trader(p.trader)
    for copy in trader.copies:
        if copy.copier == p.copier:
            end_copy(core, copy, CANCELLED, ch, ev.id, ev.ts)
            return
    raise Rejected(f"{p.copier} has no active copy of {p.trader}")


def on_settle(core: EngineCore, ev: Event, ch: Changes) -> None:
    for copy in list(core.state.copies.values()):
        if copy.active:
            settle_profit_share(core, copy, ch, ev.id, ev.ts)


def end_copy(core: EngineCore, copy: CopyRelation, status: CopyStatus, ch: Changes,
             event_id: str, ts: int) -> None:
    """Cancel or stop: drop pending actions, close at market, settle, release."""
    st = core.state
    for _, _, batch in sorted(core.heap):
        if copy.id in batch.copy_ids:
            core.outcome(ch, batch.event_id, copy, copy.trader, batch.payload.symbol,
                         batch.kind, sz.SKIPPED, sz.COPY_INACTIVE, None, None, ts)
    acc = copy.account
    for symbol, pos in sorted(acc.positions.items()):
        inst = st.instruments[symbol]
        fill = sz.fill_price(st.prices[symbol], st.config.impact_bps, pos.side != LONG,
                             inst.tick)
        pos.realized += core.post(acc, REALIZED_PNL,
                                  realized_pnl(pos.side, pos.entry, fill, pos.qty), ch,
                                  event_id, ts, copy)
        pos.realized += core.post(acc, FEE, -(pos.qty * fill * st.config.taker_fee), ch,
                                  event_id, ts, copy)
        del acc.positions[symbol]
        ch.positions[(acc.id, symbol)] = None
        ch.close_cycle(acc.id, pos, ts, "cancel")
        core.outcome(ch, event_id, copy, copy.trader, symbol, OutcomeAction.CANCEL, sz.DONE,
                     None, pos.qty, fill, ts)
    settle_profit_share(core, copy, ch, event_id, ts)
    released = max(acc.wallet, ZERO)
    contract = st.contracts[copy.copier]
    core.post(acc, RELEASE, -released, ch, event_id, ts, copy)
    core.post(contract, RELEASE, released, ch, event_id, ts)
    copy.released = released
    copy.status = status
    st.stop_loss_watch = None
    copy.ended_ts = ts
    st.traders[copy.trader].copies.remove(copy)
    ch.copies[copy.id] = copy


def settle_profit_share(core: EngineCore, copy: CopyRelation, ch: Changes, event_id: str,
                        ts: int) -> None:
    """Pay the trader its share of the copy's net realized PnL above the high-water mark."""
    net = copy.net_realized()
    if net <= copy.hwm:
        return
    trader = core.state.traders[copy.trader]
    share = money(trader.profit_share * (net - copy.hwm))
    core.post(copy.account, PROFIT_SHARE, -share, ch, event_id, ts, copy)
    core.post(trader.earned, PROFIT_SHARE, share, ch, event_id, ts)
    copy.hwm = net
    ch.copies[copy.id] = copy


def check_stop_losses(core: EngineCore, event_id: str, ts: int, ch: Changes,
                      only: list[int] | None) -> None:
    """End (status stopped) every copy, or those in ``only``, at or below its stop-loss."""
    st = core.state
    if only is not None:
        candidates: Iterable[CopyRelation] = (st.copies[i] for i in only)
    else:
        watch = st.stop_loss_watch
        if watch is None:
            watch = st.stop_loss_watch = [
                c for c in st.copies.values() if c.stop_loss is not None and c.active]
        candidates = watch
    for copy in candidates:
        if copy.stop_loss is None or not copy.active:
            continue
        floor = copy.investment * (ONE - copy.stop_loss)
        if copy.account.equity(st.prices) <= floor:
            end_copy(core, copy, STOPPED, ch, event_id, ts)
