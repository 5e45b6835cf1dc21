"""Replay benchmark: a large generated scenario file through ``smartcopy replay``'s path.

The scenario (tests/gen_scenario.py: several traders and copiers, random-walk prices,
opens, increases, closes, leverage changes, funding, settlements, cancels and
deposits) is written to a file and replayed exactly as ``smartcopy replay FILE --db
DB`` does (parse each line, apply it through the engine, store it), into a temp-file
store (WAL, synchronous=NORMAL). Replaying the same file again is timed too (every
event a duplicate).

``--prices`` makes a price-heavy file instead (what a typical scenario file is): the
same generated trading, one line in ten, with nine price ticks (a small random walk
of a random symbol) after each.

The floor is measured in the same run: a bare ``executemany`` of as many
events-table-shaped rows as the file has lines, in one transaction, into the same
kind of SQLite file (as bench/backfill.py measures it).

    .venv/bin/python bench/replay.py [--prices] [EVENTS] [SEED] [COPIERS]
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from smartcopy_gui.cli import replay_lines
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
from backfill import floor  # noqa: E402  (bench/ is the script's own directory)

from tests.gen_scenario import SYMBOLS, big_scenario  # noqa: E402


def price_heavy(seed: int, events: int, copiers: int) -> str:
    """``events`` lines: big_scenario's trading for a tenth of them, each line followed
    by nine price ticks (±0.05 % steps of a random symbol, on its tick) at its time."""
    rng = random.Random(seed)
    lines = big_scenario(seed, events=events // 10, copiers=copiers).lines
    prices: dict[str, Decimal] = {}
    ticks = {sym: tick for sym, (_, _, tick) in SYMBOLS.items()}
    out: list[str] = []
    for n, line in enumerate(lines):
        out.append(line)
        obj = json.loads(line)
        if "price" in obj and "symbol" in obj:
            prices[obj["symbol"]] = Decimal(obj["price"])
        if len(prices) < len(ticks):
            continue
        for k in range(9):
            sym = rng.choice(sorted(prices))
            step = Decimal(1) + Decimal(rng.randint(-5, 5)) / 10_000
            prices[sym] = (prices[sym] * step).quantize(ticks[sym])
            out.append(json.dumps({"id": f"hp{n}-{k}", "ts": obj["ts"], "type": "price",
                                   "symbol": sym, "price": str(prices[sym])}))
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> None:
    heavy = "--prices" in argv
    argv = [a for a in argv if a != "--prices"]
    events = int(argv[0]) if argv else 50_000
    seed = int(argv[1]) if len(argv) > 1 else 7
    copiers = int(argv[2]) if len(argv) > 2 else (3 if heavy else 40)
    text = (price_heavy(seed, events, copiers) if heavy
            else big_scenario(seed, events=events, copiers=copiers).text())
    lines = text.count("\n")
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "scenario.jsonl"
        scenario.write_text(text)
        store = Store(Path(tmp) / "replay.db", writer="the replay benchmark")
        engine = Engine(store)
        start = time.perf_counter()
        with scenario.open() as handle:
            summary = replay_lines(engine, handle)
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        with scenario.open() as handle:
            again = replay_lines(engine, handle)
        again_elapsed = time.perf_counter() - start
        store.close()
        floor_secs = floor(Path(tmp) / "floor.db", lines)
    print(f"{'price-heavy, ' if heavy else ''}seed {seed}, {copiers} copiers, "
          f"{lines:,} lines: {summary.applied:,} applied, "
          f"{summary.rejected:,} rejected, {summary.malformed:,} malformed")
    print(f"again: {again.duplicates:,} duplicates in {again_elapsed:.1f} s, "
          f"{lines / again_elapsed:,.0f} events/s")
    print(f"floor (bare executemany of {lines:,} rows) {floor_secs:.2f} s")
    print(f"replay {elapsed:.1f} s, {lines / elapsed:,.0f} events/s, "
          f"ratio {elapsed / floor_secs:.0f}x the floor")


if __name__ == "__main__":
    main(sys.argv[1:])
