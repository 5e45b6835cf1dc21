"""§1 (numbers) and §2 (instruments, maintenance tiers, fees) of copy-rules.md.

Every expected number is worked out by hand in the comments; nothing here calls the
engine's own maths to produce an expected value.
"""

from __future__ import annotations

import decimal
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

from tests.scenario import Scenario, close_to, copy_of, outcomes_where, rejected_ids, run

D = Decimal


def _base(impact_bps: str | None = "0", balance: str = "10000") -> Scenario:
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps=impact_bps)
    s.add(0, "trader", trader="alice", name="Alice", balance=balance)
    s.add(0, "deposit", account="me", amount="2000")
    return s


# ---------------------------------------------------------------------------- §1 numbers


def test_fixed_ratio_qty_is_floored_to_the_step_not_rounded():
    s = _base()
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.0999")
    s.add(10_000, "open", "o1", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated")
    rep = run(s)
    # 0.5 × 0.0999 = 0.04995 → floor_step 0.049 (round_step would give 0.050).
    (out,) = outcomes_where(rep, "me", "o1")
    assert (out["status"], out["qty"], out["price"]) == ("copied", "0.049", "60000")
    me = copy_of(rep, "me")
    # margin 0.049 × 60000 / 10 = 294; fee 0.049 × 60000 × 0.0006 = 1.764.
    assert me["positions"][0]["qty"] == "0.049"
    assert D(me["positions"][0]["margin"]) == D("294")
    assert D(me["fees"]) == D("1.764")
    assert D(me["wallet"]) == D("998.236")


def test_partial_close_rounds_an_exact_half_step_up():
    s = _base()
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.01")
    s.add(10_000, "open", "o1", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated")
    s.add(20_000, "close", "c1", trader="alice", symbol="BTCUSDT", price="60000", qty="0.25")
    rep = run(s)
    # Copier holds 0.5 × 0.01 = 0.005. f = 0.25 / 0.5 = 0.5; 0.005 × 0.5 = 0.0025, an exact
    # half step: round_step is half-up → 0.003 (half-even would give 0.002). 0.002 remains.
    (out,) = outcomes_where(rep, "me", "c1")
    assert (out["action"], out["status"], out["qty"]) == ("close", "copied", "0.003")
    assert copy_of(rep, "me")["positions"][0]["qty"] == "0.002"


def test_every_copier_quantity_is_a_multiple_of_the_step():
    s = _base(impact_bps="3")
    s.add(0, "deposit", account="you", amount="5000")
    s.add(1000, "price", symbol="SOLUSDT", price="123.457")
    s.add(1000, "price", symbol="ETHUSDT", price="3001.23")
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="777.77")
    s.add(2000, "copy", copier="you", trader="alice", mode="fixed_amount", investment="3333",
          amount="123.45")
    s.add(10_000, "open", trader="alice", symbol="SOLUSDT", side="long", qty="37.3",
          price="123.457", leverage=7, margin_mode="cross")
    s.add(10_000, "open", trader="alice", symbol="ETHUSDT", side="short", qty="1.37",
          price="3001.23", leverage=13, margin_mode="isolated")
    s.add(20_000, "open", trader="alice", symbol="SOLUSDT", side="long", qty="11.9",
          price="124.001", leverage=7, margin_mode="cross")
    s.add(30_000, "close", trader="alice", symbol="SOLUSDT", price="125.5", qty="17.7")
    s.add(40_000, "close", trader="alice", symbol="ETHUSDT", price="2999.99", qty="0.33")
    rep = run(s)
    steps = {"SOLUSDT": D("0.1"), "ETHUSDT": D("0.01"), "BTCUSDT": D("0.001")}
    ticks = {"SOLUSDT": D("0.001"), "ETHUSDT": D("0.01"), "BTCUSDT": D("0.1")}
    copied = [o for o in rep["outcomes"] if o["qty"] is not None]
    assert len(copied) == 10  # 5 trader actions × 2 copiers, all executed
    for o in copied:
        assert D(o["qty"]) > 0 and D(o["qty"]) % steps[o["symbol"]] == 0, o
        assert D(o["price"]) % ticks[o["symbol"]] == 0, o
    for c in rep["copies"]:
        for p in c["positions"]:
            assert D(p["qty"]) % steps[p["symbol"]] == 0, p


def test_copier_fills_round_up_to_the_tick_for_buys_and_down_for_sells():
    s = Scenario()
    s.add(0, "config", delay_ms="500")  # impact_bps defaults to 2
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "trader", trader="bob", name="Bob", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(0, "deposit", account="you", amount="2000")
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    s.add(2000, "copy", copier="you", trader="bob", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    s.add(10_000, "open", "a_open", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60001", leverage=10, margin_mode="isolated")
    s.add(10_000, "open", "a_eth", trader="alice", symbol="ETHUSDT", side="long", qty="1",
          price="3001.23", leverage=10, margin_mode="isolated")
    s.add(10_000, "open", "b_open", trader="bob", symbol="BTCUSDT", side="short", qty="0.5",
          price="60001", leverage=10, margin_mode="isolated")
    s.add(20_000, "close", "a_close", trader="alice", symbol="BTCUSDT", price="60001")
    s.add(20_000, "close", "a_eth_close", trader="alice", symbol="ETHUSDT", price="3001.23")
    s.add(20_000, "close", "b_close", trader="bob", symbol="BTCUSDT", price="60001")
    rep = run(s)
    # Buy:  60001 × 1.0002 = 60013.0002 → up to the 0.1 tick → 60013.1
    # Sell: 60001 × 0.9998 = 59988.9998 → down to the 0.1 tick → 59988.9
    # ETH buy 3001.23 × 1.0002 = 3001.830246 → 3001.84; sell × 0.9998 = 3000.629754 → 3000.62
    price = {o["event_id"]: o["price"] for o in rep["outcomes"]}
    assert price["a_open"] == "60013.1"      # long open = buy
    assert price["a_close"] == "59988.9"     # long close = sell
    assert price["b_open"] == "59988.9"      # short open = sell
    assert price["b_close"] == "60013.1"     # short close = buy
    assert price["a_eth"] == "3001.84"
    assert price["a_eth_close"] == "3000.62"
    me = copy_of(rep, "me")
    # BTC: open fee 0.05 × 60013.1 × 0.0006 = 1.800393; pnl (59988.9 − 60013.1) × 0.05 = −1.21;
    # close fee 0.05 × 59988.9 × 0.0006 = 1.799667.
    # ETH (0.1): open fee 0.1 × 3001.84 × 0.0006 = 0.1801104; pnl (3000.62 − 3001.84) × 0.1
    # = −0.122; close fee 0.1 × 3000.62 × 0.0006 = 0.1800372.
    assert D(me["realized_pnl"]) == D("-1.332")
    assert D(me["fees"]) == D("1.800393") + D("1.799667") + D("0.1801104") + D("0.1800372")
    assert D(me["wallet"]) == D("1000") - D("1.332") - D("3.9602076")
    you = copy_of(rep, "you", "bob")
    # Short: pnl (59988.9 − 60013.1) × 0.05 = −1.21 again.
    assert D(you["realized_pnl"]) == D("-1.21")


def test_usdt_postings_are_exact_to_at_least_1e_8():
    s = _base()
    s.add(10_000, "open", trader="alice", symbol="BTCUSDT", side="long", qty="0.001",
          price="60000.01", leverage=10, margin_mode="isolated")
    rep = run(s)
    # fee 0.001 × 60000.01 × 0.0006 = 0.036000006 (9 decimals); a posting may be rounded
    # to no coarser than 1e-8, so the wallet is 10000 − 0.036000006 within 1e-8.
    wallet = rep["traders"]["alice"]["wallet"]
    assert abs(D(wallet) - D("9999.963999994")) <= D("0.00000001")
    # Amounts are decimal strings without binary-float noise.
    assert "e" not in wallet.lower()


# ---------------------------------------------------------------------------- §2 tiers


def _bob_long(qty: str, leverage: int = 100) -> Scenario:
    s = Scenario()
    s.add(0, "trader", trader="bob", name="Bob", balance="100000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "open", "o1", trader="bob", symbol="BTCUSDT", side="long", qty=qty,
          price="60000", leverage=leverage, margin_mode="isolated")
    return s


def test_second_maintenance_tier_is_used_for_its_notional_band():
    rep = run(_bob_long("40"))
    # notional 40 × 60000 = 2,400,000 → tier 2 (0.75 %, 5,000); margin 2,400,000 / 100 = 24,000.
    # liq = (2,400,000 − 24,000 − 5,000) / (40 × 0.9925) = 59722.92191435768...
    # (tier 1 would give 59698.49...).
    (pos,) = rep["traders"]["bob"]["positions"]
    assert pos["margin"] == "24000"
    assert close_to(pos["liq_price"], "59722.9219143576826")


def test_tier_above_the_last_cap_is_the_last_tier():
    rep = run(_bob_long("101"))
    # notional 6,060,000 > 6,000,000 → last tier (1 %, 15,000); margin 60,600.
    # liq = (6,060,000 − 60,600 − 15,000) / (101 × 0.99) = 59849.98499849985...
    (pos,) = rep["traders"]["bob"]["positions"]
    assert close_to(pos["liq_price"], "59849.9849984998500")


def test_tier_is_chosen_by_notional_at_the_current_price():
    s = _bob_long("33")
    rep_before = run(s)
    # At 60000: notional 1,980,000 → tier 1; margin 19,800.
    # liq = (1,980,000 − 19,800) / (33 × 0.995) = 59698.49246231155...
    assert close_to(rep_before["traders"]["bob"]["positions"][0]["liq_price"],
                     "59698.4924623115578")
    s.add(3000, "price", symbol="BTCUSDT", price="61000")
    rep = run(s)
    # At 61000: notional 2,013,000 → tier 2.
    # liq = (1,980,000 − 19,800 − 5,000) / (33 × 0.9925) = 59696.20639645828...
    assert close_to(rep["traders"]["bob"]["positions"][0]["liq_price"],
                     "59696.2063964582856")


def test_liquidation_trigger_uses_the_tier_of_the_notional():
    # Tier-2 liq price 59722.9219...: 59722.9 liquidates; tier 1 (59698.49) would not.
    s = _bob_long("40")
    s.add(3000, "price", symbol="BTCUSDT", price="59723")
    rep = run(s)
    assert len(rep["traders"]["bob"]["positions"]) == 1
    s.add(4000, "price", symbol="BTCUSDT", price="59722.9")
    rep = run(s)
    assert rep["traders"]["bob"]["positions"] == []
    # The whole margin 24,000 and the fee 40 × 60000 × 0.0006 = 1,440 are gone.
    assert D(rep["traders"]["bob"]["wallet"]) == D("100000") - D("24000") - D("1440")


def test_default_instrument_steps_and_max_leverage():
    s = Scenario()
    s.add(0, "trader", trader="bob", name="Bob", balance="100000")
    s.add(1000, "open", "eth_bad_step", trader="bob", symbol="ETHUSDT", side="long",
          qty="0.015", price="3000", leverage=10, margin_mode="isolated")
    s.add(1000, "open", "sol_lev_51", trader="bob", symbol="SOLUSDT", side="long", qty="1",
          price="100", leverage=51, margin_mode="isolated")
    s.add(1000, "open", "btc_lev_101", trader="bob", symbol="BTCUSDT", side="long",
          qty="0.001", price="60000", leverage=101, margin_mode="isolated")
    s.add(1000, "open", "sol_lev_50", trader="bob", symbol="SOLUSDT", side="long", qty="1.1",
          price="100", leverage=50, margin_mode="isolated")
    s.add(1000, "open", "btc_lev_100", trader="bob", symbol="BTCUSDT", side="long",
          qty="0.001", price="60000", leverage=100, margin_mode="isolated")
    s.add(1000, "open", "eth_ok", trader="bob", symbol="ETHUSDT", side="long", qty="0.02",
          price="3000", leverage=10, margin_mode="isolated")
    rep = run(s)
    assert rejected_ids(rep) == ["eth_bad_step", "sol_lev_51", "btc_lev_101"]
    pos = {p["symbol"]: p for p in rep["traders"]["bob"]["positions"]}
    assert (pos["SOLUSDT"]["qty"], pos["SOLUSDT"]["leverage"]) == ("1.1", "50")
    assert (pos["BTCUSDT"]["qty"], pos["BTCUSDT"]["leverage"]) == ("0.001", "100")
    assert pos["ETHUSDT"]["qty"] == "0.02"


def _xyz(s: Scenario) -> None:
    s.add(0, "instrument", symbol="XYZUSDT", qty_step="0.5", min_qty="1", tick="0.05",
          max_leverage=20, tiers=[["100000", "0.02", "0"], ["1000000", "0.05", "1000"]])


def test_custom_instrument_defines_step_min_tick_leverage_and_tiers():
    s = Scenario()
    s.add(0, "config", delay_ms="500")  # impact 2 bps
    _xyz(s)
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(1000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="1")
    s.add(2000, "open", "below_min", trader="alice", symbol="XYZUSDT", side="long", qty="0.5",
          price="100", leverage=10, margin_mode="isolated")
    s.add(2000, "open", "not_step", trader="alice", symbol="XYZUSDT", side="long", qty="1.2",
          price="100", leverage=10, margin_mode="isolated")
    s.add(2000, "open", "lev_21", trader="alice", symbol="XYZUSDT", side="long", qty="3",
          price="100", leverage=21, margin_mode="isolated")
    s.add(2000, "open", "o1", trader="alice", symbol="XYZUSDT", side="long", qty="3",
          price="100", leverage=10, margin_mode="isolated")
    rep = run(s)
    assert rejected_ids(rep) == ["below_min", "not_step", "lev_21"]
    (pos,) = rep["traders"]["alice"]["positions"]
    # Trader: margin 3 × 100 / 10 = 30; notional 300 → MMR 2 %:
    # liq = (300 − 30) / (3 × 0.98) = 91.83673469387755...
    assert pos["margin"] == "30"
    assert close_to(pos["liq_price"], "91.8367346938775510")
    # Copier buy fill: 100 × 1.0002 = 100.02 → up to the 0.05 tick → 100.05; qty 3 × 1 = 3.
    (out,) = outcomes_where(rep, "me", "o1")
    assert (out["status"], out["qty"], out["price"]) == ("copied", "3", "100.05")
    me = copy_of(rep, "me")
    # margin 3 × 100.05 / 10 = 30.015; fee 3 × 100.05 × 0.0006 = 0.18009.
    assert D(me["positions"][0]["margin"]) == D("30.015")
    assert D(me["fees"]) == D("0.18009")


def test_fee_rate_of_a_trader_fill_overrides_the_taker_fee_for_the_trader_only():
    s = _base()
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    s.add(10_000, "open", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated", fee_rate="0.0002")
    s.add(20_000, "close", trader="alice", symbol="BTCUSDT", price="61000", fee_rate="0")
    rep = run(s)
    # Alice: open fee 0.5 × 60000 × 0.0002 = 6; close pnl (61000 − 60000) × 0.5 = 500, fee 0.
    assert D(rep["traders"]["alice"]["wallet"]) == D("10494")
    me = copy_of(rep, "me")
    # Copier (0.05) pays the taker fee: 0.05 × 60000 × 0.0006 = 1.8 and
    # 0.05 × 61000 × 0.0006 = 1.83; pnl 0.05 × 1000 = 50.
    assert D(me["fees"]) == D("3.63")
    assert D(me["realized_pnl"]) == D("50")
    assert D(me["wallet"]) == D("1046.37")


def test_configured_taker_fee_applies_to_trader_and_copier():
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0", taker_fee="0.001")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(2000, "copy", copier="me", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    s.add(10_000, "open", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated")
    rep = run(s)
    # Alice fee 0.5 × 60000 × 0.001 = 30; copier 0.05 × 60000 × 0.001 = 3.
    assert D(rep["traders"]["alice"]["wallet"]) == D("9970")
    assert D(copy_of(rep, "me")["fees"]) == D("3")


# ------------------------------------------------------------- no process-wide side effects
def test_the_engine_computes_the_same_in_any_thread_whatever_its_decimal_context():
    # The worked example: u = 3000 / 10000 and M = u × 1000 need more than 5 digits.
    from tests.scenario import worked_example

    lines = worked_example().lines
    in_thread: list[dict] = []
    worker = threading.Thread(target=lambda: in_thread.append(run(lines)))
    worker.start()
    worker.join()
    with decimal.localcontext(decimal.Context(prec=5, rounding=decimal.ROUND_DOWN)):
        here = run(lines)
    assert here == in_thread[0]
    assert outcomes_where(here, copier="me")[0]["qty"] == "0.049"


def test_importing_and_running_the_engine_leaves_decimal_and_gc_settings_alone():
    code = textwrap.dedent("""
        import decimal, gc
        before = (decimal.DefaultContext.prec, decimal.getcontext().prec,
                  decimal.getcontext().traps[decimal.FloatOperation], gc.get_threshold())
        from smartcopy_gui.cli import replay_lines
        from smartcopy_gui.engine.engine import Engine
        from smartcopy_gui.store import Store
        from tests.scenario import worked_example
        engine = Engine(Store(":memory:"))
        replay_lines(engine, worked_example().lines)
        after = (decimal.DefaultContext.prec, decimal.getcontext().prec,
                 decimal.getcontext().traps[decimal.FloatOperation], gc.get_threshold())
        print(before == after, gc.isenabled(), gc.get_freeze_count())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.split() == ["True", "True", "0"]


# ------------------------------------------------------------- §1 exact average entry
def test_the_average_entry_after_an_increase_is_exact_on_a_tiny_price():
    s = _base()
    s.add(0, "instrument", symbol="PEPEUSDT", qty_step="1", min_qty="1", tick="0.00000001",
          max_leverage="20", tiers=[["1000000000", "0.01", "0"]])
    s.add(1000, "price", symbol="PEPEUSDT", price="0.00001234")
    s.add(2000, "open", trader="alice", symbol="PEPEUSDT", side="long", qty="1000000",
          price="0.00001234", leverage=10, margin_mode="isolated")
    s.add(3000, "open", trader="alice", symbol="PEPEUSDT", side="long", qty="2000000",
          price="0.00001235", leverage=10, margin_mode="isolated")
    s.add(4000, "price", symbol="PEPEUSDT", price="0.0000124")
    (pos,) = run(s)["traders"]["alice"]["positions"]
    # (12.34 + 24.70) / 3,000,000 = 0.0000123466…; rounded to 1e-8 it would be 0.00001235.
    assert pos["entry_price"].startswith("0.00001234666666666666666666666")
    # 3,000,000 × 0.0000124 − 37.04 = 0.16 (0.15 from a rounded entry); margin 37.04 / 10.
    assert pos["unrealized_pnl"] == "0.16"
    assert pos["margin"] == "3.704"


def test_the_entry_points_tune_the_collector_once():
    code = textwrap.dedent("""
        import gc
        from smartcopy_gui.gc_policy import YOUNG_THRESHOLD, tune_collector
        default = gc.get_threshold()
        tune_collector()
        tuned = gc.get_threshold()
        gc.set_threshold(*default)
        tune_collector()  # a second call changes nothing
        print(tuned[0] == YOUNG_THRESHOLD > default[0], gc.get_threshold() == default,
              gc.isenabled(), gc.get_freeze_count() > 0)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.split() == ["True", "True", "True", "True"]
