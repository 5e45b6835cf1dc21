"""§8 of copy-rules.md: funding, profit share with a high-water mark, cancel, stop-loss."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenario import Scenario, copies_of, copy_of, outcomes_where, run, ts, worked_example

D = Decimal


# ---------------------------------------------------------------------------- funding


def test_funding_long_pays_at_the_last_price():
    s = worked_example()
    s.add(20_000, "price", symbol="BTCUSDT", price="61000")
    s.add(30_000, "funding", symbol="BTCUSDT", rate="0.0001")
    rep = run(s)
    # alice: 0.5 × 61000 × 0.0001 = 3.05 → 9982 − 3.05
    assert D(rep["traders"]["alice"]["wallet"]) == D("9978.95")
    me = copy_of(rep, "me")
    # copier: 0.049 × 61000 × 0.0001 = 0.2989 → 998.235118 − 0.2989
    assert D(me["funding"]) == D("-0.2989")
    assert D(me["wallet"]) == D("997.936218")


def test_funding_short_receives():
    s = worked_example(side="short", move=None)
    s.add(30_000, "funding", symbol="BTCUSDT", rate="0.0001")
    rep = run(s)
    # alice +0.5 × 60000 × 0.0001 = +3; copier short 0.049 at 60000: +0.294.
    assert D(rep["traders"]["alice"]["wallet"]) == D("9985")
    me = copy_of(rep, "me")
    assert me["positions"][0]["side"] == "short"
    assert D(me["funding"]) == D("0.294")
    # 1000 − 1.764 + 0.294
    assert D(me["wallet"]) == D("998.53")


@pytest.mark.parametrize("side, sign", [("long", 1), ("short", -1)])
def test_negative_funding_rate_reverses_the_direction(side, sign):
    s = worked_example(side=side, move=None)
    s.add(30_000, "funding", symbol="BTCUSDT", rate="-0.0001")
    rep = run(s)
    # long receives 3 / 0.294; short pays them.
    assert D(rep["traders"]["alice"]["wallet"]) == D("9982") + sign * D("3")
    assert D(copy_of(rep, "me")["funding"]) == sign * D("0.294")


def test_funding_of_another_symbol_changes_nothing():
    s = worked_example()
    s.add(20_000, "price", symbol="ETHUSDT", price="3000")
    before = run(s)
    s.add(30_000, "funding", symbol="ETHUSDT", rate="0.01")
    after = run(s)
    assert after["traders"] == before["traders"]
    assert after["copies"] == before["copies"]


# ---------------------------------------------------------------------------- profit share


def _hwm_scenario() -> tuple[Scenario, list[str]]:
    """A copy whose net realized PnL N is 200, 50, 150, 300 at four settlements.

    ETH 1 at 1000 (fixed_ratio 1, impact 0): open fee 0.6, so N = −0.6 + Σ funding; the
    long receives 1 × 1000 × |rate| for a negative rate and pays it for a positive one.
    """
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(1000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="1")
    s.add(2000, "open", trader="alice", symbol="ETHUSDT", side="long", qty="1", price="1000",
          leverage=10, margin_mode="isolated")
    stages = []
    for i, rate in enumerate(("-0.2006", "0.15", "-0.1", "-0.15")):
        at = 10_000 * (i + 1)
        s.add(at, "funding", symbol="ETHUSDT", rate=rate)
        s.add(at + 1, "settle")
        stages.append(s.text())
    return s, stages


def test_profit_share_pays_only_above_the_high_water_mark():
    _, stages = _hwm_scenario()
    # N = 200, 50, 150, 300 → pays 20, 0, 0, 10 at 10 %: cumulative 20, 20, 20, 30.
    earned = []
    for text in stages:
        rep = run(text.splitlines())
        assert rep["rejected"] == []
        earned.append(D(rep["traders"]["alice"]["earned_profit_share"]))
    assert earned == [D("20"), D("20"), D("20"), D("30")]


def test_profit_share_goes_to_earned_profit_share_not_the_trader_wallet():
    s, _ = _hwm_scenario()
    rep = run(s)
    alice = rep["traders"]["alice"]
    # alice's own ETH long: −0.6 + 200.6 − 150 + 100 + 150 = +300 → 10300; the 30 earned
    # stays out of her wallet and equity.
    assert D(alice["earned_profit_share"]) == D("30")
    assert D(alice["wallet"]) == D("10300")
    assert D(alice["equity"]) == D("10300")
    me = copy_of(rep, "me")
    assert D(me["profit_share"]) == D("30")
    assert D(me["funding"]) == D("300.6")
    assert D(me["fees"]) == D("0.6")
    # 1000 − 0.6 + 300.6 − 30
    assert D(me["wallet"]) == D("1270")


def test_profit_share_uses_the_trader_rate_and_nothing_is_paid_twice():
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="bob", name="Bob", balance="10000", profit_share="0.25")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(1000, "copy", copier="me", trader="bob", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    s.add(2000, "settle")  # N = 0: nothing
    s.add(10_000, "open", trader="bob", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated")
    s.add(20_000, "close", trader="bob", symbol="BTCUSDT", price="62000")
    s.add(30_000, "settle")
    s.add(40_000, "settle")
    rep = run(s)
    # Copier 0.05: pnl 0.05 × 2000 = 100; fees 1.8 + 1.86 = 3.66; N = 96.34;
    # share 0.25 × 96.34 = 24.085, once.
    assert D(rep["traders"]["bob"]["earned_profit_share"]) == D("24.085")
    me = copy_of(rep, "me", "bob")
    assert D(me["profit_share"]) == D("24.085")
    assert D(me["wallet"]) == D("1072.255")


def test_no_profit_share_on_a_loss():
    s = worked_example()
    s.add(20_000, "close", trader="alice", symbol="BTCUSDT", price="59000")
    s.add(30_000, "settle")
    rep = run(s)
    assert D(rep["traders"]["alice"]["earned_profit_share"]) == 0
    assert D(copy_of(rep, "me")["profit_share"]) == 0


def test_unrealized_gains_are_not_shared():
    s = worked_example()
    s.add(20_000, "price", symbol="BTCUSDT", price="70000")
    s.add(30_000, "settle")
    rep = run(s)
    # Copier uPnL 0.049 × 9970 = 488.53, but N = −1.764882 (the open fee only).
    assert D(copy_of(rep, "me")["positions"][0]["unrealized_pnl"]) == D("488.53")
    assert D(rep["traders"]["alice"]["earned_profit_share"]) == 0
    assert D(copy_of(rep, "me")["profit_share"]) == 0


# ---------------------------------------------------------------------------- cancel


def _cancel_scenario() -> Scenario:
    s = worked_example(move=None, impact_bps="2")
    # Copier buys at 60000 × 1.0002 = 60012; M = 300 → floor_step(300 / 6037.2072) = 0.049;
    # margin 294.0588; fee 0.049 × 60012 × 0.0006 = 1.7643528 → wallet 998.2356472.
    s.add(20_000, "price", symbol="BTCUSDT", price="62500")
    s.add(30_000, "open", "o2", trader="alice", symbol="BTCUSDT", side="long", qty="0.1",
          price="62500", leverage=10, margin_mode="isolated")
    s.add(30_200, "cancel", "x1", copier="me", trader="alice")  # o2 is still pending
    s.add(40_000, "close", "c1", trader="alice", symbol="BTCUSDT", price="62500")
    return s


def test_cancel_drops_pending_actions_as_copy_inactive():
    rep = run(_cancel_scenario())
    (dropped,) = outcomes_where(rep, "me", "o2")
    assert (dropped["action"], dropped["status"], dropped["reason"], dropped["qty"]) == (
        "increase", "skipped", "copy_inactive", None)
    # Nothing after the cancel reaches the ended copy.
    assert outcomes_where(rep, "me", "c1") == []


def test_cancel_closes_positions_at_the_last_price_with_impact():
    rep = run(_cancel_scenario())
    (out,) = outcomes_where(rep, "me", "x1")
    # Sell 0.049 at 62500 × 0.9998 = 62487.5.
    assert (out["action"], out["status"], out["qty"], out["price"], out["ts"]) == (
        "cancel", "done", "0.049", "62487.5", ts(30_200))


def test_cancel_charges_fees_settles_profit_share_and_releases_the_wallet():
    rep = run(_cancel_scenario())
    me = copy_of(rep, "me")
    # pnl (62487.5 − 60012) × 0.049 = 121.2995; close fee 0.049 × 62487.5 × 0.0006 = 1.8371325
    # wallet 998.2356472 + 121.2995 − 1.8371325 = 1117.6980147
    # N = 121.2995 − 1.7643528 − 1.8371325 = 117.6980147 → share 11.76980147
    # released 1117.6980147 − 11.76980147 = 1105.92821323
    assert me["status"] == "cancelled"
    assert D(me["realized_pnl"]) == D("121.2995")
    assert D(me["fees"]) == D("3.6014853")
    assert D(me["profit_share"]) == D("11.76980147")
    assert D(me["released"]) == D("1105.92821323")
    assert D(rep["traders"]["alice"]["earned_profit_share"]) == D("11.76980147")
    # 2000 − 1000 + 1105.92821323
    assert D(rep["accounts"]["me"]["contract_balance"]) == D("2105.92821323")


def test_an_ended_copy_reports_wallet_and_equity_zero():
    rep = run(_cancel_scenario())
    me = copy_of(rep, "me")
    assert (me["wallet"], me["equity"], me["positions"]) == ("0", "0", [])
    assert me["investment"] == "1000"


def test_released_is_zero_while_the_copy_is_active():
    rep = run(worked_example())
    assert D(copy_of(rep, "me")["released"]) == 0


# ---------------------------------------------------------------------------- stop-loss


def test_stop_loss_ends_the_copy_when_equity_falls_to_the_floor():
    s = worked_example(stop_loss="0.1")
    # Floor 1000 × 0.9 = 900. Equity 998.235118 + 0.049 × (P − 60030):
    # at 58026: 998.235118 − 98.196 = 900.039118 > 900 → still active.
    s.add(20_000, "price", symbol="BTCUSDT", price="58026")
    assert copy_of(run(s), "me")["status"] == "active"
    # at 58025: 998.235118 − 98.245 = 899.990118 ≤ 900 → stopped.
    s.add(30_000, "price", "p2", symbol="BTCUSDT", price="58025")
    rep = run(s)
    me = copy_of(rep, "me")
    assert (me["status"], me["wallet"], me["equity"], me["positions"]) == (
        "stopped", "0", "0", [])
    (out,) = outcomes_where(rep, "me", "p2")
    assert (out["action"], out["status"], out["qty"], out["price"], out["ts"]) == (
        "cancel", "done", "0.049", "58025", ts(30_000))
    # 998.235118 − 98.245 − 0.049 × 58025 × 0.0006 (1.705935) = 898.284183
    assert D(me["released"]) == D("898.284183")
    assert D(rep["accounts"]["me"]["contract_balance"]) == D("1898.284183")
    assert D(me["profit_share"]) == 0


def test_stop_loss_is_checked_after_an_executed_copier_action():
    s = worked_example(stop_loss="0.001")
    rep = run(s)
    # Floor 999; right after the open at 60030 the equity is 998.235118 → stopped at once:
    # closed at 60030 (impact 0), fee 1.764882 → 996.470236 released.
    got = [(o["action"], o["status"], o["ts"]) for o in outcomes_where(rep, "me")]
    assert got == [("open", "copied", ts(10_500)), ("cancel", "done", ts(10_500))]
    me = copy_of(rep, "me")
    assert me["status"] == "stopped"
    assert D(me["released"]) == D("996.470236")


def test_stop_loss_comes_after_the_liquidation_check():
    s = worked_example(stop_loss="0.2")
    s.add(20_000, "price", "p2", symbol="BTCUSDT", price="54000")
    rep = run(s)
    # The copier is liquidated first (margin 294.147 lost → 704.088118 ≤ floor 800), then
    # stopped with nothing left to close: it releases 704.088118 (closing at 54000 instead
    # would have released 701.177518).
    me = copy_of(rep, "me")
    assert me["status"] == "stopped"
    assert D(me["released"]) == D("704.088118")
    # alice is liquidated by the same price; her close signal, still pending when the copy
    # stopped, is dropped.
    assert [(o["action"], o["status"], o["reason"]) for o in outcomes_where(rep, "me", "p2")] == [
        ("liquidation", "done", None), ("close", "skipped", "copy_inactive")]


def test_copy_again_after_a_stop_is_a_new_relation():
    s = worked_example(stop_loss="0.001")
    s.add(20_000, "copy", "again", copier="me", trader="alice", mode="fixed_ratio",
          investment="500", ratio="0.1")
    rep = run(s)
    assert rep["rejected"] == []
    old, new = copies_of(rep, "me")
    assert (old["status"], new["status"], new["mode"], new["wallet"]) == (
        "stopped", "active", "fixed_ratio", "500")


def test_a_stop_loss_of_a_copy_made_later_is_checked_like_the_first_ones():
    # me copies without a stop-loss (prices move meanwhile), then a second copy of alice,
    # made after those events, has one: it is stopped like a first copy would be.
    s = worked_example()
    s.add(12_000, "price", symbol="BTCUSDT", price="60100")
    s.add(13_000, "deposit", account="you", amount="1000")
    s.add(13_000, "copy", copier="you", trader="alice", mode="fixed_ratio",
          investment="1000", ratio="0.1", stop_loss="0.01")
    s.add(14_000, "open", "o2", trader="alice", symbol="ETHUSDT", side="long", qty="1",
          price="3000", leverage=10, margin_mode="isolated")
    s.add(20_000, "price", "p3", symbol="ETHUSDT", price="2000")
    rep = run(s)
    assert copy_of(rep, "you")["status"] == "stopped"
    assert copy_of(rep, "me")["status"] == "active"


def test_stop_loss_triggers_when_equity_equals_the_floor():
    # floor = 1000 × (1 − 0.099960882) = 900.039118
    s = worked_example(stop_loss="0.099960882")
    # at 58026.1: 998.235118 + 0.049 × (−2003.9) = 900.044018 > floor
    s.add(20_000, "price", symbol="BTCUSDT", price="58026.1")
    assert copy_of(run(s), "me")["status"] == "active"
    # at 58026: 998.235118 + 0.049 × (−2004) = 900.039118 = floor → stopped
    s.add(30_000, "price", symbol="BTCUSDT", price="58026")
    assert copy_of(run(s), "me")["status"] == "stopped"


def test_cancel_at_exactly_t_plus_delay_comes_before_the_copier_action():
    s = worked_example(move=None)
    s.add(10_500, "cancel", "x1", copier="me", trader="alice")
    rep = run(s)
    (out,) = outcomes_where(rep, "me", "o1")
    assert (out["action"], out["status"], out["reason"]) == ("open", "skipped", "copy_inactive")
    me = copy_of(rep, "me")
    assert (me["status"], D(me["released"]), D(me["fees"])) == ("cancelled", D("1000"), 0)
    assert rep["accounts"]["me"]["contract_balance"] == "2000"


def test_earned_profit_share_is_not_part_of_the_trader_equity_for_utilization():
    s, _ = _hwm_scenario()
    # alice: wallet 10300, earned 30 (see above); ETH still at 1000 (uPnL 0).
    s.add(50_000, "deposit", account="big", amount="100000")
    s.add(50_000, "copy", copier="big", trader="alice", mode="smart", investment="100000")
    s.add(60_000, "open", "b1", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated")
    rep = run(s)
    # u = 3000 / 10300 → M = 29126.21… → floor_step(M / 6036) = floor_step(4.82541…) = 4.825
    # (with the 30 counted: 3000 / 10330 → 4.811).
    (out,) = outcomes_where(rep, "big", "b1")
    assert (out["status"], out["qty"]) == ("copied", "4.825")


# ------------------------------------------------------- funding beyond the free funds
def test_paid_funding_comes_out_of_free_funds_and_the_rest_is_waived():
    s = worked_example(move=None)
    s.add(30_000, "funding", "f1", symbol="BTCUSDT", rate="0.5")
    rep = run(s)
    me = copy_of(rep, "me")
    # The copier owes 0.049 × 60000 × 0.5 = 1470 but has 998.236 − 294 (its isolated
    # margin) = 704.236 free: it pays 704.236, the wallet stops at the margin, not −471.764.
    assert D(me["funding"]) == D("-704.236")
    assert D(me["wallet"]) == D("294")
    assert len(me["positions"]) == 1
    # alice owes 0.5 × 60000 × 0.5 = 15000 with 10000 − 18 − 3000 = 6982 free.
    assert D(rep["traders"]["alice"]["wallet"]) == D("3000")
    assert rep["accounts"]["me"]["contract_balance"] == "1000"


def test_received_funding_is_not_capped():
    s = worked_example(side="short", move=None)
    s.add(30_000, "funding", symbol="BTCUSDT", rate="0.5")
    rep = run(s)
    # 1000 − 1.764 + 0.049 × 60000 × 0.5 (1470)
    assert D(copy_of(rep, "me")["wallet"]) == D("2468.236")
