"""Statistics against hand-computed values on a small fixed history."""

from __future__ import annotations

import statistics
from decimal import Decimal
from fractions import Fraction

from smartcopy_gui.cli import replay_lines
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.store import Store
from smartcopy_gui.store.stats import copy_stats, trader_stats
from tests.scenario import Scenario, worked_example

D = Decimal

H = 3_600_000
DAY = 24 * H


def _history() -> Scenario:
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "price", symbol="BTCUSDT", price="50000")
    # Day 0: long 0.2 at 50,000 (fee 6).
    s.add(10 * H, "open", trader="alice", symbol="BTCUSDT", side="long", qty="0.2",
          price="50000", leverage=10, margin_mode="isolated")
    # Day 1: up to 51,000, closed: +200 − 6.12 fee; the cycle made 187.88 (a win).
    s.add(DAY + 12 * H, "price", symbol="BTCUSDT", price="51000")
    s.add(DAY + 13 * H, "close", trader="alice", symbol="BTCUSDT", price="51000")
    # Day 2: short 0.1 at 51,000 (fee 3.06), price rises to 52,000 (−100).
    s.add(2 * DAY + 10 * H, "open", trader="alice", symbol="BTCUSDT", side="short",
          qty="0.1", price="51000", leverage=5, margin_mode="isolated")
    s.add(2 * DAY + 15 * H, "price", symbol="BTCUSDT", price="52000")
    # Day 3: closed at 52,000: −100 − 3.12; the cycle made −106.18 (a loss).
    s.add(3 * DAY + 9 * H, "close", trader="alice", symbol="BTCUSDT", price="52000")
    s.add(4 * DAY + 9 * H, "price", symbol="BTCUSDT", price="52000")
    return s


def _engine(scn: Scenario) -> tuple[Store, Engine]:
    store = Store(":memory:")
    engine = Engine(store)
    replay_lines(engine, scn.lines)
    return store, engine


def test_trader_statistics_match_hand_computed_values():
    store, engine = _engine(_history())
    now = engine.state.last_ts
    (alice,) = trader_stats(store, engine.state, now)
    # Day closes: 9,994 · 10,187.88 · 10,084.82 · 10,081.70; now 10,081.70.
    assert alice.equity == D("10081.7")
    week = alice.periods[7]
    assert week.pnl == D("81.7")  # the account is younger than the window: from 10,000
    assert week.roi == Decimal("0.00817")
    assert week.win_rate == D("0.5") and week.closed_positions == 2
    # Worst fall: from the 10,187.88 peak to 10,081.70 → 106.18 / 10,187.88.
    assert week.max_drawdown == (Decimal("106.18") / Decimal("10187.88")).quantize(
        Decimal("0.000001"))
    curve = [Fraction(x) for x in ("10000", "9994", "10187.88", "10084.82", "10081.7",
                                   "10081.7")]
    rets = [(b - a) / a for a, b in zip(curve, curve[1:])]
    expected_sharpe = statistics.mean(rets) / statistics.stdev(rets) * Fraction(365) ** 0.5
    assert abs(float(week.sharpe) - float(expected_sharpe)) < 1e-3
    assert alice.days_active == 4
    assert alice.copiers == 0 and alice.aum == D("10081.7")


def test_a_shorter_window_starts_from_the_close_before_it():
    store, engine = _engine(_history())
    (alice,) = trader_stats(store, engine.state, engine.state.last_ts, periods=(2,))
    two = alice.periods[2]
    # Today is day 4: the window starts at day 2's close, 10,084.82.
    assert two.pnl == D("-3.12")
    assert two.win_rate == 0 and two.closed_positions == 1


def test_copy_divergence_reports_slippage_and_outcome_counts():
    s = worked_example()
    s.add(120_000, "close", trader="alice", symbol="BTCUSDT", price="60030", qty="0.2")
    store, engine = _engine(s)
    (me,) = copy_stats(store, engine.state)
    # Filled at 60,030 against alice's 60,000: 5 bps worse.
    assert me.mean_entry_slippage_bps == D("5")
    assert me.by_status == {"copied": 2}
    # Copier: margin 174.087 over equity 997.514758; alice: 1,800 over 9,989.7964.
    mine = Decimal("174.087") / Decimal("997.514758")
    alices = Decimal("1800") / Decimal("9989.7964")
    assert me.utilization_ratio is not None
    assert abs(me.utilization_ratio - mine / alices) < Decimal("1e-6")
    assert me.pnl == D("-2.485242") and me.roi == D("-0.002485")
    (alice,) = trader_stats(store, engine.state, engine.state.last_ts)
    assert alice.copiers == 1 and alice.aum == D("10980.7964")  # wallet + 1,000 invested
    assert alice.copiers_pnl == D("-2.485242")
