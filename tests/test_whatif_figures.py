"""What a what-if reports, and sweeps: the worked example of copy-rules.md §9 and a
recorded world."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smartcopy_gui.domain.events import Event
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store
from smartcopy_gui.whatif.history import EventHistory, RecordingEngine
from smartcopy_gui.whatif.report import figures
from smartcopy_gui.whatif.runner import CopyPlan, checkpoint, run_whatif
from smartcopy_gui.whatif.sweep import (
    clean_by_investment,
    run_sweep,
    search_plans,
    smallest_clean_investment,
    sweep_amounts,
    sweep_plans,
)

D = Decimal
DAY_MS = 86_400_000


def worked_example() -> EventHistory:
    """§9: alice opens long 0.5 BTC at 60,000, 10x isolated; the price is 60,030 when
    the copier's action runs; then she closes it all at 61,000 the next day."""
    return EventHistory([
        Event("cfg", 0, "config", {"impact_bps": D("0")}),
        Event("alice", 0, "trader", {"trader": "alice", "name": "Alice",
                                     "balance": D("10000")}),
        Event("p0", 1000, "price", {"symbol": "BTCUSDT", "price": D("60000")}),
        Event("o1", 3000, "open", {"trader": "alice", "symbol": "BTCUSDT", "side": "long",
                                   "qty": D("0.5"), "price": D("60000"), "leverage": D("10"),
                                   "margin_mode": "isolated"}),
        Event("p1", 3200, "price", {"symbol": "BTCUSDT", "price": D("60030")}),
        Event("p2", DAY_MS + 1000, "price", {"symbol": "BTCUSDT", "price": D("61000")}),
        Event("c1", DAY_MS + 2000, "close", {"trader": "alice", "symbol": "BTCUSDT",
                                             "price": D("61000")}),
        Event("p3", DAY_MS + 5000, "price", {"symbol": "BTCUSDT", "price": D("61000")}),
    ])


def test_the_worked_example_copy_with_its_slippage_and_utilization() -> None:
    run = run_whatif(worked_example(), "alice", 2000,
                     [CopyPlan("smart", D("1000")), CopyPlan("smart", D("10"))])
    full, small = figures(run)

    assert [(f.action, f.qty, f.price) for f in full.fills] == [
        ("open", D("0.049"), D("60030")), ("close", D("0.049"), D("61000"))]
    assert full.mean_entry_slippage_bps == D("5")  # 60,030 against alice's 60,000
    # 294.147 of margin from 1,000 of equity, against alice's 3,000 of 10,000.
    assert full.utilization_mean == D("0.98049")
    assert full.outcomes == [("copied", None, 2)]
    assert full.money_limited == 0
    assert full.fees == D("1.764882") + D("0.049") * 61000 * D("0.0006")
    assert full.pnl == full.final_equity - 1000 > 0
    # The 10 USDT copy is bumped to the minimum: 6.003 of margin from 10, twice alice's u.
    assert small.outcomes == [("copied", None, 1), ("copied_min_qty", None, 1)]
    assert small.money_limited == 1
    assert small.utilization_max == D("2.001")
    assert [p.trader_roi for p in full.equity_curve][0] == 0
    assert full.equity_curve[-1].equity == full.final_equity


@pytest.fixture(scope="module")
def recorded() -> tuple[EventHistory, int]:
    """Three days of the simulated world, recorded; T a day in."""
    engine = RecordingEngine(Store(":memory:"))
    world = World.open(engine)
    world.backfill(3)
    return engine.history(), world.start_ts + DAY_MS


def test_a_sweeps_copies_equal_separate_single_whatifs(
        recorded: tuple[EventHistory, int]) -> None:
    history, start = recorded
    plans = sweep_plans([D("10"), D("300"), D("20000")],
                        base=CopyPlan("smart", D(0), stop_loss=D("0.3")))
    swept = run_sweep(history, "meanrev", start, plans)
    alone = [figures(run_whatif(history, "meanrev", start, [plan]))[0] for plan in plans]
    assert len(swept) == 9
    assert [f.as_json() for f in swept] == [f.as_json() for f in alone]
    assert len({f.as_json()["final_equity"] for f in swept}) > 3  # they differ


def test_the_default_sweep_is_twelve_log_spaced_amounts_for_three_modes() -> None:
    amounts = sweep_amounts()
    assert amounts[0] == 10 and amounts[-1] == 100_000 and len(amounts) == 12
    assert all(b / a < 3 for a, b in zip(amounts, amounts[1:]))
    assert [p.mode for p in sweep_plans()].count("fixed_ratio") == 12


def test_the_smallest_clean_investment_is_clean_and_ten_usdt_is_not(
        recorded: tuple[EventHistory, int]) -> None:
    history, start = recorded
    plan = CopyPlan("smart", D(0))
    smallest = smallest_clean_investment(history, "meanrev", start, plan)
    assert smallest is not None and 10 < smallest < 100_000
    at, below, tiny = figures(run_whatif(history, "meanrev", start, [
        CopyPlan("smart", smallest), CopyPlan("smart", (smallest * D("0.9")).to_integral()),
        CopyPlan("smart", D("10"))]))
    assert at.money_limited == 0
    assert tiny.money_limited > 0
    assert below.money_limited > 0 or below.investment < 10


def test_a_checkpoint_at_t_serves_many_whatifs_with_the_same_results(
        recorded: tuple[EventHistory, int]) -> None:
    history, start = recorded
    plans = [CopyPlan("smart", D("250")), CopyPlan("fixed_amount", D("900"))]
    at = checkpoint(history, "grid", start)
    fresh = [f.as_json() for f in figures(run_whatif(history, "grid", start, plans))]
    first = [f.as_json() for f in figures(run_whatif(history, "grid", start, plans, at=at))]
    again = [f.as_json() for f in figures(run_whatif(history, "grid", start, plans, at=at))]
    assert first == fresh and again == fresh


def test_the_search_given_its_first_round_from_another_replay_finds_the_same_amount(
        recorded: tuple[EventHistory, int]) -> None:
    """The first round can ride along the user's own what-if: same answer."""
    history, start = recorded
    plan = CopyPlan("smart", D("700"), stop_loss=D("0.3"))
    run = run_whatif(history, "meanrev", start, [plan, *search_plans(plan)])
    tried = clean_by_investment(run.copies[1:])
    assert sorted(tried) == sweep_amounts() and not all(tried.values())
    assert smallest_clean_investment(history, "meanrev", start, plan, tried=tried) == \
        smallest_clean_investment(history, "meanrev", start, plan)
