"""§7 liquidation: which accounts are checked, and what a liquidation books."""

from __future__ import annotations

from ..domain.enums import OutcomeAction, OutcomeStatus, Reason, Side
from ..domain.numbers import MAX_AMOUNT, ZERO, money
from ..domain.positions import (
    CROSS,
    ISOLATED,
    Account,
    Position,
    cross_funds,
    cross_is_liquidated,
    isolated_is_liquidated,
)
from .core import EngineCore, check_equity_limit
from .state import ACTIVE, LIQUIDATION, Changes, CloseOrder, CopyRelation


def check_liquidations(core: EngineCore, symbol: str, event_id: str, ts: int,
                       ch: Changes) -> None:
    """§7: after a price or funding event or a trader fill, check every account, traders
    first. Only accounts holding ``symbol`` or changed since the last check can have
    crossed their liquidation condition, so only those are evaluated.

    What the accounts keep after their liquidations must have an equity the ledger can
    hold: LimitExceeded otherwise (the event is then rolled back and rejected).
    """
    st = core.state
    dirty = st.dirty
    for trader in st.traders.values():
        acc = trader.account
        if acc.positions and (symbol in acc.positions or acc.id in dirty):
            for pos in liquidate(core, acc, ch, event_id, ts, None, trader.id):
                # A trader liquidation is a full close signal for its copiers.
                core.schedule(ch, trader, OutcomeAction.CLOSE, event_id, ts, CloseOrder(
                    trader=trader.id, symbol=pos.symbol, cycle=pos.cycle, side=Side(pos.side),
                    closed=pos.qty, before=pos.qty, full=True,
                    reason=Reason.TRADER_LIQUIDATED, price=st.prices[pos.symbol]))
            if acc.positions:
                check_equity_limit(acc, st.prices)
    instruments, prices = st.instruments, st.prices
    for copy in st.copies.values():
        acc = copy.account
        positions = acc.positions
        if not positions or copy.status != ACTIVE or (
                symbol not in positions and acc.id not in dirty):
            continue
        # A quick test first: this runs for every copy after every price event. The equity
        # (for the ledger's limit) is summed on the way, recomputed after a liquidation.
        equity = acc.wallet
        for pos in positions.values():
            price = prices[pos.symbol]
            if pos.margin_mode == CROSS or isolated_is_liquidated(
                    pos, instruments[pos.symbol], price):
                liquidate(core, acc, ch, event_id, ts, copy, copy.trader)
                equity = acc.equity(prices)
                break
            equity += pos.upnl(price)
        if equity > MAX_AMOUNT or equity < -MAX_AMOUNT:
            check_equity_limit(acc, prices)
    dirty.clear()


def liquidate(core: EngineCore, acc: Account, ch: Changes, event_id: str, ts: int,
              copy: CopyRelation | None, trader_id: str) -> list[Position]:
    """Liquidate what must be in ``acc``: each isolated position past its price loses its
    margin; when the cross condition holds, every cross position goes and the cross funds
    are lost. Returns the positions removed (one outcome each)."""
    st = core.state
    gone: list[Position] = []
    has_cross = False
    for symbol, pos in sorted(acc.positions.items()):
        if pos.margin_mode == ISOLATED:
            if isolated_is_liquidated(pos, st.instruments[symbol], st.prices[symbol]):
                pos.realized += core.post(acc, LIQUIDATION, -pos.margin, ch, event_id, ts, copy)
                gone.append(pos)
                del acc.positions[symbol]
        else:
            has_cross = True
    if has_cross and cross_is_liquidated(acc, st.instruments, st.prices):
        # The cross funds are lost; a liquidation never books a gain (funds below 0: 0).
        lost = max(ZERO, cross_funds(acc))
        core.post(acc, LIQUIDATION, -lost, ch, event_id, ts, copy)
        for symbol, pos in sorted(acc.positions.items()):
            if pos.margin_mode == CROSS:
                # The account-wide loss is shared out as each position's own uPnL.
                pos.realized += money(pos.upnl(st.prices[symbol]))
                gone.append(pos)
                del acc.positions[symbol]
    for pos in gone:
        ch.positions[(acc.id, pos.symbol)] = None
        ch.close_cycle(acc.id, pos, ts, "liquidation")
        core.outcome(ch, event_id, copy, trader_id, pos.symbol, OutcomeAction.LIQUIDATION,
                     OutcomeStatus.DONE, None, pos.qty, st.prices[pos.symbol], ts)
    return gone
