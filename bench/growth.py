"""Growth benchmark: how many bytes a simulated day of running live adds to the database.

The default world runs live (ten-second steps, an hour of simulated time per
transaction, exactly as the app does at any speed) headless and as fast as the
machine allows, with two copies open (a smart copy of the trend follower and a
fixed-amount copy of the grid trader), after a one-day backfill. After each simulated
day it prints the database's main file and WAL sizes; the last line is the growth
per simulated day over the live run, main file and WAL together:

    growth: X.XX MB per simulated day

    .venv/bin/python bench/growth.py [--days N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from backfill import copy_events  # bench/ is the script's own directory

from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.world import DAY_MS, World
from smartcopy_gui.store import Store

MB = 1_000_000
COPIES = [  # copier, trader, mode, investment, fixed amount
    ("c1", "trend", "smart", Decimal("2000"), None),
    ("c2", "grid", "fixed_amount", Decimal("1500"), Decimal("100")),
]


def sizes(db: Path) -> tuple[int, int]:
    """Bytes of the database's main file and of its WAL (0 when there is none)."""
    wal = Path(f"{db}-wal")
    return db.stat().st_size, (wal.stat().st_size if wal.exists() else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2, help="simulated days to run live")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.days < 1:
        parser.error("--days must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "growth.db"
        store = Store(db, writer="the growth benchmark")
        engine = Engine(store)
        world = World.open(engine, seed=args.seed)
        refused = [r for r in engine.submit_many(copy_events(world.now_ts(), COPIES))
                   if r.status != "applied"]
        if refused:
            raise SystemExit(f"the benchmark's copies were refused: {refused}")
        world.backfill(1)  # ends with a checkpoint: the WAL is empty
        start_main, start_wal = sizes(db)
        print(f"after a one-day backfill: main {start_main / MB:.2f} MB, "
              f"WAL {start_wal / MB:.2f} MB")
        began = time.perf_counter()
        peak_wal = start_wal
        for day in range(1, args.days + 1):
            end = world.now_ts() + DAY_MS
            while world.now_ts() < end:
                world.run_for(min(3_600_000, end - world.now_ts()))
            main_bytes, wal_bytes = sizes(db)
            print(f"day {day}: main {main_bytes / MB:.2f} MB, WAL {wal_bytes / MB:.2f} MB, "
                  f"{world.totals.events:,} events so far, "
                  f"{time.perf_counter() - began:.1f} s")
            peak_wal = max(peak_wal, wal_bytes)
        elapsed = time.perf_counter() - began
        store.checkpoint()  # the WAL into the file, as closing the app does
        end_main, end_wal = sizes(db)
        store.close()
    grown = (end_main + end_wal) - (start_main + start_wal)
    print(f"{args.days} simulated days live in {elapsed:.1f} s; after a checkpoint: main "
          f"+{(end_main - start_main) / MB:.2f} MB, WAL {end_wal / MB:.2f} MB; "
          f"the WAL peaked at {peak_wal / MB:.2f} MB")
    print(f"a simulated year at this rate: {grown / args.days * 365 / MB:,.0f} MB")
    print(f"growth: {grown / args.days / MB:.2f} MB per simulated day")


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main()
