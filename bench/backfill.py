"""Backfill benchmark: the first launch's 90 simulated days, timed end to end.

Every simulated trader of the default world trades, and five copiers copy five of
them from the start (deposit + copy before the backfill, smart, fixed_amount and
fixed_ratio). The world goes through the real engine into a temp-file store (WAL,
synchronous=NORMAL), exactly as the app's first launch does.

The floor is measured in the same run: a bare ``executemany`` of as many
events-table-shaped rows as the backfill sent events, in one transaction, into the
same kind of SQLite file. The ratio says how far the whole pipeline (market,
traders, engine, copier fan-out, store) is from merely writing one row per event.

    .venv/bin/python bench/backfill.py [DAYS] [SEED]
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from smartcopy_gui.domain.events import Event
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.gc_policy import tune_collector
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store

COPIES = [  # copier, trader, mode, investment, fixed amount or ratio
    ("c1", "trend", "smart", Decimal("2000"), None),
    ("c2", "meanrev", "smart", Decimal("1000"), None),
    ("c3", "grid", "fixed_amount", Decimal("1500"), Decimal("100")),
    ("c4", "degen", "smart", Decimal("500"), None),
    ("c5", "averager", "fixed_ratio", Decimal("3000"), Decimal("0.1")),
]


def copy_events(start: int,
                copies: list[tuple[str, str, str, Decimal, Decimal | None]] = COPIES
                ) -> list[Event]:
    """A deposit and a copy for each of ``copies``, at ``start``."""
    events = []
    for copier, trader, mode, investment, param in copies:
        events.append(Event(f"bench-deposit-{copier}", start, "deposit",
                            {"account": copier, "amount": investment}))
        fields: dict[str, object] = {"copier": copier, "trader": trader, "mode": mode,
                                     "investment": investment}
        if mode == "fixed_amount":
            fields["amount"] = param
        elif mode == "fixed_ratio":
            fields["ratio"] = param
        events.append(Event(f"bench-copy-{copier}", start, "copy", fields))
    return events


def floor(path: Path, rows: int) -> float:
    """Seconds for a bare executemany of ``rows`` events-shaped rows in one transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, digest TEXT, ts INTEGER, "
                 "type TEXT, status TEXT, reason TEXT)")
    digest = hashlib.sha256(b"x").hexdigest()[:32]
    data = [(f"px-BTCUSDT-{i}", digest, i, "price", "applied", None) for i in range(rows)]
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)", data)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main(argv: list[str]) -> None:
    days = int(argv[0]) if argv else 90
    seed = int(argv[1]) if len(argv) > 1 else 7
    tune_collector()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "backfill.db")
        engine = Engine(store)
        start = time.perf_counter()
        cpu_start = time.process_time()
        world = World.open(engine, seed=seed)
        refused = [r for r in engine.submit_many(copy_events(world.now_ts()))
                   if r.status != "applied"]
        report = world.backfill(days)
        engine.flush()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        outcomes = store.db.conn.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0]
        store.close()
        db_bytes = (Path(tmp) / "backfill.db").stat().st_size
        floor_secs = floor(Path(tmp) / "floor.db", report.events)
    print(f"seed {seed}, {days} days, {len(world.profiles)} traders, {len(COPIES)} copies"
          f"{f' ({len(refused)} refused)' if refused else ''}")
    print(f"events {report.events:,} ({report.by_type['price']:,} price, "
          f"{report.by_type['funding']:,} funding, {report.by_type['settle']:,} settle, "
          f"{report.trader_events:,} trader), "
          f"{outcomes:,} copier outcomes, {len(report.rejected)} rejected")
    print(f"backfill {elapsed:.1f} s, {report.events / elapsed:,.0f} events/s")
    # On a shared machine the CPU time is the steadier figure.
    print(f"backfill CPU {cpu:.1f} s")
    print(f"database {db_bytes / 1e6:.1f} MB after the backfill")
    print(f"floor (bare executemany of {report.events:,} rows) {floor_secs:.2f} s, "
          f"ratio {elapsed / floor_secs:.0f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
