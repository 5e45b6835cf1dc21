"""Import memory benchmark: the peak memory of ``smartcopy import`` of an N-bar price CSV.

Writes a one-minute BTCUSDT history of N bars (default 500,000: four price events
each) to a temp dir and imports it into a new database in a child process, then
prints the child's peak resident memory (``ru_maxrss``) and the time it took.

    .venv/bin/python bench/import_memory.py [BARS]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_S = 1_774_310_400  # 2026-03-24T00:00:00Z


def write_prices(path: Path, bars: int) -> None:
    """A rising-and-falling one-minute history: valid bars, prices on BTC's tick."""
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,open,high,low,close\n")
        for i in range(bars):
            base = 60_000 + (i * 7919) % 2_000
            out.write(f"{START_S + 60 * i},{base}.0,{base + 25}.5,{base - 30}.1,"
                      f"{base + (i % 3) * 10 - 10}.0\n")


def peak_import_mb(csv_path: Path, db: Path) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit status) of one import in a child process."""
    code = ("import sys; from smartcopy_gui.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, "import", "--db", str(db),
                           "--prices", f"BTCUSDT={csv_path}"],
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        print(proc.stderr, file=sys.stderr)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak_kb / 1024, elapsed, proc.returncode


def main(argv: list[str]) -> None:
    bars = int(argv[0]) if argv else 500_000
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "btc-1m.csv"
        write_prices(csv_path, bars)
        size_mb = csv_path.stat().st_size / 1e6
        peak, elapsed, status = peak_import_mb(csv_path, Path(tmp) / "import.db")
    print(f"{bars:,} bars ({size_mb:.1f} MB, {4 * bars:,} price events), exit {status}")
    print(f"import peak memory {peak:.0f} MB, {elapsed:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
