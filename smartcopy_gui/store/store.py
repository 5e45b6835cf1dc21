"""The SQLite store: schema migrations, atomic change sets, and state loading.

Every wallet is the sum of its ledger (amounts kept as integer counts of 1e-8 USDT,
so SQLite sums them exactly). Hot writes go through the raw connection's
``executemany`` inside one transaction per event.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from ..domain.instruments import Instrument, Tier
from ..domain.numbers import ZERO, from_units
from ..domain.positions import Account, Position
from ..engine.state import ACTIVE, Changes, Config, CopyRelation, PendingBatch, State, Trader
from ..engine.state import order_from_json as _payload_from_json
from ..engine.state import order_to_json as _payload_to_json

log = logging.getLogger("smartcopy.store")


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["config"].create({"key": str, "value": str}, pk="key")
    db["instruments"].create({"symbol": str, "qty_step": str, "min_qty": str, "tick": str,
                              "max_leverage": str, "tiers": str}, pk="symbol")
    db["prices"].create({"symbol": str, "price": str}, pk="symbol")
    db["events"].create({"id": str, "digest": str, "ts": int, "type": str, "status": str,
                         "reason": str}, pk="id")
    db["rejected"].create({"seq": int, "event_id": str, "line": int, "reason": str}, pk="seq")
    db.execute("CREATE UNIQUE INDEX rejected_once ON rejected "
               "(coalesce(event_id, ''), coalesce(line, -1), reason)")
    db["traders"].create({"id": str, "name": str, "profit_share": str, "ord": int}, pk="id")
    db["ledger"].create({"seq": int, "account": str, "kind": str, "amount": int,
                         "event_id": str, "ts": int}, pk="seq")
    # No index on account: wallets are summed by a full scan on load, and an index
    # would cost every one of the hottest inserts.
    db.execute("CREATE TABLE positions (account TEXT, symbol TEXT, side TEXT, qty TEXT, "
               "entry TEXT, leverage TEXT, margin_mode TEXT, cycle TEXT, "
               "PRIMARY KEY (account, symbol)) WITHOUT ROWID")
    db["copies"].create({"id": int, "copier": str, "trader": str, "mode": str,
                         "investment": str, "amount": str, "ratio": str, "max_slippage": str,
                         "max_margin_per_order": str, "stop_loss": str, "status": str,
                         "hwm": str, "released": str, "created_ts": int, "ended_ts": int},
                        pk="id")
    db["pending"].create({"seq": int, "exec_ts": int, "kind": str, "event_id": str,
                          "payload": str, "copy_ids": str}, pk="seq")
    # An outcome group holds what the outcomes of one copier action batch share, so a
    # fan-out to thousands of copiers writes narrow rows.
    db["outcome_groups"].create({"id": int, "event_id": str, "trader": str, "symbol": str,
                                 "action": str, "price": str, "ts": int}, pk="id")
    db["outcomes"].create({"seq": int, "group_id": int, "copy_id": int, "status": str,
                           "reason": str, "qty": str}, pk="seq")


def _m002_daily_equity(db: sqlite_utils.Database) -> None:
    # Each account's equity (1e-8 units) at the close of each UTC day: the base of
    # ROI, drawdown and Sharpe figures.
    db.execute("CREATE TABLE equity_daily (day INTEGER, account TEXT, equity INTEGER, "
               "PRIMARY KEY (day, account)) WITHOUT ROWID")


def _m003_position_cycles(db: sqlite_utils.Database) -> None:
    # When each position cycle opened and what it has made so far; and every cycle
    # that ended, with its result (win rates, copier divergence).
    db.execute("ALTER TABLE positions ADD COLUMN opened_ts INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE positions ADD COLUMN realized TEXT NOT NULL DEFAULT '0'")
    db["closed_positions"].create({"seq": int, "account": str, "symbol": str, "side": str,
                                   "cycle": str, "opened_ts": int, "closed_ts": int,
                                   "result": int, "how": str}, pk="seq")
    db["closed_positions"].create_index(["account"])
    db.execute("ALTER TABLE outcome_groups ADD COLUMN ref_price TEXT")
    db.execute("ALTER TABLE outcome_groups ADD COLUMN side TEXT")


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _m001_initial),
    ("002_daily_equity", _m002_daily_equity),
    ("003_position_cycles", _m003_position_cycles),
]


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _s(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


class Store:
    """A SmartCopy database file (or ``:memory:``)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            if self.path != ":memory:":
                self.db.enable_wal()
            conn.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint the WAL in larger, rarer steps (and explicitly when idle, see
            # checkpoint()) rather than inside a big fan-out transaction.
            conn.execute("PRAGMA wal_autocheckpoint=8192")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}. If the file is "
                             "not a SmartCopy database, pass another --db path.") from exc
        self.conn: sqlite3.Connection = conn

    def close(self) -> None:
        """Checkpoint the WAL and close the connection."""
        try:
            self.checkpoint()
        finally:
            self.db.conn.close()

    def checkpoint(self) -> None:
        """Move the WAL into the database file (cheap when there is little to move)."""
        if self.path != ":memory:":
            self.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ migrations
    def _migrate(self) -> None:
        db = self.db
        if "_migrations" not in db.table_names():
            db["_migrations"].create({"name": str, "applied_ts": str}, pk="name")
        done = {row["name"] for row in db["_migrations"].rows}
        for name, migration in MIGRATIONS:
            if name in done:
                continue
            with self._transaction():
                migration(db)
                db.execute("INSERT INTO _migrations(name, applied_ts) VALUES (?, "
                           "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", [name])
            log.info("applied migration %s", name)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

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
                conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)", ch.events)
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
        for account_id, total in conn.execute(
                "SELECT account, SUM(amount) FROM ledger GROUP BY account"):
            accounts[account_id].wallet = from_units(total)
        for account_id, kind, total in conn.execute(
                "SELECT account, kind, SUM(amount) FROM ledger WHERE account LIKE 'copy:%' "
                "GROUP BY account, kind"):
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
        return {a: from_units(t) for a, t in self.db.conn.execute(
            "SELECT account, SUM(amount) FROM ledger GROUP BY account")}


__all__ = ["Store", "StoreError", "MIGRATIONS", "ZERO"]
