"""§9 of copy-rules.md, number for number."""

from __future__ import annotations

from decimal import Decimal

from tests.scenario import copy_of, outcomes_where, run, worked_example


def test_copier_open_matches_the_worked_example():
    rep = run(worked_example())
    alice = rep["traders"]["alice"]
    # Alice: margin 3,000, fee 18.
    assert alice["wallet"] == "9982"
    assert alice["positions"][0]["margin"] == "3000"
    me = copy_of(rep, "me")
    (out,) = outcomes_where(rep, "me", "o1")
    assert (out["action"], out["status"], out["qty"], out["price"]) == (
        "open", "copied", "0.049", "60030")
    assert out["ts"] == "2026-03-24T00:00:10.500Z"
    pos = me["positions"][0]
    assert pos["qty"] == "0.049"
    assert pos["margin"] == "294.147"
    assert me["fees"] == "1.764882"
    assert me["wallet"] == "998.235118"
    assert rep["accounts"]["me"]["contract_balance"] == "1000"


def test_liquidation_prices_match_the_worked_example():
    rep = run(worked_example())
    alice_liq = rep["traders"]["alice"]["positions"][0]["liq_price"]
    me_liq = copy_of(rep, "me")["positions"][0]["liq_price"]
    assert round(float(alice_liq), 4) == 54271.3568  # display only
    assert alice_liq.startswith("54271.3567")
    assert me_liq.startswith("54298.4924")
    assert f"{float(me_liq):.4f}" == "54298.4925"


def test_partial_close_rounds_the_copier_close_half_up():
    s = worked_example()
    s.add(120_000, "close", "c1", trader="alice", symbol="BTCUSDT", price="60030", qty="0.2")
    rep = run(s)
    (out,) = outcomes_where(rep, "me", "c1")
    assert (out["action"], out["status"], out["qty"]) == ("close", "copied", "0.02")
    assert copy_of(rep, "me")["positions"][0]["qty"] == "0.029"
    assert rep["traders"]["alice"]["positions"][0]["qty"] == "0.3"


def test_small_copier_is_bumped_to_min_qty():
    rep = run(worked_example(extra_copiers={"small": "10"}))
    (out,) = outcomes_where(rep, "small", "o1")
    assert (out["status"], out["qty"]) == ("copied_min_qty", "0.001")
    small = copy_of(rep, "small")
    # Cost 6.039018 = margin 6.003 + fee 0.036018.
    assert small["positions"][0]["margin"] == "6.003"
    assert small["fees"] == "0.036018"
    # Utilization ~60% of the copy account against alice's 30%.
    copier_u = Decimal(small["positions"][0]["margin"]) / Decimal(small["investment"])
    alice = rep["traders"]["alice"]["positions"][0]
    trader_u = Decimal(alice["margin"]) / Decimal("10000")
    assert trader_u == Decimal("0.3")
    assert Decimal("0.6") <= copier_u < Decimal("0.61")


def test_tiny_copier_is_skipped_and_the_later_close_is_not_copied():
    s = worked_example(extra_copiers={"tiny": "5"}, min_investment="5")
    s.add(120_000, "close", "c1", trader="alice", symbol="BTCUSDT", price="60030", qty="0.2")
    rep = run(s)
    opened, closed = outcomes_where(rep, "tiny")
    assert (opened["status"], opened["reason"]) == ("skipped", "insufficient_funds")
    assert (closed["action"], closed["status"], closed["reason"]) == (
        "close", "skipped", "position_not_copied")
    tiny = copy_of(rep, "tiny")
    assert tiny["positions"] == [] and tiny["wallet"] == "5"
