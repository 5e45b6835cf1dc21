"""Live positions' ROI chart: the trader's curve and yours both start at 0 when the copy
starts, the trader's measured from its equity at that moment, also after a restart."""

from __future__ import annotations

from decimal import Decimal

from smartcopy_gui.domain.events import Event
from smartcopy_gui.session import Session
from tests.scenario import Scenario, replay_into, trader_open

D = Decimal


def _alice_in_profit(db_path) -> None:
    """alice (10,000) holds 0.5 BTC long from 60,000; BTC has risen to 60,300 (+150 uPnL)
    the same day, before anyone copies her."""
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="0", min_investment="1")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    trader_open(s, 2000, "o1")
    s.add(3000, "price", symbol="BTCUSDT", price="60300")
    replay_into(db_path, s)


def _move_btc(session: Session, price: str) -> None:
    session.engine.submit(Event(f"p{price}", session.sim_ts + 1000, "price",
                                {"symbol": "BTCUSDT", "price": D(price)}))


def test_both_roi_curves_start_at_zero_when_the_copy_starts(db_path):
    _alice_in_profit(db_path)
    session = Session(db_path)
    try:
        equity_at_start = session.preview_inputs("alice").trader_equity
        assert session.copy("alice", "smart", D("1000")).status == "applied"
        [(_, _, trader_roi, copier_roi)] = session.roi_samples()
        assert (trader_roi, copier_roi) == (0, 0)  # was +1.5%: measured from 10,000

        _move_btc(session, "60600")  # alice gains another 150
        [(_, _, trader_roi, _)] = session.roi_samples()
        assert trader_roi == D(150) / equity_at_start
    finally:
        session.close()

    again = Session(db_path)  # the baseline is kept across a restart
    try:
        [(_, _, trader_roi, _)] = again.roi_samples()
        assert trader_roi == D(150) / equity_at_start
    finally:
        again.close()
