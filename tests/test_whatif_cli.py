"""``smartcopy whatif``: its result, its messages for bad input, and a database it
leaves byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from smartcopy_gui import cli
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.world import World
from smartcopy_gui.store import Store
from smartcopy_gui.whatif.command import run_command
from smartcopy_gui.whatif.history import EventHistory, RecordingEngine

DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def recorded() -> tuple[EventHistory, int]:
    """Eight days of the simulated world, recorded, and the time of its last event."""
    engine = RecordingEngine(Store(":memory:"))
    world = World.open(engine)
    world.backfill(8)
    return engine.history(), world.now_ts()


def whatif(recorded: tuple[EventHistory, int], *args: str) -> tuple[int, str]:
    parsed = cli.build_parser().parse_args(["whatif", *args])
    history, last_ts = recorded
    return run_command(parsed, Path("test.db"), history, last_ts)


def test_json_carries_the_figures_of_the_copy(recorded) -> None:
    status, text = whatif(recorded, "meanrev", "--investment", "500", "--days", "7",
                          "--json")
    assert status == 0
    result = json.loads(text)
    for key in ("final_equity", "pnl", "roi", "fees", "funding", "profit_share",
                "outcomes", "equity_curve", "smallest_clean_investment"):
        assert key in result
    assert result["mode"] == "smart" and result["investment"] == "500"
    assert len(result["equity_curve"]) == 8  # T, 6 daily closes, the end
    assert sum(o["count"] for o in result["outcomes"]) > 10
    assert Decimal(result["pnl"]) == Decimal(result["final_equity"]) - 500
    assert Decimal(result["trader_equity_at_start"]) > 0


def test_the_summary_reads_as_sentences(recorded) -> None:
    status, text = whatif(recorded, "grid", "--mode", "fixed_amount", "--amount", "40",
                          "--stop-loss", "0.4", "--days", "7")
    assert status == 0
    assert text.startswith("What if you had copied grid (Fixed amount, 1,000 USDT, amount 40, "
                           "max slippage 0.005, stop loss 0.4)")
    assert "final equity" in text and "outcomes: " in text and " × Copied" in text


def test_a_sweep_lists_36_copies_from_one_command(recorded) -> None:
    status, text = whatif(recorded, "scalper", "--sweep", "--days", "7", "--json")
    assert status == 0
    copies = json.loads(text)["copies"]
    assert [c["mode"] for c in copies] == ["smart"] * 12 + ["fixed_amount"] * 12 + [
        "fixed_ratio"] * 12
    assert all("tracking_error" in c for c in copies)


@pytest.mark.parametrize(("args", "message"), [
    (["nobody"], "smartcopy whatif: unknown trader 'nobody': no recorded history of it by"),
    (["trend", "--since", "2027-01-01"], "smartcopy whatif: no recorded history after "
                                         "2027-01-01T00:00:00.000Z"),
    (["trend", "--investment", "5", "--days", "7"],
     "smartcopy whatif: the copy was refused: investment 5 is below the minimum of 10 USDT"),
    (["trend", "--days", "30"], "smartcopy whatif: the recorded history of 'trend' starts at "
                                "2026-01-01T00:00:00.000Z, after the window's start"),
    (["trend", "--amount", "50"], "smartcopy whatif: --amount is for --mode fixed_amount; a "
                                  "smart copy takes no amount"),
    (["trend", "--mode", "fixed_amount", "--ratio", "0.1"],
     "smartcopy whatif: --ratio is for --mode fixed_ratio"),
])
def test_bad_input_gets_one_line_naming_it_and_status_2(recorded, args, message) -> None:
    status, text = whatif(recorded, *args)
    assert status == 2
    assert text.startswith(message) and "\n" not in text


@pytest.mark.parametrize("args", [["trend", "--investment", "abc"],
                                  ["trend", "--days", "12"],
                                  ["trend", "--stop-loss", "1.5"],
                                  ["trend", "--max-slippage", "-0.01"],
                                  ["trend", "--since", "yesterday"]])
def test_unreadable_options_are_usage_errors(args, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["whatif", *args])
    assert exc.value.code == 2
    assert "whatif: error: argument" in capsys.readouterr().err


def test_the_database_file_is_byte_identical_after_a_whatif(db_path: Path, capsys) -> None:
    with Store(db_path, writer="a test") as store:
        World.open(Engine(store)).backfill(2)
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    cli.main(["whatif", "trend", "--days", "7", "--db", str(db_path)])
    cli.main(["whatif", "trend", "--sweep", "--db", str(db_path)])
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_no_database_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert cli.main(["whatif", "trend", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


class CountingHistory:
    """A history that counts the events it hands out (the rows a database would read)."""

    def __init__(self, history: EventHistory) -> None:
        self.history = history
        self.read = 0

    def recorded_events(self, since_ts: int, until_ts: int, types=None):
        for ev in self.history.recorded_events(since_ts, until_ts, types):
            self.read += 1
            yield ev


def test_a_smart_whatif_reads_its_window_once_for_all_its_replays(recorded) -> None:
    """The smallest-clean search replays the window several times; the database is read
    once for all of them, and the answer is the one the plain history gives."""
    history, last_ts = recorded
    counting = CountingHistory(history)
    args = ["whatif", "meanrev", "--investment", "500", "--days", "7", "--json"]
    status, text = run_command(cli.build_parser().parse_args(args), Path("test.db"),
                               counting, last_ts)
    assert status == 0
    assert json.loads(text) == json.loads(whatif(recorded, *args[1:])[1])
    assert json.loads(text)["smallest_clean_investment"] is not None
    # Every event once (up to T for the checkpoint, after it for the replays), at most.
    assert counting.read <= len(history.events)
