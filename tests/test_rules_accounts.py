"""§3 of copy-rules.md: contract, copy and trader accounts; equity and available."""

from __future__ import annotations

from decimal import Decimal

from smartcopy_gui.cli import replay_lines, report
from smartcopy_gui.domain.events import Event
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.store import Store
from tests.scenario import Scenario, copy_of, outcomes_where, rejected_ids, run, worked_example

D = Decimal


def test_contract_account_keeps_the_uninvested_balance():
    rep = run(worked_example(min_investment="5"))
    # 2000 deposited, 1000 moved to the copy account.
    assert rep["accounts"]["me"]["contract_balance"] == "1000"
    assert copy_of(rep, "me")["investment"] == "1000"


def test_a_liquidated_copy_never_reaches_the_contract_account():
    s = worked_example(min_investment="5")
    s.add(20_000, "price", symbol="BTCUSDT", price="54000")
    rep = run(s)
    me = copy_of(rep, "me")
    # The copy's isolated margin 294.147 is lost; wallet 998.235118 − 294.147 = 704.088118.
    assert me["positions"] == []
    assert D(me["wallet"]) == D("704.088118")
    assert D(me["realized_pnl"]) == D("-294.147")
    assert rep["accounts"]["me"]["contract_balance"] == "1000"


def test_copy_sizing_uses_only_the_copy_account_not_the_contract_balance():
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0", min_investment="5")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="1900")
    s.add(0, "deposit", account="tiny", amount="1000")
    s.add(1000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="100",
          ratio="1")
    s.add(1000, "copy", copier="tiny", trader="alice", mode="fixed_ratio", investment="5",
          ratio="1")
    s.add(10_000, "open", "o1", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated")
    rep = run(s)
    # me wants 0.5 (cost 0.5 × 60000 × 0.1006 = 3018) but its copy account holds 100:
    # floor_step(100 / 6036) = floor_step(0.016567…) = 0.016, although 1800 sit in the
    # contract account.
    (out,) = outcomes_where(rep, "me", "o1")
    assert (out["status"], out["qty"]) == ("copied_reduced", "0.016")
    assert rep["accounts"]["me"]["contract_balance"] == "1800"
    # tiny: 5 / 6036 < 0.001 → skipped, the 995 in its contract account are not touched.
    (out,) = outcomes_where(rep, "tiny", "o1")
    assert (out["status"], out["reason"]) == ("skipped", "insufficient_funds")
    assert rep["accounts"]["tiny"]["contract_balance"] == "995"


def test_equity_is_wallet_plus_unrealized_pnl_at_last_prices():
    s = worked_example(min_investment="5")
    s.add(20_000, "price", symbol="BTCUSDT", price="61000")
    rep = run(s)
    alice = rep["traders"]["alice"]
    # Alice: wallet 10000 − 18 = 9982; uPnL (61000 − 60000) × 0.5 = 500.
    assert D(alice["wallet"]) == D("9982")
    assert D(alice["positions"][0]["unrealized_pnl"]) == D("500")
    assert D(alice["equity"]) == D("10482")
    me = copy_of(rep, "me")
    # Copier: wallet 998.235118; uPnL (61000 − 60030) × 0.049 = 47.53.
    assert D(me["positions"][0]["unrealized_pnl"]) == D("47.53")
    assert D(me["equity"]) == D("1045.765118")
    assert D(me["wallet"]) == D("998.235118")


def _alice_btc_then_eth(margin_mode: str, btc_move: str, eth_qty: str) -> dict:
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(1000, "open", "btc", trader="alice", symbol="BTCUSDT", side="long", qty="1",
          price="60000", leverage=10, margin_mode=margin_mode)
    s.add(2000, "price", symbol="BTCUSDT", price=btc_move)
    s.add(3000, "open", "eth", trader="alice", symbol="ETHUSDT", side="long", qty=eth_qty,
          price="3000", leverage=1, margin_mode="isolated")
    return run(s)


def test_available_subtracts_a_cross_unrealized_loss():
    # wallet 10000 − 36 = 9964; BTC margin 6000; at 59000 the cross uPnL is −1000:
    # available = 9964 − 6000 − 1000 = 2964 < ETH margin 3000 + fee 1.8 → rejected.
    rep = _alice_btc_then_eth("cross", "59000", "1")
    assert rejected_ids(rep) == ["eth"]
    assert [p["symbol"] for p in rep["traders"]["alice"]["positions"]] == ["BTCUSDT"]


def test_available_ignores_an_isolated_unrealized_loss():
    # Isolated: available = 9964 − 6000 = 3964 ≥ 3001.8 → accepted.
    rep = _alice_btc_then_eth("isolated", "59000", "1")
    assert rejected_ids(rep) == []
    assert [p["symbol"] for p in rep["traders"]["alice"]["positions"]] == [
        "BTCUSDT", "ETHUSDT"]
    assert D(rep["traders"]["alice"]["wallet"]) == D("9964") - D("1.8")


def test_available_never_adds_a_cross_unrealized_gain():
    # At 61000 the cross uPnL is +1000, but min(0, +1000) = 0: available stays 3964.
    # 1.32 ETH: 3960 + 2.376 = 3962.376 ≤ 3964 → accepted.
    rep = _alice_btc_then_eth("cross", "61000", "1.32")
    assert rejected_ids(rep) == []
    # 1.33 ETH: 3990 + 2.394 = 3992.394 > 3964 → rejected (it would fit in 4964).
    rep = _alice_btc_then_eth("cross", "61000", "1.33")
    assert rejected_ids(rep) == ["eth"]


def test_copy_account_available_subtracts_its_cross_loss():
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="alice", name="Alice", balance="100000")
    s.add(0, "deposit", account="me", amount="1000")
    s.add(500, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    s.add(1000, "open", "btc", trader="alice", symbol="BTCUSDT", side="long", qty="1",
          price="60000", leverage=10, margin_mode="cross")
    s.add(2000, "price", symbol="BTCUSDT", price="57000")
    s.add(3000, "open", "eth", trader="alice", symbol="ETHUSDT", side="long", qty="10",
          price="3000", leverage=10, margin_mode="cross")
    rep = run(s)
    # Copier BTC 0.1 at 60000: margin 600, fee 3.6 → wallet 996.4. At 57000 its cross uPnL is
    # −300: available = 996.4 − 600 − 300 = 96.4. ETH wants 1 (cost 1 × 3000 × 0.1006 = 301.8)
    # → floor_step(96.4 / 301.8) = floor_step(0.3194…) = 0.31, copied_reduced.
    (out,) = outcomes_where(rep, "me", "eth")
    assert (out["status"], out["qty"]) == ("copied_reduced", "0.31")
    me = copy_of(rep, "me")
    # ETH margin 0.31 × 3000 / 10 = 93; fee 0.31 × 3000 × 0.0006 = 0.558.
    assert D(me["wallet"]) == D("996.4") - D("0.558")
    assert D(me["equity"]) == D("995.842") - D("300")


def test_trader_account_starts_with_its_registered_balance():
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="12345.6")
    rep = run(s)
    alice = rep["traders"]["alice"]
    assert D(alice["wallet"]) == D("12345.6")
    assert D(alice["equity"]) == D("12345.6")
    assert D(alice["earned_profit_share"]) == 0
    assert alice["positions"] == []
    # A trader is not a depositing account.
    assert "alice" not in rep["accounts"]


# ------------------------------------------------------ amounts the ledger cannot hold
LIMIT_WORDS = "beyond the 90000000000 USDT an account may hold"


def _replay_into(path, s: Scenario) -> dict:
    store = Store(path)
    try:
        replay_lines(Engine(store), s.lines)
        return report(store)
    finally:
        store.close()


def test_a_deposit_that_would_take_a_wallet_beyond_the_limit_is_rejected(tmp_path):
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(1000, "deposit", "d1", account="me", amount="90000000000")
    s.add(2000, "deposit", "d2", account="me", amount="90000000000")
    s.add(3000, "deposit", "d3", account="you", amount="100000000000")
    rep = _replay_into(tmp_path / "big.db", s)
    assert rejected_ids(rep) == ["d2", "d3"]
    assert all(LIMIT_WORDS in r["reason"] for r in rep["rejected"])
    assert rep["accounts"] == {"me": {"contract_balance": "90000000000"}}
    # The database still loads, and later commands work on it.
    s.add(4000, "deposit", "d4", account="you", amount="500")
    s.add(5000, "copy", "c1", copier="me", trader="alice", mode="smart", investment="1000")
    again = _replay_into(tmp_path / "big.db", s)
    assert rejected_ids(again) == ["d2", "d3"]
    assert again["accounts"]["you"]["contract_balance"] == "500"
    assert again["accounts"]["me"]["contract_balance"] == "89999999000"
    assert copy_of(again, "me")["wallet"] == "1000"


def test_several_refusals_for_the_limit_in_one_bulk_submission_keep_the_rest():
    store = Store(":memory:")
    engine = Engine(store)
    events = [Event("d1", 1000, "deposit", {"account": "me", "amount": D("90000000000")}),
              Event("d2", 2000, "deposit", {"account": "me", "amount": D("1")}),
              Event("d3", 3000, "deposit", {"account": "you", "amount": D("5")}),
              Event("d4", 4000, "deposit", {"account": "me", "amount": D("2")}),
              Event("d5", 5000, "deposit", {"account": "you", "amount": D("7")})]
    results = engine.submit_many(events)
    assert [r.status for r in results] == [
        "applied", "rejected", "applied", "rejected", "applied"]
    rep = report(store)
    assert rejected_ids(rep) == ["d2", "d4"]
    assert rep["accounts"] == {"me": {"contract_balance": "90000000000"},
                               "you": {"contract_balance": "12"}}


def test_a_trader_balance_beyond_the_limit_is_rejected():
    s = Scenario()
    s.add(0, "trader", "t1", trader="whale", name="Whale", balance="100000000000")
    rep = run(s)
    assert rejected_ids(rep) == ["t1"] and rep["traders"] == {}


def test_a_price_that_would_make_an_equity_beyond_the_limit_is_rejected():
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="1000000000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(0, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "open", trader="alice", symbol="BTCUSDT", side="long", qty="1000",
          price="60000", leverage=10, margin_mode="isolated")
    # 1000 × (100,000,000 − 60,000) on top of alice's ~1e9: an equity beyond 9e10.
    s.add(5000, "price", "p2", symbol="BTCUSDT", price="100000000")
    s.add(6000, "price", "p3", symbol="BTCUSDT", price="61000")
    rep = run(s)
    assert rejected_ids(rep) == ["p2"]
    assert LIMIT_WORDS in rep["rejected"][0]["reason"]
    # The rejected price never applied: alice's equity follows 61,000.
    (pos,) = rep["traders"]["alice"]["positions"]
    assert pos["unrealized_pnl"] == "1000000"


def test_a_rejection_part_way_through_a_batch_keeps_the_events_around_it():
    store = Store(":memory:")
    engine = Engine(store)
    events = [Event(f"e{i}", 1000 + i, "deposit", {"account": "me", "amount": D(amount)})
              for i, amount in enumerate(("100", "89999999950", "7"))]
    results = engine.submit_many(events)
    assert [r.status for r in results] == ["applied", "rejected", "applied"]
    assert report(store, engine)["accounts"]["me"]["contract_balance"] == "107"
    store.close()


def test_a_price_gap_that_liquidates_is_not_refused_for_the_equity_it_leaves_behind():
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="bob", name="Bob", balance="100000000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "open", trader="bob", symbol="BTCUSDT", side="short", qty="1000",
          price="60000", leverage=10, margin_mode="isolated")
    # Unliquidated, bob's equity would be 1e8 − 1000 × (1e8 − 60000) ≈ −1e11.
    s.add(3000, "price", "p2", symbol="BTCUSDT", price="100000000")
    rep = run(s)
    assert rep["rejected"] == []
    assert [o["action"] for o in outcomes_where(rep, event_id="p2")] == ["liquidation"]
    # 1e8 − fee 36,000 − margin 6,000,000
    assert rep["traders"]["bob"]["wallet"] == "93964000"
