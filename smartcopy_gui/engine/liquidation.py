"""§7 liquidation: which accounts are checked, and what a liquidation books."""

from __future__ import annotations

from decimal import Decimal

from ..domain.enums import OutcomeAction, OutcomeStatus, Reason, Side
from ..domain.instruments import Instrument
from ..domain.numbers import MAX_AMOUNT, ZERO, money
from ..domain.positions import (
    CROSS,
    ISOLATED,
    Account,
    Position,
    cross_funds,
    cross_is_liquidated,
    isolated_is_liquidated,
    isolated_slack,
)
from .core import EngineCore, check_equity_limit
from .state import ACTIVE, LIQUIDATION, Changes, CloseOrder, CopyRelation

# A bound this close to 0 is not trusted (the Decimal context rounds at 60 digits).
BOUND_EPS = Decimal("1e-20")


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
    instruments, prices = st.instruments, st.prices
    for trader in st.traders.values():
        acc = trader.account
        if acc.positions and (symbol in acc.positions or acc.id in dirty):
            if acc.id not in dirty and bound_holds(acc, instruments, prices):
                continue
            if set_bound(acc, instruments, prices):
                continue
            for pos in liquidate(core, acc, ch, event_id, ts, None, trader.id):
                # A trader liquidation is a full close signal for its copiers.
                core.schedule(ch, trader, OutcomeAction.CLOSE, event_id, ts, CloseOrder(
                    trader=trader.id, symbol=pos.symbol, cycle=pos.cycle, side=Side(pos.side),
                    closed=pos.qty, before=pos.qty, full=True,
                    reason=Reason.TRADER_LIQUIDATED, price=st.prices[pos.symbol]))
            if acc.positions:
                check_equity_limit(acc, st.prices)
    for copy in st.copies.values():
        acc = copy.account
        positions = acc.positions
        if not positions or copy.status != ACTIVE or (
                symbol not in positions and acc.id not in dirty):
            continue
        if acc.id not in dirty and bound_holds(acc, instruments, prices):
            continue
        if set_bound(acc, instruments, prices):
            continue
        liquidate(core, acc, ch, event_id, ts, copy, copy.trader)
        if acc.positions:
            check_equity_limit(acc, prices)
    dirty.clear()


def bound_holds(acc: Account, instruments: dict[str, Instrument],
                prices: dict[str, Decimal]) -> bool:
    """True when the account's bound (:func:`set_bound`) shows, without the full check,
    that nothing in it can be liquidated at ``prices`` and its equity is within the
    ledger's limit. The bound is then carried over to these prices.

    Each position's margin balance, and the equity, moves by at most
    ``mm_lipschitz × qty × |price move|`` (the uPnL by qty × move, the maintenance
    margin by MMR × qty × move); the least slack minus the sum of those moves is a lower
    bound of every slack now.
    """
    bound = acc.liq_bound
    positions = acc.positions
    if bound is None or bound[0] is not acc.wallet or bound[1] != len(positions):
        return False
    slack = bound[2]
    for pos in positions.values():
        seen = pos.liq_px
        if seen is None:
            return False
        price = prices[pos.symbol]
        if seen is not price:
            factor = instruments[pos.symbol].mm_lipschitz
            if factor is None:
                return False
            slack -= pos.qty * abs(price - seen) * factor
    if slack <= BOUND_EPS:
        return False
    for pos in positions.values():
        pos.liq_px = prices[pos.symbol]
    acc.liq_bound = (bound[0], bound[1], slack)
    return True


def set_bound(acc: Account, instruments: dict[str, Instrument],
              prices: dict[str, Decimal]) -> bool:
    """The full check of an account: True when nothing in it is to be liquidated and its
    equity is within the ledger's limit, and then its bound is set (the least of each
    isolated position's and the cross positions' margin balance above its maintenance
    margin, and of the equity's distance to the limit). False when :func:`liquidate` and
    the equity check must run: the bound is cleared."""
    acc.liq_bound = None
    equity = acc.wallet
    lhs = cross_funds(acc)
    mm = ZERO
    has_cross = False
    slack: Decimal | None = None
    for pos in acc.positions.values():
        price = prices[pos.symbol]
        inst = instruments[pos.symbol]
        upnl = pos.upnl(price)
        equity += upnl
        if pos.margin_mode == CROSS:
            has_cross = True
            lhs += upnl
            mm += inst.maintenance_margin(pos.qty * price)
        else:
            own = isolated_slack(pos, inst, price)
            if own <= 0:
                return False
            if slack is None or own < slack:
                slack = own
    if has_cross:
        if lhs <= mm:
            return False
        if slack is None or lhs - mm < slack:
            slack = lhs - mm
    if equity > MAX_AMOUNT or equity < -MAX_AMOUNT:
        return False
    headroom = MAX_AMOUNT - abs(equity)
    if slack is None or headroom < slack:
        slack = headroom
    for pos in acc.positions.values():
        pos.liq_px = prices[pos.symbol]
    acc.liq_bound = (acc.wallet, len(acc.positions), slack)
    return True


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
