"""The simulated world: the market and the lead traders, fed into the engine.

The world speaks only the event types of the scenario format, through the same
entry point as a replayed file (``Engine.submit_many``). Each simulated step
emits a ``price`` event per symbol, a ``funding`` event per symbol at 00:00, 08:00
and 16:00 UTC, a ``settle`` event (profit share of every active copy) at 00:00 UTC,
then whatever the traders whose bar has closed decide to do. Funding and settlement
go to the first step at or after their time (the time itself when the step grid
lands on it, as it does for a world started at midnight).

A chunk of simulated time (an hour live, a day during the backfill) is one
``submit_many`` call, so one transaction. The events are handed over by a
generator: the engine applies each as it draws it, so when a trader decides, the
engine's state already holds every event before it, and the trader sizes its
orders on its real account (see ``traders.Desk``). Ids are deterministic
(``px-BTCUSDT-<ts>``, ``funding-…``, ``settle-<ts>``, ``<trader>-<ts>-<n>``), so the same seed
gives the same events.

The world is a function of its seed, the length of its first backfill and the
simulated time reached, whatever the speed, pauses, restarts or kills:

- the steps lie on one grid counted from the world's start: 150 s over the first
  launch's backfill (90 days, built in seconds), then 10 s live, at every speed the
  user picks (``WorldClock`` only maps real time to simulated time). Ten seconds keep
  thirty prices inside each of the traders' five-minute bars, so a position can be
  liquidated between two bars;
- the world's state is saved in the same store transaction as the events of each
  chunk, so after a kill the store holds the world exactly as it stood after its last
  committed events, and it carries on from there as if never interrupted.

``to_state``/``from_state`` capture everything needed to continue identically, and
``save``/``open`` keep it in the store's ``meta`` table under ``world_state``.
"""

from __future__ import annotations

import bisect
import json
import logging
import pickle
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from ..domain.events import Event
from ..engine.engine import DUPLICATE, REJECTED, Engine, Result
from .import_apply import TransactionalStore
from .market import HOUR_MS, SYMBOLS, MarketSim
from .traders import PROFILES, Bot, Desk, TraderProfile, make_bot

log = logging.getLogger("smartcopy.world")

DAY_MS = 86_400_000
DEFAULT_SEED = 7
DEFAULT_START_TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the same seed, the same world
BACKFILL_DAYS = 90
BACKFILL_STEP_MS = 150_000
BACKFILL_CHUNK_MS = DAY_MS
LIVE_STEP_MS = 10_000  # at every speed; divides the backfill step and every bar
LIVE_CHUNK_MS = HOUR_MS
FUNDING_INTERVAL_MS = 8 * HOUR_MS
SETTLE_INTERVAL_MS = DAY_MS  # profit share is settled once a day, at 00:00 UTC
SPEEDS = (1, 10, 60, 600)
META_KEY = "world_state"
STATE_VERSION = 1
TRADER_EVENTS = frozenset({"open", "close", "leverage"})


@dataclass
class AdvanceReport:
    """What a stretch of simulated time sent to the engine."""

    events: int = 0
    applied: int = 0
    duplicates: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[Event, Result]] = field(default_factory=list)

    @property
    def trader_events(self) -> int:
        return sum(self.by_type[t] for t in TRADER_EVENTS)

    def add(self, events: Sequence[Event], results: Sequence[Result]) -> None:
        for event, result in zip(events, results, strict=True):
            self.events += 1
            self.by_type[event.type] += 1
            if result.status == REJECTED:
                self.rejected.append((event, result))
            elif result.status == DUPLICATE:
                self.duplicates += 1
            else:
                self.applied += 1

    def merge(self, other: AdvanceReport) -> None:
        self.events += other.events
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.by_type.update(other.by_type)
        self.rejected.extend(other.rejected)


@dataclass
class WorldClock:
    """How far simulated time moves for the real time that passed: ``speed`` × real
    time, nothing while paused. Whole milliseconds; the fractions carry over."""

    speed: int = 60
    paused: bool = False
    _carry: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.set_speed(self.speed)

    def set_speed(self, speed: int) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {', '.join(map(str, SPEEDS))}")
        self.speed = speed

    def sim_ms(self, real_seconds: float) -> int:
        """Simulated milliseconds to advance for ``real_seconds`` of wall-clock time."""
        if self.paused or real_seconds <= 0:
            return 0
        total = real_seconds * 1000 * self.speed + self._carry
        whole = int(total)
        self._carry = total - whole
        return whole


class World:
    """The simulated market and traders, advancing through an engine."""

    def __init__(self, engine: Engine, seed: int = DEFAULT_SEED,
                 start_ts_ms: int = DEFAULT_START_TS,
                 profiles: Sequence[TraderProfile] = PROFILES) -> None:
        self.engine = engine
        if not isinstance(engine.store, TransactionalStore):
            raise TypeError("the world needs a store that saves it with its events")
        self._store: TransactionalStore = engine.store
        self.seed = seed
        self.start_ts = start_ts_ms
        self.now = start_ts_ms  # the time of the last simulated step
        self.target = start_ts_ms  # live time asked for (now ≤ target < now + a step)
        self.backfilled_to: int | None = None
        self.backfill_end = start_ts_ms  # the backfill's steps are coarser, up to here
        self.profiles = tuple(profiles)
        ticks = {s: engine.state.instruments[s].tick for s in SYMBOLS}
        self.market = MarketSim(seed, start_ts_ms, ticks=ticks)
        self.bots: list[Bot] = [make_bot(p, seed) for p in self.profiles]
        self._bar_lengths = sorted({b.bar_ms for b in self.bots})
        self.totals = AdvanceReport()

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, engine: Engine, seed: int = DEFAULT_SEED, start_ts_ms: int | None = None,
             profiles: Sequence[TraderProfile] = PROFILES) -> World:
        """The world saved in the engine's store, or a new one registered at its start.

        A new world starts at ``start_ts_ms`` (2026-01-01 by default), or at the next
        midnight after the store's last event when that is later.
        """
        saved = load_world_state(engine.store)
        if saved is not None:
            world = cls.from_state(engine, saved, profiles)
            if world.seed != seed:
                log.warning("the store holds the world of seed %s; continuing it (seed %s "
                            "was asked for)", world.seed, seed)
            world.catch_up()
            world.register()
            return world
        start = DEFAULT_START_TS if start_ts_ms is None else start_ts_ms
        last = engine.state.last_ts
        if last is not None and last > start:
            start = (last // DAY_MS + 1) * DAY_MS
        world = cls(engine, seed, start, profiles)
        world.register()
        world.save()
        return world

    def register(self) -> AdvanceReport:
        """Register every trader not yet known to the engine, and the opening prices.

        Idempotent: the ids are fixed, and known traders are left alone.
        """
        st = self.engine.state
        ts = max(self.now, st.last_ts or self.now)
        events = [Event(f"world-trader-{p.id}", ts, "trader",
                        {"trader": p.id, "name": p.name, "balance": p.balance,
                         "profit_share": p.profit_share})
                  for p in self.profiles if p.id not in st.traders]
        events += [Event(f"px-{s}-{ts}", ts, "price", {"symbol": s, "price": self.market.price(s)})
                   for s in SYMBOLS if s not in st.prices]
        report = AdvanceReport()
        if events:
            report.add(events, self.engine.submit_many(events, dedupe=False))
            self.totals.merge(report)
        return report

    def catch_up(self) -> AdvanceReport:
        """A database written before the world's state was saved with each chunk may
        hold world events after the saved world (a crash between the two): the world
        then jumps to the engine's time without sending anything (its traders miss
        that stretch), since it cannot tell how the lost run stepped."""
        last = self.engine.state.last_ts
        if last is None or last <= self.now:
            return AdvanceReport()
        log.warning("the saved world stood at %s, the engine at %s: jumping ahead", self.now,
                    last)
        self.market.step(last - self.now)
        self.now = last
        self.target = max(self.target, self.now)
        self.save()
        return AdvanceReport()

    # ------------------------------------------------------------------ reading
    def trader_ids(self) -> list[str]:
        return [p.id for p in self.profiles]

    def now_ts(self) -> int:
        """Simulated time: the time of the last step."""
        return self.now

    def needs_backfill(self) -> bool:
        """True until the history has been built once."""
        return self.backfilled_to is None

    # ------------------------------------------------------------------ running
    def advance(self, to_ts_ms: int, chunk_ms: int = LIVE_CHUNK_MS) -> AdvanceReport:
        """Simulate up to ``to_ts_ms`` on the world's grid of steps (see ``_grid``), one
        transaction per ``chunk_ms`` of simulated time.

        Idempotent: of a stretch the engine has already seen (a re-run from an older
        state) nothing is sent again (the world's events carry no digest to tell a
        repeat by); the traders only watch it.
        """
        return self._advance(self._grid(to_ts_ms), chunk_ms)

    def _advance(self, times: list[int], chunk_ms: int) -> AdvanceReport:
        """Step to each of ``times`` (increasing, after now), a transaction per chunk."""
        report = AdvanceReport()
        seen_until = self.engine.state.last_ts
        i = 0
        while i < len(times):
            chunk_end = self._boundary_after(self.now, chunk_ms)
            j = max(i + 1, bisect.bisect_right(times, chunk_end, lo=i))
            self._run_chunk(times[i:j], seen_until, report)
            i = j
        self.totals.merge(report)
        if report.rejected:
            log.warning("%d world events were rejected, the first: %s → %s",
                        len(report.rejected), report.rejected[0][0],
                        report.rejected[0][1].reason)
        return report

    def backfill(self, days: int = BACKFILL_DAYS,
                 progress: Callable[[int, int], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> AdvanceReport:
        """Build the history: ``days`` from the world's start in backfill steps
        (continuing an interrupted backfill), one transaction a day, reporting (days
        done, days). When ``stop`` says so after a day, it returns early: the history is
        then still unfinished (``needs_backfill``) and the next call carries on from
        that day."""
        end = self.start_ts + days * DAY_MS
        self.backfill_end = max(self.backfill_end, end)
        report = AdvanceReport()
        while self.now < end:
            day_end = min(end, self._boundary_after(self.now, DAY_MS))
            report.merge(self.advance(day_end, BACKFILL_CHUNK_MS))
            if progress is not None:
                progress((self.now - self.start_ts) // DAY_MS, days)
            if stop is not None and self.now < end and stop():
                return report
        self.backfilled_to = self.now
        self.target = max(self.target, self.now)
        self.save()
        if isinstance(self._store, CheckpointingStore):
            self._store.checkpoint()  # the backfill's WAL into the file, the WAL emptied
        return report

    def run_for(self, sim_ms: int) -> AdvanceReport:
        """Run live ``sim_ms`` further; what is short of a step carries over. The
        steps are the same whatever ``sim_ms`` is (whatever the speed)."""
        self.target = max(self.target, self.now) + max(0, sim_ms)
        return self.advance(self.target)

    # ------------------------------------------------------------------ the steps
    def _boundary_after(self, ts: int, every_ms: int) -> int:
        """The first multiple of ``every_ms`` after ``ts``, counted from the start."""
        return self.start_ts + ((ts - self.start_ts) // every_ms + 1) * every_ms

    def _grid(self, to_ts: int) -> list[int]:
        """The step times after now up to ``to_ts``: multiples of the backfill step from
        the start up to ``backfill_end``, then of the live step, so the same stretch is
        cut the same way however it is asked for."""
        times: list[int] = []
        now = self.now
        if now < self.backfill_end:
            coarse_to = min(to_ts, self.backfill_end)
            times += range(self._boundary_after(now, BACKFILL_STEP_MS), coarse_to + 1,
                           BACKFILL_STEP_MS)
            now = max(now, coarse_to)
        if to_ts > now:
            times += range(self._boundary_after(now, LIVE_STEP_MS), to_ts + 1, LIVE_STEP_MS)
        return times

    def _steps(self, times: list[int]) -> Iterator[tuple[int, int, list[tuple[str, Decimal]]]]:
        """Move the market to each of ``times``: (time, time of the step before, prices)."""
        for ts in times:
            prices = self.market.step(ts - self.now)
            previous, self.now = self.now, ts
            yield ts, previous, prices

    def _due_bots(self, ts: int, previous: int) -> list[Bot]:
        """The traders whose bar closed in the step from ``previous`` to ``ts``."""
        start = self.start_ts
        closed = {bar: (ts - start) // bar != (previous - start) // bar
                  for bar in self._bar_lengths}
        return [b for b in self.bots if closed[b.bar_ms]]

    def _events(self, times: list[int], seen_until: int | None,
                sent: list[Event]) -> Iterator[Event]:
        """Every event of the steps to ``times``, in time order; each is applied by the engine
        before the next is drawn, so the traders decide on current state. Up to
        ``seen_until`` the engine has applied everything already: nothing is sent, the
        traders watch."""
        engine = self.engine
        market = self.market
        profiles = {p.id: p for p in self.profiles}
        for ts, previous, prices in self._steps(times):
            if seen_until is not None and ts <= seen_until:
                for bot in self._due_bots(ts, previous):
                    bot.observe(ts, {s: market.model_price(s) for s in bot.symbols})
                continue
            for symbol, price in prices:
                ev = Event(f"px-{symbol}-{ts}", ts, "price", {"symbol": symbol, "price": price})
                sent.append(ev)
                yield ev
            if ts // FUNDING_INTERVAL_MS != previous // FUNDING_INTERVAL_MS:
                for symbol in SYMBOLS:
                    ev = Event(f"funding-{symbol}-{ts}", ts, "funding",
                               {"symbol": symbol, "rate": market.funding_rate(symbol)})
                    sent.append(ev)
                    yield ev
            if ts // SETTLE_INTERVAL_MS != previous // SETTLE_INTERVAL_MS:
                ev = Event(f"settle-{ts}", ts, "settle", {})
                sent.append(ev)
                yield ev
            due = self._due_bots(ts, previous)
            if not due:
                continue
            state = engine.state
            if state.last_ts != ts:
                raise RuntimeError("the engine must apply each event of submit_many as it "
                                   "draws it: the simulated traders decide on current state")
            for bot in due:
                bot.observe(ts, {s: market.model_price(s) for s in bot.symbols})
                desk = Desk(state, profiles[bot.id], ts)
                for ev in bot.act(desk):
                    sent.append(ev)
                    yield ev

    def _run_chunk(self, times: list[int], seen_until: int | None,
                   report: AdvanceReport) -> None:
        """One transaction's worth of steps: the events, and the world's state after
        them. If the engine refuses or anything fails, the engine and the world go back
        to where they stood."""
        store = self._store
        saved = pickle.dumps(self._state_view())  # the fastest deep copy
        sent: list[Event] = []
        try:
            with store.transaction():
                results = self.engine.submit_many(self._events(times, seen_until, sent),
                                                  dedupe=False)
                self.save()
        except BaseException:
            self.engine.reload()
            self._restore(pickle.loads(saved))
            raise
        report.add(sent, results)

    # ------------------------------------------------------------------ persistence
    def to_state(self) -> dict[str, Any]:
        """Everything needed to continue identically, as JSON-ready values."""
        state: dict[str, Any] = json.loads(self._state_text())
        return state

    def _state_view(self) -> dict[str, Any]:
        """:meth:`to_state` sharing the traders' live memories: serialise it at once.
        (Saved with every chunk, so no deep copies.)"""
        return {
            "version": STATE_VERSION, "seed": self.seed, "start_ts": self.start_ts,
            "now": self.now, "target": self.target, "backfilled_to": self.backfilled_to,
            "backfill_end": self.backfill_end,
            "market": self.market.to_state(),
            "bots": {b.id: b.state_view() for b in self.bots},
        }

    def _state_text(self) -> str:
        return json.dumps(self._state_view(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_state(cls, engine: Engine, state: Mapping[str, Any],
                   profiles: Sequence[TraderProfile] = PROFILES) -> World:
        """A world continuing from :meth:`to_state`'s output."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"world state version {state.get('version')!r} is not "
                             f"{STATE_VERSION}; delete the database to start a new world")
        world = cls(engine, state["seed"], state["start_ts"], profiles)
        world._restore(state)
        return world

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.now = state["now"]
        self.target = state["target"]
        self.backfilled_to = state["backfilled_to"]
        # A state saved before the grid was kept with it: its backfill was 90 days.
        self.backfill_end = state.get("backfill_end",
                                      self.start_ts + BACKFILL_DAYS * DAY_MS)
        self.market = MarketSim.from_state(state["market"])
        bots = state["bots"]
        for bot in self.bots:
            if bot.id in bots:
                bot.load_state(bots[bot.id])

    def save(self) -> None:
        """Keep where the world stands in the store (a no-op for stores without SQL)."""
        save_world_state(self.engine.store, self._state_view())


@runtime_checkable
class CheckpointingStore(Protocol):
    """A store whose write-ahead log can be emptied into its file (after the backfill)."""

    def checkpoint(self) -> None: ...


@runtime_checkable
class WorldStore(Protocol):
    """What the world keeps in (and reads from) the engine's store, when it has one."""

    def load_meta(self, key: str) -> str | None: ...

    def save_meta(self, key: str, value: str) -> None: ...


def load_world_state(store: object) -> dict[str, Any] | None:
    """The world state saved in ``store``'s meta table, or None."""
    if not isinstance(store, WorldStore):
        return None
    text = store.load_meta(META_KEY)
    if text is None:
        return None
    state: dict[str, Any] = json.loads(text)
    return state


def save_world_state(store: object, state: Mapping[str, Any]) -> None:
    """Write the world state into ``store``'s meta table: in the transaction the store
    holds open (a chunk's events, so a kill cannot separate the two), or in its own."""
    if isinstance(store, WorldStore):
        store.save_meta(META_KEY, json.dumps(state, separators=(",", ":"), allow_nan=False))
