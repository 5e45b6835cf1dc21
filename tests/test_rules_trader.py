"""§4 of copy-rules.md: trader actions, every rejection, and the utilization ratio."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenario import Scenario, copy_of, outcomes_where, run, trader_open

D = Decimal


def _rejected(rep, event_id):
    hits = [r for r in rep["rejected"] if r["event_id"] == event_id]
    assert len(hits) == 1, rep["rejected"]
    assert isinstance(hits[0]["reason"], str) and hits[0]["reason"].strip()
    return hits[0]


def _alice(balance: str = "10000", copier: bool = True) -> Scenario:
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="alice", name="Alice", balance=balance)
    if copier:
        s.add(0, "deposit", account="me", amount="2000")
        s.add(500, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
              ratio="0.1")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    return s


def _assert_unchanged_after(rep_before, rep_after, event_id):
    """A rejected action leaves the trader and the copies exactly as they were."""
    _rejected(rep_after, event_id)
    assert rep_after["traders"] == rep_before["traders"]
    assert rep_after["copies"] == rep_before["copies"]
    assert outcomes_where(rep_after, event_id=event_id) == []


# ---------------------------------------------------------------------------- accepted


def test_open_and_close_long_realizes_price_minus_entry_and_charges_fees():
    s = _alice(copier=False)
    trader_open(s, 2000, "o1")
    s.add(3000, "close", "c1", trader="alice", symbol="BTCUSDT", price="61000")
    rep = run(s)
    # −18 (0.5 × 60000 × 0.0006) + 500 ((61000 − 60000) × 0.5) − 18.3 (0.5 × 61000 × 0.0006)
    assert D(rep["traders"]["alice"]["wallet"]) == D("10463.7")
    assert rep["traders"]["alice"]["positions"] == []


def test_open_and_close_short_realizes_entry_minus_price():
    s = _alice(copier=False)
    trader_open(s, 2000, "o1", side="short")
    s.add(3000, "close", "c1", trader="alice", symbol="BTCUSDT", price="61000", qty="0.5")
    rep = run(s)
    # −18 − 500 ((60000 − 61000) × 0.5) − 18.3
    assert D(rep["traders"]["alice"]["wallet"]) == D("9463.7")


def test_increase_on_the_same_side_averages_the_entry():
    s = _alice(copier=False)
    trader_open(s, 2000, "o1")
    trader_open(s, 3000, "o2", price="61000")
    rep = run(s)
    (pos,) = rep["traders"]["alice"]["positions"]
    # entry (0.5 × 60000 + 0.5 × 61000) / 1 = 60500; margin 1 × 60500 / 10 = 6050.
    assert (pos["qty"], D(pos["entry_price"]), D(pos["margin"])) == ("1", D("60500"),
                                                                      D("6050"))
    # fees 18 + 18.3
    assert D(rep["traders"]["alice"]["wallet"]) == D("9963.7")


def test_partial_close_keeps_the_rest_and_its_entry():
    s = _alice(copier=False)
    trader_open(s, 2000, "o1")
    s.add(3000, "close", "c1", trader="alice", symbol="BTCUSDT", price="59000", qty="0.2")
    rep = run(s)
    (pos,) = rep["traders"]["alice"]["positions"]
    # keeps 0.3 at 60000, margin 0.3 × 60000 / 10 = 1800.
    assert (pos["qty"], D(pos["entry_price"]), D(pos["margin"])) == ("0.3", D("60000"),
                                                                      D("1800"))
    # −18 − 200 ((59000 − 60000) × 0.2) − 7.08 (0.2 × 59000 × 0.0006)
    assert D(rep["traders"]["alice"]["wallet"]) == D("9774.92")


def test_margin_plus_fee_exactly_equal_to_available_is_accepted():
    s = _alice(balance="6036", copier=False)
    trader_open(s, 2000, "o1", qty="1")  # margin 6000 + fee 36 = 6036: not exceeding
    rep = run(s)
    assert rep["rejected"] == []
    assert D(rep["traders"]["alice"]["wallet"]) == D("6000")


# ---------------------------------------------------------------------------- rejections


def test_open_rejected_when_the_other_side_is_open():
    s = _alice()
    trader_open(s, 2000, "o1")
    before = run(s)
    trader_open(s, 3000, "bad", side="short", qty="0.1")
    _assert_unchanged_after(before, run(s), "bad")


@pytest.mark.parametrize("leverage, mode", [(20, "isolated"), (10, "cross")],
                         ids=["leverage", "margin_mode"])
def test_open_rejected_when_leverage_or_margin_mode_differ(leverage, mode):
    s = _alice()
    trader_open(s, 2000, "o1")
    before = run(s)
    trader_open(s, 3000, "bad", qty="0.1", leverage=leverage, margin_mode=mode)
    _assert_unchanged_after(before, run(s), "bad")


@pytest.mark.parametrize("qty", ["0.0015", "0", "0.0001"])
def test_open_rejected_when_qty_is_not_a_positive_multiple_of_the_step(qty):
    s = _alice()
    trader_open(s, 2000, "o1")
    before = run(s)
    trader_open(s, 3000, "bad", qty=qty)
    _assert_unchanged_after(before, run(s), "bad")


def test_open_rejected_when_qty_is_below_min_qty():
    s = Scenario()
    s.add(0, "instrument", symbol="XYZUSDT", qty_step="0.5", min_qty="1", tick="0.05",
          max_leverage=20, tiers=[["100000", "0.02", "0"]])
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(1000, "open", "bad", trader="alice", symbol="XYZUSDT", side="long", qty="0.5",
          price="100", leverage=10, margin_mode="isolated")
    s.add(1000, "open", "ok", trader="alice", symbol="XYZUSDT", side="long", qty="1",
          price="100", leverage=10, margin_mode="isolated")
    rep = run(s)
    _rejected(rep, "bad")
    assert [r["event_id"] for r in rep["rejected"]] == ["bad"]
    assert rep["traders"]["alice"]["positions"][0]["qty"] == "1"


@pytest.mark.parametrize("leverage", [0, "0.5", 101, "100.5"])
def test_open_rejected_when_leverage_is_outside_1_to_max(leverage):
    s = _alice()
    before = run(s)
    trader_open(s, 2000, "bad", leverage=leverage)
    _assert_unchanged_after(before, run(s), "bad")


@pytest.mark.parametrize("leverage", [1, 100])
def test_open_accepted_at_the_leverage_bounds(leverage):
    s = _alice(balance="100000", copier=False)
    trader_open(s, 2000, "o1", leverage=leverage)
    rep = run(s)
    assert rep["rejected"] == []
    assert rep["traders"]["alice"]["positions"][0]["leverage"] == str(leverage)


def test_open_rejected_when_margin_plus_fee_exceed_available():
    s = _alice(balance="6035.99")
    before = run(s)
    trader_open(s, 2000, "bad", qty="1")  # needs 6000 + 36 = 6036 > 6035.99
    _assert_unchanged_after(before, run(s), "bad")


def test_open_rejected_when_an_existing_position_leaves_too_little_available():
    s = _alice()
    trader_open(s, 2000, "o1", qty="1.6")  # margin 9600 + fee 57.6: available 342.4 left
    before = run(s)
    # 0.06 more: margin 360 + fee 2.16 = 362.16 > 342.4
    trader_open(s, 3000, "bad", qty="0.06")
    _assert_unchanged_after(before, run(s), "bad")


def test_close_rejected_with_no_position():
    s = _alice()
    before = run(s)
    s.add(2000, "close", "bad", trader="alice", symbol="BTCUSDT", price="60000")
    _assert_unchanged_after(before, run(s), "bad")


def test_close_rejected_when_qty_exceeds_the_position():
    s = _alice()
    trader_open(s, 2000, "o1")
    before = run(s)
    s.add(3000, "close", "bad", trader="alice", symbol="BTCUSDT", price="60000", qty="0.501")
    _assert_unchanged_after(before, run(s), "bad")


def test_leverage_change_rejected_when_the_margin_increase_is_unaffordable():
    s = _alice()
    trader_open(s, 2000, "o1", qty="1.6")  # margin 9600, fee 57.6 → wallet 9942.4, available 342.4
    before = run(s)
    # 5×: margin 19200, +9600 > 342.4
    s.add(3000, "leverage", "bad", trader="alice", symbol="BTCUSDT", leverage=5)
    _assert_unchanged_after(before, run(s), "bad")


def test_leverage_change_sets_the_margin_to_qty_times_entry_over_leverage():
    s = _alice()
    trader_open(s, 2000, "o1", qty="1.6")
    s.add(3000, "leverage", "l20", trader="alice", symbol="BTCUSDT", leverage=20)
    s.add(4000, "leverage", "l15", trader="alice", symbol="BTCUSDT", leverage=15)
    rep = run(s)
    assert rep["rejected"] == []
    (pos,) = rep["traders"]["alice"]["positions"]
    # 20×: 4800 (frees 4800 → available 5142.4); 15×: 1.6 × 60000 / 15 = 6400 (+1600 ≤ 5142.4).
    assert (pos["leverage"], D(pos["margin"])) == ("15", D("6400"))
    # Leverage changes cost nothing.
    assert D(rep["traders"]["alice"]["wallet"]) == D("9942.4")


def test_later_opens_use_the_new_leverage():
    s = _alice(copier=False)
    trader_open(s, 2000, "o1")
    s.add(3000, "leverage", "l20", trader="alice", symbol="BTCUSDT", leverage=20)
    trader_open(s, 4000, "o2", leverage=20)
    trader_open(s, 5000, "bad", leverage=10)
    rep = run(s)
    assert [r["event_id"] for r in rep["rejected"]] == ["bad"]
    (pos,) = rep["traders"]["alice"]["positions"]
    # 1 × 60000 / 20 = 3000
    assert (pos["qty"], pos["leverage"], D(pos["margin"])) == ("1", "20", D("3000"))


def test_leverage_event_with_no_position_is_accepted_and_changes_nothing():
    s = _alice()
    before = run(s)
    s.add(2000, "leverage", "l1", trader="alice", symbol="BTCUSDT", leverage=25)
    after = run(s)
    assert after["rejected"] == []
    assert after["traders"] == before["traders"]
    assert after["copies"] == before["copies"]
    assert after["outcomes"] == []
    # The next open names its own leverage.
    trader_open(s, 3000, "o1", leverage=10)
    rep = run(s)
    assert rep["traders"]["alice"]["positions"][0]["leverage"] == "10"
    assert outcomes_where(rep, "me")[0]["action"] == "open"


@pytest.mark.parametrize("leverage", [0, 101])
def test_leverage_event_outside_1_to_max_is_rejected_even_with_no_position(leverage):
    s = _alice()
    s.add(2000, "leverage", "bad", trader="alice", symbol="BTCUSDT", leverage=leverage)
    _rejected(run(s), "bad")


@pytest.mark.parametrize("leverage", [0, 101])
def test_leverage_event_outside_1_to_max_is_rejected_with_a_position(leverage):
    s = _alice()
    trader_open(s, 2000, "o1")
    before = run(s)
    s.add(3000, "leverage", "bad", trader="alice", symbol="BTCUSDT", leverage=leverage)
    _assert_unchanged_after(before, run(s), "bad")


# ---------------------------------------------------------------------------- last price


def test_a_rejected_open_does_not_move_the_last_price():
    s = _alice()
    trader_open(s, 2000, "o1")
    trader_open(s, 3000, "bad", side="short", price="70000")
    rep = run(s)
    _rejected(rep, "bad")
    # Still valued at 60000, not 70000.
    assert D(rep["traders"]["alice"]["positions"][0]["unrealized_pnl"]) == 0


def test_trader_fill_sets_the_last_price_and_copier_fills_do_not():
    s = Scenario()
    s.add(0, "config", delay_ms="500")  # impact 2 bps
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(500, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    trader_open(s, 2000, "o1", price="60100")
    rep = run(s)
    # Last price = alice's fill 60100 (not the earlier 60000): her uPnL is 0.
    assert D(rep["traders"]["alice"]["positions"][0]["unrealized_pnl"]) == 0
    # Copier buys at 60100 × 1.0002 = 60112.02 → 60112.1, but the last price stays 60100:
    # copier uPnL (60100 − 60112.1) × 0.05 = −0.605.
    (out,) = outcomes_where(rep, "me", "o1")
    assert out["price"] == "60112.1"
    me = copy_of(rep, "me")
    assert D(me["positions"][0]["unrealized_pnl"]) == D("-0.605")


# ---------------------------------------------------------------------------- utilization


def _smart_example() -> Scenario:
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(500, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    trader_open(s, 2000, "o1")
    return s


def test_utilization_of_an_open_is_its_margin_over_equity():
    rep = run(_smart_example())
    # u = (0.5 × 60000 / 10) / 10000 = 0.3 → M = 300;
    # qty = floor_step(300 / (60000 × 0.1006)) = floor_step(0.04970…) = 0.049.
    (out,) = outcomes_where(rep, "me", "o1")
    assert (out["status"], out["qty"]) == ("copied", "0.049")


def test_utilization_of_an_increase_uses_this_fill_and_equity_at_last_prices():
    s = _smart_example()
    s.add(3000, "price", symbol="BTCUSDT", price="61000")
    trader_open(s, 4000, "o2", qty="0.2", price="62000")
    rep = run(s)
    # Copier after o1: 0.049 at 60000, wallet 1000 − 1.764 = 998.236.
    # Alice's equity just before o2, at the last price 61000 (not her fill 62000):
    #   9982 + 0.5 × 1000 = 10482.
    # u = (0.2 × 62000 / 10) / 10482 = 1240 / 10482 (this fill's margin alone).
    # Copier equity at execution (last price 62000): 998.236 + 0.049 × 2000 = 1096.236.
    # M = 1240 × 1096.236 / 10482 = 129.6825…;
    # qty = floor_step(129.6825… / (62000 × 0.1006 = 6237.2)) = floor_step(0.020791…) = 0.020.
    # (Equity valued at 62000 would give 0.019; the whole position's margin far more.)
    (out,) = outcomes_where(rep, "me", "o2")
    assert (out["action"], out["status"], out["qty"], out["price"]) == (
        "increase", "copied", "0.02", "62000")
    me = copy_of(rep, "me")
    assert me["positions"][0]["qty"] == "0.069"
    # fees 1.764 + 0.02 × 62000 × 0.0006 = 1.764 + 0.744
    assert D(me["fees"]) == D("2.508")
