"""``smartcopy import``: price and trade histories into the store, all files or none.

A bad file is refused with its name and line on stderr, exit status 2, and the
database exactly as it was (every row of every table compared).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smartcopy_gui import cli
from smartcopy_gui.store import Store
from tests.scenario import alice_copied_by_me, run, snapshot, ts, write

PRICE_HEADER = "timestamp,open,high,low,close"
TRADE_HEADER = "timestamp,symbol,side,action,qty,price,leverage,margin_mode"
PRICES = (  # bars of one minute from T0 + 60 s; each becomes four price events
    PRICE_HEADER,
    "2026-03-24T00:01:00Z,60000,60100,59950,60050",
    "2026-03-24T00:02:00Z,60050,60080,59900,59920",
    "2026-03-24T00:03:00Z,59920,60250,59900,60200",
)
TRADES = (  # alice opens between the first two bars and closes before the third
    TRADE_HEADER,
    "2026-03-24T00:01:30Z,BTCUSDT,long,open,0.5,60050,10,isolated",
    "2026-03-24T00:02:50Z,BTCUSDT,long,close,0.5,59920,,",
)


@pytest.fixture
def db(db_path: Path) -> Path:
    """A database file holding alice (10,000), copied by me (1,000 of 2,000, smart)."""
    with Store(db_path) as store:
        run(alice_copied_by_me(), store)
    return db_path


def state_of(db: Path) -> tuple[dict, dict]:
    with Store(db) as store:
        return snapshot(store)


def event_ids(db: Path) -> list[str]:
    with Store(db) as store:
        return [r[0] for r in store.db.conn.execute("SELECT id FROM events ORDER BY rowid")]


def smartcopy(*args: str | Path) -> int:
    return cli.main(["import", *map(str, args)])


# ---------------------------------------------------------------------- importing
def test_imports_prices_and_trades_and_prints_a_summary_per_file(db, tmp_path, capsys):
    prices = write(tmp_path, "btc.csv", *PRICES)
    trades = write(tmp_path, "alice.csv", *TRADES)
    assert smartcopy("--db", db, "--prices", f"BTCUSDT={prices}",
                     "--trades", f"alice={trades}") == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "btc.csv (BTCUSDT prices): 12 applied, 0 already imported, "
        "2026-03-24T00:01:00.000Z .. 2026-03-24T00:03:45.000Z",
        "alice.csv (trades of alice): 2 applied, 0 already imported, "
        "2026-03-24T00:01:30.000Z .. 2026-03-24T00:02:50.000Z",
    ]
    assert err == ""
    ids = event_ids(db)
    assert [i for i in ids if i.startswith("csv-BTCUSDT-")] == [
        f"csv-BTCUSDT-{bar}-{k}" for bar in (1774310460000, 1774310520000, 1774310580000)
        for k in range(4)]
    assert [i for i in ids if i.startswith("csv-alice-")] == [
        "csv-alice-1774310490000-0", "csv-alice-1774310570000-0"]
    # The two files interleave by time; at the same time the file named first goes first.
    assert ids.index("csv-alice-1774310490000-0") == \
        ids.index("csv-BTCUSDT-1774310460000-2") + 1
    rep = state_of(db)[0]
    assert rep["traders"]["alice"]["positions"] == []
    # The copier followed, 500 ms after alice, when the next event came: its open at the
    # first bar's close (105 s, 60050), its close at the third bar's open (180 s, 59920).
    mine = [(o["event_id"], o["action"], o["status"], o["qty"], o["price"])
            for o in rep["outcomes"] if o["copier"] == "me"]
    assert mine == [("csv-alice-1774310490000-0", "open", "copied", "0.049", "60050"),
                    ("csv-alice-1774310570000-0", "close", "copied", "0.049", "59920")]


def test_importing_the_same_files_again_changes_nothing(db, tmp_path, capsys):
    prices = write(tmp_path, "btc.csv", *PRICES)
    trades = write(tmp_path, "alice.csv", *TRADES)
    args = ("--db", db, "--prices", f"BTCUSDT={prices}", "--trades", f"alice={trades}")
    assert smartcopy(*args) == 0
    before = state_of(db)
    capsys.readouterr()
    assert smartcopy(*args, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["db"], summary["applied"], summary["already_imported"]) == (str(db), 0, 14)
    assert summary["files"] == [
        {"file": str(prices), "kind": "prices", "symbol": "BTCUSDT", "events": 12,
         "applied": 0, "already_imported": 12,
         "from": "2026-03-24T00:01:00.000Z", "to": "2026-03-24T00:03:45.000Z"},
        {"file": str(trades), "kind": "trades", "trader": "alice", "events": 2,
         "applied": 0, "already_imported": 2,
         "from": "2026-03-24T00:01:30.000Z", "to": "2026-03-24T00:02:50.000Z"},
    ]
    assert state_of(db) == before


def test_a_jsonl_trade_history_can_register_its_trader(tmp_path, capsys):
    db = tmp_path / "new.db"
    prices = write(tmp_path, "btc.csv", *PRICES)
    bob = write(tmp_path, "bob.jsonl", *(json.dumps(obj) for obj in (
        {"id": "bob", "ts": ts(30_000), "type": "trader", "trader": "bob", "name": "Bob",
         "balance": "5000"},
        {"id": "bob-o1", "ts": ts(150_000), "type": "open", "trader": "bob",
         "symbol": "BTCUSDT", "side": "short", "qty": "0.1", "price": "59950",
         "leverage": 5, "margin_mode": "cross"},
    )))
    assert smartcopy("--db", db, "--trades", f"bob={bob}", "--prices", f"btcusdt={prices}") == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(
        "bob.jsonl (trades of bob): 2 applied, 0 already imported, ")
    (pos,) = state_of(db)[0]["traders"]["bob"]["positions"]
    assert (pos["side"], pos["qty"], pos["entry_price"]) == ("short", "0.1", "59950")


def test_without_db_it_imports_into_the_default_database(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "default_db_path", lambda: db)
    prices = write(tmp_path, "btc.csv", *PRICES)
    assert smartcopy("--prices", f"BTCUSDT={prices}") == 0
    assert "csv-BTCUSDT-1774310580000-3" in event_ids(db)


def test_all_the_files_are_written_in_one_transaction(db, tmp_path, monkeypatch, capsys):
    commits = []
    real_commit = Store.commit

    def counting_commit(self: Store, changes) -> None:
        commits.append(len(changes.events))
        real_commit(self, changes)

    monkeypatch.setattr(Store, "commit", counting_commit)
    prices = write(tmp_path, "btc.csv", *PRICES)
    trades = write(tmp_path, "alice.csv", *TRADES)
    assert smartcopy("--db", db, "--prices", f"BTCUSDT={prices}",
                     "--trades", f"alice={trades}") == 0
    assert commits == [14]


# ---------------------------------------------------------------------- refusing
def refused(db: Path, capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    """Run an import that must be refused; return its one-line message."""
    before = state_of(db)
    assert smartcopy("--db", db, *args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert state_of(db) == before  # every row of every table, and the report
    (line,) = err.splitlines()
    assert line.startswith("smartcopy import: ") and line.endswith("nothing was imported")
    return line


def test_a_malformed_price_file_names_its_line_and_imports_no_file(db, tmp_path, capsys):
    good = write(tmp_path, "alice.csv", *TRADES)
    bad = write(tmp_path, "btc.csv", PRICES[0], PRICES[1],
                "2026-03-24T00:02:00Z,60050,60000,59900,60020", PRICES[3])
    message = refused(db, capsys, "--trades", f"alice={good}", "--prices", f"BTCUSDT={bad}")
    assert message == ("smartcopy import: btc.csv line 3: high 60000 is below open 60050; "
                       "nothing was imported")


def test_a_malformed_trade_row_names_its_line(db, tmp_path, capsys):
    prices = write(tmp_path, "btc.csv", *PRICES)
    bad = write(tmp_path, "alice.csv", TRADE_HEADER, "",
                "2026-03-24T00:01:30Z,BTCUSDT,sideways,open,0.5,60050,10,isolated")
    message = refused(db, capsys, "--prices", f"BTCUSDT={prices}", "--trades", f"alice={bad}")
    assert message.startswith("smartcopy import: alice.csv line 3: unknown side 'sideways'")


def test_a_trade_the_store_would_reject_refuses_every_file(db, tmp_path, capsys):
    # Well-formed, but alice holds no ETH position: the dry run finds it, nothing is written.
    prices = write(tmp_path, "btc.csv", *PRICES)
    trades = write(tmp_path, "alice.csv", *TRADES,
                   "2026-03-24T00:03:10Z,ETHUSDT,long,close,1,3000,,")
    message = refused(db, capsys, "--prices", f"BTCUSDT={prices}",
                      "--trades", f"alice={trades}")
    assert message.startswith("smartcopy import: alice.csv line 4: ")
    assert message.count("nothing was imported") == 1


def test_history_older_than_the_store_is_refused(db, tmp_path, capsys):
    prices = write(tmp_path, "btc.csv", *PRICES)
    assert smartcopy("--db", db, "--prices", f"BTCUSDT={prices}") == 0
    capsys.readouterr()
    old = write(tmp_path, "old.csv", PRICE_HEADER, "2026-03-24T00:00:30Z,1,1,1,1")
    message = refused(db, capsys, "--prices", f"BTCUSDT={old}")
    assert message.startswith("smartcopy import: old.csv line 2: time 2026-03-24T00:00:30.000Z "
                              "is earlier than the store's last event")


def test_an_unknown_trader_or_instrument_is_refused(db, tmp_path, capsys):
    trades = write(tmp_path, "carol.csv", *TRADES)
    message = refused(db, capsys, "--trades", f"carol={trades}")
    assert message.startswith("smartcopy import: carol.csv line 2: ")
    prices = write(tmp_path, "doge.csv", *PRICES)
    message = refused(db, capsys, "--prices", f"DOGEUSDT={prices}")
    assert message.startswith("smartcopy import: doge.csv line 2: unknown instrument "
                              "'DOGEUSDT'")


def test_a_missing_file_is_named(db, tmp_path, capsys):
    message = refused(db, capsys, "--prices", f"BTCUSDT={tmp_path / 'nowhere.csv'}")
    assert message.startswith("smartcopy import: nowhere.csv: cannot read the file")


def test_a_refused_import_into_a_new_database_leaves_no_file(tmp_path, capsys):
    db = tmp_path / "new.db"
    trades = write(tmp_path, "alice.csv", *TRADES)  # alice is not in an empty store
    assert smartcopy("--db", db, "--trades", f"alice={trades}") == 2
    assert "alice.csv line 2: " in capsys.readouterr().err
    assert not db.exists() and not Path(f"{db}-wal").exists()


@pytest.mark.parametrize("args, says", [
    ((), "nothing to import"),
    (("--prices", "BTCUSDT"), "expected SYMBOL=FILE"),
    (("--prices", "=btc.csv"), "expected SYMBOL=FILE"),
    (("--trades", "alice=alice.txt"), "a trade history is a .csv or a .jsonl file"),
    (("--prices", "BTCUSDT=x.csv", "--prices", "ETHUSDT=x.csv"), "x.csv is given twice"),
])
def test_bad_arguments_exit_2_without_touching_the_database(db, capsys, args, says):
    before = state_of(db)
    try:
        status = smartcopy("--db", db, *args)
    except SystemExit as exc:  # argparse
        status = exc.code
    assert status == 2
    assert says in capsys.readouterr().err
    assert state_of(db) == before


# ---------------------------------------------------------------------- a real process
def test_the_command_in_its_own_process(db, tmp_path):
    prices = write(tmp_path, "btc.csv", *PRICES)
    bad = write(tmp_path, "bad.csv", PRICE_HEADER, "2026-03-24T00:04:00Z,1,1,1,x")

    def smartcopy_process(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "smartcopy_gui", "import", "--db", str(db),
                               *map(str, args)], capture_output=True, text=True, timeout=120)

    done = smartcopy_process("--prices", f"BTCUSDT={prices}")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("btc.csv (BTCUSDT prices): 12 applied, 0 already imported")
    before = state_of(db)
    done = smartcopy_process("--prices", f"BTCUSDT={bad}")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == ("smartcopy import: bad.csv line 2: close 'x' is not a number; "
                           "nothing was imported\n")
    assert state_of(db) == before
