"""The what-if in the app: the copy wizard's "the last N days with this copy" and the
trader detail's sweep chart, driven through the real widgets over a real database
(ten simulated days), with the what-ifs run on a worker thread as the app runs them."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from smartcopy_gui.domain.copy_form import CopyRequest
from smartcopy_gui.domain.words import outcome_status_words
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.session import PreviewInputs, WhatIfCancelled, WhatIfReader
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store
from smartcopy_gui.ui.controller import COLLECTOR
from smartcopy_gui.ui.copy_wizard import AMOUNT_PAGE, CopyWizard, WhatIfQuery
from smartcopy_gui.ui.qt import QObject, QtWidgets, Signal
from smartcopy_gui.ui.shared import fmt_money, fmt_usdt
from smartcopy_gui.ui.trader_detail import TraderDetailView
from smartcopy_gui.whatif.runner import WhatIfError

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

TRADER = "meanrev"  # trades often: a week of it has many copied opens
DAYS = 10


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten days of the simulated world in a database file, closed."""
    path = tmp_path_factory.mktemp("whatif") / "smartcopy.db"
    with Store(path, writer="a test") as store:
        World.open(Engine(store)).backfill(DAYS)
    return path


@pytest.fixture
def reader(db: Path) -> Any:
    r = WhatIfReader(db)
    yield r
    r.close()


class Answers(QObject):
    """Runs the wizard's what-ifs on a worker thread and answers on the GUI thread (a
    queued signal), as the app's controller does (the garbage collector held off while
    one runs, as there)."""

    answered = Signal(object, object)  # query, figures or the error's message

    def __init__(self, wizard: CopyWizard, db: Path) -> None:
        super().__init__()
        self.wizard = wizard
        self.reader = WhatIfReader(db)
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.queries: list[WhatIfQuery] = []
        self.running = 0
        self.answered.connect(self.on_answered)
        wizard.whatif_requested.connect(self.on_whatif_requested)

    def on_whatif_requested(self, query: WhatIfQuery) -> None:
        self.queries.append(query)
        COLLECTOR.hold()
        self.running += 1
        self.pool.submit(self._run, query)

    def _run(self, query: WhatIfQuery) -> None:
        try:
            result: Any = self.reader.whatif(query.request, query.days)
        except WhatIfError as exc:
            result = str(exc)
        self.answered.emit(query, result)

    def on_answered(self, query: WhatIfQuery, result: Any) -> None:
        self.running -= 1
        COLLECTOR.release()
        if isinstance(result, str):
            self.wizard.show_whatif_error(query, result)
        else:
            self.wizard.show_whatif(query, result)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for _ in range(self.running):  # answers never delivered
            COLLECTOR.release()
        self.reader.close()


def inputs() -> PreviewInputs:
    return PreviewInputs(trader=TRADER, trader_name="Dmitri Averages", positions=[],
                         trader_equity=D(10_000), prices={}, instruments={},
                         taker_fee=D("0.0005"), min_investment=D(10),
                         contract_balance=D(50_000), active_mode=None)


@pytest.fixture
def wizard(qtbot: Any) -> CopyWizard:
    w = CopyWizard(inputs())
    qtbot.addWidget(w)
    w.show()
    w.next()
    assert w.currentId() == AMOUNT_PAGE
    return w


def panel_text(wizard: CopyWizard) -> str:
    return wizard.amount_page.whatif.figures_text()


def message(wizard: CopyWizard) -> QtWidgets.QLabel:
    return wizard.amount_page.whatif.message


def pick_period(qtbot: Any, wizard: CopyWizard, days: int) -> None:
    box = wizard.amount_page.whatif.period
    box.setCurrentIndex(box.findData(days))


def type_investment(qtbot: Any, wizard: CopyWizard, text: str) -> None:
    edit = wizard.amount_page.investment.edit
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def test_typing_an_amount_shows_what_the_copy_would_have_done(qtbot, wizard, db, reader):
    answers = Answers(wizard, db)
    try:
        pick_period(qtbot, wizard, 7)
        type_investment(qtbot, wizard, "1000")
        qtbot.waitUntil(lambda: "Final equity" in panel_text(wizard), timeout=10_000)
        expected = reader.whatif(CopyRequest(TRADER, "smart", D(1000), max_slippage=D(
            "0.005")), 7)
        text = panel_text(wizard)
        assert f"Final equity {fmt_money(expected.final_equity)} USDT" in text
        assert f"Fees {fmt_money(expected.fees)} USDT" in text
        status, _, count = expected.outcomes[0]
        assert f"{count} × {outcome_status_words(status)}" in text
        assert wizard.amount_page.whatif.title.text().startswith(
            "<b>The last 7 days with this copy")

        type_investment(qtbot, wizard, "20")  # too little for some opens
        smaller = reader.whatif(CopyRequest(TRADER, "smart", D(20), max_slippage=D(
            "0.005")), 7)
        qtbot.waitUntil(lambda: f"Final equity {fmt_money(smaller.final_equity)} USDT"
                        in panel_text(wizard), timeout=10_000)
        # Each burst of typing asked for one what-if once it paused, not one per key.
        assert [q.request.investment for q in answers.queries] == [D(1000), D(20)]
        assert wizard.amount_page.whatif.state.text() == ""  # no longer "Updating…"
    finally:
        answers.close()


def test_a_superseded_whatif_does_not_overwrite_a_newer_one(qtbot, wizard, reader):
    queries: list[WhatIfQuery] = []
    wizard.whatif_requested.connect(queries.append)
    pick_period(qtbot, wizard, 7)
    type_investment(qtbot, wizard, "1000")
    qtbot.waitUntil(lambda: len(queries) == 1)
    type_investment(qtbot, wizard, "50")
    qtbot.waitUntil(lambda: len(queries) == 2)
    older, newer = (reader.whatif(q.request, q.days) for q in queries)
    assert older.final_equity != newer.final_equity
    assert wizard.show_whatif(queries[1], newer)
    assert not wizard.show_whatif(queries[0], older)  # came back late: dropped
    assert not wizard.show_whatif_error(queries[0], "too late")
    assert f"Final equity {fmt_money(newer.final_equity)} USDT" in panel_text(wizard)


def test_errors_show_in_place_never_in_a_dialog(qtbot, wizard, db):
    answers = Answers(wizard, db)
    try:
        type_investment(qtbot, wizard, "5")  # below the minimum: no what-if runs
        below = "Investment (USDT): the minimum investment is 10 USDT"
        qtbot.waitUntil(lambda: message(wizard).text() == below)
        assert message(wizard).isVisible()
        assert answers.queries == []

        pick_period(qtbot, wizard, 30)  # longer than the ten days of history
        type_investment(qtbot, wizard, "1000")
        qtbot.waitUntil(lambda: "start the what-if later" in message(wizard).text(),
                        timeout=10_000)
        assert message(wizard).isVisible()
        assert message(wizard).text().startswith(f"The recorded history of '{TRADER}' "
                                                 "starts at")
        assert QtWidgets.QApplication.activeModalWidget() is None

        pick_period(qtbot, wizard, 7)  # the period is switchable: now it runs
        qtbot.waitUntil(lambda: "Final equity" in panel_text(wizard)
                        and not message(wizard).isVisible(), timeout=10_000)
    finally:
        answers.close()


def test_the_trader_detail_shows_the_sweep_with_the_smallest_clean_investment(
        qtbot, reader):
    view = TraderDetailView()
    qtbot.addWidget(view)
    view.show()
    sweep = reader.sweep(TRADER, 7)
    view.sweep.show_sweep(sweep)
    assert len(sweep.copies) == 36
    assert sweep.smallest_clean is not None
    assert view.sweep.swept is sweep and view.sweep.charts.isVisible()
    assert f"{fmt_usdt(sweep.smallest_clean)} USDT" in view.sweep.note.text()
    assert all(marker.isVisible() for marker in view.sweep.markers)
    xs, _ = view.sweep.curves[("roi", "smart")].getData()
    assert len(xs) == 12

    view.sweep.show_error("nobody", "unknown trader 'nobody': no recorded history")
    assert view.sweep.swept is None
    assert view.sweep.note.text().startswith("Unknown trader 'nobody'")
    assert not any(marker.isVisible() for marker in view.sweep.markers)


def test_a_cancelled_whatif_stops_and_the_database_is_unchanged(db, reader):
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(WhatIfCancelled):
        reader.whatif(CopyRequest(TRADER, "smart", D(1000)), 7, cancelled=lambda: True)
    assert reader.whatif(CopyRequest(TRADER, "smart", D(1000)), 7).outcomes
    reader.close()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
