"""§6 of copy-rules.md: executing copies (delay, order, impact, slippage, sizing, funds,
uncopied cycles, proportional closes, leverage sync)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenario import Scenario, copy_of, outcomes_where, run, trader_open, ts

D = Decimal


def _one(rep, copier, event_id):
    (out,) = outcomes_where(rep, copier, event_id)
    return out


def _base(delay: str = "500", impact: str | None = "0", min_investment: str | None = None,
          balance: str = "10000") -> Scenario:
    s = Scenario()
    s.add(0, "config", delay_ms=delay, impact_bps=impact, min_investment=min_investment)
    s.add(0, "trader", trader="alice", name="Alice", balance=balance)
    s.add(0, "trader", trader="bob", name="Bob", balance=balance)
    s.add(0, "deposit", account="me", amount="2000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    return s


def _close(s: Scenario, at: int, id_: str, qty: str | None = None, price: str = "60000",
           trader: str = "alice") -> None:
    s.add(at, "close", id_, trader=trader, symbol="BTCUSDT", price=price, qty=qty)


def _ratio_copy(s: Scenario, ratio: str = "0.1", investment: str = "1000", at: int = 2000,
                **settings) -> None:
    s.add(at, "copy", copier="me", trader="alice", mode="fixed_ratio", investment=investment,
          ratio=ratio, **settings)


# ---------------------------------------------------------------------------- timing


def test_copier_action_executes_delay_ms_after_the_trader_action():
    s = _base(delay="1000")
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    _close(s, 20_000, "c1")
    rep = run(s)
    assert _one(rep, "me", "o1")["ts"] == ts(11_000) == "2026-03-24T00:00:11.000Z"
    assert _one(rep, "me", "c1")["ts"] == ts(21_000)


def test_default_delay_is_500_ms():
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    assert _one(run(s), "me", "o1")["ts"] == ts(10_500)


@pytest.mark.parametrize("at, fill", [(10_499, "60030"), (10_500, "60030"), (10_501, "60000")])
def test_events_up_to_and_including_t_plus_delay_come_before_the_copier_action(at, fill):
    s = _base()
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    s.add(at, "price", symbol="BTCUSDT", price="60030")
    rep = run(s)
    out = _one(rep, "me", "o1")
    assert (out["price"], out["ts"]) == (fill, ts(10_500))


def test_actions_due_at_the_same_time_run_in_the_order_they_were_scheduled():
    s = _base()
    s.add(1000, "deposit", account="you", amount="2000")
    # me copies bob first, then alice; you copies alice first, then bob.
    s.add(2000, "copy", copier="me", trader="bob", mode="fixed_ratio", investment="500",
          ratio="0.1")
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="500",
          ratio="0.1")
    s.add(2000, "copy", copier="you", trader="alice", mode="fixed_ratio", investment="500",
          ratio="0.1")
    s.add(2000, "copy", copier="you", trader="bob", mode="fixed_ratio", investment="500",
          ratio="0.1")
    trader_open(s, 10_000, "a1")
    trader_open(s, 10_000, "b1", trader="bob")
    rep = run(s)
    assert rep["rejected"] == []
    # alice's action was scheduled first, so all of its outcomes come first (each action's
    # outcomes in copy creation order).
    got = [(o["event_id"], o["copier"]) for o in rep["outcomes"]]
    assert got == [("a1", "me"), ("a1", "you"), ("b1", "me"), ("b1", "you")]
    assert {o["ts"] for o in rep["outcomes"]} == {ts(10_500)}


def test_pending_actions_run_in_order_of_execution_time():
    # Literal reading: an action's delay is the delay_ms in force when the trader action is
    # applied.
    s = _base(delay="1000")
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="500",
          ratio="0.1")
    s.add(2000, "copy", copier="me", trader="bob", mode="fixed_ratio", investment="500",
          ratio="0.1")
    trader_open(s, 10_000, "a1")                 # executes at 11,000
    s.add(10_200, "config", delay_ms="100")
    trader_open(s, 10_300, "b1", trader="bob")   # executes at 10,400
    s.add(10_700, "price", symbol="BTCUSDT", price="60100")
    rep = run(s)
    got = [(o["event_id"], o["ts"], o["price"]) for o in rep["outcomes"]]
    assert got == [("b1", ts(10_400), "60000"), ("a1", ts(11_000), "60100")]


def test_pending_actions_still_run_at_the_end_of_a_replay_at_the_last_price():
    s = _base()
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    s.add(10_100, "price", symbol="BTCUSDT", price="60010")
    rep = run(s)
    out = _one(rep, "me", "o1")
    assert (out["status"], out["qty"], out["price"], out["ts"]) == (
        "copied", "0.05", "60010", ts(10_500))


def test_configured_impact_moves_the_fill_against_the_copier():
    s = _base(impact="10")
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    _close(s, 20_000, "c1")
    rep = run(s)
    # buy 60000 × 1.001 = 60060; sell 60000 × 0.999 = 59940.
    assert _one(rep, "me", "o1")["price"] == "60060"
    assert _one(rep, "me", "c1")["price"] == "59940"
    # pnl (59940 − 60060) × 0.05 = −6
    assert D(copy_of(rep, "me")["realized_pnl"]) == D("-6")


# ---------------------------------------------------------------------------- slippage


@pytest.mark.parametrize("side, move, status", [
    ("long", "60300", "copied"),      # = 60000 × 1.005: not strictly above
    ("long", "60300.1", "skipped"),
    ("short", "59700", "copied"),     # = 60000 × 0.995: not strictly below
    ("short", "59699.9", "skipped"),
])
def test_slippage_guard_is_strict(side, move, status):
    s = _base()
    _ratio_copy(s)
    trader_open(s, 10_000, "o1", side=side)
    s.add(10_500, "price", symbol="BTCUSDT", price=move)
    out = _one(run(s), "me", "o1")
    assert out["status"] == status
    if status == "skipped":
        assert out["reason"] == "slippage_limit"
        assert out["qty"] is None
    else:
        assert out["price"] == move


def test_slippage_guard_counts_the_impact():
    s = _base(impact="2")
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    # 60290 × 1.0002 = 60302.058 → 60302.1 > 60300
    s.add(10_500, "price", symbol="BTCUSDT", price="60290")
    out = _one(run(s), "me", "o1")
    assert (out["status"], out["reason"]) == ("skipped", "slippage_limit")


@pytest.mark.parametrize("move, status", [("60060", "copied"), ("60060.1", "skipped")])
def test_custom_max_slippage(move, status):
    s = _base()
    _ratio_copy(s, max_slippage="0.001")
    trader_open(s, 10_000, "o1")
    s.add(10_500, "price", symbol="BTCUSDT", price=move)
    assert _one(run(s), "me", "o1")["status"] == status


def test_closes_have_no_slippage_guard():
    s = _base()
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    _close(s, 20_000, "c1")
    s.add(20_500, "price", symbol="BTCUSDT", price="59000")  # −1.67 %
    rep = run(s)
    out = _one(rep, "me", "c1")
    assert (out["status"], out["qty"], out["price"]) == ("copied", "0.05", "59000")
    assert copy_of(rep, "me")["positions"] == []


# ---------------------------------------------------------------------------- sizing, funds


@pytest.mark.parametrize("mode, extra", [("fixed_amount", {"amount": "1"}),
                                         ("fixed_ratio", {"ratio": "0.001"})])
def test_qty_below_min_qty_is_bumped_to_min_qty(mode, extra):
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode=mode, investment="1000", **extra)
    trader_open(s, 10_000, "o1")
    rep = run(s)
    # fixed_amount: floor_step(1 / 6036) = 0; fixed_ratio: floor_step(0.0005) = 0 → 0.001.
    out = _one(rep, "me", "o1")
    assert (out["status"], out["qty"]) == ("copied_min_qty", "0.001")
    # margin 0.001 × 60000 / 10 = 6; fee 0.036
    me = copy_of(rep, "me")
    assert D(me["positions"][0]["margin"]) == D("6")
    assert D(me["wallet"]) == D("999.964")


@pytest.mark.parametrize("mode, extra, investment, qty", [
    # wants floor_step(2000 / 6036) = 0.331 but only 100: floor_step(100 / 6036) = 0.016
    ("fixed_amount", {"amount": "2000"}, "100", "0.016"),
    # wants 0.5 (3018): floor_step(1000 / 6036) = floor_step(0.16567…) = 0.165
    ("fixed_ratio", {"ratio": "1"}, "1000", "0.165"),
])
def test_qty_is_reduced_to_what_the_copy_account_affords(mode, extra, investment, qty):
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode=mode, investment=investment,
          **extra)
    trader_open(s, 10_000, "o1")
    rep = run(s)
    out = _one(rep, "me", "o1")
    assert (out["status"], out["qty"]) == ("copied_reduced", qty)
    me = copy_of(rep, "me")
    # cost qty × 6036 ≤ investment; for 0.165: margin 990 + fee 5.94 → wallet 994.06
    cost = D(qty) * D("6036")
    assert cost <= D(investment)
    assert D(me["wallet"]) == D(investment) - D(qty) * D("36")


def test_open_is_skipped_when_even_min_qty_is_unaffordable():
    s = _base(min_investment="5")
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="5")
    trader_open(s, 10_000, "o1")
    rep = run(s)
    # M = 0.3 × 5 = 1.5 → 0 → min_qty 0.001 costs 6.036 > 5 → floor_step(5 / 6036) = 0.
    out = _one(rep, "me", "o1")
    assert (out["action"], out["status"], out["reason"], out["qty"]) == (
        "open", "skipped", "insufficient_funds", None)
    me = copy_of(rep, "me")
    assert (me["wallet"], me["positions"], D(me["fees"])) == ("5", [], D("0"))


def test_increase_is_skipped_when_the_copy_account_has_no_room_left():
    s = _base()
    _ratio_copy(s, ratio="0.3")
    trader_open(s, 10_000, "o1")
    trader_open(s, 20_000, "o2", qty="0.5")
    rep = run(s)
    # o1: 0.15 → margin 900 + fee 5.4 → wallet 994.6, available 94.6.
    # o2 wants 0.15 (905.4): floor_step(94.6 / 6036) = 0.015 → copied_reduced.
    out = _one(rep, "me", "o2")
    assert (out["action"], out["status"], out["qty"]) == ("increase", "copied_reduced", "0.015")
    assert copy_of(rep, "me")["positions"][0]["qty"] == "0.165"


# ---------------------------------------------------------------------------- uncopied cycles


def test_an_uncopied_cycle_skips_its_increases_and_closes_until_the_next_cycle():
    s = _base()
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    s.add(10_500, "price", symbol="BTCUSDT", price="60400")  # slippage: o1 skipped
    s.add(15_000, "price", symbol="BTCUSDT", price="60000")
    trader_open(s, 20_000, "o2", qty="0.1")                        # would be fine on its own
    _close(s, 30_000, "c1", qty="0.3")
    _close(s, 40_000, "c2")
    trader_open(s, 50_000, "o3")                                   # a new cycle
    rep = run(s)
    assert _one(rep, "me", "o1")["reason"] == "slippage_limit"
    for eid, action in (("o2", "increase"), ("c1", "close"), ("c2", "close")):
        out = _one(rep, "me", eid)
        assert (out["action"], out["status"], out["reason"]) == (
            action, "skipped", "position_not_copied"), eid
    out = _one(rep, "me", "o3")
    assert (out["action"], out["status"], out["qty"]) == ("open", "copied", "0.05")


# ---------------------------------------------------------------------------- closes


def _smart_049() -> Scenario:
    """Copier me holds 0.049 BTC long at 60000 (smart, 1000 at u = 0.3, impact 0)."""
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    trader_open(s, 10_000, "o1")
    return s


def test_partial_close_is_proportional_and_realizes_pnl():
    s = _smart_049()
    _close(s, 20_000, "c1", qty="0.2", price="61000")
    _close(s, 30_000, "c2", price="61000")
    rep = run(s)
    # f = 0.2 / 0.5 = 0.4; 0.049 × 0.4 = 0.0196 → 0.020. Then the whole rest: 0.029.
    c1, c2 = _one(rep, "me", "c1"), _one(rep, "me", "c2")
    assert (c1["status"], c1["qty"], c1["price"]) == ("copied", "0.02", "61000")
    assert (c2["status"], c2["qty"]) == ("copied", "0.029")
    me = copy_of(rep, "me")
    assert me["positions"] == []
    # pnl 1000 × 0.049 = 49; fees 0.049 × 60000 × 0.0006 + 0.049 × 61000 × 0.0006
    # = 1.764 + 1.7934
    assert D(me["realized_pnl"]) == D("49")
    assert D(me["fees"]) == D("3.5574")
    assert D(me["wallet"]) == D("1045.4426")


def test_partial_close_below_min_qty_closes_min_qty():
    s = _smart_049()
    _close(s, 20_000, "c1", qty="0.004")
    rep = run(s)
    # f = 0.004 / 0.5 = 0.008; 0.049 × 0.008 = 0.000392 → round_step 0 → min_qty 0.001.
    out = _one(rep, "me", "c1")
    assert (out["status"], out["qty"]) == ("copied", "0.001")
    assert copy_of(rep, "me")["positions"][0]["qty"] == "0.048"


def test_partial_close_with_min_qty_above_step_and_remainder_below_min_closes_all():
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "instrument", symbol="XYZUSDT", qty_step="0.5", min_qty="1", tick="0.05",
          max_leverage=20, tiers=[["100000", "0.02", "0"]])
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    _ratio_copy(s, ratio="0.75")
    s.add(10_000, "open", "o1", trader="alice", symbol="XYZUSDT", side="long", qty="4",
          price="100", leverage=10, margin_mode="isolated")
    s.add(20_000, "close", "c1", trader="alice", symbol="XYZUSDT", price="100", qty="0.5")
    s.add(30_000, "close", "c2", trader="alice", symbol="XYZUSDT", price="100", qty="3")
    rep = run(s)
    assert rep["rejected"] == []
    # o1: floor_step(4 × 0.75) = 3.
    assert _one(rep, "me", "o1")["qty"] == "3"
    # c1: f = 0.5 / 4; 3 × 0.125 = 0.375 → round_step(0.5) = 0.5 < min 1 → 1; 2 remain.
    assert _one(rep, "me", "c1")["qty"] == "1"
    # c2: f = 3 / 3.5; 2 × 6/7 = 1.714… → 1.5; 0.5 would remain < min 1 → close all 2.
    assert _one(rep, "me", "c2")["qty"] == "2"
    assert copy_of(rep, "me")["positions"] == []
    assert rep["traders"]["alice"]["positions"][0]["qty"] == "0.5"


# ---------------------------------------------------------------------------- leverage


def test_leverage_change_is_synced_to_the_copier():
    s = _base()
    _ratio_copy(s)
    trader_open(s, 10_000, "o1")
    s.add(20_000, "leverage", "l1", trader="alice", symbol="BTCUSDT", leverage=20)
    s.add(30_000, "leverage", "l2", trader="alice", symbol="BTCUSDT", leverage=5)
    rep = run(s)
    l1, l2 = _one(rep, "me", "l1"), _one(rep, "me", "l2")
    assert (l1["action"], l1["status"], l1["ts"]) == ("leverage", "copied", ts(20_500))
    assert (l2["action"], l2["status"]) == ("leverage", "copied")
    (pos,) = copy_of(rep, "me")["positions"]
    # 0.05 × 60000 / 5 = 600 (+300 over 10×, affordable with 998.2 − 300 available).
    assert (pos["leverage"], D(pos["margin"])) == ("5", D("600"))


def test_leverage_not_synced_when_the_copy_account_cannot_afford_it():
    s = _base()
    _ratio_copy(s, ratio="0.3")
    trader_open(s, 10_000, "o1")
    s.add(20_000, "leverage", "l1", trader="alice", symbol="BTCUSDT", leverage=5)
    rep = run(s)
    # Copier 0.15: margin 900, fee 5.4 → available 94.6; at 5× it needs +900.
    out = _one(rep, "me", "l1")
    assert (out["action"], out["status"], out["reason"]) == (
        "leverage", "skipped", "leverage_not_synced")
    (pos,) = copy_of(rep, "me")["positions"]
    assert (pos["leverage"], D(pos["margin"])) == ("10", D("900"))
    # The trader's own change went through: 0.5 × 60000 / 5 = 6000.
    (tpos,) = rep["traders"]["alice"]["positions"]
    assert (tpos["leverage"], D(tpos["margin"])) == ("5", D("6000"))


def test_one_batch_mixes_every_open_outcome_in_copy_creation_order():
    s = _base(min_investment="5")
    for name in ("a", "b", "c", "d", "e"):
        s.add(1000, "deposit", account=name, amount="1000")
    s.add(2000, "copy", copier="a", trader="alice", mode="smart", investment="1000")
    s.add(2000, "copy", copier="b", trader="alice", mode="smart", investment="10")
    s.add(2000, "copy", copier="c", trader="alice", mode="fixed_ratio", investment="100",
          ratio="1")
    s.add(2000, "copy", copier="d", trader="alice", mode="smart", investment="5")
    s.add(2000, "copy", copier="e", trader="alice", mode="smart", investment="1000",
          max_slippage="0.0001")
    trader_open(s, 10_000, "o1")
    s.add(10_200, "price", symbol="BTCUSDT", price="60030")
    _close(s, 20_000, "c1", qty="0.2", price="60030")
    rep = run(s)
    assert rep["rejected"] == []
    # Fill 60030, unit cost 60030 × 0.1006 = 6039.018.
    # a: M = 300 → 0.049. b: M = 3 → 0 → min 0.001 (6.039018 ≤ 10).
    # c: 0.5 → 100 / 6039.018 = 0.01655… → 0.016 reduced. d: M = 1.5 → min 0.001 costs
    # 6.039018 > 5 → skipped. e: 60030 > 60000 × 1.0001 = 60006 → skipped.
    got = [(o["copier"], o["status"], o["reason"], o["qty"])
           for o in outcomes_where(rep, event_id="o1")]
    assert got == [
        ("a", "copied", None, "0.049"),
        ("b", "copied_min_qty", None, "0.001"),
        ("c", "copied_reduced", None, "0.016"),
        ("d", "skipped", "insufficient_funds", None),
        ("e", "skipped", "slippage_limit", None),
    ]
    assert [o["price"] for o in outcomes_where(rep, event_id="o1")][:3] == ["60030"] * 3
    # f = 0.4: a 0.0196 → 0.02; b 0.0004 → 0 → min 0.001 = all of it; c 0.0064 → 0.006.
    got = [(o["copier"], o["status"], o["reason"], o["qty"])
           for o in outcomes_where(rep, event_id="c1")]
    assert got == [
        ("a", "copied", None, "0.02"),
        ("b", "copied", None, "0.001"),
        ("c", "copied", None, "0.006"),
        ("d", "skipped", "position_not_copied", None),
        ("e", "skipped", "position_not_copied", None),
    ]
    assert [len(copy_of(rep, n)["positions"]) for n in "abcde"] == [1, 0, 1, 0, 0]
