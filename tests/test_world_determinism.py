"""The world is a function of its seed and the simulated time reached: the same prices
and trades whatever the speed, and through kills (SIGKILL of a process running it,
restarted from its database), in the first-launch backfill and live."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources import world as world_module
from smartcopy_gui.sources.world import LIVE_STEP_MS, World
from smartcopy_gui.store import Store

DAY_MS = 86_400_000
AT_600X = 120_000  # the simulated time of one 200 ms tick at 600×
WORLD_TYPES = ("price", "funding", "settle", "trader", "open", "close", "leverage")

# Runs the world from its database: ``backfill DAYS`` (the first launch) or ``live
# DAYS`` at 600×, printing where it stands after each day or tick.
CHILD = """
import sys
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources import world as world_module
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store
db, mode, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store(db)
world = World.open(Engine(store), seed=7)
print("open", flush=True)
if mode == "backfill":
    world.backfill(days, progress=lambda done, total: print(done, flush=True))
else:
    end = world.start_ts + days * 86_400_000
    while world.now_ts() < end:
        world.run_for(min(120_000, end - max(world.now_ts(), world.target)))
        print((world.now_ts() - world.start_ts) // 86_400_000, flush=True)
store.close()
print("done", flush=True)
"""


def history(store: Store) -> list[tuple[str, int, str, str]]:
    """Every world event the store applied (prices, funding, settlements, the traders'
    registrations and trades), in order: (id, ts, type, content digest)."""
    return [(e.id, e.ts, e.type, e.digest) for e in store.recorded_events(types=WORLD_TYPES)]


def run_child(db: Path, mode: str, days: int, kill_after: float | None = None,
              kill_at_day: int | None = None) -> bool:
    """Runs the child until it finishes (True) or is killed: ``kill_after`` seconds
    after it opened the world, or once it reports having reached ``kill_at_day``."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db), mode, str(days)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            word = line.strip()
            if word == "done":
                return proc.wait() == 0
            if word == "open" and kill_after is not None:
                time.sleep(kill_after)
                break
            if word.isdigit() and kill_at_day is not None and int(word) >= kill_at_day:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return False
    finally:
        proc.stdout.close()


def run_in_process(db: Path | str, days: int, step_ms: int | None) -> Store:
    """``days`` of the world: a backfill when ``step_ms`` is None, else live calls of
    ``step_ms`` each."""
    store = Store(db)
    world = World.open(Engine(store), seed=7)
    if step_ms is None:
        world.backfill(days)
    else:
        end = world.start_ts + days * DAY_MS
        while world.now_ts() < end:
            world.run_for(step_ms)
    return store


def test_kills_in_the_first_backfill_change_nothing(tmp_path):
    straight = run_in_process(":memory:", 3, None)
    db = tmp_path / "killed.db"
    # In the first second (before, during or after the world's first day), then
    # between later days; then to the end.
    assert not run_child(db, "backfill", 3, kill_after=0.0)
    assert not run_child(db, "backfill", 3, kill_after=0.05)
    assert not run_child(db, "backfill", 3, kill_at_day=1)
    assert not run_child(db, "backfill", 3, kill_at_day=2)
    assert run_child(db, "backfill", 3)
    with Store(db) as killed:
        assert history(killed) == history(straight)
        assert len(history(killed)) > 3 * 1_700


class Killed(BaseException):
    """The process dies here."""


def test_a_death_at_the_worlds_save_changes_nothing(tmp_path, monkeypatch):
    # The moment a kill used to cost the world its traders' memory: the engine has
    # committed the world's events and the world's own state is being saved. (Each
    # death leaves the database to the next run, as a kill would.)
    straight = run_in_process(":memory:", 4, None)
    db = tmp_path / "killed.db"
    real_save = world_module.save_world_state
    for day in (1, 2, 3):  # at the save that ends this day

        def save(store, state, day=day):
            if state["now"] == state["start_ts"] + day * DAY_MS:
                raise Killed
            real_save(store, state)

        monkeypatch.setattr(world_module, "save_world_state", save)
        with pytest.raises(Killed):
            run_in_process(db, 4, None)
    monkeypatch.setattr(world_module, "save_world_state", real_save)
    with run_in_process(db, 4, None) as survivor:
        assert history(survivor) == history(straight)


@pytest.mark.slow
def test_ten_days_are_the_same_at_1x_steps_at_600x_and_through_three_kills(tmp_path):
    at_1x = run_in_process(":memory:", 10, LIVE_STEP_MS)  # one step per call
    at_600x = run_in_process(":memory:", 10, AT_600X)
    db = tmp_path / "killed.db"
    assert not run_child(db, "live", 10, kill_after=0.2)
    assert not run_child(db, "live", 10, kill_at_day=3)
    assert not run_child(db, "live", 10, kill_at_day=7)
    assert run_child(db, "live", 10)
    reference = history(at_1x)
    assert len(reference) > 10 * 25_000  # three prices every ten seconds, and trades
    assert sum(1 for id_, *_ in reference if id_.startswith(("trend-", "degen-"))) > 10
    assert history(at_600x) == reference
    with Store(db) as killed:
        assert history(killed) == reference
