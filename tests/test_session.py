"""The desktop app's headless model: first launch, copy, live pairs, cancel, restart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smartcopy_gui.bootstrap import session_factory
from smartcopy_gui.session import DEMO_DEPOSIT, Session

D = Decimal
MINUTE_MS = 60_000
DAY_MS = 86_400_000
SCALPER = "scalper"  # trades BTC every few minutes: the quickest to show a copied open


def open_session(path) -> Session:
    return session_factory(path, 7)()


@pytest.fixture
def session(db_path):
    s = open_session(db_path)
    s.backfill(1)
    yield s
    s.close()


def run_until(session: Session, done, limit_ms: int = 2 * DAY_MS, step_ms: int = 5 * MINUTE_MS):
    for _ in range(limit_ms // step_ms):
        if done():
            return True
        session.advance(step_ms)
    return done()


def test_first_launch_builds_history_reports_progress_and_funds_the_demo(db_path):
    s = open_session(db_path)
    assert s.needs_backfill()
    assert s.contract_balance() == 0
    seen = []
    s.backfill(2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]
    assert not s.needs_backfill()
    assert s.contract_balance() == DEMO_DEPOSIT
    stats = {t.trader: t for t in s.trader_stats()}
    assert len(stats) >= 8 and stats[SCALPER].days_active >= 2
    s.close()


def test_a_restart_resumes_the_world_and_keeps_the_money(db_path):
    s = open_session(db_path)
    s.backfill(1)
    s.advance(30 * MINUTE_MS)
    s.deposit(D("250"))
    stood, balance = s.sim_ts, s.contract_balance()
    s.close()

    again = open_session(db_path)
    assert not again.needs_backfill()
    assert again.sim_ts == stood
    assert again.contract_balance() == balance == DEMO_DEPOSIT + 250
    again.advance(10 * MINUTE_MS)
    assert again.sim_ts > stood
    again.close()


def test_a_copy_moves_the_investment_and_its_positions_sit_beside_the_traders(session):
    before = session.contract_balance()
    result = session.copy(SCALPER, "smart", D("2000"))
    assert result.status == "applied", result.reason
    assert session.contract_balance() == before - 2000
    [row] = session.copies()
    assert (row.trader, row.mode, row.status, row.investment) == (SCALPER, "smart", "active",
                                                                  D("2000"))

    def both() -> bool:
        return any(p.copier_pos and p.trader_pos for p in session.position_pairs())

    assert run_until(session, both), "the scalper opened nothing copied in two days"
    pair = next(p for p in session.position_pairs() if p.copier_pos and p.trader_pos)
    tv, cv = pair.trader_pos, pair.copier_pos
    assert tv is not None and cv is not None
    assert (cv.side, cv.leverage, cv.margin_mode) == (tv.side, tv.leverage, tv.margin_mode)
    assert cv.symbol == tv.symbol == pair.symbol
    assert pair.entry_diff_bps == (cv.entry - tv.entry) / tv.entry * 10_000
    assert pair.why  # every row says why it differs (or that it is copied 1:1)
    activity = session.activity()
    assert any(a.action == "open" and a.status.startswith("copied") for a in activity)


def test_a_trader_position_older_than_the_copy_is_shown_as_not_copied(session):
    def holding() -> bool:
        return bool(session.trader_positions(SCALPER))

    assert run_until(session, holding)
    session.copy(SCALPER, "smart", D("1000"))
    pairs = [p for p in session.position_pairs() if p.trader_pos is not None]
    assert pairs and all(p.copier_pos is None for p in pairs)
    assert "opened before the copy started" in pairs[0].why


def test_another_mode_is_refused_until_the_copy_is_cancelled(session):
    assert session.copy(SCALPER, "smart", D("1000")).status == "applied"
    assert session.preview_inputs(SCALPER).active_mode == "smart"
    refused = session.copy(SCALPER, "fixed_amount", D("1000"), amount=D("50"))
    assert refused.status == "rejected" and "cancel" in (refused.reason or "")
    assert len(session.copies()) == 1


def test_cancel_releases_the_copy_wallet_to_the_contract_account(session):
    session.copy(SCALPER, "smart", D("3000"))
    run_until(session, lambda: any(p.copier_pos for p in session.position_pairs()))
    balance = session.contract_balance()
    result, released = session.cancel(SCALPER)
    assert result.status == "applied"
    assert released > 0
    assert session.contract_balance() == balance + released
    [row] = session.copies()
    assert row.status == "cancelled" and row.released == released and row.equity == 0
    assert session.position_pairs() == []
    assert session.cancel(SCALPER)[0].status == "rejected"  # nothing left to cancel


def test_a_backfill_stopped_early_is_unfinished_and_the_next_launch_carries_on(db_path):
    s = open_session(db_path)
    seen = []
    complete = s.backfill(4, progress=lambda done, total: seen.append(done),
                          stop=lambda: len(seen) >= 2)
    assert not complete and seen == [1, 2]
    assert s.needs_backfill() and s.contract_balance() == 0  # no demo money yet
    s.close()

    again = open_session(db_path)
    assert again.needs_backfill()
    seen.clear()
    assert again.backfill(4, progress=lambda done, total: seen.append(done))
    assert seen == [3, 4]  # from where it stopped, not from the start
    assert not again.needs_backfill() and again.contract_balance() == DEMO_DEPOSIT
    again.close()


def test_a_launch_killed_between_the_worlds_save_and_the_demo_deposit_deposits_next_time(
        db_path):
    s = open_session(db_path)
    # What a kill leaves: the world's history built and saved, the deposit not made.
    s.world.backfill(1)
    s.close()

    again = open_session(db_path)
    assert again.needs_backfill()  # the first launch is not over until the deposit
    assert again.backfill(1)
    assert again.contract_balance() == DEMO_DEPOSIT
    again.close()
    third = open_session(db_path)
    assert not third.needs_backfill() and third.contract_balance() == DEMO_DEPOSIT
    third.close()
