"""Why a live position differs from its trader's: only the current position cycle's
outcomes explain it, never a previous cycle's."""

from __future__ import annotations

from smartcopy_gui.cli import replay_lines
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.session import Session
from smartcopy_gui.store import Store
from tests.scenario import Scenario, trader_open


def test_a_fresh_position_is_not_explained_by_the_previous_cycle(db_path):
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0", min_investment="1")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="100")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="5")
    # Cycle 1: 0.001 BTC costs 6.04 with the fee, more than the copy's 5: not copied,
    # and so is its close.
    trader_open(s, 3000, "o1")
    s.add(5000, "close", "c1", trader="alice", symbol="BTCUSDT", price="60000")
    # Cycle 2 at a price where the minimum quantity is affordable: copied.
    s.add(7000, "price", symbol="BTCUSDT", price="3000")
    trader_open(s, 8000, "o2", price="3000")
    s.add(9000, "price", symbol="BTCUSDT", price="3000")
    store = Store(db_path)
    replay_lines(Engine(store), s.lines)
    store.close()

    session = Session(db_path)
    try:
        [pair] = session.position_pairs()
    finally:
        session.close()
    assert pair.copier_pos is not None  # the fresh position is held by the copy
    assert "bumped up to the minimum quantity" in pair.why
    assert "not copied" not in pair.why, pair.why  # cycle 1's words
