"""The compact history: every price the engine applied comes back exactly and in order,
and the recorded events rebuild the same state in a fresh engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcopy_gui.domain.events import Event
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.engine.state import Changes
from smartcopy_gui.sources.scenario import read_lines
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store
from smartcopy_gui.store.history import decode_fields, encode_fields, pack_price, unpack_price

ROOT = Path(__file__).resolve().parent.parent
D = Decimal
T0 = 1_767_225_600_000


def _wallets_and_positions(engine: Engine) -> dict[str, object]:
    st_ = engine.state
    accounts = [t.account for t in st_.traders.values()]
    accounts += [t.earned for t in st_.traders.values()]
    accounts += [c.account for c in st_.copies.values()]
    accounts += list(st_.contracts.values())
    return {
        "wallets": {a.id: a.wallet for a in accounts},
        "positions": {a.id: sorted((p.symbol, p.side, p.qty, p.entry, p.leverage,
                                    p.margin_mode) for p in a.positions.values())
                      for a in accounts},
        "prices": dict(st_.prices),
        "copies": {c.id: (c.copier, c.trader, c.status, c.hwm) for c in st_.copies.values()},
    }


@given(st.decimals(min_value=D("1e-12"), max_value=D("1e12"), allow_nan=False,
                   allow_infinity=False, places=None))
def test_a_price_packs_and_unpacks_to_the_same_decimal(price):
    back = unpack_price(pack_price(price))
    assert back == price and str(back) == str(price)


@pytest.mark.parametrize("price", ["43210.5", "43210.50", "0.00001234", "1E+3",
                                   "123456789012345678901234567890.123", "1E-40"])
def test_awkward_prices_come_back_digit_for_digit(price):
    assert str(unpack_price(pack_price(D(price)))) == price


def test_event_fields_come_back_with_their_types():
    fields = {"symbol": "BTCUSDT", "qty_step": D("0.001"), "delay_ms": 250,
              "tiers": [[D("2000000"), D("0.005"), D("0")]], "name": "12", "flag": None}
    assert decode_fields(encode_fields(fields)) == fields
    back = decode_fields(encode_fields(fields))
    assert isinstance(back["delay_ms"], int) and isinstance(back["qty_step"], Decimal)


def test_every_price_the_engine_applied_reads_back_exactly_in_order(tmp_path):
    store = Store(tmp_path / "h.db")
    applied: list[tuple[int, str, Decimal]] = []

    def keep(ch: Changes) -> None:
        for ev in ch.applied:
            if ev.type in ("price", "open", "close"):
                applied.append((ev.ts, ev.fields["symbol"], ev.fields["price"]))

    engine = Engine(store, on_commit=keep)
    world = World.open(engine)
    world.backfill(2)
    world.run_for(3_600_000)
    store.close()
    store = Store(tmp_path / "h.db")
    ticks = list(store.price_ticks())
    assert ticks == applied and len(ticks) > 2 * 3 * 576
    assert [str(p) for _, _, p in ticks] == [str(p) for _, _, p in applied]
    btc = [t for t in applied if t[1] == "BTCUSDT" and t[0] > world.start_ts + 86_400_000]
    assert list(store.price_ticks(["BTCUSDT"], since_ts=world.start_ts + 86_400_001)) == btc
    # The world's ticks have no row in the generic events table (and no digest).
    assert store.db.conn.execute(
        "SELECT COUNT(*) FROM events WHERE type='price'").fetchone()[0] == 0
    store.close()


def test_a_world_run_replayed_from_its_record_gives_the_same_traders(tmp_path):
    store = Store(tmp_path / "w.db")
    engine = Engine(store)
    world = World.open(engine)
    engine.submit_many([
        Event("dep", world.now_ts(), "deposit", {"account": "me", "amount": D("5000")}),
        Event("cp", world.now_ts(), "copy", {"copier": "me", "trader": "trend",
                                             "mode": "smart", "investment": D("2000")}),
    ])
    world.backfill(3)
    world.run_for(2 * 3_600_000)
    engine.flush()
    fresh = Engine(Store())
    results = fresh.submit_many(store.recorded_events())
    fresh.flush()
    assert {r.status for r in results} == {"applied"}
    assert _wallets_and_positions(fresh) == _wallets_and_positions(engine)
    assert any(p for p in _wallets_and_positions(engine)["positions"].values())
    store.close()


def test_a_scenario_replayed_twice_is_recorded_once_with_its_own_ids(tmp_path):
    scenario = ROOT / "resources" / "scenarios"
    path = scenario / "liquidation-funding-cancel.jsonl"
    events = [e for e in read_lines(path.read_text().splitlines()) if isinstance(e, Event)]
    store = Store(tmp_path / "s.db")
    engine = Engine(store)
    first = engine.submit_many(events)
    engine.flush()
    again = engine.submit_many(events)
    assert {r.status for r in again} == {"duplicate"}
    recorded = list(store.recorded_events())
    applied = [e for e, r in zip(events, first) if r.status == "applied"]
    assert [(e.id, e.ts, e.type, e.digest) for e in recorded] == [
        (e.id, e.ts, e.type, e.digest) for e in applied]
    store.close()


def test_candles_are_derived_from_the_applied_prices(tmp_path):
    store = Store(tmp_path / "c.db")
    world = World.open(Engine(store))
    world.backfill(1)
    hour = 3_600_000
    bars = store.candles("ETHUSDT", hour)
    assert len(bars) == 24 + 1  # every hour of the day, and the step at its end
    for bar in bars:
        prices = [p for ts, _, p in store.price_ticks(["ETHUSDT"], bar.start_ts,
                                                      bar.start_ts + hour - 1)]
        assert (bar.open, bar.high, bar.low, bar.close) == (
            prices[0], max(prices), min(prices), prices[-1])
    with pytest.raises(ValueError, match="positive"):
        store.candles("ETHUSDT", 0)
    store.close()
