"""The example scenarios shipped in resources/scenarios replay as their docs say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parent.parent / "resources" / "scenarios"


def replay(name: str, db: Path) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "smartcopy_gui", "replay",
                           str(SCENARIOS / name), "--db", str(db), "--json"],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.jsonl")))
def test_every_example_replays_cleanly_and_idempotently(name, tmp_path):
    code, first = replay(name, tmp_path / "x.db")
    assert code == 0  # no malformed line
    assert first["outcomes"], "an example should show copier outcomes"
    code, again = replay(name, tmp_path / "x.db")
    assert code == 0 and again == first


def test_min_qty_and_funds_example_shows_each_outcome(tmp_path):
    _, rep = replay("min-qty-and-funds.jsonl", tmp_path / "x.db")
    opens = {o["copier"]: (o["status"], o["reason"], o["qty"])
             for o in rep["outcomes"] if o["event_id"] == "o1"}
    assert opens == {"me": ("copied", None, "0.049"),
                     "small": ("copied_min_qty", None, "0.001"),
                     "tiny": ("skipped", "insufficient_funds", None)}
    closes = {o["copier"]: (o["status"], o["reason"], o["qty"])
              for o in rep["outcomes"] if o["event_id"] == "c1"}
    # small holds 0.001: f = 0.4 gives 0 → min_qty 0.001, leaving 0 → closes all.
    assert closes == {"me": ("copied", None, "0.02"),
                      "small": ("copied", None, "0.001"),
                      "tiny": ("skipped", "position_not_copied", None)}


def test_liquidation_funding_cancel_example(tmp_path):
    _, rep = replay("liquidation-funding-cancel.jsonl", tmp_path / "x.db")
    (switch,) = rep["rejected"]
    assert switch["line"] == 8
    assert "mode switching during an active copy is not supported" in switch["reason"]
    by_event = {}
    for o in rep["outcomes"]:
        by_event.setdefault(o["event_id"], []).append(o)
    trader_liq, copier_close = by_event["pe1"]
    assert (trader_liq["copier"], trader_liq["action"], trader_liq["qty"]) == (
        None, "liquidation", "10")
    assert (copier_close["action"], copier_close["status"], copier_close["reason"]) == (
        "close", "copied", "trader_liquidated")
    assert copier_close["ts"] == "2026-03-25T08:30:00.500Z"
    carol = next(c for c in rep["copies"] if c["trader"] == "carol")
    # Short 1.9 SOL at 150, funding rate 0.0001 received: 1.9 × 150 × 0.0001.
    assert carol["funding"] == "0.0285"
    assert carol["status"] == "cancelled" and carol["wallet"] == "0"
    # 1000 + N (18.8898 − 0.33059772 + 0.0285) − profit share 1.85877023.
    assert carol["released"] == "1016.72893205"
    assert rep["traders"]["carol"]["earned_profit_share"] == carol["profit_share"]
    assert rep["accounts"]["me"]["contract_balance"] == "2016.72893205"


def test_a_reader_that_stops_early_is_not_an_error(tmp_path):
    """``smartcopy replay … --json | head -1``: no traceback when the pipe closes."""
    proc = subprocess.Popen([sys.executable, "-m", "smartcopy_gui", "replay",
                             str(SCENARIOS / "min-qty-and-funds.jsonl"),
                             "--db", str(tmp_path / "x.db"), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(1) == b"{"
    proc.stdout.close()  # the reader goes away before the report is written out
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err
