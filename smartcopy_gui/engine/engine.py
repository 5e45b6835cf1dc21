"""The copy engine: applies one event at a time, all of its effects or none.

The engine keeps the whole state in memory and hands every event's effects to its
store as one :class:`Changes` set, written in one transaction. When anything fails
part-way, the in-memory state is thrown away and rebuilt from the store, so memory
never runs ahead of what was committed.

This module holds the entry points and the order of things; the rules live beside it:
``trader_actions`` (§4), ``copies`` (§5, cancel, stop-loss, profit share),
``market_events`` (config, instruments, traders, deposits, prices, funding),
``liquidation`` (§7) and ``execution`` (the copier fan-out of §6), on the shared
bookkeeping of ``core``.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..domain.enums import EventType
from ..domain.events import Event
from ..domain.numbers import exact, money
from . import copies, market_events, trader_actions
from .copies import check_stop_losses
from .core import EngineCore, EngineStore, LimitExceeded, MalformedInput, Rejected
from .execution import run_batch
from .state import Changes

__all__ = ["APPLIED", "DUPLICATE", "REJECTED", "Engine", "EngineStore", "MalformedInput",
           "Rejected", "Result"]

log = logging.getLogger("smartcopy.engine")

DAY_MS = 86_400_000
MAX_SNAPSHOT_DAYS = 3660  # a longer gap is not filled day by day

APPLIED = "applied"
REJECTED = "rejected"
DUPLICATE = "duplicate"

Handler = Callable[[EngineCore, Event, Changes], None]
HANDLERS: dict[str, Handler] = {
    EventType.CONFIG: market_events.on_config,
    EventType.INSTRUMENT: market_events.on_instrument,
    EventType.TRADER: market_events.on_trader,
    EventType.DEPOSIT: market_events.on_deposit,
    EventType.PRICE: market_events.on_price,
    EventType.FUNDING: market_events.on_funding,
    EventType.OPEN: trader_actions.on_open,
    EventType.CLOSE: trader_actions.on_close,
    EventType.LEVERAGE: trader_actions.on_leverage,
    EventType.COPY: copies.on_copy,
    EventType.CANCEL: copies.on_cancel,
    EventType.SETTLE: copies.on_settle,
}


@dataclass(frozen=True, slots=True)
class Result:
    """What became of a submitted event."""

    status: str  # applied | rejected | duplicate
    reason: str | None = None


class Batch:
    """Events applied one by one into one change set that is committed in one
    transaction: each event's effects stay whole (all of them in the commit, or none),
    and a malformed event changes nothing, so the events before and after it still go
    into the same commit. Nothing is written before :meth:`commit`; a failure other
    than a malformed event throws the uncommitted events away (the state is rebuilt
    from the store) and propagates."""

    def __init__(self, engine: Engine, dedupe: bool = True) -> None:
        self.engine = engine
        self.dedupe = dedupe
        self.ch = Changes()
        self.seen: dict[str, str] = {}
        self.done: list[tuple[Event, str | None]] = []  # with the refusal each got
        self.changed = False  # anything to write (a duplicate alone writes nothing)

    def __len__(self) -> int:
        return len(self.done)

    @exact
    def apply(self, ev: Event) -> Result:
        """Apply ``ev`` into the batch. MalformedInput (a reused id with other content, a
        time going back) leaves the batch as it was."""
        engine = self.engine
        refuse: str | None = None
        try:
            try:
                result = engine._apply_one(ev, self.ch, self.seen, self.dedupe)
            except LimitExceeded as exc:
                # Part-way through the event: start again from the store, re-apply the
                # events before it, and record this one as rejected.
                refuse = str(exc)
                self.ch, self.seen = engine._rebuild(self.done, self.dedupe)
                result = engine._apply_one(ev, self.ch, self.seen, self.dedupe,
                                           refuse=refuse)
        except MalformedInput:
            raise
        except BaseException:
            engine.reload()
            raise
        self.done.append((ev, refuse))
        if result.status != DUPLICATE:
            self.changed = True
        return result

    def malformed(self, line: int | None, event_id: str | None, reason: str) -> None:
        """Record a malformed input line for the report, in its place among the events."""
        self.ch.rejected.append((event_id, line, reason))
        self.changed = True

    def commit(self) -> None:
        """Write what the batch applied (if anything) and start an empty one."""
        if self.changed:
            self.engine._commit(self.ch)
        self.ch = Changes()
        self.seen = {}
        self.done = []
        self.changed = False


class Engine(EngineCore):
    """Applies events to the state held by a store."""

    @exact
    def __init__(self, store: EngineStore,
                 on_commit: Callable[[Changes], None] | None = None) -> None:
        super().__init__(store, on_commit)

    @exact
    def reload(self) -> None:
        """Throw the in-memory state away and rebuild it from the store."""
        self.state = self.store.load_state()
        self.index_pending()

    def _commit(self, ch: Changes) -> None:
        try:
            self.store.commit(ch)
        except BaseException:
            self.reload()
            raise
        if self.on_commit is not None:
            self.on_commit(ch)

    @property
    def pending_count(self) -> int:
        return len(self.heap)

    # ------------------------------------------------------------------ entry points
    def submit(self, ev: Event) -> Result:
        """Apply one event with all of its effects in one transaction.

        Raises MalformedInput (nothing applied) for a reused id with other content or a
        time earlier than the last applied event.
        """
        return self.submit_many([ev])[0]

    @exact
    def submit_many(self, events: Iterable[Event], *, dedupe: bool = True) -> list[Result]:
        """Apply events in order, all of them in ONE transaction (each event whole).

        Used for bulk sources (backfill, imports). If any event is malformed input
        (a reused id with other content, a time going back), nothing at all is applied
        and MalformedInput is raised naming that event. ``dedupe=False`` is for a source
        that never sends an event twice (the world): no content digest is kept.
        """
        batch = Batch(self, dedupe)
        try:
            results = [batch.apply(ev) for ev in events]
        except BaseException:
            self.reload()
            raise
        batch.commit()
        return results

    def batch(self) -> Batch:
        """A :class:`Batch` of this engine's events (a replay's: deduplicated)."""
        return Batch(self)

    def _rebuild(self, events: list[tuple[Event, str | None]],
                 dedupe: bool = True) -> tuple[Changes, dict[str, str]]:
        """The state of the store with ``events`` applied again (their change set), each
        with the refusal it got the first time (None: it was applied as it came)."""
        self.reload()
        ch = Changes()
        seen: dict[str, str] = {}
        for ev, refuse in events:
            self._apply_one(ev, ch, seen, dedupe, refuse=refuse)
        return ch, seen

    @exact
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
                try:
                    result = self._apply_one(ev, ch, seen)
                except LimitExceeded as exc:
                    result = Result(REJECTED, str(exc))
                if result.status == REJECTED:
                    return ev, result
            return None
        finally:
            self.reload()

    def _apply_one(self, ev: Event, ch: Changes, seen: dict[str, str],
                   dedupe: bool = True, refuse: str | None = None) -> Result:
        """Apply one event into ``ch`` (or, given ``refuse``, record it rejected for that
        reason). LimitExceeded propagates: the caller rolls the event back. Without
        ``dedupe`` the event gets no digest: the world's own ticks, which never come twice."""
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
            if refuse is not None:
                raise Rejected(refuse)
            HANDLERS[ev.type](self, ev, ch)
        except LimitExceeded:
            raise
        except Rejected as exc:
            reason = str(exc)
            ch.events.append((ev.id, digest, ev.ts, ev.type, REJECTED, reason))
            ch.rejected.append((ev.id, ev.line, reason))
            result = Result(REJECTED, reason)
        else:
            check_stop_losses(self, ev.id, ev.ts, ch, None)
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

    @exact
    def advance_to(self, ts: int) -> int:
        """Run every pending copier action due strictly before ``ts``; returns how many
        batches ran. Each batch commits on its own."""
        ran = 0
        while self.heap and self.heap[0][0] < ts:
            ch = Changes()
            try:
                self._run_one(ch)
            except BaseException:
                self.reload()
                raise
            self._commit(ch)
            ran += 1
        return ran

    @exact
    def flush(self) -> int:
        """Run every pending copier action at the last known prices (end of a replay)."""
        ran = 0
        while self.heap:
            ch = Changes()
            try:
                self._run_one(ch)
            except BaseException:
                self.reload()
                raise
            self._commit(ch)
            ran += 1
        return ran

    # ------------------------------------------------------------------ copier actions
    def _run_due(self, ts: int, ch: Changes, inclusive: bool) -> None:
        heap = self.heap
        while heap and (heap[0][0] < ts or (inclusive and heap[0][0] == ts)):
            self._run_one(ch)

    def _run_one(self, ch: Changes) -> None:
        _, _, batch = heapq.heappop(self.heap)
        ch.pending_removed.append(batch.seq)
        touched = run_batch(self, batch, ch)
        if touched:
            check_stop_losses(self, batch.event_id, batch.exec_ts, ch, touched)
