"""One writer per database: a second writer is refused with exit status 3 and changes
nothing; a reader sees one consistent snapshot while a writer runs."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from smartcopy_gui import cli
from smartcopy_gui.bootstrap import session_factory
from tests.cli_process import DEPOSIT_LINE, smartcopy, start_smartcopy
from tests.gen_scenario import big_scenario
from tests.scenario import Scenario


def wait_for(condition, what: str, timeout: float = 180) -> None:
    # A guard against a hang, not a speed check: a loaded machine can take a minute.
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class FeedingReplay:
    """``smartcopy replay`` reading its scenario from a pipe the test writes at its own
    pace, so the replay is provably still running (and holding the database) while the
    test does something else."""

    def __init__(self, tmp_path: Path, db: Path, lines: list[str]) -> None:
        self.fifo = tmp_path / "scenario.jsonl"
        os.mkfifo(self.fifo)
        self.lines = lines
        self.proc = start_smartcopy("replay", self.fifo, "--db", db, "--json")
        self.pipe = self.fifo.open("w", encoding="utf-8")  # returns once replay opens it
        self.lock = Path(f"{db}.lock")

    def feed(self, count: int) -> None:
        for _ in range(min(count, len(self.lines))):
            self.pipe.write(self.lines.pop(0) + "\n")
        self.pipe.flush()

    def holding(self) -> bool:
        return self.lock.exists() and self.lock.read_text().startswith(f"{self.proc.pid} ")

    def finish(self) -> tuple[int, str, str]:
        self.feed(len(self.lines))
        self.pipe.close()
        out, err = self.proc.communicate(timeout=300)
        return self.proc.returncode, out, err


@pytest.fixture
def lines() -> list[str]:
    return big_scenario(11, traders=3, copiers=10, events=600).text().splitlines()


def test_a_second_replay_is_refused_while_the_first_runs(tmp_path, lines):
    alone = tmp_path / "alone.db"
    scenario = tmp_path / "all.jsonl"
    scenario.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = smartcopy("replay", scenario, "--db", alone, "--json")
    assert expected.returncode == 0, expected.stderr

    db = tmp_path / "shared.db"
    first = FeedingReplay(tmp_path, db, list(lines))
    first.feed(200)
    wait_for(first.holding, "the first replay to take the database")
    second = smartcopy("replay", scenario, "--db", db, "--json")
    assert second.returncode == 3
    assert second.stdout == ""
    assert f"is open in a replay (pid {first.proc.pid})" in second.stderr
    assert "Traceback" not in second.stderr
    status, out, err = first.finish()
    assert (status, err) == (0, "")
    assert json.loads(out) == json.loads(expected.stdout)


def test_a_replay_is_refused_while_the_app_has_the_database(db_path, tmp_path):
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(DEPOSIT_LINE, encoding="utf-8")
    session = session_factory(db_path)()  # what the desktop app opens
    try:
        before = session.contract_balance()
        refused = smartcopy("replay", scenario, "--db", db_path)
        assert refused.returncode == 3
        assert f"is open in SmartCopy (pid {os.getpid()})" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert session.contract_balance() == before
    finally:
        session.close()
    assert smartcopy("replay", scenario, "--db", db_path).returncode == 0  # now it may


def test_a_second_app_session_on_the_same_database_is_refused(db_path):
    first = session_factory(db_path)()
    try:
        with pytest.raises(cli.StoreError, match=rf"is open in SmartCopy \(pid {os.getpid()}\)"):
            session_factory(db_path)()
    finally:
        first.close()


def many_copiers(count: int) -> list[str]:
    """A trader, then ``count`` copiers each depositing and starting a copy: every
    line adds rows to several tables a report reads."""
    s = Scenario()
    s.add(0, "trader", "t-alice", trader="alice", name="Alice", balance="10000")
    for i in range(count):
        s.add(i, "deposit", f"d{i}", account=f"c{i}", amount="100")
        s.add(i, "copy", f"c{i}", copier=f"c{i}", trader="alice", mode="smart",
              investment="50")
    return s.text().splitlines()


def test_reports_read_during_a_replay_are_whole(tmp_path, capsys):
    db = tmp_path / "busy.db"
    lines = many_copiers(1500)
    replay = FeedingReplay(tmp_path, db, lines)
    replay.feed(50)
    wait_for(replay.holding, "the replay to take the database")
    wait_for(lambda: cli.main(["report", "--db", str(db), "--json"]) == 0 and bool(
        json.loads(capsys.readouterr().out)["copies"]), "the first copies")
    failures = []
    feeder = threading.Thread(target=lambda: [replay.feed(20) for _ in range(len(lines))])
    feeder.start()
    for _ in range(100):
        status = cli.main(["report", "--db", str(db), "--json"])
        out, err = capsys.readouterr()
        if status != 0 or err:
            failures.append((status, err))
            continue
        report = json.loads(out)
        # Every copy's trader is in the same snapshot as the copy.
        assert {c["trader"] for c in report["copies"]} <= set(report["traders"])
    feeder.join()
    assert replay.finish()[0] == 0
    assert failures == []


def test_an_import_is_refused_while_the_app_has_the_database(db_path, tmp_path):
    prices = tmp_path / "btc.csv"
    prices.write_text("timestamp,open,high,low,close\n"
                      "2030-01-01T00:00:00Z,60000,60100,59900,60050\n", encoding="utf-8")
    session = session_factory(db_path)()
    try:
        refused = smartcopy("import", "--db", db_path, "--prices", f"BTCUSDT={prices}")
    finally:
        session.close()
    assert refused.returncode == 3
    assert f"is open in SmartCopy (pid {os.getpid()})" in refused.stderr
    assert "Traceback" not in refused.stderr
