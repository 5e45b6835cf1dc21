"""The SQLite store: schema migrations, atomic change sets, and state loading.

Every wallet is the sum of its ledger (amounts kept as integer counts of 1e-8 USDT,
so SQLite sums them exactly). Hot writes go through the raw connection's
``executemany`` inside one transaction per event.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from ..domain.events import Event
from ..domain.instruments import Instrument, Tier
from ..domain.numbers import ZERO, from_units
from ..domain.positions import Account, Position
from ..engine.state import ACTIVE, Changes, Config, CopyRelation, PendingBatch, State, Trader
from ..engine.state import order_from_json as _payload_from_json
from ..engine.state import order_to_json as _payload_to_json
from . import history
from .errors import DatabaseBusy, StoreError
from .history import HistoryWriter
from .lock import WriterLock

log = logging.getLogger("smartcopy.store")


# (steps done, steps): a migration's progress, reported once it has run a second.
Progress = Callable[[int, int], None]

SQLITE_HEADER = b"SQLite format 3\x00"
FILE_MODE = 0o600
WAL_SIZE_LIMIT = 4 * 1024 * 1024


def _create_private(path: Path) -> bool:
    """Create the database file 0600 if it does not exist; True if this call made it.
    (SQLite gives its -wal and -shm files the database file's mode.)"""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return False
    return True


def _check_smartcopy_file(path: Path, writable: bool) -> None:
    """Refuse, untouched, a file that is not a SmartCopy database (or cannot be written
    when ``writable`` is asked): before anything migrates or switches its journal."""
    advice = "pass another --db path (or move the file away)"
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if not header:
        raise StoreError(f"{path} is an empty file, not a SmartCopy database; "
                         f"delete it if it is yours, or {advice}")
    if header != SQLITE_HEADER:
        raise StoreError(f"{path} is not a SmartCopy database (not an SQLite file at all; "
                         f"damaged or something else); {advice}")
    probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in probe.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is damaged and cannot be read ({exc}); restore it from "
                         f"a backup, or {advice}") from exc
    finally:
        probe.close()
    if "_migrations" not in tables:
        raise StoreError(f"{path} is an SQLite database of another program, not "
                         f"SmartCopy's; it was left as it is: {advice}")
    if writable and not os.access(path, os.W_OK):
        raise StoreError(f"the database {path} is read-only; make it writable "
                         f"(chmod u+w) or {advice}")


def _write_failure(path: str, exc: sqlite3.OperationalError) -> str:
    text = str(exc)
    if "full" in text:
        what = "the disk is full; free some space and run it again"
    elif "readonly" in text or "read-only" in text:
        what = "the file is read-only; make it writable and run it again"
    elif "locked" in text or "busy" in text:
        what = "another program holds it locked; close it and run it again"
    else:
        what = "run it again, or restore the file from a backup if it keeps failing"
    return (f"cannot write to the database {path} ({text}); nothing of the failed step "
            f"was saved: {what}")


def _m001_initial(db: sqlite_utils.Database, progress: Progress) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("config").create({"key": str, "value": str}, pk="key")
    db.table("instruments").create({"symbol": str, "qty_step": str, "min_qty": str, "tick": str,
                              "max_leverage": str, "tiers": str}, pk="symbol")
    db.table("prices").create({"symbol": str, "price": str}, pk="symbol")
    db.table("events").create({"id": str, "digest": str, "ts": int, "type": str, "status": str,
                         "reason": str}, pk="id")
    db.table("rejected").create({"seq": int, "event_id": str, "line": int, "reason": str}, pk="seq")
    db.execute("CREATE UNIQUE INDEX rejected_once ON rejected "
               "(coalesce(event_id, ''), coalesce(line, -1), reason)")
    db.table("traders").create({"id": str, "name": str, "profit_share": str, "ord": int}, pk="id")
    db.table("ledger").create({"seq": int, "account": str, "kind": str, "amount": int,
                         "event_id": str, "ts": int}, pk="seq")
    # No index on account: wallets are summed by a full scan on load, and an index
    # would cost every one of the hottest inserts.
    db.execute("CREATE TABLE positions (account TEXT, symbol TEXT, side TEXT, qty TEXT, "
               "entry TEXT, leverage TEXT, margin_mode TEXT, cycle TEXT, "
               "PRIMARY KEY (account, symbol)) WITHOUT ROWID")
    db.table("copies").create({"id": int, "copier": str, "trader": str, "mode": str,
                         "investment": str, "amount": str, "ratio": str, "max_slippage": str,
                         "max_margin_per_order": str, "stop_loss": str, "status": str,
                         "hwm": str, "released": str, "created_ts": int, "ended_ts": int},
                        pk="id")
    db.table("pending").create({"seq": int, "exec_ts": int, "kind": str, "event_id": str,
                          "payload": str, "copy_ids": str}, pk="seq")
    # An outcome group holds what the outcomes of one copier action batch share, so a
    # fan-out to thousands of copiers writes narrow rows.
    db.table("outcome_groups").create({"id": int, "event_id": str, "trader": str, "symbol": str,
                                 "action": str, "price": str, "ts": int}, pk="id")
    db.table("outcomes").create({"seq": int, "group_id": int, "copy_id": int, "status": str,
                           "reason": str, "qty": str}, pk="seq")


def _m002_daily_equity(db: sqlite_utils.Database, progress: Progress) -> None:
    # Each account's equity (1e-8 units) at the close of each UTC day: the base of
    # ROI, drawdown and Sharpe figures.
    db.execute("CREATE TABLE equity_daily (day INTEGER, account TEXT, equity INTEGER, "
               "PRIMARY KEY (day, account)) WITHOUT ROWID")


def _m003_position_cycles(db: sqlite_utils.Database, progress: Progress) -> None:
    # When each position cycle opened and what it has made so far; and every cycle
    # that ended, with its result (win rates, copier divergence).
    db.execute("ALTER TABLE positions ADD COLUMN opened_ts INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE positions ADD COLUMN realized TEXT NOT NULL DEFAULT '0'")
    db.table("closed_positions").create({"seq": int, "account": str, "symbol": str, "side": str,
                                   "cycle": str, "opened_ts": int, "closed_ts": int,
                                   "result": int, "how": str}, pk="seq")
    db.table("closed_positions").create_index(["account"])
    db.execute("ALTER TABLE outcome_groups ADD COLUMN ref_price TEXT")
    db.execute("ALTER TABLE outcome_groups ADD COLUMN side TEXT")


def _m004_compact_history(db: sqlite_utils.Database, progress: Progress) -> None:
    # Every applied price and every other applied event's payload, keyed by (ts, n) in
    # applied order (see history.py). The world's ticks no longer get an events row:
    # the rows older versions wrote for them go (an id and a digest each, no price:
    # those databases kept only each symbol's last price, which stays). Other events'
    # rows stay, for their digests; their payloads were never stored, so the recorded
    # history starts with this migration.
    db.execute("CREATE TABLE symbols (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL UNIQUE)")
    db.execute("CREATE TABLE price_ticks (ts INTEGER NOT NULL, n INTEGER NOT NULL, "
               "sym INTEGER NOT NULL, price NOT NULL, PRIMARY KEY (ts, n)) WITHOUT ROWID")
    db.execute("CREATE TABLE event_log (ts INTEGER NOT NULL, n INTEGER NOT NULL, "
               "id TEXT NOT NULL, type TEXT NOT NULL, fields TEXT NOT NULL, "
               "PRIMARY KEY (ts, n)) WITHOUT ROWID")
    top = db.execute("SELECT MAX(rowid) FROM events").fetchone()[0] or 0
    batches = top // _MIGRATION_BATCH + 1
    for batch in range(batches):
        first = batch * _MIGRATION_BATCH
        db.execute("DELETE FROM events WHERE rowid >= ? AND rowid < ? AND type = 'price' "
                   "AND id GLOB ('px-*-' || ts)", [first, first + _MIGRATION_BATCH])
        progress(batch + 1, batches)


_MIGRATION_BATCH = 50_000
PROGRESS_AFTER_S = 1.0  # a migration reports its progress once it has run this long
VACUUM_AFTER = frozenset({"004_compact_history"})  # they free much of the file


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database, Progress], None]]] = [
    ("001_initial", _m001_initial),
    ("002_daily_equity", _m002_daily_equity),
    ("003_position_cycles", _m003_position_cycles),
    ("004_compact_history", _m004_compact_history),
]


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _s(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


@dataclass(frozen=True)
class ClosedCycle:
    """A position cycle that ended: what it made and how it ended."""

    symbol: str
    side: str
    opened_ts: int
    closed_ts: int
    result: Decimal
    how: str


@dataclass(frozen=True)
class CopyOutcome:
    """One outcome of a copy with its action's price and the trader's reference."""

    status: str
    reason: str | None
    action: str
    price: str | None
    ref_price: str | None
    side: str | None


class Store:
    """A SmartCopy database file (or ``:memory:``).

    ``writer`` names the process that opens it to write ("SmartCopy", "a replay",
    "an import"): it then holds the database's writer lock until ``close``, and a
    second writer is refused with :class:`DatabaseBusy`. Readers pass no ``writer``.
    ``progress`` hears (steps done, steps) of an upgrade of an older database once it
    has run a second (the CLI prints it; a window can show it in a progress bar).
    """

    def __init__(self, path: str | Path = ":memory:", *, writer: str | None = None,
                 progress: Progress | None = None) -> None:
        self.path = str(path)
        self._lock: WriterLock | None = None
        self._conn: sqlite3.Connection | None = None
        self._history = HistoryWriter()
        in_memory = self.path == ":memory:"
        try:
            if not in_memory:
                created = _create_private(Path(self.path))
                if not created:
                    _check_smartcopy_file(Path(self.path), writable=writer is not None)
                if writer is not None:
                    self._lock = WriterLock(self.path, writer)
                    self._lock.acquire()
                    if not created:  # ours (checked): made private if an older version didn't
                        os.chmod(self.path, FILE_MODE)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn = conn
            self.db = sqlite_utils.Database(conn)
            self._migrate(progress)
            if not in_memory:
                self.db.enable_wal()
            conn.execute("PRAGMA synchronous=NORMAL")
            # The WAL is checkpointed at commits once it holds ~4 MB (SQLite's default
            # 1000 pages), and cut back to at most 4 MB after each checkpoint (it would
            # otherwise keep its largest size: a big fan-out or the backfill); close()
            # and checkpoint() empty it.
            conn.execute("PRAGMA wal_autocheckpoint=1000")
            conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        except sqlite3.OperationalError as exc:
            self._release()
            raise StoreError(f"cannot open the database {self.path} ({exc}); check the "
                             "file and its folder, or pass another --db path") from exc
        except sqlite3.DatabaseError as exc:
            self._release()
            raise StoreError(f"the database {self.path} is damaged ({exc}); restore it from "
                             "a backup, or pass another --db path") from exc
        except OSError as exc:
            self._release()
            raise StoreError(f"cannot open the database {self.path}: {exc.strerror}. "
                             "Check the path and its permissions, or pass another --db "
                             "path.") from exc
        except BaseException:
            self._release()
            raise
        self.conn: sqlite3.Connection = conn

    def _release(self) -> None:
        """After a failed open: close what was opened, give the lock back."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def close(self) -> None:
        """Checkpoint the WAL, close the connection and give up the writer lock."""
        try:
            self.checkpoint()
        finally:
            self._release()

    def checkpoint(self) -> None:
        """Move the WAL into the database file and empty it (cheap when there is
        little to move; when a reader holds it, as much as can be moved)."""
        conn = self.db.conn
        if self.path == ":memory:" or conn.in_transaction:
            return
        # TRUNCATE waits for readers to leave: do not wait, a reader only means the
        # WAL is emptied at a later checkpoint.
        timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(timeout)}")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read inside one transaction: every read in the block sees the database as
        it stood when the block began, whatever another process writes meanwhile."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT count(*) FROM _migrations").fetchone()  # starts the read
            yield
        finally:
            conn.execute("COMMIT")

    # ------------------------------------------------------------------ migrations
    def _migrate(self, progress: Progress | None) -> None:
        db = self.db
        if "_migrations" not in db.table_names():
            db.table("_migrations").create({"name": str, "applied_ts": str}, pk="name")
        done = {row["name"] for row in db["_migrations"].rows}
        started = time.monotonic()
        fresh = not done

        def report(step: int, steps: int) -> None:
            if progress is not None and time.monotonic() - started >= PROGRESS_AFTER_S:
                progress(step, steps)

        vacuum = False
        for name, migration in MIGRATIONS:
            if name in done:
                continue
            with self._transaction():
                migration(db, report)
                db.execute("INSERT INTO _migrations(name, applied_ts) VALUES (?, "
                           "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", [name])
            log.info("applied migration %s", name)
            vacuum = vacuum or (name in VACUUM_AFTER and not fresh)
        if vacuum:
            db.conn.execute("VACUUM")  # give the freed pages back to the disk
            log.info("compacted the database after its migrations")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction around several commits (an import applied in chunks): the
        commits inside join it, and an exception rolls all of them back."""
        with self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.db.conn
        if conn.in_transaction:  # inside transaction(): join it
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                self._history.forget()
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise StoreError(_write_failure(self.path, exc)) from exc

    # ------------------------------------------------------------------ writes
    def commit(self, ch: Changes) -> None:
        """Write one change set in one transaction: all of it or none."""
        with self._transaction() as conn:
            if ch.ledger:
                conn.executemany("INSERT INTO ledger(account, kind, amount, event_id, ts) "
                                 "VALUES (?, ?, ?, ?, ?)", ch.ledger)
            if ch.outcome_groups:
                conn.executemany("INSERT INTO outcome_groups(id, event_id, trader, symbol, "
                                 "action, price, ts, ref_price, side) "
                                 "VALUES (?,?,?,?,?,?,?,?,?)",
                                 ch.outcome_groups)
            if ch.outcomes:
                conn.executemany("INSERT INTO outcomes(group_id, copy_id, status, reason, qty) "
                                 "VALUES (?,?,?,?,?)", ch.outcomes)
            if ch.positions:
                upserts = []
                deletes = []
                for (account, symbol), pos in ch.positions.items():
                    if pos is None:
                        deletes.append((account, symbol))
                    else:
                        upserts.append((account, symbol, pos.side, str(pos.qty),
                                        str(pos.entry), str(pos.leverage), pos.margin_mode,
                                        pos.cycle, pos.opened_ts, str(pos.realized)))
                if deletes:
                    conn.executemany("DELETE FROM positions WHERE account=? AND symbol=?",
                                     deletes)
                if upserts:
                    conn.executemany(
                        "INSERT OR REPLACE INTO positions(account, symbol, side, qty, entry, "
                        "leverage, margin_mode, cycle, opened_ts, realized) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?)", upserts)
            if ch.copies:
                conn.executemany(
                    "INSERT OR REPLACE INTO copies VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(c.id, c.copier, c.trader, c.mode, str(c.investment), _s(c.amount),
                      _s(c.ratio), str(c.max_slippage), _s(c.max_margin_per_order),
                      _s(c.stop_loss), c.status, str(c.hwm), str(c.released), c.created_ts,
                      c.ended_ts) for c in ch.copies.values()])
            if ch.traders:
                conn.executemany("INSERT OR REPLACE INTO traders VALUES (?,?,?,?)",
                                 [(t.id, t.name, str(t.profit_share), t.order)
                                  for t in ch.traders.values()])
            if ch.prices:
                conn.executemany("INSERT OR REPLACE INTO prices VALUES (?,?)",
                                 [(s, str(p)) for s, p in ch.prices.items()])
            if ch.instruments:
                conn.executemany(
                    "INSERT OR REPLACE INTO instruments VALUES (?,?,?,?,?,?)",
                    [(i.symbol, str(i.qty_step), str(i.min_qty), str(i.tick),
                      str(i.max_leverage),
                      json.dumps([[str(t.cap), str(t.mmr), str(t.maintenance_amount)]
                                  for t in i.tiers]))
                     for i in ch.instruments.values()])
            if ch.config is not None:
                cfg = ch.config
                conn.executemany("INSERT OR REPLACE INTO config VALUES (?,?)",
                                 [("delay_ms", str(cfg.delay_ms)),
                                  ("impact_bps", str(cfg.impact_bps)),
                                  ("taker_fee", str(cfg.taker_fee)),
                                  ("min_investment", str(cfg.min_investment))])
            if ch.pending_removed:
                conn.executemany("DELETE FROM pending WHERE seq=?",
                                 [(s,) for s in ch.pending_removed])
            if ch.pending_added:
                added = [b for b in ch.pending_added if b.seq not in set(ch.pending_removed)]
                conn.executemany(
                    "INSERT INTO pending VALUES (?,?,?,?,?,?)",
                    [(b.seq, b.exec_ts, b.kind, b.event_id, _payload_to_json(b.payload),
                      json.dumps(b.copy_ids, separators=(",", ":"))) for b in added])
            if ch.events:
                # A price event sent without a digest (the world's tick, never sent
                # twice) lives in price_ticks only.
                conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)",
                                 [e for e in ch.events if e[1] is not None or e[3] != "price"])
            if ch.applied:
                self._history.write(conn, ch.applied)
            if ch.rejected:
                conn.executemany("INSERT OR IGNORE INTO rejected(event_id, line, reason) "
                                 "VALUES (?,?,?)", ch.rejected)
            if ch.closed:
                conn.executemany("INSERT INTO closed_positions(account, symbol, side, cycle, "
                                 "opened_ts, closed_ts, result, how) VALUES (?,?,?,?,?,?,?,?)",
                                 ch.closed)
            if ch.snapshots:
                conn.executemany("INSERT OR REPLACE INTO equity_daily VALUES (?,?,?)",
                                 ch.snapshots)
            if ch.meta:
                conn.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)",
                                 list(ch.meta.items()))

    # ------------------------------------------------------------------ reads
    def event_digest(self, event_id: str) -> str | None:
        """The digest of an already-applied (or rejected) event with this id."""
        row = self.db.conn.execute("SELECT digest FROM events WHERE id=?",
                                   (event_id,)).fetchone()
        return row[0] if row else None

    def load_state(self) -> State:
        """Rebuild the engine's state from the database."""
        try:
            return self._load_state()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the database {self.path} cannot be read ({exc}); restore it "
                             "from a backup, or pass another --db path") from exc

    def _load_state(self) -> State:
        conn = self.db.conn
        st = State()
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        cfg = dict(conn.execute("SELECT key, value FROM config").fetchall())
        if cfg:
            st.config = Config(int(cfg["delay_ms"]), Decimal(cfg["impact_bps"]),
                               Decimal(cfg["taker_fee"]), Decimal(cfg["min_investment"]))
        for row in conn.execute("SELECT symbol, qty_step, min_qty, tick, max_leverage, tiers "
                                "FROM instruments"):
            tiers = tuple(Tier(Decimal(c), Decimal(m), Decimal(a))
                          for c, m, a in json.loads(row[5]))
            st.instruments[row[0]] = Instrument(row[0], Decimal(row[1]), Decimal(row[2]),
                                                Decimal(row[3]), Decimal(row[4]), tiers)
        st.prices = {s: Decimal(p) for s, p in conn.execute("SELECT symbol, price FROM prices")}
        accounts: dict[str, Account] = {}
        for tid, name, share, order in conn.execute(
                "SELECT id, name, profit_share, ord FROM traders ORDER BY ord"):
            trader = Trader(tid, name, Decimal(share), order)
            st.traders[tid] = trader
            accounts[trader.account.id] = trader.account
            accounts[trader.earned.id] = trader.earned
        for row in conn.execute("SELECT * FROM copies ORDER BY id"):
            copy = CopyRelation(
                row[0], row[1], row[2], row[3], Decimal(row[4]), amount=_dec(row[5]),
                ratio=_dec(row[6]), max_slippage=Decimal(row[7]),
                max_margin_per_order=_dec(row[8]), stop_loss=_dec(row[9]), status=row[10],
                hwm=Decimal(row[11]), released=Decimal(row[12]), created_ts=row[13],
                ended_ts=row[14])
            st.copies[copy.id] = copy
            accounts[copy.account.id] = copy.account
            if copy.status == ACTIVE:
                st.traders[copy.trader].copies.append(copy)
        st.next_copy_id = max(st.copies, default=0) + 1
        for (account_id,) in conn.execute(
                "SELECT DISTINCT account FROM ledger WHERE account LIKE 'contract:%'"):
            acc = Account(account_id)
            accounts[account_id] = acc
            st.contracts[account_id.split(":", 1)[1]] = acc
        for account_id, total in self._ledger_sums("account"):
            accounts[account_id].wallet = from_units(total)
        for account_id, kind, total in self._ledger_sums(
                "account, kind", "WHERE account LIKE 'copy:%'"):
            st.copies[int(account_id.split(":", 1)[1])].totals[kind] = from_units(total)
        for account_id, symbol, side, qty, entry, lev, mode, cycle, opened, done in conn.execute(
                "SELECT account, symbol, side, qty, entry, leverage, margin_mode, cycle, "
                "opened_ts, realized FROM positions"):
            accounts[account_id].positions[symbol] = Position(
                symbol, side, Decimal(qty), Decimal(entry), Decimal(lev), mode, cycle,
                opened_ts=opened, realized=Decimal(done))
        for seq, exec_ts, kind, event_id, payload, copy_ids in conn.execute(
                "SELECT seq, exec_ts, kind, event_id, payload, copy_ids FROM pending "
                "ORDER BY exec_ts, seq"):
            st.pending.append(PendingBatch(seq, exec_ts, kind, event_id,
                                           _payload_from_json(payload), json.loads(copy_ids)))
        st.next_pending_seq = int(meta.get("next_pending_seq", "1"))
        st.next_group_id = (conn.execute("SELECT MAX(id) FROM outcome_groups").fetchone()[0]
                            or 0) + 1
        st.last_ts = int(meta["last_ts"]) if "last_ts" in meta else None
        # Positions loaded from disk are checked on the next liquidation pass.
        st.dirty = {a for a, acc in accounts.items() if acc.positions}
        return st

    def outcomes(self, copy_id: int | None = None) -> list[dict[str, Any]]:
        """Outcome rows in the order they were produced (copier joined from its copy)."""
        sql = ("SELECT g.event_id, o.copy_id, c.copier, g.trader, g.symbol, g.action, "
               "o.status, o.reason, o.qty, g.price, g.ts FROM outcomes o "
               "JOIN outcome_groups g ON g.id = o.group_id "
               "LEFT JOIN copies c ON c.id = o.copy_id")
        args: tuple[Any, ...] = ()
        if copy_id is not None:
            sql += " WHERE o.copy_id=?"
            args = (copy_id,)
        cols = ("event_id", "copy_id", "copier", "trader", "symbol", "action", "status",
                "reason", "qty", "price", "ts")
        return [dict(zip(cols, row))
                for row in self.db.conn.execute(sql + " ORDER BY o.seq", args)]

    def rejected(self) -> list[dict[str, Any]]:
        """Rejected lines and events, in the order they were first rejected."""
        return [{"event_id": e, "line": line, "reason": r} for e, line, r in self.db.conn.execute(
            "SELECT event_id, line, reason FROM rejected ORDER BY seq")]

    def deposit_accounts(self) -> list[str]:
        """Copiers whose contract account received a deposit, in first-deposit order."""
        rows = self.db.conn.execute(
            "SELECT account, MIN(seq) FROM ledger WHERE kind='deposit' AND account LIKE "
            "'contract:%' GROUP BY account ORDER BY 2")
        return [r[0].split(":", 1)[1] for r in rows]

    def ledger_balances(self) -> dict[str, Decimal]:
        """Σ ledger per account (the definition of each wallet)."""
        return {a: from_units(t) for a, t in self._ledger_sums("account")}

    def _ledger_sums(self, keys: str, where: str = "",
                     args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """``keys..., Σ amount`` per group of the ledger, exact whatever the amounts:
        SQLite's SUM raises "integer overflow" past 64 bits, and then Python sums."""
        conn = self.db.conn
        try:
            return conn.execute(f"SELECT {keys}, SUM(amount) FROM ledger {where} "
                                f"GROUP BY {keys}", args).fetchall()
        except sqlite3.OperationalError as exc:
            if "integer overflow" not in str(exc):
                raise
        width = keys.count(",") + 1
        totals: dict[tuple[Any, ...], int] = {}
        for row in conn.execute(f"SELECT {keys}, amount FROM ledger {where}", args):
            key = tuple(row[:width])
            totals[key] = totals.get(key, 0) + row[width]
        return [(*key, total) for key, total in totals.items()]

    # ------------------------------------------------------------------ history
    def price_ticks(self, symbols: Iterable[str] | None = None, since_ts: int | None = None,
                    until_ts: int | None = None) -> Iterator[tuple[int, str, Decimal]]:
        """(ts, symbol, price) of every price the engine applied (price events and trader
        fills) between the times (inclusive; None: no bound), in applied order."""
        return history.price_ticks(self.db.conn, symbols, since_ts, until_ts)

    def candles(self, symbol: str, bar_ms: int, since_ts: int | None = None,
                until_ts: int | None = None) -> list[history.Candle]:
        """``symbol``'s candles of ``bar_ms`` from the applied prices between the times
        (derived from :meth:`price_ticks`; a bar without a price has none)."""
        if bar_ms <= 0:
            raise ValueError(f"a candle's length must be positive, not {bar_ms} ms")
        return list(history.candles(self.price_ticks([symbol], since_ts, until_ts), bar_ms))

    def recorded_events(self, since_ts: int | None = None, until_ts: int | None = None,
                        types: Iterable[str] | None = None) -> Iterator[Event]:
        """The events the engine applied between the times (of ``types``, or all), in
        applied order, as they came: fed to a fresh engine they rebuild the same state.
        (A database from before migration 004 holds none of its earlier events.)"""
        return history.recorded_events(self.db.conn, since_ts, until_ts, types)

    # ------------------------------------------------------------------ named reads
    def load_meta(self, key: str) -> str | None:
        """The value kept under ``key`` in the meta table, or None."""
        row = self.db.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row is not None else None

    def save_meta(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` in the meta table, in its own transaction (or in
        the one :meth:`transaction` holds open, e.g. with a chunk of the world's events)."""
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def equity_series(self, account: str, from_day: int) -> list[tuple[int, Decimal]]:
        """(day, closing equity) of ``account`` from ``from_day`` on, in day order."""
        return [(day, from_units(units)) for day, units in self.db.conn.execute(
            "SELECT day, equity FROM equity_daily WHERE account=? AND day>=? ORDER BY day",
            (account, from_day))]

    def equity_before(self, account: str, day: int) -> Decimal | None:
        """The closing equity of ``account`` on its last recorded day before ``day``."""
        row = self.db.conn.execute(
            "SELECT equity FROM equity_daily WHERE account=? AND day<? ORDER BY day DESC "
            "LIMIT 1", (account, day)).fetchone()
        return from_units(row[0]) if row is not None else None

    def funded(self, account: str, kinds: tuple[str, ...]) -> tuple[Decimal, int | None]:
        """Σ of the ledger entries of ``kinds`` into ``account`` and the first one's time."""
        where = f"WHERE account=? AND kind IN ({', '.join('?' for _ in kinds)})"
        args = (account, *kinds)
        sums = self._ledger_sums("account", where, args)
        first = self.db.conn.execute(f"SELECT MIN(ts) FROM ledger {where}", args).fetchone()[0]
        return (from_units(sums[0][1]) if sums else ZERO), first

    def closed_results(self, account: str, closed_after_ts: int) -> list[Decimal]:
        """The results of ``account``'s position cycles that ended after the time."""
        return [from_units(r) for (r,) in self.db.conn.execute(
            "SELECT result FROM closed_positions WHERE account=? AND closed_ts>?",
            (account, closed_after_ts))]

    def recent_closed(self, account: str, limit: int) -> list[ClosedCycle]:
        """``account``'s latest ended position cycles, newest first."""
        return [ClosedCycle(symbol, side, opened, closed, from_units(result), how)
                for symbol, side, opened, closed, result, how in self.db.conn.execute(
                    "SELECT symbol, side, opened_ts, closed_ts, result, how "
                    "FROM closed_positions WHERE account=? ORDER BY seq DESC LIMIT ?",
                    (account, limit))]

    def copy_outcomes(self, copy_id: int, symbol: str | None = None,
                      newest_first: int | None = None) -> list[CopyOutcome]:
        """The outcomes of one copy (in one symbol), oldest first; or its latest
        ``newest_first`` of them, newest first."""
        sql = ("SELECT o.status, o.reason, g.action, g.price, g.ref_price, g.side "
               "FROM outcomes o JOIN outcome_groups g ON g.id = o.group_id "
               "WHERE o.copy_id=?")
        args: tuple[Any, ...] = (copy_id,)
        if symbol is not None:
            sql += " AND g.symbol=?"
            args += (symbol,)
        if newest_first is not None:
            sql += " ORDER BY o.seq DESC LIMIT ?"
            args += (newest_first,)
        else:
            sql += " ORDER BY o.seq"
        return [CopyOutcome(*row) for row in self.db.conn.execute(sql, args)]

    def activity(self, copier: str, after_seq: int, limit: int) -> list[tuple[Any, ...]]:
        """The copier's outcome rows after ``after_seq``, oldest first: seq, ts, copy id,
        trader, symbol, action, status, reason, qty, price, event id."""
        return self.db.conn.execute(
            "SELECT o.seq, g.ts, o.copy_id, g.trader, g.symbol, g.action, o.status, o.reason, "
            "o.qty, g.price, g.event_id FROM outcomes o "
            "JOIN outcome_groups g ON g.id = o.group_id "
            "JOIN copies c ON c.id = o.copy_id "
            "WHERE o.seq > ? AND c.copier = ? ORDER BY o.seq LIMIT ?",
            (after_seq, copier, limit)).fetchall()


__all__ = ["Store", "StoreError", "DatabaseBusy", "MIGRATIONS", "ZERO"]
