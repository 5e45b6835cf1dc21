"""What-if benchmark (issue 11): one what-if over 30 and 90 days, the default sweep
(36 copies) over 90 days, on the busiest simulated trader; and the baseline, the
naive way: a full replay of the same window into a fresh temporary SQLite file.

The history is the default world's 90-day first-launch backfill, written into a
temporary SQLite store (the user's database) and, at the same time, recorded as the
engine received it (RecordingEngine: what ``Store.recorded_events`` gives back). The
real path is ``smartcopy whatif`` on that database (the command's ``execute``: a smart
what-if also finds the smallest clean investment; the sweep too); its figures are the
last line. The same runs fed from memory are printed before it. The busiest trader is
the one with the most trades in it. Each figure is the best of REPEATS runs, in one
process.

    .venv/bin/python bench/whatif.py [REPEATS]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from itertools import groupby
from pathlib import Path

from smartcopy_gui.domain.events import Event
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store
from smartcopy_gui.whatif import command
from smartcopy_gui.whatif.history import EventHistory, History, RecordingEngine
from smartcopy_gui.whatif.report import figures
from smartcopy_gui.whatif.runner import CopyPlan, run_whatif
from smartcopy_gui.whatif.sweep import run_sweep, sweep_plans

DAY_MS = 86_400_000
INVESTMENT = Decimal(1000)


def record_world(store: Store, days: int = 90) -> EventHistory:
    engine = RecordingEngine(store)
    World.open(engine).backfill(days)
    return engine.history()


def command_args(trader: str, days: int, sweep: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args([trader, "--days", str(days), "--investment", str(INVESTMENT)]
                             + (["--sweep"] if sweep else []))


def busiest(history: EventHistory) -> tuple[str, int]:
    trades = Counter(ev.fields["trader"] for ev in history.events
                     if ev.type in ("open", "close", "leverage"))
    return trades.most_common(1)[0]


def best_ms(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times)


def naive(history: EventHistory, trader: str, start: int) -> None:
    """Every recorded event, and the copy at T, through an engine on a new SQLite
    file (a day per transaction, as the backfill writes)."""
    copy = [Event("naive-deposit", start, "deposit", {"account": "me", "amount": INVESTMENT}),
            Event("naive-copy", start, "copy", {"copier": "me", "trader": trader,
                                                "mode": "smart", "investment": INVESTMENT})]
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "naive.db", writer="the benchmark") as store:
            engine = Engine(store)
            inserted = False
            for _, day in groupby(history.events, key=lambda ev: ev.ts // DAY_MS):
                events = list(day)
                if not inserted and events[-1].ts >= start:
                    before = [ev for ev in events if ev.ts <= start]
                    engine.submit_many(before + copy)
                    events = events[len(before):]
                    inserted = True
                engine.submit_many(events)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "world.db"
        t0 = time.perf_counter()
        with Store(db, writer="the benchmark") as store:
            history = record_world(store)
        print(f"history: {len(history.events)} events over 90 days, backfilled into "
              f"{db.name} ({db.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s")
        with Store(db) as store, store.snapshot():  # a reader, as the command opens it
            last = store.load_meta("last_ts")
            assert last is not None and isinstance(store, History)
            run(repeats, history, store, int(last))


def run(repeats: int, history: EventHistory, store: History, last_ts: int) -> None:
    trader, trades = busiest(history)
    end = history.events[-1].ts
    print(f"busiest trader {trader} ({trades} trades)")
    plan = [CopyPlan("smart", INVESTMENT)]
    start30, start90 = end - 30 * DAY_MS, end - 90 * DAY_MS
    ms30 = best_ms(repeats, lambda: figures(run_whatif(history, trader, start30, plan)))
    ms90 = best_ms(repeats, lambda: figures(run_whatif(history, trader, start90, plan)))
    sweep = sweep_plans()
    ms_sweep = best_ms(repeats, lambda: run_sweep(history, trader, start90, sweep))
    print(f"from memory: one what-if, 30 days: {ms30:.0f} ms; 90 days: {ms90:.0f} ms; "
          f"sweep of {len(sweep)} copies, 90 days: {ms_sweep:.0f} ms")
    db30 = best_ms(repeats, lambda: command.execute(store, last_ts, command_args(trader, 30)))
    db90 = best_ms(repeats, lambda: command.execute(store, last_ts, command_args(trader, 90)))
    db_sweep = best_ms(repeats, lambda: command.execute(
        store, last_ts, command_args(trader, 90, sweep=True)))
    ms_naive = best_ms(1, lambda: naive(history, trader, start90))
    print(f"from the database (smartcopy whatif, with the smallest clean investment): "
          f"30 days: {db30:.0f} ms (target 300); 90 days: {db90:.0f} ms (target 1000); "
          f"--sweep, 90 days: {db_sweep:.0f} ms (target 3000)")
    print(f"naive 90 days (full replay into a new SQLite file): {ms_naive:.0f} ms, "
          f"{ms_naive / db90:.1f}x the 90-day what-if from the database")
    print(f"whatif: 30d {db30:.0f} ms, 90d {db90:.0f} ms, sweep36 90d {db_sweep:.0f} ms, "
          f"naive90d {ms_naive:.0f} ms")


if __name__ == "__main__":
    main()
