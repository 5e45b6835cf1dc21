"""Fan-out benchmark: one trader, N smart-mode copiers, one open and one partial close.

Each trader event is timed through the real engine and store, together with the
execution of its copier actions (that is when the N copies are written). The floor
is measured in the same run: a bare ``executemany`` of as many rows as that event
wrote, into a table of the same width in the same kind of SQLite file (WAL,
synchronous=NORMAL), in one transaction.

    .venv/bin/python bench/fanout.py [N ...]
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from smartcopy_gui.domain.events import Event
from smartcopy_gui.domain.numbers import D
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.engine.state import Changes
from smartcopy_gui.gc_policy import tune_collector
from smartcopy_gui.store import Store

DELAY_MS = 500
T0 = 1_774_310_400_000  # 2026-03-24T00:00:00Z


def _ev(n: int, ts: int, type_: str, **fields: object) -> Event:
    return Event(f"e{n}", ts, type_, dict(fields))


class RowCounter:
    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, ch: Changes) -> None:
        self.rows += ch.row_count()


def setup(path: Path, copiers: int) -> tuple[Store, Engine, RowCounter]:
    store = Store(path)
    counter = RowCounter()
    engine = Engine(store, on_commit=counter)
    n = 0
    engine.submit(_ev(n, T0, "trader", trader="alice", name="Alice", balance=D("1000000")))
    for i in range(copiers):
        n += 1
        name = f"c{i}"
        amount = D(200 + (i * 37) % 5000)  # varied investments, 200..5199 USDT
        engine.submit(_ev(n, T0 + 1, "deposit", account=name, amount=amount))
        n += 1
        engine.submit(_ev(n, T0 + 1, "copy", copier=name, trader="alice", mode="smart",
                          investment=amount))
    engine.submit(_ev(n + 1, T0 + 2, "price", symbol="BTCUSDT", price=D("60000")))
    return store, engine, counter


def timed_event(engine: Engine, counter: RowCounter, ev: Event) -> tuple[float, int]:
    """Seconds and rows for one trader event plus the execution of its copier actions."""
    counter.rows = 0
    start = time.perf_counter()
    engine.submit(ev)
    engine.advance_to(ev.ts + DELAY_MS + 1)
    return time.perf_counter() - start, counter.rows


def floor(path: Path, rows: int) -> float:
    """Seconds for a bare executemany of ``rows`` ledger-shaped rows in one transaction.

    The ledger's shape is the narrowest of the rows the engine writes, so this floor is
    the strict one.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (seq INTEGER PRIMARY KEY, account TEXT, "
                 "kind TEXT, amount INTEGER, event_id TEXT, ts INTEGER)")
    data = [(f"copy:{i}", "fee", -176488200 - i, "o1", T0 + i) for i in range(rows)]
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t(account, kind, amount, event_id, ts) VALUES (?,?,?,?,?)",
                     data)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


ROUNDS = 3


def run(copiers: int, workdir: Path) -> list[tuple[str, int, float, float]]:
    """Median engine and floor seconds for the open and the partial close, over rounds."""
    store, engine, counter = setup(workdir / f"fanout-{copiers}.db", copiers)
    samples: dict[str, list[tuple[int, float, float]]] = {"open": [], "close": []}
    t = T0 + 10_000
    n = 10**9
    for r in range(ROUNDS):
        open_ev = _ev(n, t, "open", trader="alice", symbol="BTCUSDT", side="long",
                      qty=D("5"), price=D("60000"), leverage=D(10), margin_mode="isolated")
        secs, rows = timed_event(engine, counter, open_ev)
        samples["open"].append((rows, secs, floor(workdir / f"floor-{copiers}-{r}o.db", rows)))
        close_ev = _ev(n + 1, t + 60_000, "close", trader="alice", symbol="BTCUSDT",
                       price=D("60100"), qty=D("2"))
        secs, rows = timed_event(engine, counter, close_ev)
        samples["close"].append((rows, secs, floor(workdir / f"floor-{copiers}-{r}c.db", rows)))
        # Untimed: close the rest so that the next round opens a new cycle.
        engine.submit(_ev(n + 2, t + 120_000, "close", trader="alice", symbol="BTCUSDT",
                          price=D("60000")))
        engine.advance_to(t + 121_000)
        n += 3
        t += 180_000
    store.close()
    results = []
    for event, runs in samples.items():
        secs = statistics.median(s[1] for s in runs)
        floor_secs = statistics.median(s[2] for s in runs)
        results.append((event, runs[0][0], secs, floor_secs))
    return results


def main(argv: list[str]) -> None:
    tune_collector()
    sizes = [int(a) for a in argv] or [100, 1_000, 10_000]
    print(f"median of {ROUNDS} rounds; floor = bare executemany of as many ledger-shaped rows")
    print(f"{'N':>7} {'event':>6} {'rows':>7} {'engine ms':>10} {'floor ms':>9} "
          f"{'ratio':>6} {'ms/trader event':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            results = run(n, Path(tmp))
            per_event = sum(r[2] for r in results) / len(results) * 1000
            for event, rows, secs, floor_secs in results:
                print(f"{n:>7} {event:>6} {rows:>7} {secs * 1000:>10.1f} "
                      f"{floor_secs * 1000:>9.1f} {secs / floor_secs:>6.2f} {per_event:>16.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
