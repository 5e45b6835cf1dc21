"""Helpers to write scenarios in tests as short Python calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from smartcopy_gui.cli import replay_lines, report
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.store import Store

T0 = datetime(2026, 3, 24, tzinfo=UTC)


def ts(ms: int) -> str:
    """ISO time ``ms`` milliseconds after T0."""
    t = T0 + timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Scenario:
    """Builds scenario lines: ``s.add(1000, "open", trader="alice", ...)``."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._n = 0

    def add(self, at_ms: int, type_: str, id_: str | None = None, **fields: Any) -> str:
        self._n += 1
        event_id = id_ or f"e{self._n}"
        obj = {"id": event_id, "ts": ts(at_ms), "type": type_}
        obj.update({k: v for k, v in fields.items() if v is not None})
        self.lines.append(json.dumps(obj))
        return event_id

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def run(scn: Scenario | list[str], store: Store | None = None) -> dict[str, Any]:
    """Replay into a (fresh in-memory by default) store; return the report."""
    lines = scn.lines if isinstance(scn, Scenario) else scn
    store = store or Store(":memory:")
    engine = Engine(store)
    replay_lines(engine, lines)
    return report(store, engine)


def replay_into(db_path: str | Path, scn: Scenario) -> None:
    """Replay ``scn`` into the database file ``db_path`` and close it (for a Session
    to open next)."""
    store = Store(db_path)
    try:
        replay_lines(Engine(store), scn.lines)
    finally:
        store.close()


def alice_copied_by_me(impact_bps: str = "0", min_investment: str | None = None,
                       stop_loss: str | None = None) -> Scenario:
    """alice (10,000) copied by me (1,000 of 2,000, smart) from 2 s, BTC at 60,000;
    delay 500 ms."""
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps=impact_bps, min_investment=min_investment)
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="1000",
          stop_loss=stop_loss)
    return s


def trader_open(s: Scenario, at: int, id_: str, side: str = "long", qty: str = "0.5",
                price: str = "60000", leverage: int | str = 10, margin_mode: str = "isolated",
                trader: str = "alice", symbol: str = "BTCUSDT") -> None:
    """A trader's ``open`` (alice, 0.5 BTC long at 60,000, 10× isolated unless told)."""
    s.add(at, "open", id_, trader=trader, symbol=symbol, side=side, qty=qty, price=price,
          leverage=leverage, margin_mode=margin_mode)


def write(folder: Path, name: str, *lines: str) -> Path:
    """A UTF-8 text file ``folder/name`` of ``lines``, each ended by a newline."""
    path = folder / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def snapshot(store: Store) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The report and every row of every table: equal snapshots = unchanged content."""
    conn = store.db.conn
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    rows = {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"'))) for t in tables}
    return report(store), rows


def worked_example(impact_bps: str = "0", extra_copiers: dict[str, str] | None = None,
                   min_investment: str | None = None, *, side: str = "long",
                   move: str | None = "60030", stop_loss: str | None = None) -> Scenario:
    """§9 of the copy rules up to the open, with optional extra copiers (name → amount):
    alice opens 0.5 BTC ``side`` at 60,000, 10× isolated, at 10 s, and the price moves
    to ``move`` at 10.2 s, within the copier's delay (no move when None)."""
    s = alice_copied_by_me(impact_bps, min_investment, stop_loss)
    for name, amount in (extra_copiers or {}).items():
        s.add(2000, "deposit", account=name, amount=amount)
        s.add(2000, "copy", copier=name, trader="alice", mode="smart", investment=amount)
    trader_open(s, 10_000, "o1", side=side)
    if move:
        s.add(10_200, "price", symbol="BTCUSDT", price=move)
    return s


# ---------------------------------------------------------------------- reading a report
def copies_of(rep: dict[str, Any], copier: str, trader: str = "alice") -> list[dict[str, Any]]:
    """The report's copies of ``copier`` following ``trader``."""
    return [c for c in rep["copies"] if c["copier"] == copier and c["trader"] == trader]


def copy_of(rep: dict[str, Any], copier: str, trader: str = "alice") -> dict[str, Any]:
    """The one copy of ``copier`` following ``trader`` (fails if there is not exactly one)."""
    (c,) = copies_of(rep, copier, trader)
    return c


def outcomes_where(rep: dict[str, Any], copier: str | None = None, event_id: str | None = None,
                   action: str | None = None) -> list[dict[str, Any]]:
    """The report's outcomes, filtered by whichever of copier, event id and action are given."""
    return [o for o in rep["outcomes"]
            if (copier is None or o["copier"] == copier)
            and (event_id is None or o["event_id"] == event_id)
            and (action is None or o["action"] == action)]


def rejected_ids(rep: dict[str, Any]) -> list[str]:
    """The event ids of the report's rejections, in order."""
    return [r["event_id"] for r in rep["rejected"]]


def close_to(actual: str, expected: str, tol: str = "0.000001") -> bool:
    """Whether a decimal string is within ``tol`` of ``expected`` (exact Decimals)."""
    return abs(Decimal(actual) - Decimal(expected)) <= Decimal(tol)
