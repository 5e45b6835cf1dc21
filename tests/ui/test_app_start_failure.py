"""An app that cannot use its database says so in a dialog (what, which file, what to
do), exits non-zero and leaves the file as it was, instead of sitting at "Starting…"."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from smartcopy_gui.store import Store
from tests.ui.app_process import log_text, run_app_expecting_a_start_failure


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corrupt(path: Path) -> Path:
    path.write_bytes(os.urandom(16_384))
    return path


def foreign(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (name TEXT)")
    conn.commit()
    conn.close()
    return path


def damaged(path: Path) -> Path:
    """A SmartCopy database whose pages after the first are overwritten."""
    with Store(path) as store:
        store.save_meta("k", "v" * 10_000)
    data = bytearray(path.read_bytes())
    data[4096:] = os.urandom(len(data) - 4096)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("make, says", [
    (corrupt, "not an SQLite file"),
    (foreign, "another program"),
    (damaged, "damaged"),
])
def test_the_app_on_a_database_it_cannot_use_shows_why_and_exits(tmp_path, make, says):
    db = make(tmp_path / "smartcopy.db")
    before = digest(db)
    done = run_app_expecting_a_start_failure(tmp_path, db)
    assert done.stdout.startswith("DIALOG\nSmartCopy cannot start\n"), done.stdout + done.stderr
    assert says in done.stdout and str(db) in done.stdout
    assert "--db" in done.stdout or "backup" in done.stdout  # what to do
    assert done.returncode == 3
    # The terminal (if any) gets the same words on one line, never a traceback.
    assert "Traceback" not in done.stderr
    assert digest(db) == before
    assert "SmartCopy closed without starting" in log_text(tmp_path)


def test_a_second_app_on_the_same_database_says_which_process_has_it(tmp_path):
    db = tmp_path / "smartcopy.db"
    first = Store(db, writer="SmartCopy")  # the first window, as far as the file knows
    try:
        done = run_app_expecting_a_start_failure(tmp_path, db)
    finally:
        first.close()
    assert f"is open in SmartCopy (pid {os.getpid()})" in done.stdout, done.stdout
    assert done.returncode == 3
