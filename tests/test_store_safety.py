"""The store refuses files that are not SmartCopy's, untouched; loads any ledger
exactly; keeps its files private (0600, directories 0700)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from smartcopy_gui import paths
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.engine.state import Changes
from smartcopy_gui.logs import PrivateRotatingFileHandler
from smartcopy_gui.store import Store, StoreError
from tests.cli_process import DEPOSIT_LINE, smartcopy


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()



def someone_elses_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT, minutes INTEGER)")
    conn.execute("INSERT INTO recipes VALUES ('bread', 180)")
    conn.commit()
    conn.close()
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def random_bytes(path: Path) -> Path:
    path.write_bytes(os.urandom(8192))
    return path


NOT_OURS = {
    "someone else's SQLite database": (someone_elses_database, "another program"),
    "a zero-byte file": (empty_file, "empty file"),
    "random bytes": (random_bytes, "not an SQLite file"),
}


@pytest.mark.parametrize("kind", list(NOT_OURS))
@pytest.mark.parametrize("command", ["replay", "report"])
def test_a_file_that_is_not_a_smartcopy_database_is_refused_untouched(tmp_path, kind,
                                                                       command):
    make, says = NOT_OURS[kind]
    db = make(tmp_path / "theirs.db")
    before = digest(db)
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(DEPOSIT_LINE, encoding="utf-8")
    args = ("replay", scenario) if command == "replay" else ("report", "--json")
    done = smartcopy(*args, "--db", db)
    assert done.returncode == 3
    assert str(db) in done.stderr and says in done.stderr
    assert "--db" in done.stderr  # what to do
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl", "theirs.db"]


def test_a_read_only_database_is_refused_with_a_message(tmp_path):
    db = tmp_path / "mine.db"
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(DEPOSIT_LINE, encoding="utf-8")
    assert smartcopy("replay", scenario, "--db", db).returncode == 0
    db.chmod(0o400)
    before = digest(db)
    other = tmp_path / "more.jsonl"
    other.write_text(DEPOSIT_LINE.replace('"d1"', '"d2"'), encoding="utf-8")
    done = smartcopy("replay", other, "--db", db)
    if os.access(db, os.W_OK):  # root writes to anything
        pytest.skip("the file stays writable for this user")
    assert done.returncode == 3
    assert "read-only" in done.stderr and str(db) in done.stderr
    assert "Traceback" not in done.stderr
    assert digest(db) == before


def test_wallets_load_exactly_whatever_the_ledger_holds(db_path):
    big = 9_000_000_000_000_000_000  # each fits SQLite's 64 bits; their sum does not
    with Store(db_path) as store:
        store.commit(Changes(ledger=[
            ("contract:me", "deposit", big, "d1", 1),
            ("contract:me", "deposit", big, "d2", 2),
            ("contract:me", "withdrawal", -big, "d3", 3),
            ("contract:you", "deposit", 5, "d4", 4),
        ]))
    with Store(db_path) as store:
        state = Engine(store).state
        assert state.contracts["me"].wallet == Decimal(big).scaleb(-8)
        assert state.contracts["you"].wallet == Decimal("0.00000005")
        assert store.ledger_balances()["contract:me"] == Decimal(big).scaleb(-8)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_its_journal_and_lock_are_private(tmp_path):
    db = tmp_path / "private.db"
    with Store(db, writer="a test") as store:
        store.save_meta("k", "v")
        files = {p.name: mode(p) for p in tmp_path.iterdir()}
    assert files == {"private.db": 0o600, "private.db-wal": 0o600,
                     "private.db-shm": 0o600, "private.db.lock": 0o600}


def test_user_directories_and_the_log_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path))
    db = paths.default_db_path()
    log = paths.log_path()
    assert tmp_path in db.parents and tmp_path in log.parents
    for created in (db.parent, log.parent):
        assert mode(created) == 0o700
    assert mode(tmp_path / "data") == 0o700
    handler = PrivateRotatingFileHandler(log, maxBytes=100, backupCount=1)
    try:
        for _ in range(5):  # rotates: the new file is private too
            handler.emit(__import__("logging").makeLogRecord({"msg": "x" * 60}))
    finally:
        handler.close()
    assert {p.name: mode(p) for p in log.parent.iterdir()} == {
        "smartcopy.log": 0o600, "smartcopy.log.1": 0o600}


def test_a_store_that_cannot_open_names_the_file(tmp_path):
    db = random_bytes(tmp_path / "noise.db")
    with pytest.raises(StoreError, match="noise.db"):
        Store(db)


class FullDisk(Store):
    """A store on a disk with no room left: the file cannot grow."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count={pages}")


class ReadOnlyFile(Store):
    """A store whose file SQLite may read but not write."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conn.execute("PRAGMA query_only=1")


@pytest.mark.parametrize("store, says", [(FullDisk, "the disk is full"),
                                          (ReadOnlyFile, "read-only")])
def test_a_replay_that_cannot_write_stops_with_a_message(tmp_path, monkeypatch, capsys,
                                                         store, says):
    from smartcopy_gui import cli
    from tests.gen_scenario import big_scenario

    db = tmp_path / "full.db"
    first = tmp_path / "first.jsonl"
    first.write_text(DEPOSIT_LINE, encoding="utf-8")
    assert cli.main(["replay", str(first), "--db", str(db)]) == 0
    scenario = tmp_path / "big.jsonl"
    scenario.write_text(big_scenario(3, events=400).text(), encoding="utf-8")
    capsys.readouterr()
    monkeypatch.setattr(cli, "Store", store)
    assert cli.main(["replay", str(scenario), "--db", str(db)]) == 3
    out, err = capsys.readouterr()
    assert says in err and str(db) in err and "Traceback" not in err
    monkeypatch.undo()
    assert cli.main(["report", "--db", str(db), "--json"]) == 0  # still whole


def test_files_an_older_version_left_readable_are_made_private(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    old_dir = tmp_path / "data" / "SmartCopy"
    old_dir.mkdir(parents=True, mode=0o755)
    old_dir.chmod(0o755)
    db = old_dir / "smartcopy.db"
    Store(db).close()
    db.chmod(0o644)
    assert paths.default_db_path() == db and mode(old_dir) == 0o700
    with Store(db, writer="a test"):
        assert mode(db) == 0o600
