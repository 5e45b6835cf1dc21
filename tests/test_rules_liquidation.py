"""§7 of copy-rules.md: isolated and cross liquidation, of traders and copiers."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.scenario import Scenario, close_to, copy_of, outcomes_where, run, ts

D = Decimal


def _alice(side: str = "long", margin_mode: str = "isolated", copier: str | None = None,
           investment: str = "1000", leverage=10) -> Scenario:
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="5000")
    if copier == "smart":
        s.add(500, "copy", copier="me", trader="alice", mode="smart", investment=investment)
    elif copier == "ratio":
        s.add(500, "copy", copier="me", trader="alice", mode="fixed_ratio",
              investment=investment, ratio="1")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(10_000, "open", "o1", trader="alice", symbol="BTCUSDT", side=side, qty="0.5",
          price="60000", leverage=leverage, margin_mode=margin_mode)
    return s


# ---------------------------------------------------------------------------- isolated


def test_isolated_long_liquidation_price_and_trigger():
    s = _alice()
    rep = run(s)
    # (60000 × 0.5 − 3000 − 0) / (0.5 × (1 − 0.005)) = 27000 / 0.4975 = 54271.356783919…
    (pos,) = rep["traders"]["alice"]["positions"]
    assert close_to(pos["liq_price"], "54271.3567839196")
    s.add(20_000, "price", "p1", symbol="BTCUSDT", price="54271.4")
    assert len(run(s)["traders"]["alice"]["positions"]) == 1
    s.add(30_000, "price", "p2", symbol="BTCUSDT", price="54271.3")
    rep = run(s)
    alice = rep["traders"]["alice"]
    assert alice["positions"] == []
    # The whole margin 3000 is lost, no fee: 10000 − 18 − 3000.
    assert D(alice["wallet"]) == D("6982")
    (liq,) = outcomes_where(rep, action="liquidation")
    assert (liq["event_id"], liq["trader"], liq["symbol"], liq["status"], liq["qty"]) == (
        "p2", "alice", "BTCUSDT", "done", "0.5")
    assert liq["ts"] == ts(30_000)


def test_isolated_short_liquidation_price_and_trigger():
    s = _alice(side="short")
    rep = run(s)
    # (60000 × 0.5 + 3000 + 0) / (0.5 × 1.005) = 33000 / 0.5025 = 65671.641791044…
    (pos,) = rep["traders"]["alice"]["positions"]
    assert close_to(pos["liq_price"], "65671.6417910448")
    s.add(20_000, "price", symbol="BTCUSDT", price="65671.6")
    assert len(run(s)["traders"]["alice"]["positions"]) == 1
    s.add(30_000, "price", symbol="BTCUSDT", price="65671.7")
    rep = run(s)
    assert rep["traders"]["alice"]["positions"] == []
    assert D(rep["traders"]["alice"]["wallet"]) == D("6982")


def test_liquidation_happens_at_exactly_the_liquidation_price():
    s = Scenario()
    # MMR 20 %: long (100 − 50) / 0.8 = 62.5, short (100 + 50) / 1.2 = 125, both exact.
    s.add(0, "instrument", symbol="LIQUSDT", qty_step="1", min_qty="1", tick="0.1",
          max_leverage=4, tiers=[["1000000", "0.2", "0"]])
    s.add(0, "trader", trader="lo", name="Long", balance="1000")
    s.add(0, "trader", trader="sh", name="Short", balance="1000")
    s.add(1000, "open", trader="lo", symbol="LIQUSDT", side="long", qty="1", price="100",
          leverage=2, margin_mode="isolated")
    s.add(1000, "open", trader="sh", symbol="LIQUSDT", side="short", qty="1", price="100",
          leverage=2, margin_mode="isolated")
    rep = run(s)
    assert D(rep["traders"]["lo"]["positions"][0]["liq_price"]) == D("62.5")
    assert D(rep["traders"]["sh"]["positions"][0]["liq_price"]) == D("125")
    s.add(2000, "price", symbol="LIQUSDT", price="62.6")
    rep = run(s)
    assert len(rep["traders"]["lo"]["positions"]) == 1
    s.add(3000, "price", symbol="LIQUSDT", price="62.5")
    rep = run(s)
    assert rep["traders"]["lo"]["positions"] == []
    assert len(rep["traders"]["sh"]["positions"]) == 1
    s.add(4000, "price", symbol="LIQUSDT", price="124.9")
    assert len(run(s)["traders"]["sh"]["positions"]) == 1
    s.add(5000, "price", symbol="LIQUSDT", price="125")
    rep = run(s)
    assert rep["traders"]["sh"]["positions"] == []
    # 1000 − fee 0.06 − margin 50
    assert D(rep["traders"]["sh"]["wallet"]) == D("949.94")


def test_liq_price_is_null_when_not_positive():
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="100000")
    # Isolated long at 1×: (60000 × 0.5 − 30000) / … = 0 → null.
    s.add(1000, "open", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=1, margin_mode="isolated")
    # Cross long backed by far more than its notional: (3000 × 1 − 99,968…) / … < 0 → null.
    s.add(1000, "open", trader="alice", symbol="ETHUSDT", side="long", qty="1",
          price="3000", leverage=10, margin_mode="cross")
    rep = run(s)
    pos = {p["symbol"]: p for p in rep["traders"]["alice"]["positions"]}
    assert pos["BTCUSDT"]["liq_price"] is None
    assert pos["ETHUSDT"]["liq_price"] is None


# ---------------------------------------------------------------------------- cross


def _bob_cross() -> Scenario:
    s = Scenario()
    s.add(0, "trader", trader="bob", name="Bob", balance="10000")
    # BTC cross 1 @ 60000 10×: margin 6000, fee 36.
    s.add(1000, "open", trader="bob", symbol="BTCUSDT", side="long", qty="1", price="60000",
          leverage=10, margin_mode="cross")
    # ETH isolated 1 @ 3000 10×: margin 300, fee 1.8.
    s.add(1000, "open", trader="bob", symbol="ETHUSDT", side="long", qty="1", price="3000",
          leverage=10, margin_mode="isolated")
    # SOL cross 10 @ 100 10×: margin 100, fee 0.6. Wallet 9961.6; cross funds 9661.6.
    s.add(1000, "open", trader="bob", symbol="SOLUSDT", side="long", qty="10", price="100",
          leverage=10, margin_mode="cross")
    return s


def test_cross_liquidation_price_solves_the_account_equation():
    rep = run(_bob_cross())
    pos = {p["symbol"]: p for p in rep["traders"]["bob"]["positions"]}
    # BTC: funds = 9661.6 + (SOL uPnL 0 − SOL MM 10 × 100 × 1 % = 10) = 9651.6;
    # (60000 − 9651.6) / (1 × 0.995) = 50601.407035175879…
    assert close_to(pos["BTCUSDT"]["liq_price"], "50601.4070351759")
    # SOL: funds = 9661.6 + (0 − 60000 × 0.5 % = 300) = 9361.6 > notional → null.
    assert pos["SOLUSDT"]["liq_price"] is None
    # ETH isolated: (3000 − 300) / 0.995 = 2713.5678391959…
    assert close_to(pos["ETHUSDT"]["liq_price"], "2713.5678391960")


def test_cross_liquidation_takes_all_cross_positions_and_the_cross_funds():
    s = _bob_cross()
    # 9661.6 + (P − 60000) ≤ 0.005 P + 10  ⇔  P ≤ 50601.40703…
    s.add(2000, "price", symbol="BTCUSDT", price="50601.5")
    assert len(run(s)["traders"]["bob"]["positions"]) == 3
    s.add(3000, "price", "p2", symbol="BTCUSDT", price="50601.4")
    rep = run(s)
    bob = rep["traders"]["bob"]
    # BTC and SOL go, the isolated ETH stays; the wallet is left at Σ isolated margins.
    assert [p["symbol"] for p in bob["positions"]] == ["ETHUSDT"]
    assert D(bob["wallet"]) == D("300")
    liqs = outcomes_where(rep, event_id="p2", action="liquidation")
    assert sorted((o["symbol"], o["qty"], o["status"]) for o in liqs) == [
        ("BTCUSDT", "1", "done"), ("SOLUSDT", "10", "done")]


def test_copy_account_cross_liquidation_loses_the_copy_wallet_only():
    s = _alice(margin_mode="cross", copier="ratio", investment="4000")
    rep = run(s)
    # Copier 0.5 at 60000 cross: margin 3000, fee 18 → wallet 3982.
    # liq = (30000 − 3982) / (0.5 × 0.995) = 52297.487437185929…
    me = copy_of(rep, "me")
    assert close_to(me["positions"][0]["liq_price"], "52297.4874371859")
    s.add(20_000, "price", symbol="BTCUSDT", price="52297.5")
    assert len(copy_of(run(s), "me")["positions"]) == 1
    s.add(30_000, "price", "p2", symbol="BTCUSDT", price="52297.4")
    s.add(40_000, "close", "c1", trader="alice", symbol="BTCUSDT", price="52297.4")
    rep = run(s)
    me = copy_of(rep, "me")
    assert me["positions"] == []
    assert D(me["wallet"]) == 0
    assert D(me["realized_pnl"]) == D("-3982")
    assert rep["accounts"]["me"]["contract_balance"] == "1000"
    (liq,) = outcomes_where(rep, "me", "p2", "liquidation")
    assert (liq["status"], liq["qty"]) == ("done", "0.5")
    # The trader (cross funds 9982) is untouched; her later close is not copied.
    (close,) = outcomes_where(rep, "me", "c1")
    assert (close["status"], close["reason"]) == ("skipped", "position_not_copied")
    # 10000 − 18 − 3851.3 ((52297.4 − 60000) × 0.5) − 15.68922 (0.5 × 52297.4 × 0.0006)
    assert D(rep["traders"]["alice"]["wallet"]) == D("6115.01078")


# ---------------------------------------------------------------------------- independence


def _example_at(move: str) -> Scenario:
    """§9 with impact 0, the copier filled at ``move`` (price within the delay)."""
    s = _alice(copier="smart")
    s.add(10_200, "price", symbol="BTCUSDT", price=move)
    return s


def test_copier_liquidation_never_touches_the_trader():
    s = _example_at("60030")
    # Copier liq 54298.49…, alice 54271.36…: 54280 liquidates only the copier.
    s.add(20_000, "price", "p1", symbol="BTCUSDT", price="54280")
    s.add(25_000, "open", "o2", trader="alice", symbol="BTCUSDT", side="long", qty="0.1",
          price="54280", leverage=10, margin_mode="isolated")
    s.add(30_000, "close", "c1", trader="alice", symbol="BTCUSDT", price="54280")
    rep = run(s)
    # Her increase of the cycle the copier lost is not copied either.
    (inc,) = outcomes_where(rep, "me", "o2")
    assert (inc["action"], inc["status"], inc["reason"]) == (
        "increase", "skipped", "position_not_copied")
    (liq,) = outcomes_where(rep, action="liquidation")
    assert (liq["copier"], liq["event_id"], liq["qty"], liq["status"]) == (
        "me", "p1", "0.049", "done")
    me = copy_of(rep, "me")
    # 998.235118 − margin 294.147
    assert D(me["wallet"]) == D("704.088118")
    assert D(me["realized_pnl"]) == D("-294.147")
    assert D(me["fees"]) == D("1.764882")
    (close,) = outcomes_where(rep, "me", "c1")
    assert (close["action"], close["status"], close["reason"]) == (
        "close", "skipped", "position_not_copied")
    # Alice: entry (0.5 × 60000 + 0.1 × 54280) / 0.6 = 59046.666…; fees 18 + 3.2568
    # (0.1 × 54280 × 0.0006) + 19.5408 (0.6 × 54280 × 0.0006); pnl (54280 − 59046.666…) × 0.6
    # = −2860.
    assert rep["traders"]["alice"]["positions"] == []
    assert abs(D(rep["traders"]["alice"]["wallet"]) - (
        D("10000") - 18 - D("3.2568") - 2860 - D("19.5408"))) <= D("0.00001")


def test_trader_liquidation_closes_the_copier_after_the_delay():
    s = _example_at("59970")
    # Copier: floor_step(300 / (59970 × 0.1006)) = 0.049 at 59970: margin 293.853,
    # fee 1.763118; liq (2938.53 − 293.853) / (0.049 × 0.995) = 54244.22…
    s.add(20_000, "price", "p1", symbol="BTCUSDT", price="54260")
    s.add(20_500, "price", symbol="BTCUSDT", price="54300")
    rep = run(s)
    liqs = outcomes_where(rep, event_id="p1", action="liquidation")
    assert [(o["copier"], o["qty"]) for o in liqs] == [(None, "0.5")]
    (close,) = outcomes_where(rep, "me", action="close")
    assert (close["status"], close["reason"], close["qty"], close["price"], close["ts"]) == (
        "copied", "trader_liquidated", "0.049", "54300", ts(20_500))
    me = copy_of(rep, "me")
    assert me["positions"] == []
    # pnl (54300 − 59970) × 0.049 = −277.83; fee 0.049 × 54300 × 0.0006 = 1.59642
    assert D(me["realized_pnl"]) == D("-277.83")
    assert D(me["wallet"]) == D("718.810462")
    assert D(rep["traders"]["alice"]["wallet"]) == D("6982")


def test_trader_first_then_copier_liquidated_by_the_same_price():
    s = _example_at("60030")
    s.add(20_000, "price", "p1", symbol="BTCUSDT", price="54000")
    rep = run(s)
    liqs = outcomes_where(rep, event_id="p1", action="liquidation")
    assert [(o["copier"], o["qty"]) for o in liqs] == [(None, "0.5"), ("me", "0.049")]
    # The trader-liquidation close signal finds nothing to close.
    (close,) = outcomes_where(rep, "me", action="close")
    assert (close["status"], close["reason"], close["ts"]) == (
        "skipped", "position_not_copied", ts(20_500))


def test_a_trader_fill_triggers_the_liquidation_check():
    s = _example_at("60030")
    s.add(15_000, "trader", trader="bob", name="Bob", balance="10000")
    # Bob's fill at 54000 becomes the last price: alice and the copier are liquidated.
    s.add(20_000, "open", "b1", trader="bob", symbol="BTCUSDT", side="short", qty="0.1",
          price="54000", leverage=10, margin_mode="isolated")
    rep = run(s)
    liqs = outcomes_where(rep, event_id="b1", action="liquidation")
    assert [(o["copier"], o["qty"]) for o in liqs] == [(None, "0.5"), ("me", "0.049")]
    assert rep["traders"]["alice"]["positions"] == []


def test_a_trader_cross_liquidation_closes_every_linked_copier_position():
    s = _bob_cross()
    s.lines.insert(1, json.dumps({"id": "dep", "ts": ts(0), "type": "deposit",
                                  "account": "me", "amount": "5000"}))
    s.lines.insert(2, json.dumps({"id": "cp", "ts": ts(0), "type": "copy", "copier": "me",
                                  "trader": "bob", "mode": "fixed_ratio",
                                  "investment": "5000", "ratio": "0.1"}))
    s.add(3000, "price", "p2", symbol="BTCUSDT", price="50601.4")
    rep = run(s)
    assert rep["rejected"] == []
    # Copier: BTC 0.1 cross, ETH 0.1 isolated, SOL 1 cross; its own account survives
    # (cross funds ≈ 4966 against a BTC loss ≈ 940), but bob's liquidation closes the two
    # cross positions 500 ms later.
    closes = outcomes_where(rep, "me", "p2", "close")
    assert sorted((o["symbol"], o["qty"], o["status"], o["reason"], o["ts"]) for o in closes) == [
        ("BTCUSDT", "0.1", "copied", "trader_liquidated", ts(3500)),
        ("SOLUSDT", "1", "copied", "trader_liquidated", ts(3500))]
    assert outcomes_where(rep, "me", action="liquidation") == []
    me = copy_of(rep, "me", "bob")
    assert [p["symbol"] for p in me["positions"]] == ["ETHUSDT"]


# -------------------------------------------------- funding, and never a liquidation gain
def test_the_liquidation_check_follows_a_funding_event():
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="bob", name="Bob", balance="1000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "open", trader="bob", symbol="BTCUSDT", side="long", qty="0.1",
          price="60000", leverage=10, margin_mode="cross")
    # Funding of 0.1 × 60000 × 0.2 = 1200 takes all 996.4 free: 0 ≤ 6000 × 0.005 = 30.
    s.add(3000, "funding", "f1", symbol="BTCUSDT", rate="0.2")
    rep = run(s)
    bob = rep["traders"]["bob"]
    assert bob["positions"] == []
    (liq,) = outcomes_where(rep, action="liquidation")
    assert (liq["event_id"], liq["copier"], liq["qty"], liq["ts"]) == ("f1", None, "0.1",
                                                                       ts(3000))
    # The free funds were 0 when liquidated: nothing more is lost, nothing gained.
    assert D(bob["wallet"]) == D("0")


def test_a_cross_liquidation_never_books_a_gain():
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="carol", name="Carol", balance="1000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(1000, "price", symbol="ETHUSDT", price="3000")
    s.add(2000, "open", trader="carol", symbol="BTCUSDT", side="long", qty="0.1",
          price="60000", leverage=10, margin_mode="cross")
    s.add(2000, "open", trader="carol", symbol="ETHUSDT", side="long", qty="1",
          price="3000", leverage=10, margin_mode="cross")
    s.add(3000, "price", symbol="BTCUSDT", price="70000")
    # Closing ETH at 1000 realizes −2000 − 0.6: the wallet 994.6 becomes −1006, and
    # −1006 + 1000 (BTC's gain) ≤ 7000 × 0.005: BTC is liquidated by this fill.
    s.add(4000, "close", "c1", trader="carol", symbol="ETHUSDT", price="1000")
    rep = run(s)
    carol = rep["traders"]["carol"]
    assert carol["positions"] == []
    assert [o["symbol"] for o in outcomes_where(rep, event_id="c1", action="liquidation")] == [
        "BTCUSDT"]
    # The cross funds were −1006: the loss booked is 0, not a gain of +1006.
    assert D(carol["wallet"]) == D("-1006")


# ------------------------------------------------ gradual moves (the engine's fast path)


def _first_liquidation(rep) -> list[tuple[str, str]]:
    return sorted((o["event_id"], o["symbol"]) for o in outcomes_where(rep, action="liquidation"))


def test_a_slow_walk_liquidates_at_the_first_price_past_the_liquidation_price():
    s = _bob_cross()
    # SOL drifts up and down (the BTC liquidation price moves with it only slightly);
    # BTC walks down 10 at a time from 60000: liquidated at the first BTC price at or
    # below the cross liquidation price of that moment.
    t, price = 2000, 60000
    while price > 50000:
        price -= 10
        t += 1000
        s.add(t, "price", f"btc-{price}", symbol="BTCUSDT", price=str(price))
        s.add(t, "price", f"sol-{price}", symbol="SOLUSDT", price="100.5" if price % 20 else "99.5")
    rep = run(s)
    # BTC is liquidated when 9661.6 + SOL's uPnL − SOL's MM + (P − 60000) ≤ 0.005 P:
    # with SOL at 100.5 (+5, MM 10.05) at P ≤ 50596.43…, at 99.5 (−5, MM 9.95) at
    # P ≤ 50606.38…. BTC 50600 arrives with SOL at 100.5 (safe); SOL's own move to 99.5
    # right after it is what liquidates.
    assert _first_liquidation(rep) == [("sol-50600", "BTCUSDT"), ("sol-50600", "SOLUSDT")]
    # The isolated ETH position never moved: it stays.
    assert [p["symbol"] for p in rep["traders"]["bob"]["positions"]] == ["ETHUSDT"]


def test_a_slow_walk_across_a_maintenance_step_liquidates_where_the_step_says():
    s = Scenario()
    # The maintenance margin jumps at notional 100 (20 % → 40 %, no amount): a short of 1
    # @ 100 at 2× (margin 50) is safe up to 100 (150 − 1.2 P > 0) but liquidated as soon as
    # 150 − 1.4 P ≤ 0 above it, i.e. at the first price ≥ 107.142857….
    s.add(0, "instrument", symbol="JMPUSDT", qty_step="1", min_qty="1", tick="0.1",
          max_leverage=4, tiers=[["100", "0.2", "0"], ["1000000", "0.4", "0"]])
    s.add(0, "trader", trader="sh", name="Short", balance="1000")
    s.add(1000, "open", trader="sh", symbol="JMPUSDT", side="short", qty="1", price="100",
          leverage=2, margin_mode="isolated")
    for i in range(1, 200):
        s.add(1000 + i * 1000, "price", f"p{i}", symbol="JMPUSDT",
              price=str(Decimal("95") + Decimal("0.1") * i))
    rep = run(s)
    # 95 + 0.1 × 122 = 107.2, the first price ≥ 107.142857….
    assert _first_liquidation(rep) == [("p122", "JMPUSDT")]


def test_a_slow_walk_liquidates_a_copier_at_its_liquidation_price():
    s = _alice(margin_mode="cross", copier="ratio", investment="4000")
    t = 20_000
    for price in range(59_990, 52_000, -10):
        t += 1000
        s.add(t, "price", f"p{price}", symbol="BTCUSDT", price=str(price))
    rep = run(s)
    # The copy's cross liquidation price is 52297.487… (see above): 52290 is the first
    # price of the walk at or below it. The trader's own (9982 cross funds) is far lower.
    assert _first_liquidation(rep) == [("p52290", "BTCUSDT")]
    assert outcomes_where(rep, "me", "p52290", "liquidation")
