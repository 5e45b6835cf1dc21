"""Bounded growth: the write-ahead log does not sit at tens of MB, and a simulated day
of running live adds well under a megabyte."""

from __future__ import annotations

from pathlib import Path

from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.world import DAY_MS, World
from smartcopy_gui.store import Store
from smartcopy_gui.store.store import WAL_SIZE_LIMIT


def _wal(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_the_backfill_leaves_an_empty_wal_and_live_running_keeps_it_small(tmp_path):
    db = tmp_path / "g.db"
    store = Store(db, writer="a test")
    world = World.open(Engine(store))
    world.backfill(3)
    assert _wal(db) == 0
    before = db.stat().st_size
    largest = 0
    end = world.now_ts() + DAY_MS
    while world.now_ts() < end:
        world.run_for(3_600_000)
        largest = max(largest, _wal(db))
    # One hour's transaction past the limit at most (the limit applies at checkpoints).
    assert 0 < largest <= WAL_SIZE_LIMIT + 512 * 1024
    store.checkpoint()
    assert _wal(db) == 0
    assert db.stat().st_size - before < 1_000_000  # a simulated day live: < 1 MB
    store.close()
