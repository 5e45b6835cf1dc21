"""Imports stream: the memory an import needs does not grow with the file's size, and a
problem anywhere in a long file (after many chunks were applied) still leaves the
store as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.import_memory import START_S, write_prices
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.import_apply import CHUNK_EVENTS
from smartcopy_gui.sources.importers import (
    ImportFailed,
    import_events,
    parse_price_csv,
    parse_trades_csv,
)
from smartcopy_gui.store import Store
from tests.scenario import snapshot, write

PEAK = """
import resource, sys
from smartcopy_gui.cli import main
status = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(status)
"""


def import_peak_kb(tmp_path: Path, bars: int) -> int:
    """Peak memory (kB) of a child process importing ``bars`` one-minute bars."""
    csv_path = tmp_path / f"btc-{bars}.csv"
    write_prices(csv_path, bars)
    proc = subprocess.run([sys.executable, "-c", PEAK, "import", "--db",
                           str(tmp_path / f"{bars}.db"), "--prices", f"BTCUSDT={csv_path}"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split()[-1])


def test_import_memory_does_not_grow_with_the_file(tmp_path):
    small = import_peak_kb(tmp_path, 5_000)  # 20,000 price events
    large = import_peak_kb(tmp_path, 25_000)  # 100,000: held in memory, ~100 MB more
    assert large - small < 40 * 1024, (small, large)


@pytest.mark.parametrize("late", [False, True])
def test_a_refused_event_after_applied_chunks_changes_nothing(tmp_path, late):
    bars = CHUNK_EVENTS // 2 + 10  # its prices fill three chunks
    prices = tmp_path / "btc.csv"
    write_prices(prices, bars)
    at = START_S + 60 * (bars - 2 if late else 1)
    trades = write(tmp_path, "bob.csv", "timestamp,symbol,side,action,qty,price,leverage,"
                   "margin_mode", f"{at},BTCUSDT,long,open,0.01,60000,10,isolated")
    store = Store(":memory:")
    engine = Engine(store)
    before = snapshot(store)
    with pytest.raises(ImportFailed) as info:  # bob was never registered
        import_events(engine, {"btc.csv": parse_price_csv(prices, "BTCUSDT"),
                               "bob.csv": parse_trades_csv(trades, "bob")})
    assert str(info.value) == "bob.csv line 2: unknown trader 'bob'; nothing was imported"
    assert snapshot(store) == before
    assert engine.state.last_ts is None and engine.state.prices == {}
