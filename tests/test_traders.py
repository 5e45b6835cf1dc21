"""The simulated traders: a varied cast whose every order the engine accepts."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcopy_gui.domain.events import Event
from smartcopy_gui.domain.instruments import DEFAULT_INSTRUMENTS
from smartcopy_gui.domain.numbers import money
from smartcopy_gui.domain.positions import CROSS, ISOLATED, position_margin
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.traders import PROFILES, STYLES, Desk, TraderProfile, make_bot
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store

T0 = 1_767_225_600_000
BTC, ETH, SOL = "BTCUSDT", "ETHUSDT", "SOLUSDT"
PROFILE = {p.id: p for p in PROFILES}


def desk_for(balance: str, prices: dict[str, str] | None = None,
             profile: TraderProfile = PROFILE["trend"]) -> tuple[Engine, Desk]:
    """An engine holding one trader with ``balance`` and the given prices."""
    engine = Engine(Store(":memory:"))
    profile = dataclasses.replace(profile, balance=Decimal(balance))
    events = [Event("t", T0, "trader", {"trader": profile.id, "name": profile.name,
                                        "balance": Decimal(balance)})]
    for symbol, price in (prices or {BTC: "60000", ETH: "3000", SOL: "150"}).items():
        events.append(Event(f"p-{symbol}", T0, "price", {"symbol": symbol,
                                                         "price": Decimal(price)}))
    assert all(r.status == "applied" for r in engine.submit_many(events))
    return engine, Desk(engine.state, profile, T0 + 1000)


def submit(engine: Engine, event: Event | None) -> str:
    assert event is not None
    return engine.submit(event).status


# --------------------------------------------------------------------------- the cast
def test_the_cast_is_eight_to_twelve_distinct_traders():
    assert 8 <= len(PROFILES) <= 12
    assert len({p.id for p in PROFILES}) == len(PROFILES)
    assert len({p.name for p in PROFILES}) == len(PROFILES)
    assert len({p.style for p in PROFILES}) == len(PROFILES)
    assert {p.style for p in PROFILES} <= set(STYLES)
    assert {p.margin_mode for p in PROFILES} == {CROSS, ISOLATED}
    assert min(p.leverage[1] for p in PROFILES) <= 3  # someone cautious
    assert max(p.leverage[1] for p in PROFILES) >= 50  # someone reckless
    assert len({p.profit_share for p in PROFILES}) >= 4
    for p in PROFILES:
        assert 1 <= p.leverage[0] <= p.leverage[1]
        assert Decimal(0) < p.profit_share < 1
        assert p.balance > 0 and Decimal(0) < p.sizing < 1
        assert set(p.symbols) <= set(DEFAULT_INSTRUMENTS)
        assert p.description


def test_leverage_is_capped_by_the_instrument():
    engine, desk = desk_for("5000", profile=PROFILE["degen"])
    bot = make_bot(PROFILE["degen"], 7)
    picks = {bot.pick_leverage(Desk(engine.state, PROFILE["degen"], T0 + i), SOL)
             for i in range(50)}
    assert max(picks) == 50 == DEFAULT_INSTRUMENTS[SOL].max_leverage
    assert min(picks) >= 50


# --------------------------------------------------------------------------- the desk
def test_an_open_is_cut_to_what_the_account_affords():
    engine, desk = desk_for("100")
    event = desk.open(BTC, "long", Decimal("1000"), 10)
    assert event is not None
    qty, price, lev = event.get("qty"), event.get("price"), event.get("leverage")
    cost = position_margin(qty, price, lev) + money(qty * price * Decimal("0.0006"))
    assert cost <= 100
    more = qty + DEFAULT_INSTRUMENTS[BTC].qty_step
    assert position_margin(more, price, lev) + money(more * price * Decimal("0.0006")) > 100
    assert submit(engine, event) == "applied"


def test_no_open_when_not_even_the_minimum_fits():
    engine, desk = desk_for("50")
    assert desk.open(BTC, "long", Decimal("50"), 1) is None  # 0.001 BTC needs 60 USDT
    assert desk.open(SOL, "long", Decimal("50"), 1) is not None  # 0.1 SOL needs 15


def test_an_increase_keeps_the_positions_side_leverage_and_mode():
    engine, desk = desk_for("10000")
    assert submit(engine, desk.open(ETH, "short", Decimal("1000"), 10, ISOLATED)) == "applied"
    increase = desk.open(ETH, "short", Decimal("500"), 25, CROSS)
    assert increase is not None
    assert (increase.get("leverage"), increase.get("margin_mode")) == (Decimal(10), ISOLATED)
    assert submit(engine, increase) == "applied"
    assert desk.open(ETH, "long", Decimal("500"), 10) is None  # one-way mode


def test_closes_partial_and_whole():
    engine, desk = desk_for("10000")
    assert submit(engine, desk.open(BTC, "long", Decimal("500"), 1)) == "applied"
    held = desk.position(BTC).qty
    part = desk.close(BTC, held / 3)
    assert part is not None and Decimal(0) < part.get("qty") < held
    assert part.get("qty") % DEFAULT_INSTRUMENTS[BTC].qty_step == 0
    assert submit(engine, part) == "applied"
    whole = desk.close(BTC, held * 5)
    assert whole is not None and "qty" not in whole.fields
    assert submit(engine, whole) == "applied"
    assert desk.position(BTC) is None
    assert desk.close(BTC) is None


def test_a_leverage_change_only_when_affordable():
    engine, desk = desk_for("1000")
    assert submit(engine, desk.open(BTC, "long", Decimal("990"), 10)) == "applied"
    assert desk.set_leverage(BTC, 2) is None  # would need five times the margin
    assert desk.set_leverage(BTC, 10) is None  # changes nothing
    lower_margin = desk.set_leverage(BTC, 20)
    assert lower_margin is not None
    assert submit(engine, lower_margin) == "applied"
    assert desk.position(BTC).leverage == 20
    assert desk.set_leverage(ETH, 5) is None  # no position


def test_a_blown_up_trader_stops_opening():
    engine, desk = desk_for("400", profile=dataclasses.replace(PROFILE["degen"]))
    desk.profile = dataclasses.replace(desk.profile, balance=Decimal("5000"))
    assert desk.blown_up()
    assert desk.open(SOL, "long", Decimal("100"), 10) is None


@settings(max_examples=100, deadline=None)
@given(balance=st.decimals(min_value="20", max_value="200000", places=2),
       price=st.decimals(min_value="100", max_value="150000", places=1),
       share=st.decimals(min_value="0.01", max_value="3", places=2),
       leverage=st.integers(min_value=1, max_value=150),
       side=st.sampled_from(["long", "short"]),
       mode=st.sampled_from([CROSS, ISOLATED]),
       move=st.decimals(min_value="0.9", max_value="1.1", places=3))
def test_every_order_the_desk_builds_is_accepted(balance, price, share, leverage, side, mode,
                                                 move):
    engine, desk = desk_for(str(balance), {BTC: str(price), ETH: "3000"})
    first = desk.open(BTC, side, balance * share, leverage, mode)
    if first is None:
        return
    assert submit(engine, first) == "applied"
    # The market moves, then an increase, a leverage change, a partial close.
    moved = (price * move).quantize(Decimal("0.1"))
    engine.submit(Event("p2", T0 + 1500, "price", {"symbol": BTC, "price": moved}))
    desk.ts = T0 + 2000
    # Each is built on the state the previous one left, as the world does it.
    for build in (lambda: desk.open(BTC, side, balance * share, leverage, mode),
                  lambda: desk.open(ETH, "long", balance * share, leverage, mode),
                  lambda: desk.set_leverage(BTC, max(1, leverage // 2)),
                  lambda: desk.set_leverage(BTC, leverage * 2),
                  lambda: desk.close(BTC, first.get("qty") / 2)):
        event = build()
        if event is not None:
            assert submit(engine, event) == "applied", event


# --------------------------------------------------------------------------- the bots
@pytest.fixture(scope="module")
def ten_days():
    """The default world, seed 7, ten days of history."""
    store = Store(":memory:")
    engine = Engine(store)
    world = World.open(engine, seed=7)
    report = world.backfill(10)
    yield store, engine, world, report
    store.close()


def test_no_trader_event_is_rejected(ten_days):
    _, _, _, report = ten_days
    assert report.trader_events > 500
    assert report.rejected == []


def test_every_trader_trades_and_their_records_differ(ten_days):
    store, engine, world, _ = ten_days
    cycles = Counter(r[0] for r in store.db.conn.execute(
        "SELECT account FROM closed_positions"))
    assert all(cycles[f"trader:{p.id}"] > 0 for p in world.profiles)
    # The scalper trades far more often than the swing trader.
    assert cycles["trader:scalper"] > 10 * cycles["trader:swing"]
    st_ = engine.state
    change = {p.id: st_.traders[p.id].account.equity(st_.prices) / p.balance - 1
              for p in world.profiles}
    assert sum(1 for c in change.values() if c > 0) >= 2
    assert sum(1 for c in change.values() if c < 0) >= 2


def test_the_gambler_gets_liquidated(ten_days):
    store, _, _, _ = ten_days
    liquidations = Counter(r[0] for r in store.db.conn.execute(
        "SELECT account FROM closed_positions WHERE how='liquidation'"))
    assert liquidations["trader:degen"] >= 1


def test_leverage_events_come_from_the_swing_trader_and_the_gambler(ten_days):
    store, _, _, _ = ten_days
    traders = {r[0].split("-")[0] for r in store.db.conn.execute(
        "SELECT id FROM events WHERE type='leverage'")}
    assert traders and traders <= {"swing", "degen"}


def test_bot_memory_is_plain_json(ten_days):
    _, _, world, _ = ten_days
    for bot in world.bots:
        state = json.loads(json.dumps(bot.to_state()))
        fresh = make_bot(bot.profile, 7)
        fresh.load_state(state)
        assert fresh.to_state() == bot.to_state()
        assert fresh.mem is not bot.mem
