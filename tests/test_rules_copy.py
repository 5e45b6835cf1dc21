"""§5 of copy-rules.md: copy relations, their rejections, modes and settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenario import (
    Scenario,
    copies_of,
    copy_of,
    outcomes_where,
    rejected_ids,
    run,
    trader_open,
)

D = Decimal


def _base(min_investment: str | None = None, deposit: str = "2000") -> Scenario:
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0", min_investment=min_investment)
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "trader", trader="bob", name="Bob", balance="10000")
    s.add(0, "deposit", account="me", amount=deposit)
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    return s


# ---------------------------------------------------------------------------- modes


def test_smart_mode_follows_direction_leverage_and_margin_mode():
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    trader_open(s, 10_000, "o1", side="short", leverage=20, margin_mode="cross")
    rep = run(s)
    # u = (0.5 × 60000 / 20) / 10000 = 0.15 → M = 150;
    # qty = floor_step(150 / (60000 × (1/20 + 0.0006) = 3036)) = floor_step(0.04940…) = 0.049.
    (out,) = outcomes_where(rep, "me", "o1")
    assert (out["action"], out["status"], out["qty"]) == ("open", "copied", "0.049")
    me = copy_of(rep, "me")
    assert me["mode"] == "smart"
    (pos,) = me["positions"]
    assert (pos["side"], pos["leverage"], pos["margin_mode"]) == ("short", "20", "cross")
    # margin 0.049 × 60000 / 20 = 147
    assert D(pos["margin"]) == D("147")


def test_smart_mode_target_margin_is_u_times_copy_equity():
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="2000")
    trader_open(s, 10_000, "o1")
    rep = run(s)
    # M = 0.3 × 2000 = 600 → floor_step(600 / 6036) = floor_step(0.09940…) = 0.099.
    assert outcomes_where(rep, "me", "o1")[0]["qty"] == "0.099"


def test_fixed_amount_uses_the_amount_per_copied_open():
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_amount", investment="1000",
          amount="100")
    trader_open(s, 10_000, "o1", leverage=20)
    trader_open(s, 20_000, "o2", qty="0.1", leverage=20)
    rep = run(s)
    # M = 100 at 20×: floor_step(100 / (60000 × 0.0506 = 3036)) = floor_step(0.03293…) = 0.032,
    # for the open and again for the increase (whatever the trader's size).
    o1, o2 = outcomes_where(rep, "me")
    assert (o1["action"], o1["qty"]) == ("open", "0.032")
    assert (o2["action"], o2["qty"]) == ("increase", "0.032")
    (pos,) = copy_of(rep, "me")["positions"]
    # margin 0.064 × 60000 / 20 = 192
    assert (pos["qty"], pos["leverage"], pos["margin_mode"], D(pos["margin"])) == (
        "0.064", "20", "isolated", D("192"))


def test_fixed_ratio_scales_the_trader_qty():
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    trader_open(s, 10_000, "o1", margin_mode="cross")
    trader_open(s, 20_000, "o2", qty="0.2", margin_mode="cross")
    rep = run(s)
    # 0.5 × 0.1 = 0.05, then 0.2 × 0.1 = 0.02.
    o1, o2 = outcomes_where(rep, "me")
    assert (o1["qty"], o2["qty"]) == ("0.05", "0.02")
    (pos,) = copy_of(rep, "me")["positions"]
    assert (pos["qty"], pos["leverage"], pos["margin_mode"]) == ("0.07", "10", "cross")


@pytest.mark.parametrize("mode, extra, qty", [
    # smart: M = min(300, 100) = 100 → floor_step(100 / 6036) = 0.016
    ("smart", {}, "0.016"),
    # fixed_amount 200 capped at 100 → 0.016
    ("fixed_amount", {"amount": "200"}, "0.016"),
    # fixed_ratio: the cap has no effect: 0.5 × 0.1 = 0.05 (margin 300 > 100)
    ("fixed_ratio", {"ratio": "0.1"}, "0.05"),
])
def test_max_margin_per_order_caps_the_target_margin(mode, extra, qty):
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode=mode, investment="1000",
          max_margin_per_order="100", **extra)
    trader_open(s, 10_000, "o1")
    rep = run(s)
    (out,) = outcomes_where(rep, "me", "o1")
    assert (out["status"], out["qty"]) == ("copied", qty)


def test_max_margin_per_order_above_the_target_changes_nothing():
    s = _base()
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="1000",
          max_margin_per_order="500")
    trader_open(s, 10_000, "o1")
    assert outcomes_where(run(s), "me", "o1")[0]["qty"] == "0.049"


# ---------------------------------------------------------------------------- rejections


def test_investment_below_the_default_minimum_of_10_is_rejected():
    s = _base()
    s.add(2000, "copy", "low", copier="me", trader="alice", mode="smart", investment="9.99")
    s.add(2000, "copy", "ok", copier="me", trader="bob", mode="smart", investment="10")
    rep = run(s)
    assert rejected_ids(rep) == ["low"]
    assert copies_of(rep, "me", "alice") == []
    assert copy_of(rep, "me", "bob")["investment"] == "10"
    assert rep["accounts"]["me"]["contract_balance"] == "1990"


def test_configured_min_investment_is_used():
    s = _base(min_investment="5")
    s.add(2000, "copy", "low", copier="me", trader="alice", mode="smart", investment="4.99")
    s.add(2000, "copy", "ok", copier="me", trader="bob", mode="smart", investment="5")
    rep = run(s)
    assert rejected_ids(rep) == ["low"]
    assert copy_of(rep, "me", "bob")["wallet"] == "5"


def test_investment_above_the_contract_balance_is_rejected():
    s = _base()
    s.add(2000, "copy", "high", copier="me", trader="alice", mode="smart",
          investment="2000.01")
    s.add(2000, "copy", "nobody", copier="ghost", trader="alice", mode="smart",
          investment="10")
    s.add(2000, "copy", "all", copier="me", trader="bob", mode="smart", investment="2000")
    rep = run(s)
    assert rejected_ids(rep) == ["high", "nobody"]
    assert rep["accounts"]["me"]["contract_balance"] == "0"
    assert copy_of(rep, "me", "bob")["wallet"] == "2000"


def test_a_second_active_copy_of_the_same_trader_is_rejected():
    s = _base()
    s.add(2000, "copy", "c1", copier="me", trader="alice", mode="smart", investment="100")
    s.add(3000, "copy", "c2", copier="me", trader="alice", mode="smart", investment="100")
    s.add(3000, "copy", "c3", copier="me", trader="bob", mode="smart", investment="100")
    rep = run(s)
    assert rejected_ids(rep) == ["c2"]
    assert len(copies_of(rep, "me", "alice")) == 1
    assert len(copies_of(rep, "me", "bob")) == 1
    assert rep["accounts"]["me"]["contract_balance"] == "1800"


@pytest.mark.parametrize("mode, extra", [("fixed_amount", {"amount": "50"}),
                                         ("fixed_ratio", {"ratio": "0.1"})])
def test_mode_switch_during_an_active_copy_is_rejected_with_an_explanation(mode, extra):
    s = _base()
    s.add(2000, "copy", "c1", copier="me", trader="alice", mode="smart", investment="100")
    s.add(3000, "copy", "switch", copier="me", trader="alice", mode=mode, investment="100",
          **extra)
    rep = run(s)
    (rej,) = [r for r in rep["rejected"] if r["event_id"] == "switch"]
    reason = rej["reason"].lower()
    assert "mode switching during an active copy is not supported" in reason
    assert "cancel" in reason
    (c,) = copies_of(rep, "me")
    assert (c["mode"], c["status"]) == ("smart", "active")


def test_copy_again_after_cancel_is_a_new_relation_in_any_mode():
    s = _base()
    s.add(2000, "copy", "c1", copier="me", trader="alice", mode="smart", investment="100")
    s.add(3000, "cancel", "x1", copier="me", trader="alice")
    s.add(4000, "copy", "c2", copier="me", trader="alice", mode="fixed_amount",
          investment="300", amount="50")
    trader_open(s, 10_000, "o1")
    rep = run(s)
    assert rep["rejected"] == []
    old, new = copies_of(rep, "me")
    assert (old["mode"], old["status"], old["wallet"], old["released"]) == (
        "smart", "cancelled", "0", "100")
    assert (new["mode"], new["status"], new["investment"]) == ("fixed_amount", "active", "300")
    # Only the new relation gets o1: floor_step(50 / 6036) = 0.008.
    (out,) = outcomes_where(rep, "me", "o1")
    assert out["qty"] == "0.008"
    assert new["positions"][0]["qty"] == "0.008"
    # 2000 − 100 + 100 − 300
    assert rep["accounts"]["me"]["contract_balance"] == "1700"


# ---------------------------------------------------------------------------- who gets what


def test_a_copy_created_after_a_trader_action_gets_nothing_from_it():
    s = _base()
    trader_open(s, 10_000, "o1")
    # Created while o1's copier actions are still pending.
    s.add(10_100, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    trader_open(s, 20_000, "o2", qty="0.1")
    s.add(30_000, "close", "c1", trader="alice", symbol="BTCUSDT", price="60000")
    trader_open(s, 40_000, "o3")
    rep = run(s)
    # Nothing from o1; the increase and the close of that cycle are not copied; the next
    # cycle is.
    assert outcomes_where(rep, "me", "o1") == []
    (inc,) = outcomes_where(rep, "me", "o2")
    assert (inc["action"], inc["status"], inc["reason"]) == (
        "increase", "skipped", "position_not_copied")
    (cls,) = outcomes_where(rep, "me", "c1")
    assert (cls["action"], cls["status"], cls["reason"]) == (
        "close", "skipped", "position_not_copied")
    (new,) = outcomes_where(rep, "me", "o3")
    assert (new["action"], new["status"], new["qty"]) == ("open", "copied", "0.049")


def test_outcomes_come_in_the_order_copies_were_created():
    s = _base()
    s.add(1000, "deposit", account="amy", amount="1000")
    s.add(1000, "deposit", account="zed", amount="1000")
    s.add(2000, "copy", copier="zed", trader="alice", mode="smart", investment="1000")
    s.add(2001, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    s.add(2002, "copy", copier="amy", trader="alice", mode="smart", investment="1000")
    trader_open(s, 10_000, "o1")
    rep = run(s)
    assert [o["copier"] for o in outcomes_where(rep, event_id="o1")] == ["zed", "me", "amy"]


def test_a_zero_investment_copy_by_a_copier_without_deposit_does_not_break_the_replay():
    s = Scenario()
    s.add(0, "config", min_investment="0")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(1000, "copy", "c0", copier="ghost", trader="alice", mode="smart", investment="0")
    s.add(2000, "deposit", account="me", amount="5")
    rep = run(s)  # must not raise
    assert rep["accounts"]["me"]["contract_balance"] == "5"
    # §5 does not settle a zero investment (0 is neither below min_investment 0 nor above
    # ghost's balance 0); accepting it with an empty wallet or rejecting it as a real
    # exchange would are both fine, but the event must get one or the other.
    ghost = [(c["status"], c["wallet"]) for c in rep["copies"] if c["copier"] == "ghost"]
    rejected = [r["event_id"] for r in rep["rejected"]]
    assert (ghost, rejected) in [([("active", "0")], []), ([], ["c0"])]
