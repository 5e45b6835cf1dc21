"""What-if from the user's database: the store's recorded events are the history (issue
10's ``Store.recorded_events``). Skipped while the store keeps no such history."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from smartcopy_gui import cli
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store
from smartcopy_gui.whatif.history import History, RecordingEngine
from smartcopy_gui.whatif.report import figures
from smartcopy_gui.whatif.runner import CopyPlan, run_whatif

DAY_MS = 86_400_000

pytestmark = pytest.mark.skipif(
    not isinstance(Store(":memory:"), History),
    reason="the store keeps no recorded history yet (Store.recorded_events, issue 10)")


def test_a_whatif_from_the_database_equals_one_from_the_events_the_world_sent(
        db_path: Path, capsys) -> None:
    with Store(db_path, writer="a test") as store:
        engine = RecordingEngine(store)
        world = World.open(engine)
        world.backfill(4)
        sent = engine.history()
        start, end = world.start_ts + DAY_MS, world.now_ts()
    plans = [CopyPlan("smart", Decimal("700")), CopyPlan("fixed_ratio", Decimal("300"))]
    expected = [f.as_json() for f in figures(run_whatif(sent, "meanrev", start, plans, end))]
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    with Store(db_path) as store:
        assert isinstance(store, History)
        got = [f.as_json() for f in figures(run_whatif(store, "meanrev", start, plans, end))]
    assert got == expected

    assert cli.main(["whatif", "meanrev", "--since",
                     "2026-01-02T00:00:00Z", "--investment", "700", "--json",
                     "--db", str(db_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["final_equity"] == expected[0]["final_equity"]
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
