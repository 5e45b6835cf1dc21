"""A database made by main before the compact history (commit d7cc296: a world with a
copy, two days of backfill and six hours live) is converted in place: the same
report, the world's tick rows gone from the events table, and the world carries on
recording its prices compactly."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.world import World, load_world_state
from smartcopy_gui.store import Store
from smartcopy_gui.store import store as store_module

from .cli_process import smartcopy

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD_DB = FIXTURES / "main-d7cc296-world.db.gz"
OLD_REPORT = FIXTURES / "main-d7cc296-world.report.json"


def _old_database(tmp_path: Path) -> Path:
    db = tmp_path / "old.db"
    db.write_bytes(gzip.decompress(OLD_DB.read_bytes()))
    db.chmod(0o600)
    return db


def _event_types(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT type, COUNT(*) FROM events GROUP BY type"))
    finally:
        conn.close()


def test_a_database_made_by_main_is_converted_in_place_and_reports_the_same(tmp_path):
    db = _old_database(tmp_path)
    before = _event_types(db)
    assert before["price"] > 9_000  # main wrote a row (and a digest) per world tick
    size_before = db.stat().st_size
    store = Store(db, writer="a test")
    world_before = load_world_state(store)
    store.close()
    after = _event_types(db)
    assert "price" not in after
    assert {t: n for t, n in before.items() if t != "price"} == after
    assert db.stat().st_size < size_before / 2  # the freed pages went back to the disk
    out = smartcopy("report", "--db", db, "--json")
    assert out.returncode == 0, out.stderr
    assert out.stdout == OLD_REPORT.read_text()
    # The world carries on from where it stood, its prices now recorded compactly.
    store = Store(db, writer="a test")
    engine = Engine(store)
    world = World.open(engine)
    assert world_before is not None and world.now_ts() == world_before["now"]
    world.run_for(3_600_000)
    ticks = list(store.price_ticks())
    assert len(ticks) >= 3 * 360 and ticks[0][0] > world_before["now"]  # and fills
    assert "price" not in _event_types(db)
    store.close()


def test_a_slow_migration_reports_its_progress(tmp_path, monkeypatch):
    db = _old_database(tmp_path)
    monkeypatch.setattr(store_module, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(store_module, "_MIGRATION_BATCH", 1_000)
    seen: list[tuple[int, int]] = []
    Store(db, writer="a test", progress=lambda done, total: seen.append((done, total))).close()
    assert len(seen) > 5
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1][0] == seen[-1][1]
