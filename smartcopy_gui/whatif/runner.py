"""A what-if run: the trader's recorded history replayed through the same ``Engine``,
on an in-memory store, with hypothetical copies made at a start time T.

Nothing here decides how a copy trades: the engine does, as it does for a real copy.
The runner only chooses which recorded events to feed it and reads what it did.

- The trader "as it stood" at T is exact because its history is replayed from its
  registration: its own actions, and the price and funding events of the symbols
  that matter at that moment (see :func:`_matters`); config, instrument and settle
  events always. Other traders' actions and other copiers' deposits, copies and
  cancels cannot touch this trader or a copy of it, so they are left out.
- At T, after every recorded event stamped ≤ T, each hypothetical copy gets a
  ``deposit`` of its investment and a ``copy`` event (its own copier, so many copies of
  one trader can run side by side).
- A price or funding event of a symbol that neither the trader nor (therefore) any of
  its copies holds, while no copier action is pending and no account waits for its
  liquidation check, changes nothing but a last price that nobody reads before the
  symbol's next price or trade: such events are skipped. That is what makes the months
  before T cheap while the trader is flat.
- The run stops at the end of the history; copier actions still pending there stay
  pending, as they are in the user's database.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain.events import Event, format_ts
from ..domain.positions import ISOLATED, Account, cross_is_liquidated, isolated_is_liquidated
from ..engine.engine import APPLIED, Engine
from ..engine.state import Changes, CopierOrder, OpenOrder, State
from .history import History

DAY_MS = 86_400_000
END_OF_TIME = 2**62  # ms: "to the end of the history"
MODES = ("smart", "fixed_amount", "fixed_ratio")
# Defaults for the parameters a mode needs when none is given: fixed_amount puts a
# tenth of the investment into each copied open; fixed_ratio mirrors the trader in
# proportion of the investment to the trader's equity at T (8 significant digits).
DEFAULT_AMOUNT_SHARE = Decimal("0.1")
RATIO_DIGITS = 8
ALWAYS = frozenset({"config", "instrument", "settle"})
TRADER_ACTIONS = frozenset({"open", "close", "leverage"})
MARKET = frozenset({"price", "funding"})
OPENS = frozenset({"open", "increase"})


class WhatIfError(ValueError):
    """A what-if that cannot run; the message names what was wrong."""


@dataclass(frozen=True)
class CopyPlan:
    """A hypothetical copy: what the copy wizard would submit."""

    mode: str
    investment: Decimal
    amount: Decimal | None = None  # fixed_amount; None: DEFAULT_AMOUNT_SHARE × investment
    ratio: Decimal | None = None  # fixed_ratio; None: investment / trader equity at T
    max_slippage: Decimal | None = None
    max_margin_per_order: Decimal | None = None
    stop_loss: Decimal | None = None

    def fields(self, copier: str, trader: str, trader_equity: Decimal) -> dict[str, Any]:
        """The ``copy`` event's fields, with this module's defaults filled in."""
        out: dict[str, Any] = {"copier": copier, "trader": trader, "mode": self.mode,
                               "investment": self.investment}
        if self.mode == "fixed_amount":
            out["amount"] = (self.amount if self.amount is not None
                             else self.investment * DEFAULT_AMOUNT_SHARE)
        elif self.mode == "fixed_ratio":
            out["ratio"] = self.ratio if self.ratio is not None else default_ratio(
                self.investment, trader_equity)
        for name in ("max_slippage", "max_margin_per_order", "stop_loss"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def default_ratio(investment: Decimal, trader_equity: Decimal) -> Decimal:
    """The fixed ratio that sizes a copy like the trader, scaled to the investment."""
    if trader_equity <= 0:
        return Decimal(1)
    ratio = investment / trader_equity
    return ratio.quantize(Decimal(1).scaleb(ratio.adjusted() - RATIO_DIGITS + 1))


@dataclass
class Fill:
    """One executed copier action (or liquidation / cancel) of a hypothetical copy."""

    ts: int
    event_id: str
    symbol: str | None
    action: str
    side: str | None
    status: str
    reason: str | None
    qty: Decimal
    price: Decimal | None
    trader_price: Decimal | None


@dataclass
class CopyRecord:
    """What the engine did for one hypothetical copy, as it ran."""

    copy_id: int
    plan: CopyPlan
    outcomes: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)
    snapshots: list[tuple[int, Decimal]] = field(default_factory=list)  # (day, equity)
    # (trader utilization, the copy's margin / its equity before the fill) per copied open
    utilization: list[tuple[Decimal, Decimal]] = field(default_factory=list)


@dataclass
class Run:
    """The engine after a what-if, and what it recorded."""

    trader: str
    start_ts: int
    end_ts: int
    engine: Engine
    trader_start_equity: Decimal
    trader_snapshots: list[tuple[int, Decimal]]
    copies: list[CopyRecord]
    groups: dict[int, tuple[Any, ...]]
    numbers: _Numbers

    @property
    def state(self) -> State:
        return self.engine.state

    def fills(self, record: CopyRecord) -> list[Fill]:
        """The executed actions of a copy, in the order the engine produced them."""
        out = []
        number = self.numbers
        for gid, status, reason, qty in record.outcomes:
            if qty is None:
                continue
            _, event_id, _, symbol, action, price, ts, ref, side = self.groups[gid]
            out.append(Fill(ts, event_id, symbol, action, side, status, reason, number[qty],
                            number[price] if price is not None else None,
                            number[ref] if ref is not None else None))
        return out

    def outcome_rows(self, record: CopyRecord) -> list[dict[str, Any]]:
        """The copy's outcomes as the report writes them (for comparisons)."""
        rows = []
        for gid, status, reason, qty in record.outcomes:
            _, event_id, _, symbol, action, price, ts, _, _ = self.groups[gid]
            rows.append({"event_id": event_id, "symbol": symbol, "action": action,
                         "status": status, "reason": reason, "qty": qty, "price": price,
                         "ts": format_ts(ts)})
        return rows


class _Numbers(dict[str, Decimal]):
    """Decimals of the engine's stored text (prices, quantities), parsed once each: the
    copies of a sweep share their fill prices and often their quantities."""

    def __missing__(self, text: str) -> Decimal:
        value = self[text] = Decimal(text)
        return value


class MemoryStore:
    """The engine's store for a what-if: the state lives in memory only, and each
    commit keeps what the what-if reports (outcomes, daily equity, pending actions)."""

    def __init__(self, start: State | None = None) -> None:
        self._start = start  # the state to begin from (a checkpoint's), or a new one
        self._state: State | None = None
        self.digests: dict[str, str | None] = {}
        self.groups: dict[int, tuple[Any, ...]] = {}
        self.outcomes: list[tuple[Any, ...]] = []
        self.snapshots: list[tuple[int, str, int]] = []
        self.pending: dict[int, tuple[int, str, str, CopierOrder, list[int]]] = {}
        self.watched: set[str] = set()  # accounts whose daily equity is kept
        self.open_payloads: dict[str, OpenOrder] = {}  # trader opens, by event id

    def load_state(self) -> State:
        if self._state is not None:
            # A failed event left the state part-applied; a what-if has nothing to
            # rebuild it from, so it ends (the exception that caused this follows).
            raise RuntimeError("a what-if's engine failed part-way; its state cannot be "
                               "rebuilt")
        self._state = self._start if self._start is not None else State()
        return self._state

    def event_digest(self, event_id: str) -> str | None:
        return self.digests.get(event_id)

    def commit(self, changes: Changes) -> None:
        digests = self.digests
        for event_row in changes.events:
            digests[event_row[0]] = event_row[1]
        for group in changes.outcome_groups:
            self.groups[group[0]] = group
        if changes.outcomes:
            self.outcomes.extend(changes.outcomes)
        watched = self.watched
        if changes.snapshots and watched:
            self.snapshots.extend(r for r in changes.snapshots if r[1] in watched)
        for seq in changes.pending_removed:
            self.pending.pop(seq, None)
        for b in changes.pending_added:
            if isinstance(b.payload, OpenOrder):
                self.open_payloads[b.event_id] = b.payload
            if b.seq not in changes.pending_removed:
                self.pending[b.seq] = (b.exec_ts, b.kind, b.event_id, b.payload, b.copy_ids)


def _equity(state: State, copy_id: int) -> Decimal:
    acc = state.copies[copy_id].account
    return acc.equity(state.prices) if acc.positions else acc.wallet


@dataclass(frozen=True, slots=True)
class _Replayed(Event):
    """A recorded event fed to a what-if. Its fingerprint only has to tell an id seen
    before in this run, which the run skips as the user's engine did (a reused id with
    other content was refused there): no hash of the content is needed."""

    @property
    def digest(self) -> str:
        return ""


class _Driver:
    """Feeds the filtered history to the engine: a chunk at a time while nothing is
    pending; event by event while something is, running the due copier actions one
    batch at a time first, so each copy's equity just before a fill can be read.

    Before T (``defer``), a price event of a symbol the trader holds that liquidates
    nothing (the domain's own liquidation tests) is held back, and only the latest
    per symbol is handed on, right before the next event that is passed: with no
    copies yet, a price nobody reads until then changes nothing else.
    """

    def __init__(self, engine: Engine, store: MemoryStore, trader: str) -> None:
        self.engine = engine
        self.store = store
        self.trader = trader
        self.pre_equity: dict[tuple[str, int], Decimal] = {}
        self.count = 0
        self.defer = False
        self.deferred: dict[str, Event] = {}

    def _account(self) -> Account | None:
        trader = self.engine.state.traders.get(self.trader)
        return trader.account if trader is not None else None

    def _matters(self, ev: Event) -> bool:
        kind = ev.type
        if kind in MARKET:
            st = self.engine.state
            if st.dirty or self.engine.pending_count:
                return True
            acc = self._account()
            return acc is not None and ev.fields["symbol"] in acc.positions
        if kind in TRADER_ACTIONS or kind == "trader":
            return bool(ev.fields.get("trader") == self.trader)
        return kind in ALWAYS

    def _liquidates(self, acc: Account, symbol: str, price: Decimal) -> bool:
        """Whether the liquidation check after this price would liquidate anything."""
        st = self.engine.state
        positions = acc.positions
        pos = positions[symbol]
        if pos.margin_mode == ISOLATED:
            if isolated_is_liquidated(pos, st.instruments[symbol], price):
                return True
            if len(positions) == 1:
                return False
        for other in positions.values():
            if other.margin_mode != ISOLATED:
                break
        else:
            return False  # isolated only: other symbols' positions did not move
        prices = dict(st.prices)
        prices.update((s, e.fields["price"]) for s, e in self.deferred.items())
        prices[symbol] = price
        return cross_is_liquidated(acc, st.instruments, prices)

    def flush(self) -> list[Event]:
        """The held-back prices, in time order (none left)."""
        out = sorted(self.deferred.values(), key=lambda e: e.ts)
        self.deferred.clear()
        return out

    def feed(self, events: Iterable[Event]) -> None:
        it = iter(events)
        engine = self.engine
        while True:
            if engine.pending_count:
                ev = next(it, None)
                if ev is None:
                    return
                if self._matters(ev):
                    self._one(ev)
                continue
            engine.submit_many(self._while_idle(it))
            if not engine.pending_count:  # the history is exhausted
                if self.deferred and not self.defer:
                    engine.submit_many(self.flush())
                return

    def _while_idle(self, it: Iterator[Event]) -> Iterator[Event]:
        """The events that matter, while no copier action is pending: it stops right
        after the event that scheduled one. (_matters, inlined: this loop sees every
        recorded event.)"""
        engine = self.engine
        dirty = engine.state.dirty
        deferred = self.deferred
        defer = self.defer
        trader_id = self.trader
        acc = self._account()
        for ev in it:
            kind = ev.type
            if kind == "price" or kind == "funding":
                if not dirty:
                    if acc is None:
                        acc = self._account()
                        if acc is None:
                            continue
                    symbol = ev.fields["symbol"]
                    if symbol not in acc.positions:
                        continue
                    if defer and kind == "price" and not self._liquidates(
                            acc, symbol, ev.fields["price"]):
                        deferred[symbol] = ev
                        continue
            elif kind in TRADER_ACTIONS or kind == "trader":
                if ev.fields.get("trader") != trader_id:
                    continue
            elif kind not in ALWAYS:
                continue
            if deferred:
                yield from self.flush()
            self.count += 1
            yield _Replayed(ev.id, ev.ts, ev.type, ev.fields, ev.line)
            if engine.pending_count:
                return

    def _one(self, ev: Event) -> None:
        engine, store = self.engine, self.store
        st = engine.state
        day = (st.last_ts or ev.ts) // DAY_MS
        while store.pending:
            seq, (exec_ts, kind, event_id, _, copy_ids) = min(
                store.pending.items(), key=lambda item: (item[1][0], item[0]))
            if exec_ts >= ev.ts:
                break
            self._note_equity(kind, event_id, copy_ids)
            if exec_ts // DAY_MS != day:
                break  # after a day's close: the engine runs it with the next event
            engine.advance_to(exec_ts + 1)
        self.count += 1
        engine.submit(_Replayed(ev.id, ev.ts, ev.type, ev.fields, ev.line))

    def _note_equity(self, kind: str, event_id: str, copy_ids: list[int]) -> None:
        if kind in OPENS:
            st = self.engine.state
            for copy_id in copy_ids:
                self.pre_equity[(event_id, copy_id)] = _equity(st, copy_id)


@dataclass(frozen=True)
class Checkpoint:
    """The engine's state at T with the trader as it stood, before any copy: the
    replay up to T, done once and reused by every what-if that starts there."""

    trader: str
    start_ts: int
    state: bytes  # pickled: each what-if unpickles its own copy

    def engine(self) -> tuple[Engine, MemoryStore]:
        store = MemoryStore(pickle.loads(self.state))
        return Engine(store), store


def checkpoint(history: History, trader: str, start_ts: int) -> Checkpoint:
    """Replay ``trader``'s history up to T (every event stamped ≤ ``start_ts``).

    Raises WhatIfError when the trader has no history by then.
    """
    store = MemoryStore()
    engine = Engine(store)
    driver = _Driver(engine, store, trader)
    driver.defer = True
    driver.feed(history.recorded_events(0, start_ts))
    engine.submit_many(driver.flush())
    if trader not in engine.state.traders:
        later = next((ev for ev in history.recorded_events(start_ts, END_OF_TIME, ("trader",))
                      if ev.fields.get("trader") == trader), None)
        if later is not None:
            raise WhatIfError(f"the recorded history of {trader!r} starts at "
                              f"{format_ts(later.ts)}, after the window's start "
                              f"{format_ts(start_ts)}: start the what-if later")
        raise WhatIfError(f"unknown trader {trader!r}: no recorded history of it by "
                          f"{format_ts(start_ts)}")
    return Checkpoint(trader, start_ts, pickle.dumps(engine.state))


def run_whatif(history: History, trader: str, start_ts: int, plans: Sequence[CopyPlan],
               until_ts: int | None = None, at: Checkpoint | None = None) -> Run:
    """Replay ``trader``'s history through a fresh engine with ``plans`` made at
    ``start_ts`` and run to ``until_ts`` (the end of the history when None). ``at``,
    a :func:`checkpoint` of the same trader and time, saves replaying up to T again.

    Raises WhatIfError naming what was wrong: a trader with no history by T, a window
    with no history after T, a copy the engine refuses (an investment below the
    minimum, a bad setting).
    """
    if not plans:
        raise WhatIfError("a what-if needs at least one copy")
    if until_ts is not None and until_ts <= start_ts:
        raise WhatIfError("the what-if window ends before it starts")
    if at is None:
        at = checkpoint(history, trader, start_ts)
    elif (at.trader, at.start_ts) != (trader, start_ts):
        raise ValueError("the checkpoint is of another trader or time")
    engine, store = at.engine()
    driver = _Driver(engine, store, trader)
    st = engine.state
    t = st.traders[trader]
    trader_equity = t.account.equity(st.prices)
    ts = start_ts
    events: list[Event] = []
    for i, plan in enumerate(plans, 1):
        if plan.mode not in MODES:
            raise WhatIfError(f"mode must be one of {', '.join(MODES)}, not {plan.mode!r}")
        copier = f"whatif-{i}"
        events.append(Event(f"whatif-deposit-{i}", ts, "deposit",
                            {"account": copier, "amount": plan.investment}))
        events.append(Event(f"whatif-copy-{i}", ts, "copy",
                            plan.fields(copier, trader, trader_equity)))
    _start_copies(engine, events)
    records = [CopyRecord(copy_id, plan) for copy_id, plan in zip(
        [c.id for c in t.copies], plans, strict=True)]
    store.watched = {t.account.id} | {f"copy:{r.copy_id}" for r in records}
    end = END_OF_TIME if until_ts is None else until_ts
    driver.feed(history.recorded_events(start_ts + 1, end))
    if driver.count == 0 and not _has_events(history, start_ts, end):
        raise WhatIfError(f"no recorded history after {format_ts(start_ts)}: the window "
                          "is empty")
    return _collect(engine, store, driver, trader, ts, until_ts, trader_equity, records)


def _start_copies(engine: Engine, events: list[Event]) -> None:
    for ev, result in zip(events, engine.submit_many(events), strict=True):
        if result.status != APPLIED:
            what = "copy" if ev.type == "copy" else "deposit for the copy"
            raise WhatIfError(f"the {what} was refused: {result.reason}")


def _has_events(history: History, start_ts: int, until_ts: int) -> bool:
    return next(iter(history.recorded_events(start_ts + 1, until_ts)), None) is not None


def _collect(engine: Engine, store: MemoryStore, driver: _Driver, trader: str, start_ts: int,
             until_ts: int | None, trader_equity: Decimal, records: list[CopyRecord]) -> Run:
    st = engine.state
    by_id = {r.copy_id: r for r in records}
    for row in store.outcomes:
        gid, copy_id, status, reason, qty = row
        record = by_id.get(copy_id)
        if record is not None:
            record.outcomes.append((gid, status, reason, qty))
    trader_account = st.traders[trader].account.id
    trader_snaps: list[tuple[int, Decimal]] = []
    for day, account, units in store.snapshots:
        equity = Decimal(units).scaleb(-8)
        if account == trader_account:
            trader_snaps.append((day, equity))
        else:
            by_id[int(account.split(":", 1)[1])].snapshots.append((day, equity))
    numbers = _Numbers()
    for record in records:
        record.utilization = _utilization(store, driver, record, numbers)
    end = st.last_ts if st.last_ts is not None else start_ts
    if until_ts is not None:
        end = min(max(end, start_ts), until_ts)
    return Run(trader, start_ts, end, engine, trader_equity, trader_snaps, records,
               store.groups, numbers)


def _utilization(store: MemoryStore, driver: _Driver, record: CopyRecord,
                 number: _Numbers) -> list[tuple[Decimal, Decimal]]:
    """(trader u, copy margin / copy equity before the fill) of each copied open."""
    payloads = store.open_payloads
    out = []
    for gid, status, _, qty in record.outcomes:
        if qty is None or status == "skipped":
            continue
        _, event_id, _, _, action, price, _, _, _ = store.groups[gid]
        if action not in OPENS or price is None:
            continue
        payload = payloads.get(event_id)
        equity = driver.pre_equity.get((event_id, record.copy_id))
        if payload is None or not equity or equity <= 0:
            continue
        margin = number[qty] * number[price] / payload.leverage
        out.append((payload.u, margin / equity))
    return out


