"""Crash safety: a ``replay`` killed with SIGKILL at a random moment and restarted on the
same database ends in exactly the state of an uninterrupted run.

The scenario (tests/gen_scenario.py) is a few thousand events from several traders
followed by dozens of copiers, so copier actions are pending at almost every instant and
many ledger rows are written per event: a kill lands inside a busy run. The runs are
real ``python -m smartcopy_gui replay`` processes; the comparison is the JSON of
``report --json`` and, beyond it, every table of the database.

Since each event is one transaction, a kill is equivalent to a restart at an event
boundary; the in-process tests at the end restart at every boundary, deterministically.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from smartcopy_gui.cli import replay_lines, report
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.scenario import read_lines
from smartcopy_gui.store import Store
from tests.gen_scenario import big_scenario
from tests.scenario import Scenario

SEED = 20260324
EVENTS = 3000
COPIERS = 32
ROOT = Path(__file__).resolve().parents[1]
# The tables that hold the engine's whole state and history (the report is built from
# them); _migrations is left out, it records wall-clock times.
TABLES = {
    "meta": "key", "config": "key", "instruments": "symbol", "prices": "symbol",
    "events": "id", "rejected": "seq", "traders": "id", "ledger": "seq",
    "positions": "account, symbol", "copies": "id", "pending": "seq",
    "outcome_groups": "id", "outcomes": "seq", "equity_daily": "day, account",
    "closed_positions": "seq",
}


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "smartcopy_gui", *args]


def _start_replay(scenario: Path, db: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(_cmd("replay", str(scenario), "--db", str(db)), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen[bytes]) -> None:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()


def _report(db: Path) -> str:
    out = subprocess.run(_cmd("report", "--db", str(db), "--json"), cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _events_in(db: Path) -> int:
    """Rows in the events table (applied or rejected events), 0 before it exists."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not created or not migrated yet
        return 0


def _tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY {key}").fetchall()
                for t, key in TABLES.items()}
    finally:
        conn.close()


def _first_difference(expected: Any, actual: Any, where: str = "") -> str:
    """Where two reports (or table dumps) first differ, readably."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual), key=str):
            if expected.get(key) != actual.get(key):
                return _first_difference(expected.get(key), actual.get(key), f"{where}.{key}")
    if isinstance(expected, list) and isinstance(actual, list):
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            if e != a:  # a row or an outcome is shown whole, a nested list is entered
                return (_first_difference(e, a, f"{where}[{i}]") if isinstance(e, list)
                        else f"{where}[{i}]: uninterrupted {e!r}\n    after restart {a!r}")
        if len(expected) != len(actual):
            return f"{where}: {len(expected)} items uninterrupted, {len(actual)} after restart"
    return f"{where}: uninterrupted {expected!r}\n    after restart {actual!r}"


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> tuple[Path, int]:
    scn = big_scenario(SEED, traders=4, copiers=COPIERS, events=EVENTS)
    path = tmp_path_factory.mktemp("crash") / "scenario.jsonl"
    path.write_text(scn.text())
    return path, len(scn.lines)


@pytest.fixture(scope="module")
def uninterrupted(scenario_file, tmp_path_factory):
    """Report text, table contents and database of a run that nobody kills."""
    path, total = scenario_file
    db = tmp_path_factory.mktemp("whole") / "whole.db"
    _finish(_start_replay(path, db))
    assert _events_in(db) == total, "the generator should write no malformed line"
    return _report(db), _tables(db), db


def _kill_at(path: Path, db: Path, target: int, jitter: float, total: int) -> int:
    """Replay into ``db``, SIGKILL it once ``target`` events are in and then a random
    ``jitter`` seconds more; returns how many events were in the database at the kill."""
    proc = _start_replay(path, db)
    try:
        deadline = time.monotonic() + 120
        while _events_in(db) < target:
            assert proc.poll() is None, (
                f"replay ended (rc {proc.returncode}) before {target} events were in: "
                f"{proc.stderr.read().decode() if proc.stderr else ''}")
            assert time.monotonic() < deadline, "replay made no progress"
            time.sleep(0.003)
        time.sleep(jitter)
        assert proc.poll() is None, "the replay finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert rc == -signal.SIGKILL, f"the replay was not killed by SIGKILL (rc {rc})"
    applied = _events_in(db)
    assert 0 < applied < total, (
        f"the kill should land mid-run: {applied} of {total} events were in")
    return applied


@pytest.mark.slow
@pytest.mark.parametrize("kills", [
    pytest.param((0.05, 0.25), id="early"),
    pytest.param((0.55, 0.9), id="late"),
    pytest.param((0.1, 0.4, 0.45, 0.8), id="killed-twice"),
])
def test_sigkill_mid_replay_then_restart_ends_like_an_uninterrupted_run(
        kills, scenario_file, uninterrupted, tmp_path):
    path, total = scenario_file
    whole_report, whole_tables, _ = uninterrupted
    rng = random.Random(f"{SEED}-{kills}")
    db = tmp_path / "killed.db"
    at_kill: list[int] = []
    for lo, hi in zip(kills[::2], kills[1::2], strict=True):
        # A random point in [lo, hi] of the file (and later than an earlier kill), then a
        # random few milliseconds more so the kill falls anywhere inside a transaction.
        target = max(int(total * rng.uniform(lo, hi)), (at_kill[-1] if at_kill else 0) + 50)
        at_kill.append(_kill_at(path, db, target, rng.uniform(0, 0.02), total))
    assert at_kill == sorted(at_kill)

    _finish(_start_replay(path, db))  # the same command, on the same database
    assert _events_in(db) == total

    resumed = _report(db)
    same = resumed == whole_report
    assert same, _first_difference(json.loads(whole_report), json.loads(resumed), "report")
    # Beyond the report: no row lost, doubled or half-written anywhere.
    tables = _tables(db)
    same = tables == whole_tables
    assert same, _first_difference(whole_tables, tables, "table ")


@pytest.mark.slow
def test_rerunning_a_finished_replay_changes_nothing(scenario_file, uninterrupted):
    """The control case: the same command again on a completed database is a no-op."""
    path, _ = scenario_file
    _, whole_tables, db = uninterrupted
    _finish(_start_replay(path, db))
    tables = _tables(db)
    same = tables == whole_tables
    assert same, _first_difference(whole_tables, tables, "table ")


# ------------------------------------------------------------------ restarts, in process
# A SIGKILL can only lose the event being written (each event is one transaction), so
# a kill is equivalent to a clean restart at an event boundary. These tests restart at
# chosen boundaries, deterministically, without subprocesses.


def test_restarting_the_engine_before_every_event_changes_nothing(tmp_path):
    """Rebuild the engine from the database before each event (as a restart after a
    crash would): the report equals that of one engine that ran the whole file."""
    scn = big_scenario(SEED + 1, traders=3, copiers=8, events=400)
    whole = Store(":memory:")
    whole_engine = Engine(whole)
    replay_lines(whole_engine, scn.lines)
    expected = report(whole, whole_engine)

    with Store(tmp_path / "restarts.db") as store:
        for item in read_lines(scn.lines):
            assert not hasattr(item, "reason"), item
            Engine(store).submit(item)
        Engine(store).flush()
        resumed = report(store)
    same = resumed == expected
    assert same, _first_difference(expected, resumed, "report")


def test_a_restart_does_not_reorder_a_cancels_closing_outcomes(tmp_path):
    """Minimal case: a copy holding SOLUSDT (opened first) and BTCUSDT is cancelled. The
    cancel's outcomes, one per position, come in the same order whether or not the
    engine was restarted between the opens and the cancel."""
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(0, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    s.add(0, "price", symbol="BTCUSDT", price="60000")
    s.add(0, "price", symbol="SOLUSDT", price="150")
    s.add(1000, "open", trader="alice", symbol="SOLUSDT", side="long", qty="10", price="150",
          leverage=10, margin_mode="isolated")
    s.add(2000, "open", trader="alice", symbol="BTCUSDT", side="long", qty="0.1",
          price="60000", leverage=10, margin_mode="isolated")
    s.add(3000, "cancel", "k", copier="me", trader="alice")

    one = Store(":memory:")
    engine = Engine(one)
    replay_lines(engine, s.lines)
    uninterrupted = report(one, engine)

    db = tmp_path / "restart.db"
    with Store(db) as store:
        replay_lines(Engine(store), s.lines[:-1])  # ... then the process stops
    with Store(db) as store:
        replay_lines(Engine(store), s.lines)  # and the same file is replayed again
        restarted = report(store)

    def cancels(rep):
        return [o["symbol"] for o in rep["outcomes"] if o["event_id"] == "k"]

    assert sorted(cancels(uninterrupted)) == ["BTCUSDT", "SOLUSDT"]
    assert cancels(restarted) == cancels(uninterrupted)
    same = restarted == uninterrupted
    assert same, _first_difference(uninterrupted, restarted, "report")


# ---------------------------------------------------------- databases written by older code
def pending_orders_of_every_kind() -> Scenario:
    """A scenario that ends with copier orders of every kind pending: an increase, a
    leverage change, an open and a partial close (the copies' delay has not run out)."""
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="2")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(0, "deposit", account="you", amount="3000")
    s.add(0, "price", symbol="BTCUSDT", price="60000")
    s.add(0, "price", symbol="ETHUSDT", price="3000")
    s.add(0, "price", symbol="SOLUSDT", price="150")
    s.add(1000, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    s.add(1000, "copy", copier="you", trader="alice", mode="fixed_ratio", investment="1000",
          ratio="0.1")
    s.add(10_000, "open", "o1", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated")
    s.add(10_600, "price", symbol="BTCUSDT", price="60030")
    s.add(11_000, "open", "o2", trader="alice", symbol="ETHUSDT", side="short", qty="2",
          price="3000", leverage=5, margin_mode="cross")
    s.add(20_000, "open", "inc", trader="alice", symbol="BTCUSDT", side="long", qty="0.1",
          price="60010", leverage=10, margin_mode="isolated")
    s.add(20_100, "leverage", "lev", trader="alice", symbol="BTCUSDT", leverage=20)
    s.add(20_200, "close", "part", trader="alice", symbol="ETHUSDT", price="2990", qty="1")
    s.add(20_250, "open", "o3", trader="alice", symbol="SOLUSDT", side="long", qty="10",
          price="150", leverage=3, margin_mode="cross")
    return s


def test_a_database_written_by_main_with_pending_orders_loads_and_runs_them(tmp_path):
    # tests/golden/pending-orders-main.db: the scenario above submitted (not flushed) by
    # the code on main before copier orders were typed (their JSON as main wrote it).
    db = tmp_path / "old.db"
    db.write_bytes((ROOT / "tests" / "golden" / "pending-orders-main.db").read_bytes())
    store = Store(db)
    engine = Engine(store)
    assert engine.pending_count == 4
    engine.flush()
    from_old = report(store, engine)
    store.close()
    fresh = Store(":memory:")
    engine = Engine(fresh)
    replay_lines(engine, pending_orders_of_every_kind().lines)
    fresh_report = report(fresh, engine)
    # What the pending orders did is the same (the trader's own averaged entry is not:
    # main rounded it to 1e-8, copy-rules §1 now keeps it exact).
    assert from_old["outcomes"] == fresh_report["outcomes"]
    assert from_old["copies"] == fresh_report["copies"]
    assert {o["event_id"] for o in from_old["outcomes"]} >= {"inc", "lev", "part", "o3"}
