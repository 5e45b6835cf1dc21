"""The copy engine: applies one event at a time, all of its effects or none.

The engine keeps the whole state in memory and hands every event's effects to its
store as one :class:`Changes` set, written in one transaction. When anything fails
part-way, the in-memory state is thrown away and rebuilt from the store, so memory
never runs ahead of what was committed.
"""

from __future__ import annotations

import gc
import heapq
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from ..domain import sizing as sz
from ..domain.events import Event
from ..domain.instruments import Instrument, Tier
from ..domain.numbers import CENT_MICRO as E8
from ..domain.numbers import ONE, ZERO, fmt, is_multiple, money
from ..domain.positions import (
    CROSS,
    ISOLATED,
    LONG,
    Account,
    Position,
    average_entry,
    cross_is_liquidated,
    isolated_is_liquidated,
    liq_test_terms,
    position_margin,
    realized_pnl,
)
from .state import (
    ACTIVE,
    BALANCE,
    CANCELLED,
    DEPOSIT,
    FEE,
    FUNDING,
    INVESTMENT,
    LIQUIDATION,
    PROFIT_SHARE,
    REALIZED_PNL,
    RELEASE,
    STOPPED,
    Changes,
    Config,
    CopyRelation,
    PendingBatch,
    State,
    Trader,
)

log = logging.getLogger("smartcopy.engine")

DAY_MS = 86_400_000
MAX_SNAPSHOT_DAYS = 3660  # a longer gap is not filled day by day

APPLIED = "applied"
REJECTED = "rejected"
DUPLICATE = "duplicate"


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector off while one batch allocates a row per copier:
    the objects it makes are acyclic, and repeated generation scans of a growing heap
    otherwise dominate a fan-out to thousands of copiers."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Rejected(Exception):
    """A business-rule rejection: the event is valid but may not be applied."""


class MalformedInput(Exception):
    """An event that is not acceptable input at all (reused id, time going back)."""


class EngineStore(Protocol):
    """What the engine needs from persistence."""

    def load_state(self) -> State: ...

    def commit(self, changes: Changes) -> None: ...

    def event_digest(self, event_id: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Result:
    """What became of a submitted event."""

    status: str  # applied | rejected | duplicate
    reason: str | None = None


class Engine:
    """Applies events to the state held by a store."""

    def __init__(self, store: EngineStore,
                 on_commit: Callable[[Changes], None] | None = None) -> None:
        self.store = store
        self.state = store.load_state()
        self._heap: list[tuple[int, int, PendingBatch]] = []
        self._index_pending()
        self.on_commit = on_commit

    # ------------------------------------------------------------------ plumbing
    def _index_pending(self) -> None:
        self._heap = [(b.exec_ts, b.seq, b) for b in self.state.pending]
        heapq.heapify(self._heap)
        # The loaded state lives as long as the engine: keep the collector from
        # rescanning it on every later collection.
        gc.freeze()

    def reload(self) -> None:
        """Throw the in-memory state away and rebuild it from the store."""
        self.state = self.store.load_state()
        self._index_pending()

    def _commit(self, ch: Changes) -> None:
        try:
            with _no_gc_pauses():
                self.store.commit(ch)
        except BaseException:
            self.reload()
            raise
        if self.on_commit is not None:
            self.on_commit(ch)

    @property
    def pending_count(self) -> int:
        return len(self._heap)

    # ------------------------------------------------------------------ entry points
    def submit(self, ev: Event) -> Result:
        """Apply one event with all of its effects in one transaction.

        Raises MalformedInput (nothing applied) for a reused id with other content or a
        time earlier than the last applied event.
        """
        return self.submit_many([ev])[0]

    def submit_many(self, events: Iterable[Event], *, dedupe: bool = True) -> list[Result]:
        """Apply events in order, all of them in ONE transaction (each event whole).

        Used for bulk sources (backfill, imports). If any event is malformed input
        (a reused id with other content, a time going back), nothing at all is applied
        and MalformedInput is raised naming that event. ``dedupe=False`` is for a source
        that never sends an event twice (the world): no content digest is kept.
        """
        ch = Changes()
        results: list[Result] = []
        seen: dict[str, str] = {}
        try:
            for ev in events:
                results.append(self._apply_one(ev, ch, seen, dedupe))
        except BaseException:
            self.reload()
            raise
        if any(r.status != DUPLICATE for r in results):
            self._commit(ch)
        return results

    def dry_run(self, events: Iterable[Event]) -> tuple[Event, Result] | None:
        """Apply ``events`` to the in-memory state only, writing nothing, and stop at the
        first business-rule rejection: that event and its result, or None when every
        event would apply. The state is rebuilt from the store afterwards either way.

        Raises MalformedInput like :meth:`submit_many`.
        """
        ch = Changes()
        seen: dict[str, str] = {}
        try:
            for ev in events:
                result = self._apply_one(ev, ch, seen)
                if result.status == REJECTED:
                    return ev, result
            return None
        finally:
            self.reload()

    def _apply_one(self, ev: Event, ch: Changes, seen: dict[str, str],
                   dedupe: bool = True) -> Result:
        digest = ev.digest if dedupe else None
        known = (seen.get(ev.id) or self.store.event_digest(ev.id)) if dedupe else None
        if known is not None:
            if known == digest:
                return Result(DUPLICATE)
            raise MalformedInput(f"id {ev.id!r} was already used for a different event")
        st = self.state
        if st.last_ts is not None and ev.ts < st.last_ts:
            raise MalformedInput("ts is earlier than the last applied event")
        if st.last_ts is not None and ev.ts // DAY_MS > st.last_ts // DAY_MS:
            self._close_days(st.last_ts // DAY_MS, ev.ts // DAY_MS, ch)
        self._run_due(ev.ts, ch, inclusive=False)
        try:
            self._dispatch(ev, ch)
        except Rejected as exc:
            reason = str(exc)
            ch.events.append((ev.id, digest, ev.ts, ev.type, REJECTED, reason))
            ch.rejected.append((ev.id, ev.line, reason))
            result = Result(REJECTED, reason)
        else:
            self._check_stop_losses(ev.id, ev.ts, ch, None)
            ch.events.append((ev.id, digest, ev.ts, ev.type, APPLIED, None))
            ch.applied.append(ev)
            result = Result(APPLIED)
        if digest is not None:
            seen[ev.id] = digest
        st.last_ts = ev.ts
        ch.meta["last_ts"] = str(ev.ts)
        return result

    def _close_days(self, last_day: int, new_day: int, ch: Changes) -> None:
        """Record each account's equity at the close of every day that has ended.

        Copier actions due before midnight run first, so a day's close includes them.
        """
        for day in range(last_day, min(new_day, last_day + MAX_SNAPSHOT_DAYS)):
            self._run_due((day + 1) * DAY_MS, ch, inclusive=False)
            st = self.state
            rows = [(day, t.account.id, int(money(t.account.equity(st.prices)).scaleb(8)))
                    for t in st.traders.values()]
            rows += [(day, c.account.id, int(money(c.account.equity(st.prices)).scaleb(8)))
                     for c in st.copies.values() if c.active]
            ch.snapshots.extend(rows)

    def record_malformed(self, line: int | None, event_id: str | None, reason: str) -> None:
        """Remember a malformed input line for the report (nothing else changes)."""
        ch = Changes()
        ch.rejected.append((event_id, line, reason))
        self._commit(ch)

    def advance_to(self, ts: int) -> int:
        """Run every pending copier action due strictly before ``ts``; returns how many
        batches ran. Each batch commits on its own."""
        ran = 0
        while self._heap and self._heap[0][0] < ts:
            ch = Changes()
            try:
                self._run_one(ch)
            except BaseException:
                self.reload()
                raise
            self._commit(ch)
            ran += 1
        return ran

    def flush(self) -> int:
        """Run every pending copier action at the last known prices (end of a replay)."""
        ran = 0
        while self._heap:
            ch = Changes()
            try:
                self._run_one(ch)
            except BaseException:
                self.reload()
                raise
            self._commit(ch)
            ran += 1
        return ran

    # ------------------------------------------------------------------ helpers
    def _post(self, account: Account, kind: str, amount: Decimal, ch: Changes,
              event_id: str, ts: int, copy: CopyRelation | None = None) -> Decimal:
        """Book ``amount`` (rounded to 1e-8) on an account's wallet and ledger."""
        amount = amount.quantize(E8)
        if not amount:
            return amount
        account.wallet += amount
        ch.ledger.append((account.id, kind, int(amount.scaleb(8)), event_id, ts))
        self.state.dirty.add(account.id)
        if copy is not None:
            totals = copy.totals
            totals[kind] = totals.get(kind, ZERO) + amount
        return amount

    def _trader(self, trader_id: str) -> Trader:
        trader = self.state.traders.get(trader_id)
        if trader is None:
            raise Rejected(f"unknown trader {trader_id!r}")
        return trader

    def _instrument(self, symbol: str) -> Instrument:
        inst = self.state.instruments.get(symbol)
        if inst is None:
            raise Rejected(f"unknown instrument {symbol!r}")
        return inst

    def _check_leverage(self, leverage: Decimal, inst: Instrument) -> None:
        if leverage < 1 or leverage > inst.max_leverage:
            raise Rejected(f"leverage {fmt(leverage)} is outside 1..{fmt(inst.max_leverage)} "
                           f"for {inst.symbol}")

    def _group(self, ch: Changes, event_id: str, trader: str, symbol: str | None,
               action: str, price: Decimal | None, ts: int,
               ref_price: Decimal | None = None, side: str | None = None) -> int:
        """The id of the outcome group (what a set of outcomes share) for this key.

        ``ref_price`` is the trader's own fill that the copier actions followed, ``side``
        the side of the position they open or close."""
        key = (event_id, trader, symbol, action, str(price) if price is not None else None, ts,
               str(ref_price) if ref_price is not None else None, side)
        gid = ch.group_ids.get(key)
        if gid is None:
            gid = ch.group_ids[key] = self.state.next_group_id
            self.state.next_group_id += 1
            ch.outcome_groups.append((gid, *key))
        return gid

    def _outcome(self, ch: Changes, event_id: str, copy: CopyRelation | None, trader: str,
                 symbol: str | None, action: str, status: str, reason: str | None,
                 qty: Decimal | None, price: Decimal | None, ts: int) -> None:
        gid = self._group(ch, event_id, trader, symbol, action, price, ts)
        ch.outcomes.append((gid, copy.id if copy else None, status, reason,
                            str(qty) if qty is not None else None))

    def _schedule(self, ch: Changes, trader: Trader, kind: str, ev_id: str, ts: int,
                  payload: dict[str, Any]) -> None:
        ids = [c.id for c in trader.copies]
        if not ids:
            return
        st = self.state
        batch = PendingBatch(st.next_pending_seq, ts + st.config.delay_ms, kind, ev_id,
                             payload, ids)
        st.next_pending_seq += 1
        heapq.heappush(self._heap, (batch.exec_ts, batch.seq, batch))
        ch.pending_added.append(batch)
        ch.meta["next_pending_seq"] = str(st.next_pending_seq)

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, ev: Event, ch: Changes) -> None:
        handler = getattr(self, f"_on_{ev.type}")
        handler(ev, ch)

    def _on_config(self, ev: Event, ch: Changes) -> None:
        old = self.state.config
        new = Config(
            delay_ms=ev.get("delay_ms", old.delay_ms),
            impact_bps=ev.get("impact_bps", old.impact_bps),
            taker_fee=ev.get("taker_fee", old.taker_fee),
            min_investment=ev.get("min_investment", old.min_investment),
        )
        if new.taker_fee >= ONE:
            raise Rejected("taker_fee must be below 1")
        self.state.config = new
        ch.config = new

    def _on_instrument(self, ev: Event, ch: Changes) -> None:
        symbol = ev.get("symbol")
        step, min_qty, tick = ev.get("qty_step"), ev.get("min_qty"), ev.get("tick")
        max_lev = ev.get("max_leverage")
        if step <= 0 or tick <= 0:
            raise Rejected("qty_step and tick must be positive")
        if min_qty <= 0 or not is_multiple(min_qty, step):
            raise Rejected("min_qty must be a positive multiple of qty_step")
        if max_lev < 1:
            raise Rejected("max_leverage must be at least 1")
        tiers = tuple(Tier(c, m, a) for c, m, a in ev.get("tiers"))
        caps = [t.cap for t in tiers]
        if caps != sorted(caps) or len(set(caps)) != len(caps):
            raise Rejected("tier caps must increase")
        if any(t.mmr >= ONE for t in tiers):
            raise Rejected("a maintenance margin rate must be below 1")
        for acc in self._accounts():
            if symbol in acc.positions:
                raise Rejected(f"{symbol} has open positions; its terms cannot change now")
        inst = Instrument(symbol, step, min_qty, tick, max_lev, tiers)
        self.state.instruments[symbol] = inst
        ch.instruments[symbol] = inst

    def _on_trader(self, ev: Event, ch: Changes) -> None:
        st = self.state
        trader_id = ev.get("trader")
        if trader_id in st.traders:
            raise Rejected(f"trader {trader_id!r} is already registered")
        share = ev.get("profit_share", Decimal("0.10"))
        if share >= ONE:
            raise Rejected("profit_share must be below 1")
        trader = Trader(trader_id, ev.get("name"), share, len(st.traders))
        st.traders[trader_id] = trader
        ch.traders[trader_id] = trader
        self._post(trader.account, BALANCE, ev.get("balance"), ch, ev.id, ev.ts)

    def _on_deposit(self, ev: Event, ch: Changes) -> None:
        amount = ev.get("amount")
        if amount <= 0:
            raise Rejected("a deposit must be positive")
        name = ev.get("account")
        account = self.state.contracts.get(name)
        if account is None:
            account = self.state.contracts[name] = Account(f"contract:{name}")
        self._post(account, DEPOSIT, amount, ch, ev.id, ev.ts)

    def _on_price(self, ev: Event, ch: Changes) -> None:
        symbol = ev.get("symbol")
        self._instrument(symbol)
        price = ev.get("price")
        if price <= 0:
            raise Rejected("a price must be positive")
        self.state.prices[symbol] = price
        ch.prices[symbol] = price
        self._check_liquidations(symbol, ev.id, ev.ts, ch)

    def _on_funding(self, ev: Event, ch: Changes) -> None:
        symbol = ev.get("symbol")
        self._instrument(symbol)
        rate = ev.get("rate")
        price = self.state.prices.get(symbol)
        if price is None:
            return  # nobody can hold a position in a symbol that never traded
        for acc, copy in self._funded_accounts():
            pos = acc.positions.get(symbol)
            if pos is None:
                continue
            amount = pos.qty * price * rate
            pos.realized += self._post(acc, FUNDING, -amount if pos.side == LONG else amount,
                                       ch, ev.id, ev.ts, copy)
            ch.positions[(acc.id, symbol)] = pos

    def _on_settle(self, ev: Event, ch: Changes) -> None:
        for copy in list(self.state.copies.values()):
            if copy.active:
                self._settle_profit_share(copy, ch, ev.id, ev.ts)

    # ------------------------------------------------------------------ trader actions
    def _on_open(self, ev: Event, ch: Changes) -> None:
        st = self.state
        trader = self._trader(ev.get("trader"))
        inst = self._instrument(ev.get("symbol"))
        symbol = inst.symbol
        side, qty, price = ev.get("side"), ev.get("qty"), ev.get("price")
        leverage, margin_mode = ev.get("leverage"), ev.get("margin_mode")
        fee_rate = ev.get("fee_rate", st.config.taker_fee)
        if price <= 0:
            raise Rejected("price must be positive")
        if qty <= 0 or not is_multiple(qty, inst.qty_step) or qty < inst.min_qty:
            raise Rejected(f"qty {fmt(qty)} must be a positive multiple of {fmt(inst.qty_step)}"
                           f" and at least {fmt(inst.min_qty)} for {symbol}")
        self._check_leverage(leverage, inst)
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
        self._post(acc, FEE, -fee, ch, ev.id, ev.ts)
        if pos is None:
            kind = "open"
            pos = Position(symbol, side, qty, price, leverage, margin_mode, ev.id,
                           opened_ts=ev.ts, realized=-fee)
            acc.positions[symbol] = pos
        else:
            kind = "increase"
            pos.set(pos.qty + qty, average_entry(pos.qty, pos.entry, qty, price), leverage)
            pos.realized -= fee
        ch.positions[(acc.id, symbol)] = pos
        st.prices[symbol] = price
        ch.prices[symbol] = price
        self._schedule(ch, trader, kind, ev.id, ev.ts, {
            "trader": trader.id, "symbol": symbol, "cycle": pos.cycle, "side": side,
            "price": price, "leverage": leverage, "margin_mode": margin_mode, "u": u,
            "qty": qty})
        self._check_liquidations(symbol, ev.id, ev.ts, ch)

    def _on_close(self, ev: Event, ch: Changes) -> None:
        st = self.state
        trader = self._trader(ev.get("trader"))
        inst = self._instrument(ev.get("symbol"))
        symbol = inst.symbol
        acc = trader.account
        pos = acc.positions.get(symbol)
        if pos is None:
            raise Rejected(f"trader {trader.id!r} has no open {symbol} position")
        price = ev.get("price")
        if price <= 0:
            raise Rejected("price must be positive")
        qty = ev.get("qty", pos.qty)
        if qty <= 0 or not is_multiple(qty, inst.qty_step):
            raise Rejected(f"qty {fmt(qty)} must be a positive multiple of {fmt(inst.qty_step)}")
        if qty > pos.qty:
            raise Rejected(f"qty {fmt(qty)} exceeds the open {symbol} position of {fmt(pos.qty)}")
        fee_rate = ev.get("fee_rate", st.config.taker_fee)
        before = pos.qty
        pos.realized += self._post(acc, REALIZED_PNL,
                                   realized_pnl(pos.side, pos.entry, price, qty), ch, ev.id,
                                   ev.ts)
        pos.realized += self._post(acc, FEE, -(qty * price * fee_rate), ch, ev.id, ev.ts)
        if qty == before:
            del acc.positions[symbol]
            ch.positions[(acc.id, symbol)] = None
            ch.close_cycle(acc.id, pos, ev.ts, "close")
        else:
            pos.set(before - qty, pos.entry, pos.leverage)
            ch.positions[(acc.id, symbol)] = pos
        st.prices[symbol] = price
        ch.prices[symbol] = price
        self._schedule(ch, trader, "close", ev.id, ev.ts, {
            "trader": trader.id, "symbol": symbol, "cycle": pos.cycle, "side": pos.side,
            "closed": qty, "before": before, "full": qty == before, "reason": None,
            "price": price})
        self._check_liquidations(symbol, ev.id, ev.ts, ch)

    def _on_leverage(self, ev: Event, ch: Changes) -> None:
        st = self.state
        trader = self._trader(ev.get("trader"))
        inst = self._instrument(ev.get("symbol"))
        leverage = ev.get("leverage")
        self._check_leverage(leverage, inst)
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
        self._schedule(ch, trader, "leverage", ev.id, ev.ts, {
            "trader": trader.id, "symbol": inst.symbol, "cycle": pos.cycle,
            "leverage": leverage})

    # ------------------------------------------------------------------ copy relations
    def _on_copy(self, ev: Event, ch: Changes) -> None:
        st = self.state
        copier, trader_id, mode = ev.get("copier"), ev.get("trader"), ev.get("mode")
        trader = self._trader(trader_id)
        for existing in trader.copies:
            if existing.copier == copier:
                if existing.mode != mode:
                    raise Rejected(
                        f"mode switching during an active copy is not supported: {copier} "
                        f"copies {trader_id} in {existing.mode} mode; cancel that copy first, "
                        f"then copy again in {mode} mode")
                raise Rejected(f"{copier} already has an active copy of {trader_id}")
        investment = ev.get("investment")
        if investment < st.config.min_investment:
            raise Rejected(f"investment {fmt(investment)} is below the minimum of "
                           f"{fmt(st.config.min_investment)} USDT")
        contract = st.contracts.get(copier)
        balance = contract.wallet if contract else ZERO
        if investment > balance:
            raise Rejected(f"investment {fmt(investment)} exceeds {copier}'s contract balance "
                           f"of {fmt(balance)} USDT")
        amount, ratio = ev.get("amount"), ev.get("ratio")
        if mode == "fixed_amount" and not amount:
            raise Rejected("a fixed_amount copy needs a positive amount")
        if mode == "fixed_ratio" and not ratio:
            raise Rejected("a fixed_ratio copy needs a positive ratio")
        stop_loss = ev.get("stop_loss")
        if stop_loss is not None and not ZERO < stop_loss < ONE:
            raise Rejected("stop_loss must be a fraction between 0 and 1")
        max_margin = ev.get("max_margin_per_order")
        if max_margin is not None and max_margin <= 0:
            raise Rejected("max_margin_per_order must be positive")
        if contract is None:  # only with a zero investment and a zero minimum
            contract = st.contracts[copier] = Account(f"contract:{copier}")
        copy = CopyRelation(
            st.next_copy_id, copier, trader_id, mode, investment,
            amount=amount if mode == "fixed_amount" else None,
            ratio=ratio if mode == "fixed_ratio" else None,
            max_slippage=ev.get("max_slippage", Decimal("0.005")),
            max_margin_per_order=max_margin, stop_loss=stop_loss, created_ts=ev.ts)
        st.next_copy_id += 1
        st.copies[copy.id] = copy
        trader.copies.append(copy)
        self._post(contract, INVESTMENT, -investment, ch, ev.id, ev.ts)
        self._post(copy.account, INVESTMENT, investment, ch, ev.id, ev.ts, copy)
        ch.copies[copy.id] = copy

    def _on_cancel(self, ev: Event, ch: Changes) -> None:
        copier, trader_id = ev.get("copier"), ev.get("trader")
        trader = self._trader(trader_id)
        for copy in trader.copies:
            if copy.copier == copier:
                self._end_copy(copy, CANCELLED, ch, ev.id, ev.ts)
                return
        raise Rejected(f"{copier} has no active copy of {trader_id}")

    def _end_copy(self, copy: CopyRelation, status: str, ch: Changes, event_id: str,
                  ts: int) -> None:
        """Cancel or stop: drop pending actions, close at market, settle, release."""
        st = self.state
        for _, _, batch in sorted(self._heap):
            if copy.id in batch.copy_ids:
                self._outcome(ch, batch.event_id, copy, copy.trader, batch.payload["symbol"],
                              batch.kind, sz.SKIPPED, sz.COPY_INACTIVE, None, None, ts)
        acc = copy.account
        for symbol, pos in sorted(acc.positions.items()):
            inst = st.instruments[symbol]
            fill = sz.fill_price(st.prices[symbol], st.config.impact_bps, pos.side != LONG,
                                 inst.tick)
            pos.realized += self._post(acc, REALIZED_PNL,
                                       realized_pnl(pos.side, pos.entry, fill, pos.qty), ch,
                                       event_id, ts, copy)
            pos.realized += self._post(acc, FEE, -(pos.qty * fill * st.config.taker_fee), ch,
                                       event_id, ts, copy)
            del acc.positions[symbol]
            ch.positions[(acc.id, symbol)] = None
            ch.close_cycle(acc.id, pos, ts, "cancel")
            self._outcome(ch, event_id, copy, copy.trader, symbol, "cancel", sz.DONE, None,
                          pos.qty, fill, ts)
        self._settle_profit_share(copy, ch, event_id, ts)
        released = max(acc.wallet, ZERO)
        contract = st.contracts[copy.copier]
        self._post(acc, RELEASE, -released, ch, event_id, ts, copy)
        self._post(contract, RELEASE, released, ch, event_id, ts)
        copy.released = released
        copy.status = status
        copy.ended_ts = ts
        st.traders[copy.trader].copies.remove(copy)
        ch.copies[copy.id] = copy

    def _settle_profit_share(self, copy: CopyRelation, ch: Changes, event_id: str,
                             ts: int) -> None:
        net = copy.net_realized()
        if net <= copy.hwm:
            return
        trader = self.state.traders[copy.trader]
        share = money(trader.profit_share * (net - copy.hwm))
        self._post(copy.account, PROFIT_SHARE, -share, ch, event_id, ts, copy)
        self._post(trader.earned, PROFIT_SHARE, share, ch, event_id, ts)
        copy.hwm = net
        ch.copies[copy.id] = copy

    def _check_stop_losses(self, event_id: str, ts: int, ch: Changes,
                           only: list[int] | None) -> None:
        st = self.state
        candidates = (st.copies[i] for i in only) if only is not None else list(
            st.copies.values())
        for copy in candidates:
            if copy.stop_loss is None or not copy.active:
                continue
            floor = copy.investment * (ONE - copy.stop_loss)
            if copy.account.equity(st.prices) <= floor:
                self._end_copy(copy, STOPPED, ch, event_id, ts)

    # ------------------------------------------------------------------ liquidation
    def _accounts(self) -> list[Account]:
        st = self.state
        accounts = [t.account for t in st.traders.values()]
        accounts += [c.account for c in st.copies.values() if c.active]
        return accounts

    def _funded_accounts(self) -> list[tuple[Account, CopyRelation | None]]:
        st = self.state
        out: list[tuple[Account, CopyRelation | None]] = [
            (t.account, None) for t in st.traders.values()]
        out += [(c.account, c) for c in st.copies.values() if c.active]
        return out

    def _check_liquidations(self, symbol: str, event_id: str, ts: int, ch: Changes) -> None:
        """§7: after a price event or trader fill, check every account, traders first.

        Only accounts holding ``symbol`` or changed since the last check can have
        crossed their liquidation condition, so only those are evaluated.
        """
        st = self.state
        dirty = st.dirty
        for trader in st.traders.values():
            acc = trader.account
            if acc.positions and (symbol in acc.positions or acc.id in dirty):
                for pos in self._liquidate(acc, ch, event_id, ts, None, trader.id):
                    self._schedule(ch, trader, "close", event_id, ts, {
                        "trader": trader.id, "symbol": pos.symbol, "cycle": pos.cycle,
                        "side": pos.side, "closed": pos.qty, "before": pos.qty,
                        "full": True, "reason": sz.TRADER_LIQUIDATED,
                        "price": st.prices[pos.symbol]})
        instruments, prices = st.instruments, st.prices
        for copy in st.copies.values():
            acc = copy.account
            positions = acc.positions
            if not positions or copy.status != ACTIVE or (
                    symbol not in positions and acc.id not in dirty):
                continue
            # A quick test first: this runs for every copy after every price event.
            for pos in positions.values():
                if pos.margin_mode == CROSS or isolated_is_liquidated(
                        pos, instruments[pos.symbol], prices[pos.symbol]):
                    self._liquidate(acc, ch, event_id, ts, copy, copy.trader)
                    break
        dirty.clear()

    def _liquidate(self, acc: Account, ch: Changes, event_id: str, ts: int,
                   copy: CopyRelation | None, trader_id: str) -> list[Position]:
        st = self.state
        gone: list[Position] = []
        has_cross = False
        for symbol, pos in sorted(acc.positions.items()):
            if pos.margin_mode == ISOLATED:
                if isolated_is_liquidated(pos, st.instruments[symbol], st.prices[symbol]):
                    pos.realized += self._post(acc, LIQUIDATION, -pos.margin, ch, event_id, ts,
                                               copy)
                    gone.append(pos)
                    del acc.positions[symbol]
            else:
                has_cross = True
        if has_cross and cross_is_liquidated(acc, st.instruments, st.prices):
            lost = acc.wallet - acc.isolated_margins()
            self._post(acc, LIQUIDATION, -lost, ch, event_id, ts, copy)
            for symbol, pos in sorted(acc.positions.items()):
                if pos.margin_mode == CROSS:
                    # The account-wide loss is shared out as each position's own uPnL.
                    pos.realized += money(pos.upnl(st.prices[symbol]))
                    gone.append(pos)
                    del acc.positions[symbol]
        for pos in gone:
            ch.positions[(acc.id, pos.symbol)] = None
            ch.close_cycle(acc.id, pos, ts, "liquidation")
            self._outcome(ch, event_id, copy, trader_id, pos.symbol, "liquidation", sz.DONE,
                          None, pos.qty, st.prices[pos.symbol], ts)
        return gone

    # ------------------------------------------------------------------ copier actions
    def _run_due(self, ts: int, ch: Changes, inclusive: bool) -> None:
        heap = self._heap
        while heap and (heap[0][0] < ts or (inclusive and heap[0][0] == ts)):
            self._run_one(ch)

    def _run_one(self, ch: Changes) -> None:
        with _no_gc_pauses():
            self._run_one_batch(ch)

    def _run_one_batch(self, ch: Changes) -> None:
        _, _, batch = heapq.heappop(self._heap)
        ch.pending_removed.append(batch.seq)
        runner = getattr(self, f"_exec_{batch.kind if batch.kind != 'increase' else 'open'}")
        touched = runner(batch, ch)
        if touched:
            self._check_stop_losses(batch.event_id, batch.exec_ts, ch, touched)

    def _active_copies(self, batch: PendingBatch) -> list[CopyRelation]:
        copies = self.state.copies
        return [c for c in (copies[i] for i in batch.copy_ids) if c.status == ACTIVE]

    def _exec_open(self, batch: PendingBatch, ch: Changes) -> list[int]:
        st = self.state
        p = batch.payload
        symbol, cycle, side = p["symbol"], p["cycle"], p["side"]
        inst = st.instruments[symbol]
        cfg = st.config
        taker = cfg.taker_fee
        is_long = side == LONG
        trader_price: Decimal = p["price"]
        leverage: Decimal = p["leverage"]
        fill = sz.fill_price(st.prices[symbol], cfg.impact_bps, is_long, inst.tick)
        new_cycle = batch.kind == "open"
        u: Decimal = p["u"]
        step, min_qty = inst.qty_step, inst.min_qty
        prices = st.prices
        ts, event_id, trader_id, kind = batch.exec_ts, batch.event_id, p["trader"], batch.kind
        outcome = self._outcome
        base_cost = sz.unit_cost(fill, leverage, taker)
        base_cost_step = base_cost * step
        by_steps: dict[Decimal, tuple[Decimal, Decimal, Decimal, Decimal, int,
                                      tuple[Decimal, Decimal, Decimal, Decimal] | None]] = {}
        isolated = p["margin_mode"] == ISOLATED
        last_price = st.prices[symbol]
        touched: list[int] = []
        positions_changed = ch.positions
        dirty = st.dirty
        ledger, outcomes = ch.ledger, ch.outcomes
        fill_taker = fill * taker
        group = self._group(ch, event_id, trader_id, symbol, kind, fill, ts, trader_price,
                            side)
        margin_mode = p["margin_mode"]
        for copy in self._active_copies(batch):
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
            if is_long:
                if fill > trader_price * (ONE + copy.max_slippage):
                    outcome(ch, event_id, copy, trader_id, symbol, kind, sz.SKIPPED,
                            sz.SLIPPAGE_LIMIT, None, None, ts)
                    continue
            elif fill < trader_price * (ONE - copy.max_slippage):
                outcome(ch, event_id, copy, trader_id, symbol, kind, sz.SKIPPED,
                        sz.SLIPPAGE_LIMIT, None, None, ts)
                continue
            if pos_leverage == leverage:
                cost, cost_step = base_cost, base_cost_step
            else:
                cost = sz.unit_cost(fill, pos_leverage, taker)
                cost_step = cost * step
            mode = copy.mode
            if mode == "smart":
                target = u * (acc.equity(prices) if acc.positions else acc.wallet)
            elif mode == "fixed_amount":
                target = copy.amount  # type: ignore[assignment]
            else:
                target = None
            if target is None:
                steps = (p["qty"] * copy.ratio / step).to_integral_value(ROUND_FLOOR)
            else:
                cap = copy.max_margin_per_order
                if cap is not None and target > cap:
                    target = cap
                # floor_step(M / cost) as a count of steps, the step folded into the divisor.
                steps = ((target / cost_step).to_integral_value(ROUND_FLOOR)
                         if target > 0 else ZERO)
            available = acc.available(prices) if acc.positions else acc.wallet
            # Copiers of one batch land on few distinct sizes: what follows from a size
            # (its cost, fee, margin) is computed once per size and batch.
            sized = by_steps.get(steps) if cost is base_cost else None
            if sized is None:
                qty = steps * step
                fee = (qty * fill_taker).quantize(E8)
                margin = (qty * fill / pos_leverage).quantize(E8)
                # A new isolated position's liquidation test, ready for the next check.
                terms = (liq_test_terms(side, qty, fill, margin, inst, qty * last_price)
                         if isolated else None)
                sized = (qty, qty * cost, fee, margin, -int(fee.scaleb(8)), terms)
                if cost is base_cost:
                    by_steps[steps] = sized
            qty, qty_cost, fee, margin, fee_units, terms = sized
            if qty >= min_qty and qty_cost <= available:
                status = sz.COPIED
            else:
                qty, status = sz.apply_min_and_funds(qty, cost, available, step, min_qty)
                if status == sz.INSUFFICIENT_FUNDS:
                    outcome(ch, event_id, copy, trader_id, symbol, kind, sz.SKIPPED,
                            sz.INSUFFICIENT_FUNDS, None, None, ts)
                    continue
                fee = (qty * fill_taker).quantize(E8)
                margin = (qty * fill / pos_leverage).quantize(E8)
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
            outcomes.append((group, copy.id, status, None, str(qty)))
            if copy.stop_loss is not None:
                touched.append(copy.id)
        return touched

    def _exec_close(self, batch: PendingBatch, ch: Changes) -> list[int]:
        st = self.state
        p = batch.payload
        symbol, cycle, side = p["symbol"], p["cycle"], p["side"]
        inst = st.instruments[symbol]
        taker = st.config.taker_fee
        fill = sz.fill_price(st.prices[symbol], st.config.impact_bps, side != LONG, inst.tick)
        full: bool = p["full"]
        closed: Decimal = p["closed"]
        before: Decimal = p["before"]
        reason = p.get("reason")
        ts, event_id, trader_id = batch.exec_ts, batch.event_id, p["trader"]
        touched: list[int] = []
        is_long = side == LONG
        step, min_qty = inst.qty_step, inst.min_qty
        before_step = before * step
        fill_taker = fill * taker
        group = self._group(ch, event_id, trader_id, symbol, "close", fill, ts, p.get("price"),
                            side)
        ledger, outcomes, positions_changed = ch.ledger, ch.outcomes, ch.positions
        dirty = st.dirty
        for copy in self._active_copies(batch):
            acc = copy.account
            pos = acc.positions.get(symbol)
            if pos is None or pos.cycle != cycle:
                self._outcome(ch, event_id, copy, trader_id, symbol, "close", sz.SKIPPED,
                              sz.POSITION_NOT_COPIED, None, None, ts)
                continue
            held = pos.qty
            if full:
                qty = held
            else:
                # sz.partial_close_qty, inlined: round_step(held × f), ≥ min_qty, and all
                # of it when what would remain is below min_qty.
                qty = (held * closed / before_step).to_integral_value(ROUND_HALF_UP) * step
                if qty < min_qty:
                    qty = min_qty
                if held - qty < min_qty:
                    qty = held
            # Inlined postings of realized PnL and fee (see _post): once per copier.
            pnl = ((fill - pos.entry) * qty if is_long else (pos.entry - fill) * qty
                   ).quantize(E8)
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
            outcomes.append((group, copy.id, sz.COPIED, reason, str(qty)))
            if copy.stop_loss is not None:
                touched.append(copy.id)
        return touched

    def _exec_leverage(self, batch: PendingBatch, ch: Changes) -> list[int]:
        st = self.state
        p = batch.payload
        symbol, cycle, leverage = p["symbol"], p["cycle"], p["leverage"]
        ts, event_id, trader_id = batch.exec_ts, batch.event_id, p["trader"]
        for copy in self._active_copies(batch):
            acc = copy.account
            pos = acc.positions.get(symbol)
            if pos is None or pos.cycle != cycle:
                self._outcome(ch, event_id, copy, trader_id, symbol, "leverage", sz.SKIPPED,
                              sz.POSITION_NOT_COPIED, None, None, ts)
                continue
            increase = position_margin(pos.qty, pos.entry, leverage) - pos.margin
            if increase > 0 and increase > acc.available(st.prices):
                self._outcome(ch, event_id, copy, trader_id, symbol, "leverage", sz.SKIPPED,
                              sz.LEVERAGE_NOT_SYNCED, None, None, ts)
                continue
            pos.set(pos.qty, pos.entry, leverage)
            st.dirty.add(acc.id)
            ch.positions[(acc.id, symbol)] = pos
            self._outcome(ch, event_id, copy, trader_id, symbol, "leverage", sz.COPIED, None,
                          pos.qty, None, ts)
        return []
