"""Ctrl+C or a TERM closes the app as its window would: saved, closed, exit 0 — even
in the middle of the first launch's history build, which then carries on next time."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.ui.app_process import finish, launch


def world_state(db: Path) -> dict | None:
    """The saved world state, read beside the running app (WAL allows it)."""
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='world_state'").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return None
    return json.loads(row[0]) if row else None


def wait_for(cond, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("the app never got there")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_live_saves_and_exits_cleanly(tmp_path, signum):
    db = tmp_path / "app.db"
    proc = launch(tmp_path, db, days=1)
    try:
        wait_for(lambda: (world_state(db) or {}).get("backfilled_to") is not None)
        time.sleep(1)  # the live clock runs a few ticks
        proc.send_signal(signum)
        finish(proc, tmp_path)
    finally:
        proc.kill()
    state = world_state(db)
    conn = sqlite3.connect(db)
    try:
        last = conn.execute("SELECT MAX(ts) FROM price_ticks").fetchone()[0]
    finally:
        conn.close()
    assert state is not None and state["now"] == last


def test_a_signal_during_the_first_backfill_stops_it_and_the_next_launch_carries_on(
        tmp_path):
    db = tmp_path / "app.db"
    proc = launch(tmp_path, db, days=90)
    try:
        wait_for(lambda: (world_state(db) or {}).get("now", 0)
                 - (world_state(db) or {}).get("start_ts", 0) >= 86_400_000)
        proc.send_signal(signal.SIGTERM)
        finish(proc, tmp_path)
    finally:
        proc.kill()
    stopped = world_state(db)
    assert stopped is not None and stopped["backfilled_to"] is None  # unfinished
    days_done = (stopped["now"] - stopped["start_ts"]) // 86_400_000
    assert 1 <= days_done < 90

    again = launch(tmp_path, db, days=days_done + 1)  # one more day completes it
    try:
        wait_for(lambda: (world_state(db) or {}).get("backfilled_to") is not None)
        again.send_signal(signal.SIGTERM)
        finish(again, tmp_path)
    finally:
        again.kill()
    done = world_state(db)
    assert done["start_ts"] == stopped["start_ts"]
    assert done["backfilled_to"] >= stopped["now"] + 86_400_000 - 1
