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
    isolated_upnl_unless_liquidated,
)
from .core import EngineCore, check_equity_limit
from .state import ACTIVE, LIQUIDATION, Changes, CloseOrder, CopyRelation, Trader

# A slack this close to 0 sets no bands, and the bands keep a 1e-9 share of it in hand:
# far more than what the Decimal context's rounding at 60 digits could take.
BOUND_EPS = Decimal("1e-20")
BAND_SHARE = 1 - Decimal("1e-9")
MIN_AMOUNT = -MAX_AMOUNT


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
    price = prices.get(symbol)
    common = st.liq_bands
    if dirty:
        common.clear()  # a changed account's bands are gone
    elif price is not None:
        band = common.get(symbol)
        if band is not None and band[0] < price < band[1]:
            return
    # The bands of the positions in ``symbol`` (None once one has none).
    lows: list[Decimal] | None = []
    highs: list[Decimal] = []
    reset = False  # an account's bands were set again (in other symbols too)
    for trader in st.traders.values():
        acc = trader.account
        if acc.positions and (symbol in acc.positions or acc.id in dirty):
            if acc.id in dirty:
                # Changed by this event: the plain check, and no bands until the next.
                acc.liq_bound = None
                safe = quick_check(acc, instruments, prices)
            elif bound_holds(acc, prices):
                safe = True
            else:
                reset = True
                safe = set_bound(acc, instruments, prices)
            if not safe:
                lows = None
                liquidate_trader(core, trader, ch, event_id, ts)
                continue
            lows = add_band(acc, symbol, lows, highs)
    for copy in st.copies.values():
        acc = copy.account
        positions = acc.positions
        if not positions or copy.status != ACTIVE or (
                symbol not in positions and acc.id not in dirty):
            continue
        if acc.id in dirty:
            # Changed since the last check: the plain check (quick_check, inlined: after
            # a fan-out every copy comes here), and no bands until the next check.
            acc.liq_bound = None
            equity = acc.wallet
            for pos in positions.values():
                upnl = None if pos.margin_mode == CROSS else isolated_upnl_unless_liquidated(
                    pos, instruments[pos.symbol], prices[pos.symbol])
                if upnl is None:
                    break
                equity += upnl
            else:
                if MIN_AMOUNT <= equity <= MAX_AMOUNT:
                    lows = None
                    continue
            safe = False
        elif bound_holds(acc, prices):
            safe = True
        else:
            reset = True
            safe = set_bound(acc, instruments, prices)
        if not safe:
            lows = None
            liquidate(core, acc, ch, event_id, ts, copy, copy.trader)
            if acc.positions:
                check_equity_limit(acc, prices)
            continue
        lows = add_band(acc, symbol, lows, highs)
    dirty.clear()
    if reset:
        common.clear()
    if lows is not None and lows:
        common[symbol] = (max(lows), min(highs))


def liquidate_trader(core: EngineCore, trader: Trader, ch: Changes, event_id: str,
                     ts: int) -> None:
    """Liquidate what must be in a trader's account; each position gone is a full close
    signal for the trader's copiers."""
    acc = trader.account
    prices = core.state.prices
    for pos in liquidate(core, acc, ch, event_id, ts, None, trader.id):
        core.schedule(ch, trader, OutcomeAction.CLOSE, event_id, ts, CloseOrder(
            trader=trader.id, symbol=pos.symbol, cycle=pos.cycle, side=Side(pos.side),
            closed=pos.qty, before=pos.qty, full=True,
            reason=Reason.TRADER_LIQUIDATED, price=prices[pos.symbol]))
    if acc.positions:
        check_equity_limit(acc, prices)


def add_band(acc: Account, symbol: str, lows: list[Decimal] | None,
             highs: list[Decimal]) -> list[Decimal] | None:
    """Add the band of ``acc``'s position in ``symbol`` (if any) to ``lows``/``highs``;
    None when the account has no bands (every price move then checks it)."""
    pos = acc.positions.get(symbol)
    if lows is None or pos is None:
        return lows
    band = pos.liq_band
    if acc.liq_bound is None or band is None:
        return None
    lows.append(band[0])
    highs.append(band[1])
    return lows


def quick_check(acc: Account, instruments: dict[str, Instrument],
                prices: dict[str, Decimal]) -> bool:
    """True when the account has no cross position, no isolated position past its
    liquidation price, and an equity within the ledger's limit: nothing to liquidate."""
    equity = acc.wallet
    for pos in acc.positions.values():
        upnl = None if pos.margin_mode == CROSS else isolated_upnl_unless_liquidated(
            pos, instruments[pos.symbol], prices[pos.symbol])
        if upnl is None:
            return False
        equity += upnl
    return MIN_AMOUNT <= equity <= MAX_AMOUNT


def bound_holds(acc: Account, prices: dict[str, Decimal]) -> bool:
    """True when every position's price is inside the band :func:`set_bound` gave it:
    then nothing in the account can be liquidated and its equity is within the ledger's
    limit, without the full check."""
    bound = acc.liq_bound
    positions = acc.positions
    if bound is None or bound[0] is not acc.wallet or bound[1] != len(positions):
        return False
    for pos in positions.values():
        band = pos.liq_band
        if band is None or not band[0] < prices[pos.symbol] < band[1]:
            return False
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
    set_bands(acc, instruments, prices, slack)
    return True


def set_bands(acc: Account, instruments: dict[str, Instrument], prices: dict[str, Decimal],
              slack: Decimal) -> None:
    """Give each position a price band around its price over which its move takes at
    most its share of ``slack``.

    Each position's margin balance, and the equity, moves by at most
    ``mm_lipschitz × qty × |price move|`` (the uPnL by qty × move, the maintenance
    margin by MMR × qty × move; Instrument.mm_lipschitz). With n positions each taking
    under slack / n, every slack stays positive while every price is inside its band.
    An instrument whose maintenance margin steps at a tier cap gets no band (and the
    account the full check at every event)."""
    acc.liq_bound = None
    positions = acc.positions
    if slack <= BOUND_EPS:
        return
    share = (slack - BOUND_EPS) * BAND_SHARE / len(positions)
    for pos in positions.values():
        factor = instruments[pos.symbol].mm_lipschitz
        if factor is None:
            return
        price = prices[pos.symbol]
        width = share / (pos.qty * factor)
        pos.liq_band = (price - width, price + width)
    acc.liq_bound = (acc.wallet, len(positions))


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
