"""The wizard's percentage fields (slippage limit, stop-loss) refuse absurdly fine
values with a message in place, instead of a 'Copy refused' in the engine's words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smartcopy_gui.domain.copy_form import SLIPPAGE_RULE, STOP_LOSS_RULE, percent
from smartcopy_gui.session import Session
from tests.scenario import Scenario, replay_into


@pytest.mark.parametrize("rule", [SLIPPAGE_RULE, STOP_LOSS_RULE])
@pytest.mark.parametrize("text", ["1e-999999999", "0.0000001"])
def test_a_percentage_finer_than_a_millionth_is_refused_in_place(rule, text):
    assert rule.check(text).error == "Use at most 6 decimal places"


def test_the_finest_percentages_accepted_are_taken_by_the_engine(db_path):
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    replay_into(db_path, s)
    session = Session(db_path)
    try:
        result = session.copy("alice", "smart", Decimal(1000),
                              max_slippage=percent(SLIPPAGE_RULE.check("0.000001").value),
                              stop_loss=percent(STOP_LOSS_RULE.check("0.000001").value))
    finally:
        session.close()
    assert (result.status, result.reason) == ("applied", None)
