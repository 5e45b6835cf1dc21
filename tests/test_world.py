"""The simulated world through the real engine: reproducible, accepted, restartable."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from smartcopy_gui.domain.events import Event
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.engine.report import build_report
from smartcopy_gui.engine.state import Changes
from smartcopy_gui.sources.traders import PROFILES
from smartcopy_gui.sources.world import (
    DEFAULT_START_TS,
    SPEEDS,
    World,
    WorldClock,
    load_world_state,
    save_world_state,
)
from smartcopy_gui.store import Store

D = Decimal
DAY_MS = 86_400_000
COPIES = [  # copier, trader, mode, investment, amount or ratio
    ("c1", "trend", "smart", Decimal("2000"), None),
    ("c2", "meanrev", "smart", Decimal("1000"), None),
    ("c3", "grid", "fixed_amount", Decimal("1500"), Decimal("100")),
    ("c4", "degen", "smart", Decimal("500"), None),
    ("c5", "scalper", "fixed_ratio", Decimal("3000"), Decimal("0.5")),
]


def start_copies(engine: Engine, ts: int) -> None:
    events = []
    for copier, trader, mode, investment, param in COPIES:
        events.append(Event(f"dep-{copier}", ts, "deposit", {"account": copier,
                                                             "amount": investment}))
        fields: dict[str, Any] = {"copier": copier, "trader": trader, "mode": mode,
                                  "investment": investment}
        if param is not None:
            fields["amount" if mode == "fixed_amount" else "ratio"] = param
        events.append(Event(f"copy-{copier}", ts, "copy", fields))
    assert [r.status for r in engine.submit_many(events)] == ["applied"] * len(events)


def new_world(seed: int = 7, store: Store | None = None, copies: bool = True
              ) -> tuple[Store, Engine, World]:
    store = store or Store(":memory:")
    engine = Engine(store)
    world = World.open(engine, seed=seed)
    if copies:
        start_copies(engine, world.now_ts())
    return store, engine, world


def report(store: Store, engine: Engine) -> dict[str, Any]:
    return build_report(engine.state, store.outcomes(), store.rejected(),
                        store.deposit_accounts())


def event_log(store: Store) -> list[tuple[str, str]]:
    """Every applied event as (id, content digest), in the order applied."""
    return [(e.id, e.digest) for e in store.recorded_events()]


@pytest.fixture(scope="module")
def three_days():
    store, engine, world = new_world()
    result = world.backfill(3)
    yield store, engine, world, result
    store.close()


# --------------------------------------------------------------------------- reproducible
def test_the_same_seed_gives_the_same_world(three_days):
    store_a, engine_a, _, _ = three_days
    store_b, engine_b, world_b = new_world()
    world_b.backfill(3)
    assert event_log(store_b) == event_log(store_a)
    assert report(store_b, engine_b) == report(store_a, engine_a)
    assert sum(1 for event_id, _ in event_log(store_b) if event_id.startswith("settle-")) == 3
    store_b.close()


def test_a_different_seed_gives_a_different_world(three_days):
    store_a, engine_a, _, _ = three_days
    store_b, engine_b, world_b = new_world(seed=8)
    world_b.backfill(3)
    assert report(store_b, engine_b)["traders"] != report(store_a, engine_a)["traders"]
    store_b.close()


# --------------------------------------------------------------------------- accepted
def test_every_world_event_is_accepted_with_copies_running(three_days):
    store, engine, world, result = three_days
    assert result.rejected == []
    assert store.rejected() == []
    assert result.trader_events > 100
    assert result.applied == result.events  # nothing refused, nothing already there
    outcomes = Counter(o["copier"] for o in store.outcomes())
    assert {c[0] for c in COPIES} <= set(outcomes)


def test_prices_every_step_funding_every_eight_hours_settlement_every_day(three_days):
    _, _, world, result = three_days
    assert result.by_type["price"] == 3 * 3 * DAY_MS // 150_000
    assert result.by_type["funding"] == 3 * 3 * 3
    assert result.by_type["settle"] == 3
    assert world.now_ts() == world.start_ts + 3 * DAY_MS


def test_settlement_comes_at_each_midnight_after_that_instants_prices(three_days):
    store, _, world, _ = three_days
    rows = [(e.id, e.ts, e.type) for e in store.recorded_events()]
    settles = [(i, event_id, ts) for i, (event_id, ts, type_) in enumerate(rows)
               if type_ == "settle"]
    midnights = [world.start_ts + d * DAY_MS for d in (1, 2, 3)]
    assert [(event_id, ts) for _, event_id, ts in settles] == [
        (f"settle-{m}", m) for m in midnights]
    assert all(m % DAY_MS == 0 for m in midnights)  # 00:00 UTC
    for i, _, ts in settles:
        same_instant = [type_ for _, t, type_ in rows if t == ts]
        before = [type_ for _, t, type_ in rows[:i] if t == ts]
        # The prices and funding of the instant first, then the settlement, then trades.
        assert before == ["price"] * 3 + ["funding"] * 3
        assert same_instant[len(before)] == "settle"
        assert set(same_instant[len(before) + 1:]) <= {"open", "close", "leverage"}


def test_profitable_copies_pay_profit_share_at_the_daily_settlement(three_days):
    store, engine, _, _ = three_days
    rep = report(store, engine)
    assert all(c["status"] == "active" for c in rep["copies"])  # no copy ended
    postings = store.db.conn.execute(
        "SELECT account, amount, event_id FROM ledger WHERE kind='profit_share'").fetchall()
    assert postings and all(event_id.startswith("settle-") for _, _, event_id in postings)
    for event_id in {e for _, _, e in postings}:  # each settlement moves money, zero-sum
        assert sum(a for _, a, e in postings if e == event_id) == 0
    paying = [c for c in rep["copies"] if D(c["profit_share"]) > 0]
    assert len(paying) >= 2
    for c in paying:
        copy = next(r for r in engine.state.copies.values() if r.copier == c["copier"])
        rate = engine.state.traders[c["trader"]].profit_share
        # rate × the high-water mark, rounded to 1e-8 at each of the three settlements
        assert abs(D(c["profit_share"]) - rate * copy.hwm) <= D("3e-8")
        assert copy.hwm > 0
    earned = {t: D(v["earned_profit_share"]) for t, v in rep["traders"].items()}
    paid: dict[str, Decimal] = {}
    for c in rep["copies"]:
        paid[c["trader"]] = paid.get(c["trader"], D(0)) + D(c["profit_share"])
    assert {t: a for t, a in earned.items() if a} == {t: a for t, a in paid.items() if a}


def test_events_come_in_time_order_with_deterministic_ids(three_days):
    store, _, world, _ = three_days
    rows = [(e.id, e.ts, e.type) for e in store.recorded_events()]
    assert [ts for _, ts, _ in rows] == sorted(ts for _, ts, _ in rows)
    for event_id, ts, type_ in rows:
        if type_ == "price":
            assert event_id.startswith("px-") and event_id.endswith(f"-{ts}")
        elif type_ == "funding":
            assert event_id.startswith("funding-") and ts % (8 * 3_600_000) == 0
        elif type_ == "settle":
            assert event_id == f"settle-{ts}" and ts % DAY_MS == 0
        elif type_ in ("open", "close", "leverage"):
            assert event_id.split("-")[0] in world.trader_ids()


def test_rerunning_the_same_stretch_is_idempotent():
    store, engine, world = new_world(copies=False)
    saved = world.to_state()
    world.advance(world.start_ts + 2 * 3_600_000)
    before = report(store, engine)
    ticks = list(store.price_ticks())
    again = World.from_state(engine, saved)
    # Nothing the engine has seen is sent again; the world carries on after it.
    rerun = again.advance(world.start_ts + 600_000)
    assert rerun.events == 0
    assert report(store, engine) == before
    assert list(store.price_ticks()) == ticks
    assert again.now_ts() == world.start_ts + 600_000


# --------------------------------------------------------------------------- restart
def test_a_restart_continues_exactly_where_the_world_stood():
    store_a, engine_a, world_a = new_world()
    world_a.backfill(2)

    store_b, engine_b, world_b = new_world()
    world_b.backfill(1)
    state = json.loads(json.dumps(world_b.to_state()))
    copy = Store(":memory:")
    store_b.db.conn.backup(copy.db.conn)
    engine_c = Engine(copy)
    world_c = World.from_state(engine_c, state)
    world_c.backfill(2)
    assert event_log(copy) == event_log(store_a)
    # Stopped and restarted at midnight: that midnight is settled once, the next too.
    assert [e for e, _ in event_log(copy) if e.startswith("settle-")] == [
        f"settle-{world_a.start_ts + DAY_MS}", f"settle-{world_a.start_ts + 2 * DAY_MS}"]
    assert report(copy, engine_c) == report(store_a, engine_a)
    assert world_c.to_state() == json.loads(json.dumps(world_a.to_state()))
    for s in (store_a, store_b, copy):
        s.close()


def test_open_resumes_the_saved_world_from_the_store(db_path):
    store_a, engine_a, world_a = new_world()
    world_a.backfill(1)
    world_a.run_for(20 * 60_000)

    store_b, _, world_b = new_world(store=Store(db_path))
    assert world_b.needs_backfill()
    world_b.backfill(1)
    assert not world_b.needs_backfill()
    store_b.close()

    store_c = Store(db_path)  # a restart
    engine_c = Engine(store_c)
    world_c = World.open(engine_c, seed=7)
    assert not world_c.needs_backfill()
    assert world_c.now_ts() == DEFAULT_START_TS + DAY_MS
    assert world_c.register().events == 0  # nothing registered twice
    world_c.run_for(20 * 60_000)
    assert report(store_c, engine_c) == report(store_a, engine_a)
    assert load_world_state(store_c)["now"] == world_c.now_ts()
    store_a.close()
    store_c.close()


def test_a_failed_transaction_leaves_the_world_where_it_stood():
    class FlakyStore(Store):
        fail = False

        def commit(self, changes: Changes) -> None:
            if self.fail:
                raise OSError("disk full")
            super().commit(changes)

    store = FlakyStore(":memory:")
    engine = Engine(store)
    world = World.open(engine, seed=7)
    world.backfill(1)
    before = world.to_state()
    store.fail = True
    with pytest.raises(OSError):
        world.advance(world.now_ts() + 3_600_000)
    assert world.to_state() == before
    store.fail = False
    world.advance(world.now_ts() + 3_600_000)

    clean_store, clean_engine, clean = new_world(copies=False)
    clean.backfill(1)
    clean.advance(clean.now_ts() + 3_600_000)
    assert event_log(store) == event_log(clean_store)
    assert report(store, engine) == report(clean_store, clean_engine)


def test_a_world_saved_behind_its_events_jumps_to_them(db_path):
    # A database written before the world's state was saved with its events, after a
    # crash between the two: the store holds the world ten simulated minutes earlier.
    store, engine, world = new_world(store=Store(db_path), copies=False)
    world.backfill(1)
    stale = world.to_state()
    world.run_for(10 * 60_000)
    save_world_state(store, stale)
    store.close()
    store = Store(db_path)
    engine = Engine(store)
    world = World.open(engine, seed=7)
    assert world.now_ts() == engine.state.last_ts == DEFAULT_START_TS + DAY_MS + 600_000
    result = world.run_for(10 * 60_000)
    assert result.rejected == [] and result.duplicates == 0 and result.events > 0
    assert engine.state.last_ts == DEFAULT_START_TS + DAY_MS + 1_200_000
    store.close()


# --------------------------------------------------------------------------- live
def test_live_steps_are_ten_seconds_and_the_remainder_carries():
    store, engine, world = new_world(copies=False)
    first = world.run_for(25_000)
    assert first.by_type["price"] == 2 * 3
    second = world.run_for(6_000)  # 31 s asked in all: one more step
    assert second.by_type["price"] == 3
    assert world.now_ts() == world.start_ts + 30_000
    assert engine.state.last_ts == world.now_ts()
    assert world.run_for(0).events == 0


def test_live_running_settles_once_when_it_crosses_midnight(db_path):
    store, engine, world = new_world(store=Store(db_path))
    midnight = world.start_ts + DAY_MS
    world.advance(midnight - 60_000)
    assert not list(store.recorded_events(types=["settle"]))
    first = world.run_for(40_000)  # live, ten-second steps: up to 20 s before midnight
    assert first.by_type["settle"] == 0
    store.close()
    store = Store(db_path)  # a restart just before midnight
    engine = Engine(store)
    world = World.open(engine, seed=7)
    second = world.run_for(40_000)  # crosses midnight
    assert second.by_type["settle"] == 1
    assert world.run_for(40_000).by_type["settle"] == 0
    rows = [(e.id, e.ts) for e in store.recorded_events(types=["settle"])]
    assert rows == [(f"settle-{midnight}", midnight)]
    store.close()


def test_every_speed_takes_the_same_steps():
    _, _, slow = new_world(copies=False)
    for _ in range(12):
        slow.run_for(10_000)  # a tick at 1× every ten real seconds
    store, engine, fast = new_world(copies=False)
    result = fast.run_for(120_000)  # one 200 ms tick at 600×
    assert result.by_type["price"] == 12 * 3
    assert fast.now_ts() == slow.now_ts() == fast.start_ts + 120_000
    assert fast.to_state() == slow.to_state()


def test_the_clock_runs_at_the_chosen_speed_and_stops_when_paused():
    clock = WorldClock(speed=600)
    assert clock.sim_ms(0.2) == 120_000
    clock.set_speed(1)
    assert [clock.sim_ms(0.0004) for _ in range(5)] == [0, 0, 1, 0, 1]
    clock.paused = True
    assert clock.sim_ms(10) == 0
    clock.paused = False
    clock.set_speed(10)
    assert clock.sim_ms(1) == 10_000
    assert SPEEDS == (1, 10, 60, 600)
    with pytest.raises(ValueError):
        clock.set_speed(7)


def test_a_new_world_starts_after_what_the_store_already_holds():
    store = Store(":memory:")
    engine = Engine(store)
    later = DEFAULT_START_TS + 5 * DAY_MS + 123
    engine.submit(Event("old", later, "deposit", {"account": "me", "amount": Decimal("10")}))
    world = World.open(engine, seed=7)
    assert world.start_ts == DEFAULT_START_TS + 6 * DAY_MS
    assert set(engine.state.traders) == {p.id for p in PROFILES}
    assert world.backfill(0).events == 0


# --------------------------------------------------------------------------- 90 days
@pytest.mark.slow
def test_ninety_days_with_five_copies_has_no_rejections_and_honest_records(db_path):
    # How long this takes is measured by bench/backfill.py, not asserted here.
    store = Store(db_path)
    engine = Engine(store)
    world = World.open(engine, seed=7)
    start_copies(engine, world.now_ts())
    days_seen = []
    result = world.backfill(90, progress=lambda done, total: days_seen.append((done, total)))
    assert days_seen[-1] == (90, 90) and len(days_seen) == 90
    assert result.rejected == [] and store.rejected() == []
    assert result.by_type["settle"] == 90
    st = engine.state
    change = {p.id: st.traders[p.id].account.equity(st.prices) / p.balance - 1
              for p in world.profiles}
    assert sum(1 for c in change.values() if c > Decimal("0.05")) >= 3, change
    assert sum(1 for c in change.values() if c < Decimal("-0.05")) >= 3, change
    liquidations = store.db.conn.execute(
        "SELECT COUNT(*) FROM closed_positions WHERE how='liquidation' AND "
        "account='trader:degen'").fetchone()[0]
    assert liquidations >= 3
    store.close()
