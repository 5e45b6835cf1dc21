"""What-if runs: the same engine on the recorded history gives what a real copy got."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from smartcopy_gui.domain.events import Event, format_ts
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store
from smartcopy_gui.whatif.history import EventHistory, RecordingEngine
from smartcopy_gui.whatif.runner import CopyPlan, Run, WhatIfError, run_whatif

D = Decimal
DAY_MS = 86_400_000
TOLERANCE = D("1e-8")


class Reality:
    """A world run with one real copy made at T, and what it recorded."""

    def __init__(self, trader: str, plan: CopyPlan, before_days: int = 2,
                 after_days: int = 5) -> None:
        self.store = Store(":memory:")
        self.engine = RecordingEngine(self.store)
        world = World.open(self.engine)
        world.backfill(before_days)
        self.start_ts = world.now_ts()
        fields: dict[str, Any] = plan.fields("me", trader, D(0))
        results = self.engine.submit_many([
            Event("real-deposit", self.start_ts, "deposit",
                  {"account": "me", "amount": plan.investment}),
            Event("real-copy", self.start_ts, "copy", fields)])
        assert [r.status for r in results] == ["applied", "applied"]
        self.copy_id = max(self.engine.state.copies)
        world.backfill(before_days + after_days)
        self.history = self.engine.history()

    def outcomes(self) -> list[dict[str, Any]]:
        return [{"event_id": o["event_id"], "symbol": o["symbol"], "action": o["action"],
                 "status": o["status"], "reason": o["reason"], "qty": D(o["qty"]) if o["qty"]
                 else None, "price": D(o["price"]) if o["price"] else None,
                 "ts": format_ts(o["ts"])}
                for o in self.store.outcomes(self.copy_id)]

    def daily_equity(self) -> list[tuple[int, Decimal]]:
        return self.store.equity_series(f"copy:{self.copy_id}", 0)


def whatif_outcomes(run: Run) -> list[dict[str, Any]]:
    return [{**row, "qty": D(row["qty"]) if row["qty"] else None,
             "price": D(row["price"]) if row["price"] else None}
            for row in run.outcome_rows(run.copies[0])]


@pytest.mark.parametrize(("trader", "plan"), [
    ("meanrev", CopyPlan("smart", D("1000"))),
    ("grid", CopyPlan("fixed_amount", D("800"), amount=D("60"), stop_loss=D("0.5"))),
    ("scalper", CopyPlan("fixed_ratio", D("500"), ratio=D("0.2"), max_slippage=D("0.001"))),
], ids=["smart", "fixed_amount", "fixed_ratio"])
def test_whatif_equals_a_real_copy_made_at_the_same_time(trader: str, plan: CopyPlan) -> None:
    reality = Reality(trader, plan)
    run = run_whatif(reality.history, trader, reality.start_ts, [plan])

    assert whatif_outcomes(run) == reality.outcomes()
    assert len(reality.outcomes()) > 5  # the copy traded
    real = reality.engine.state.copies[reality.copy_id]
    hypothetical = run.state.copies[run.copies[0].copy_id]
    assert hypothetical.status == real.status
    assert hypothetical.released == real.released
    assert abs(hypothetical.account.wallet - real.account.wallet) <= TOLERANCE
    assert abs(hypothetical.account.equity(run.state.prices)
               - real.account.equity(reality.engine.state.prices)) <= TOLERANCE
    days = reality.daily_equity()
    assert len(days) >= 5
    assert [d for d, _ in run.copies[0].snapshots] == [d for d, _ in days]
    for (_, mine), (_, theirs) in zip(run.copies[0].snapshots, days, strict=True):
        assert abs(mine - theirs) <= TOLERANCE


def test_a_trader_with_no_history_by_the_start_is_named() -> None:
    history = EventHistory([Event("p1", 1000, "price", {"symbol": "BTCUSDT",
                                                         "price": D("60000")})])
    with pytest.raises(WhatIfError, match="unknown trader 'nobody'"):
        run_whatif(history, "nobody", 2000, [CopyPlan("smart", D("100"))])


def test_an_investment_below_the_minimum_is_refused_with_the_engines_reason() -> None:
    history = EventHistory([
        Event("t", 0, "trader", {"trader": "alice", "name": "Alice", "balance": D("10000")}),
        Event("p1", 5000, "price", {"symbol": "BTCUSDT", "price": D("60000")})])
    with pytest.raises(WhatIfError, match="investment 5 is below the minimum of 10 USDT"):
        run_whatif(history, "alice", 1000, [CopyPlan("smart", D("5"))])


def test_a_window_with_no_history_after_the_start_is_refused() -> None:
    history = EventHistory([
        Event("t", 0, "trader", {"trader": "alice", "name": "Alice", "balance": D("10000")})])
    with pytest.raises(WhatIfError, match="no recorded history after"):
        run_whatif(history, "alice", 1000, [CopyPlan("smart", D("100"))])


def test_a_stop_loss_ends_the_hypothetical_copy_as_it_ended_the_real_one() -> None:
    plan = CopyPlan("smart", D("300"), stop_loss=D("0.03"))
    reality = Reality("scalper", plan, before_days=3, after_days=8)
    run = run_whatif(reality.history, "scalper", reality.start_ts, [plan])
    hypothetical = run.state.copies[run.copies[0].copy_id]
    assert hypothetical.status == "stopped"
    assert hypothetical.released == reality.engine.state.copies[reality.copy_id].released
    assert whatif_outcomes(run) == reality.outcomes()
    assert run.copies[0].snapshots == reality.daily_equity()
