"""The copier fan-out (§6): one pending batch of copier actions, executed for every copy
it names. These loops run once per copier of a trader action: what one batch shares is
computed once, and postings are written inline (the same as ``EngineCore.post``)."""

from __future__ import annotations

from decimal import Decimal

from ..domain import sizing as sz
from ..domain.enums import MarginMode, OutcomeAction
from ..domain.numbers import CENT_MICRO as E8
from ..domain.numbers import ZERO
from ..domain.positions import (
    LONG,
    Position,
    average_entry,
    liq_test_terms,
    position_margin,
    realized_pnl,
)
from ..domain.sizing import (
    partial_close_qty,
    ratio_steps,
    slippage_exceeded,
    steps_for_margin,
    target_margin,
)
from .core import EngineCore
from .state import (
    ACTIVE,
    FEE,
    REALIZED_PNL,
    Changes,
    CloseOrder,
    CopyRelation,
    LeverageOrder,
    OpenOrder,
    PendingBatch,
)

# Outcome rows are written per copier: plain strings bind faster than the enum members.
COPIED = str(sz.COPIED)
SKIPPED = sz.SKIPPED


def run_batch(core: EngineCore, batch: PendingBatch, ch: Changes) -> list[int]:
    """Execute one batch; returns the ids of the copies with a stop-loss it touched."""
    order = batch.payload
    if isinstance(order, OpenOrder):
        return exec_open(core, batch, order, ch)
    if isinstance(order, CloseOrder):
        return exec_close(core, batch, order, ch)
    return exec_leverage(core, batch, order, ch)


def active_copies(core: EngineCore, batch: PendingBatch) -> list[CopyRelation]:
    """The batch's copies that are still active (a copy may have ended since)."""
    copies = core.state.copies
    return [c for c in (copies[i] for i in batch.copy_ids) if c.status == ACTIVE]

def exec_open(core: EngineCore, batch: PendingBatch, p: OpenOrder, ch: Changes) -> list[int]:
    """§6 open / increase for every copy of the batch; returns the copies with a
    stop-loss that it touched."""
    st = core.state
    # Rows and positions take the plain strings of the enums (see Position).
    symbol, cycle, side = p.symbol, p.cycle, str(p.side)
    inst = st.instruments[symbol]
    cfg = st.config
    taker = cfg.taker_fee
    is_long = side == LONG
    trader_price = p.price
    leverage = p.leverage
    fill = sz.fill_price(st.prices[symbol], cfg.impact_bps, is_long, inst.tick)
    new_cycle = batch.kind == OutcomeAction.OPEN
    u = p.u
    step, min_qty = inst.qty_step, inst.min_qty
    prices = st.prices
    ts, event_id, trader_id, kind = batch.exec_ts, batch.event_id, p.trader, batch.kind
    outcome = core.outcome
    base_cost = sz.unit_cost(fill, leverage, taker)
    base_cost_step = base_cost * step
    by_steps: dict[Decimal, tuple[Decimal, Decimal, Decimal, Decimal, int,
                                  tuple[Decimal, Decimal, Decimal, Decimal] | None]] = {}
    isolated = p.margin_mode == MarginMode.ISOLATED
    last_price = st.prices[symbol]
    touched: list[int] = []
    positions_changed = ch.positions
    dirty = st.dirty
    ledger, outcomes = ch.ledger, ch.outcomes
    fill_taker = fill * taker
    group = core.group(ch, event_id, trader_id, symbol, kind, fill, ts, trader_price, side)
    margin_mode = str(p.margin_mode)
    for copy in active_copies(core, batch):
        acc = copy.account
        pos = acc.positions.get(symbol)
        if new_cycle:
            if pos is not None:
                # The copier still holds an earlier cycle: this one stays uncopied.
                outcome(ch, event_id, copy, trader_id, symbol, kind, sz.SKIPPED,
                        sz.POSITION_NOT_COPIED, None, None, ts)
                continue
            pos_leverage = leverage
        else:
            if pos is None or pos.cycle != cycle:
                outcome(ch, event_id, copy, trader_id, symbol, kind, sz.SKIPPED,
                        sz.POSITION_NOT_COPIED, None, None, ts)
                continue
            pos_leverage = pos.leverage
        if slippage_exceeded(is_long, fill, trader_price, copy.max_slippage):
            outcome(ch, event_id, copy, trader_id, symbol, kind, sz.SKIPPED,
                    sz.SLIPPAGE_LIMIT, None, None, ts)
            continue
        if pos_leverage == leverage:
            cost, cost_step = base_cost, base_cost_step
        else:
            cost = sz.unit_cost(fill, pos_leverage, taker)
            cost_step = cost * step
        mode = copy.mode
        if mode == "fixed_ratio":
            steps = ratio_steps(p.qty, copy.ratio, step)  # type: ignore[arg-type]
        else:
            equity = (acc.equity(prices) if acc.positions else acc.wallet
                      ) if mode == "smart" else ZERO
            steps = steps_for_margin(
                target_margin(mode, u, equity, copy.amount, copy.max_margin_per_order),
                cost_step)
        available = acc.available(prices) if acc.positions else acc.wallet
        # Copiers of one batch land on few distinct sizes: what follows from a size
        # (its cost, fee, margin) is computed once per size and batch.
        sized = by_steps.get(steps) if cost is base_cost else None
        if sized is None:
            qty = steps * step
            fee = (qty * fill_taker).quantize(E8)
            margin = position_margin(qty, fill, pos_leverage)
            # A new isolated position's liquidation test, ready for the next check.
            terms = (liq_test_terms(side, qty, fill, margin, inst, qty * last_price)
                     if isolated else None)
            sized = (qty, qty * cost, fee, margin, -int(fee.scaleb(8)), terms)
            if cost is base_cost:
                by_steps[steps] = sized
        qty, qty_cost, fee, margin, fee_units, terms = sized
        if qty >= min_qty and qty_cost <= available:
            status = COPIED
        else:
            qty, status = sz.apply_min_and_funds(qty, cost, available, step, min_qty)
            if status == SKIPPED:
                outcome(ch, event_id, copy, trader_id, symbol, kind, sz.SKIPPED,
                        sz.INSUFFICIENT_FUNDS, None, None, ts)
                continue
            fee = (qty * fill_taker).quantize(E8)
            margin = position_margin(qty, fill, pos_leverage)
            fee_units = -int(fee.scaleb(8))
            terms = None
        # Inlined posting of the fee (see _post): this loop runs once per copier.
        if fee:
            acc.wallet -= fee
            ledger.append((acc.id, FEE, fee_units, event_id, ts))
            totals = copy.totals
            totals[FEE] = totals.get(FEE, ZERO) - fee
        if pos is None:
            pos = Position(symbol, side, qty, fill, pos_leverage, margin_mode, cycle,
                           margin, ts, -fee)
            pos.liq_cache = terms
            acc.positions[symbol] = pos
        else:
            pos.set(pos.qty + qty, average_entry(pos.qty, pos.entry, qty, fill),
                    pos.leverage)
            pos.realized -= fee
        positions_changed[(acc.id, symbol)] = pos
        dirty.add(acc.id)
        outcomes.append((group, copy.id, str(status), None, str(qty)))
        if copy.stop_loss is not None:
            touched.append(copy.id)
    return touched

def exec_close(core: EngineCore, batch: PendingBatch, p: CloseOrder, ch: Changes
               ) -> list[int]:
    """§6 close (full or partial) for every copy of the batch; returns the copies with
    a stop-loss that it touched."""
    st = core.state
    symbol, cycle, side = p.symbol, p.cycle, str(p.side)
    inst = st.instruments[symbol]
    taker = st.config.taker_fee
    fill = sz.fill_price(st.prices[symbol], st.config.impact_bps, side != LONG, inst.tick)
    full = p.full
    closed = p.closed
    before = p.before
    reason = str(p.reason) if p.reason is not None else None
    ts, event_id, trader_id = batch.exec_ts, batch.event_id, p.trader
    touched: list[int] = []
    step, min_qty = inst.qty_step, inst.min_qty
    fill_taker = fill * taker
    group = core.group(ch, event_id, trader_id, symbol, OutcomeAction.CLOSE, fill, ts,
                       p.price, side)
    ledger, outcomes, positions_changed = ch.ledger, ch.outcomes, ch.positions
    dirty = st.dirty
    for copy in active_copies(core, batch):
        acc = copy.account
        pos = acc.positions.get(symbol)
        if pos is None or pos.cycle != cycle:
            core.outcome(ch, event_id, copy, trader_id, symbol, OutcomeAction.CLOSE, sz.SKIPPED,
                          sz.POSITION_NOT_COPIED, None, None, ts)
            continue
        held = pos.qty
        qty = held if full else partial_close_qty(held, closed, before, step, min_qty)
        # Inlined postings of realized PnL and fee (see _post): once per copier.
        pnl = realized_pnl(side, pos.entry, fill, qty).quantize(E8)
        fee = (qty * fill_taker).quantize(E8)
        acc.wallet += pnl - fee
        totals = copy.totals
        if pnl:
            ledger.append((acc.id, REALIZED_PNL, int(pnl.scaleb(8)), event_id, ts))
            totals[REALIZED_PNL] = totals.get(REALIZED_PNL, ZERO) + pnl
        if fee:
            ledger.append((acc.id, FEE, -int(fee.scaleb(8)), event_id, ts))
            totals[FEE] = totals.get(FEE, ZERO) - fee
        dirty.add(acc.id)
        pos.realized += pnl - fee
        if qty == held:
            del acc.positions[symbol]
            positions_changed[(acc.id, symbol)] = None
            ch.close_cycle(acc.id, pos, ts, "close")
        else:
            pos.set(held - qty, pos.entry, pos.leverage)
            positions_changed[(acc.id, symbol)] = pos
        outcomes.append((group, copy.id, COPIED, reason, str(qty)))
        if copy.stop_loss is not None:
            touched.append(copy.id)
    return touched

def exec_leverage(core: EngineCore, batch: PendingBatch, p: LeverageOrder, ch: Changes
                  ) -> list[int]:
    """§6 leverage sync for every copy of the batch."""
    st = core.state
    symbol, cycle, leverage = p.symbol, p.cycle, p.leverage
    ts, event_id, trader_id = batch.exec_ts, batch.event_id, p.trader
    for copy in active_copies(core, batch):
        acc = copy.account
        pos = acc.positions.get(symbol)
        if pos is None or pos.cycle != cycle:
            core.outcome(ch, event_id, copy, trader_id, symbol, OutcomeAction.LEVERAGE, sz.SKIPPED,
                          sz.POSITION_NOT_COPIED, None, None, ts)
            continue
        increase = position_margin(pos.qty, pos.entry, leverage) - pos.margin
        if increase > 0 and increase > acc.available(st.prices):
            core.outcome(ch, event_id, copy, trader_id, symbol, OutcomeAction.LEVERAGE, sz.SKIPPED,
                          sz.LEVERAGE_NOT_SYNCED, None, None, ts)
            continue
        pos.set(pos.qty, pos.entry, leverage)
        st.dirty.add(acc.id)
        ch.positions[(acc.id, symbol)] = pos
        core.outcome(ch, event_id, copy, trader_id, symbol, OutcomeAction.LEVERAGE, sz.COPIED, None,
                      pos.qty, None, ts)
    return []
