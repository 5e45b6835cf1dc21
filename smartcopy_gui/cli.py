"""The headless face: ``smartcopy replay``, ``import``, ``report`` and ``demo``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .domain.events import Event, format_ts
from .engine.engine import APPLIED, DUPLICATE, REJECTED, Engine, MalformedInput
from .engine.report import build_report
from .gc_policy import tune_collector
from .sources.importers import (
    ImportFailed,
    import_events,
    parse_price_csv,
    parse_trades_csv,
    parse_trades_jsonl,
)
from .sources.scenario import Malformed, read_lines
from .store import Store, StoreError

log = logging.getLogger("smartcopy.cli")


@dataclass
class ReplaySummary:
    """Counts of what a replay did with each line."""

    applied: int = 0
    rejected: int = 0
    duplicates: int = 0
    malformed: int = 0


def replay_lines(engine: Engine, lines: Iterable[str | bytes]) -> ReplaySummary:
    """Apply scenario lines in order, then run every pending copier action."""
    summary = ReplaySummary()
    for item in read_lines(lines):
        if isinstance(item, Malformed):
            engine.record_malformed(item.line, item.event_id, item.reason)
            summary.malformed += 1
            continue
        try:
            result = engine.submit(item)
        except MalformedInput as exc:
            engine.record_malformed(item.line, item.id, str(exc))
            summary.malformed += 1
            continue
        if result.status == APPLIED:
            summary.applied += 1
        elif result.status == REJECTED:
            summary.rejected += 1
        elif result.status == DUPLICATE:
            summary.duplicates += 1
    engine.flush()
    return summary


def report(store: Store, engine: Engine | None = None) -> dict[str, Any]:
    """The JSON report of a database."""
    engine = engine or Engine(store)
    return build_report(engine.state, store.outcomes(), store.rejected(),
                        store.deposit_accounts())


def default_db_path() -> Path:
    """The database in the user's data directory (never beside the program)."""
    import platformdirs

    path = Path(platformdirs.user_data_dir("SmartCopy", appauthor=False)) / "smartcopy.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")


def cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.scenario)
    try:
        handle = path.open("rb")  # decoded line by line: a bad byte spoils one line only
    except OSError as exc:
        print(f"smartcopy: cannot read scenario {path}: {exc.strerror}", file=sys.stderr)
        return 2
    with handle, Store(args.db or default_db_path()) as store:
        engine = Engine(store)
        summary = replay_lines(engine, handle)
        if args.json:
            _print_json(report(store, engine))
        else:
            print(f"{path.name}: {summary.applied} applied, {summary.rejected} rejected, "
                  f"{summary.duplicates} already applied, {summary.malformed} malformed")
    for item in store_rejections_hint(summary):
        print(item, file=sys.stderr)
    return 1 if summary.malformed else 0


def store_rejections_hint(summary: ReplaySummary) -> list[str]:
    if summary.malformed:
        return [f"smartcopy: {summary.malformed} malformed line(s); see \"rejected\" in "
                "`smartcopy report --json`"]
    return []


def cmd_report(args: argparse.Namespace) -> int:
    db = args.db or default_db_path()
    if str(db) != ":memory:" and not Path(db).exists():
        print(f"smartcopy: no database at {db}; run `smartcopy replay` first", file=sys.stderr)
        return 2
    with Store(db) as store:
        _print_json(report(store))
    return 0


@dataclass(frozen=True)
class ImportSpec:
    """One file of ``smartcopy import``: a price history of ``name`` (a symbol) or the
    trade history of ``name`` (a trader)."""

    kind: str  # "prices" or "trades"
    name: str
    path: Path


TRADE_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


def _import_spec(kind: str, text: str) -> ImportSpec:
    what = "SYMBOL" if kind == "prices" else "TRADER"
    name, sep, file = text.partition("=")
    name, file = name.strip(), file.strip()
    if not sep or not name or not file:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected {what}=FILE, e.g. "
            + ("BTCUSDT=btc-1m.csv" if kind == "prices" else "alice=alice-trades.csv"))
    if kind == "prices":
        return ImportSpec(kind, name.upper(), Path(file))
    if Path(file).suffix.lower() not in TRADE_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a trade history is a .csv or a .jsonl file")
    return ImportSpec(kind, name, Path(file))


def parse_prices_spec(text: str) -> ImportSpec:
    """SYMBOL=FILE.csv → a price history to import."""
    return _import_spec("prices", text)


def parse_trades_spec(text: str) -> ImportSpec:
    """TRADER=FILE.csv|FILE.jsonl → a trade history to import."""
    return _import_spec("trades", text)


def parse_import_file(spec: ImportSpec) -> list[Event]:
    """The events of one import file; raises ImportFailed naming the file and line."""
    if spec.kind == "prices":
        return parse_price_csv(spec.path, spec.name)
    if TRADE_SUFFIXES[spec.path.suffix.lower()] == "csv":
        return parse_trades_csv(spec.path, spec.name)
    return parse_trades_jsonl(spec.path, spec.name)


def import_files(store: Store, files: list[tuple[ImportSpec, list[Event]]]
                 ) -> list[dict[str, Any]]:
    """Apply the parsed files all in one transaction (merged by time), or nothing:
    raises ImportFailed naming the file and line of the first event the store refuses
    (see ``importers.import_events``), before writing anything.

    Returns one summary per file: its events, how many were new (applied) and how many
    the store already held, and the file's time range. Pending copier actions are not
    run: they execute when later events arrive, at their own time."""
    engine = Engine(store)
    claimed: set[str] = set()
    rows: list[dict[str, Any]] = []
    for spec, events in files:
        ids = {ev.id for ev in events}
        new = {i for i in ids - claimed if store.event_digest(i) is None}
        claimed |= ids
        rows.append({"file": str(spec.path), "kind": spec.kind,
                     "symbol" if spec.kind == "prices" else "trader": spec.name,
                     "events": len(events), "applied": len(new),
                     "already_imported": len(ids) - len(new),
                     "from": format_ts(events[0].ts), "to": format_ts(events[-1].ts)})
    import_events(engine, {str(spec.path): events for spec, events in files})
    return rows


def _forget_new_db(db: Path) -> None:
    """Remove a database file this command created for an import that was refused."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def cmd_import(args: argparse.Namespace) -> int:
    specs: list[ImportSpec] = args.files  # in command-line order
    if not specs:
        print("smartcopy import: nothing to import; give --prices SYMBOL=FILE.csv and/or "
              "--trades TRADER=FILE.csv|FILE.jsonl", file=sys.stderr)
        return 2
    seen: set[str] = set()
    for spec in specs:
        if str(spec.path) in seen:
            print(f"smartcopy import: {spec.path} is given twice", file=sys.stderr)
            return 2
        seen.add(str(spec.path))
    db = Path(args.db) if args.db else default_db_path()
    is_new = str(db) != ":memory:" and not db.exists()
    try:
        files = [(spec, parse_import_file(spec)) for spec in specs]  # before the store
        with Store(db) as store:
            rows = import_files(store, files)
    except ImportFailed as exc:
        if is_new:
            _forget_new_db(db)
        message = str(exc)
        if "nothing was imported" not in message:
            message += "; nothing was imported"
        print(f"smartcopy import: {message}", file=sys.stderr)
        return 2
    if args.json:
        _print_json({"db": str(db), "applied": sum(r["applied"] for r in rows),
                     "already_imported": sum(r["already_imported"] for r in rows),
                     "files": rows})
    else:
        for r in rows:
            what = (f"{r['symbol']} prices" if r["kind"] == "prices"
                    else f"trades of {r['trader']}")
            print(f"{Path(r['file']).name} ({what}): {r['applied']} applied, "
                  f"{r['already_imported']} already imported, {r['from']} .. {r['to']}")
    return 0


def parse_copy_spec(text: str) -> tuple[str, str, Decimal, Decimal | None]:
    """TRADER:MODE:AMOUNT[:PARAM] → (trader, mode, investment, amount or ratio)."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected TRADER:MODE:AMOUNT, e.g. trend:smart:1000 "
            "(fixed_amount and fixed_ratio take a 4th part: the amount or ratio)")
    trader, mode, amount = parts[:3]
    if mode not in ("smart", "fixed_amount", "fixed_ratio"):
        raise argparse.ArgumentTypeError(
            f"{text!r}: mode must be smart, fixed_amount or fixed_ratio, not {mode!r}")
    try:
        investment = Decimal(amount)
        param = Decimal(parts[3]) if len(parts) == 4 else None
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r}: amounts must be numbers") from None
    if not investment.is_finite() or investment <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the investment must be positive")
    if mode != "smart" and param is None:
        param = investment / 10 if mode == "fixed_amount" else Decimal("0.1")
    return trader, mode, investment, param


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartcopy", description="SmartCopy. With no command, starts the desktop app.")
    parser.add_argument("--screenshot", metavar="DIR",
                        help="render each main view with the demo world to PNG in DIR, offscreen")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("gui", help="start the desktop app (the default)")
    p.add_argument("--db", help="SQLite database path (default: the user data dir)")
    p.add_argument("--seed", type=int, default=7, help="the simulated world's seed")
    p.set_defaults(func=cmd_gui)
    p = sub.add_parser("demo", help="build the simulated world headless and print statistics")
    p.add_argument("--days", type=int, default=90, help="days of history to simulate")
    p.add_argument("--seed", type=int, default=7, help="the world's seed (same seed, same world)")
    p.add_argument("--copy", action="append", default=[], type=parse_copy_spec,
                   metavar="TRADER:MODE:AMOUNT", help="a copy to run from the start")
    p.add_argument("--db", help="SQLite database path (default: a temporary file)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("replay", help="apply a scenario file to the store")
    p.add_argument("scenario", help="a scenario .jsonl file")
    p.add_argument("--db", help="SQLite database path (default: the user data dir)")
    p.add_argument("--json", action="store_true", help="print the JSON report")
    p.set_defaults(func=cmd_replay)
    p = sub.add_parser(
        "import", help="import price and trade histories into the store, all or nothing",
        description="Import price histories (CSV: timestamp,open,high,low,close) and "
                    "traders' trade histories (CSV or scenario JSON Lines) into the "
                    "store, in one transaction: a bad line in any file imports nothing. "
                    "Re-importing a file changes nothing.")
    p.add_argument("--db", help="SQLite database path (default: the user data dir)")
    p.add_argument("--prices", action="append", dest="files", default=[],
                   type=parse_prices_spec,
                   metavar="SYMBOL=FILE.csv", help="a price history of SYMBOL (repeatable)")
    p.add_argument("--trades", action="append", dest="files", default=[],
                   type=parse_trades_spec,
                   metavar="TRADER=FILE", help="a trade history of TRADER, .csv or .jsonl "
                   "(repeatable); TRADER must be known to the store or registered by a "
                   "'trader' line of the .jsonl")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("report", help="print the report of a store")
    p.add_argument("--db", help="SQLite database path (default: the user data dir)")
    p.add_argument("--json", action="store_true", required=True, help="print JSON (required)")
    p.set_defaults(func=cmd_report)
    return parser


def cmd_gui(args: argparse.Namespace) -> int:
    from .app import run_gui

    return run_gui(args.db, seed=args.seed)


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    result = run_demo(days=args.days, seed=args.seed, copies=args.copy, db=args.db)
    if args.json:
        _print_json(result)
    else:
        from .demo import format_demo

        print(format_demo(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    tune_collector()
    args = build_parser().parse_args(argv)
    try:
        if args.screenshot:
            from .screenshots import render_all

            render_all(Path(args.screenshot))
            return 0
        if args.command is None:
            from .app import run_gui

            return run_gui()
        return int(args.func(args))
    except StoreError as exc:
        print(f"smartcopy: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``smartcopy report … | head``): not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
