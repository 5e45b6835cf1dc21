"""A replay killed with SIGKILL at a random moment and restarted on the same database
ends with exactly the report of an uninterrupted run."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.scenario import Scenario

TRADERS = ("alice", "bob", "carol")
SYMBOLS = {"BTCUSDT": ("60000", "0.001", 3), "ETHUSDT": ("3000", "0.01", 2),
           "SOLUSDT": ("150", "0.1", 1)}


def _scenario(seed: int, copiers: int = 30, steps: int = 2500) -> Scenario:
    """Several traders and copiers, thousands of prices and trader actions."""
    rng = random.Random(seed)
    s = Scenario()
    for t in TRADERS:
        s.add(0, "trader", f"t-{t}", trader=t, name=t.title(), balance="50000")
    for i in range(copiers):
        s.add(0, "deposit", f"d-{i}", account=f"c{i}", amount=str(200 + 37 * i))
        mode = ("smart", "fixed_amount", "fixed_ratio")[i % 3]
        s.add(0, "copy", f"cp-{i}", copier=f"c{i}", trader=TRADERS[i % 3], mode=mode,
              investment=str(150 + 37 * i), amount="20" if mode == "fixed_amount" else None,
              ratio="0.05" if mode == "fixed_ratio" else None,
              stop_loss="0.6" if i % 7 == 0 else None)
    prices = {sym: float(p) for sym, (p, _, _) in SYMBOLS.items()}
    held: dict[tuple[str, str], tuple[str, int]] = {}
    ms = 1000
    for n in range(steps):
        ms += rng.randint(100, 900)
        sym = rng.choice(list(SYMBOLS))
        prices[sym] *= 1 + rng.gauss(0, 0.003)
        places = SYMBOLS[sym][2]
        px = f"{prices[sym]:.{places}f}"
        roll = rng.random()
        trader = rng.choice(TRADERS)
        step = SYMBOLS[sym][1]
        if roll < 0.55:
            s.add(ms, "price", f"p{n}", symbol=sym, price=px)
        elif roll < 0.75 and (trader, sym) not in held:
            side = rng.choice(("long", "short"))
            lots = rng.randint(5, 40)
            s.add(ms, "open", f"o{n}", trader=trader, symbol=sym, side=side,
                  qty=f"{lots * float(step):.{len(step) - 2}f}", price=px, leverage=5,
                  margin_mode=rng.choice(("isolated", "cross")))
            held[(trader, sym)] = (side, lots)
        elif roll < 0.9 and (trader, sym) in held:
            side, lots = held.pop((trader, sym))
            if lots > 1 and rng.random() < 0.5:
                part = rng.randint(1, lots - 1)
                held[(trader, sym)] = (side, lots - part)
                s.add(ms, "close", f"c{n}", trader=trader, symbol=sym, price=px,
                      qty=f"{part * float(step):.{len(step) - 2}f}")
            else:
                s.add(ms, "close", f"c{n}", trader=trader, symbol=sym, price=px)
        elif roll < 0.95:
            s.add(ms, "funding", f"f{n}", symbol=sym, rate="0.0001")
        else:
            s.add(ms, "settle", f"s{n}")
    return s


def _replay(scenario: Path, db: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "smartcopy_gui", "replay", str(scenario),
                             "--db", str(db)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _report(db: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "smartcopy_gui", "report", "--db", str(db),
                          "--json"], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def _applied(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("kill") / "scenario.jsonl"
    path.write_text(_scenario(seed=11).text())
    return path


@pytest.fixture(scope="module")
def uninterrupted(scenario_file, tmp_path_factory):
    db = tmp_path_factory.mktemp("whole") / "whole.db"
    proc = _replay(scenario_file, db)
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()
    return _report(db)


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_mid_replay_then_restart_gives_the_same_report(seed, scenario_file,
                                                               uninterrupted, tmp_path):
    rng = random.Random(seed)
    total = sum(1 for line in scenario_file.read_text().splitlines() if line.strip())
    db = tmp_path / "killed.db"
    proc = _replay(scenario_file, db)
    # Wait until it is well under way, then kill it at a random moment.
    deadline = time.monotonic() + 120
    while _applied(db) < 200 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(rng.uniform(0.05, 0.6))
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    applied_at_kill = _applied(db)
    assert 0 < applied_at_kill < total, "the kill should land mid-replay"
    again = _replay(scenario_file, db)
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    assert _report(db) == uninterrupted
