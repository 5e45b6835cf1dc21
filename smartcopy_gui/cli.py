"""The headless face: ``smartcopy replay``, ``import``, ``report`` and ``demo``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .domain.events import format_ts
from .engine.engine import APPLIED, DUPLICATE, REJECTED, Engine, MalformedInput
from .engine.report import build_report
from .gc_policy import tune_collector
from .logs import FILE_ONLY, configure_logging
from .paths import default_db_path
from .sources.importers import (
    ImportFailed,
    ParsedFile,
    SourceCounts,
    import_events,
    parse_price_csv,
    parse_trades_csv,
    parse_trades_jsonl,
)
from .sources.scenario import Malformed, read_lines
from .store import Store, StoreError
from .whatif import command as whatif_command
from .whatif.history import History

log = logging.getLogger("smartcopy.cli")

# Exit statuses (README, "Exit statuses").
EXIT_OK = 0
EXIT_MALFORMED = 1  # some lines were malformed; the valid ones were applied
EXIT_USAGE = 2  # bad usage, or an input file that cannot be read
EXIT_DATABASE = 3  # the database is busy (another writer) or cannot be used
EXIT_INTERNAL = 4  # a bug: the details are in the log
# The spec's limit on a decimal's exponent (scenario-format.md, "malformed").
MAX_EXPONENT = 30


@dataclass
class ReplaySummary:
    """Counts of what a replay did with each line."""

    applied: int = 0
    rejected: int = 0
    duplicates: int = 0
    malformed: int = 0


def _upgrade_progress(done: int, total: int) -> None:
    """A long database upgrade's progress, on stderr."""
    print(f"upgrading the database: step {done} of {total}", file=sys.stderr, flush=True)


# A replay commits its events in batches (each event's effects whole in one commit):
# every BATCH_EVENTS events, every BATCH_SECONDS, and whenever its input (a pipe) has
# nothing more to read yet, so that a reader of the database sees it progress.
BATCH_EVENTS = 1000
BATCH_SECONDS = 0.2


def replay_lines(engine: Engine, lines: Iterable[str | bytes]) -> ReplaySummary:
    """Apply scenario lines in order, then run every pending copier action."""
    summary = ReplaySummary()
    batch = engine.batch()
    started = time.monotonic()

    def commit() -> None:
        nonlocal started
        batch.commit()
        started = time.monotonic()

    for item in read_lines(_input_lines(lines, commit)):
        if isinstance(item, Malformed):
            batch.malformed(item.line, item.event_id, item.reason)
            summary.malformed += 1
        else:
            try:
                result = batch.apply(item)
            except MalformedInput as exc:
                batch.malformed(item.line, item.id, str(exc))
                summary.malformed += 1
            else:
                if result.status == APPLIED:
                    summary.applied += 1
                elif result.status == REJECTED:
                    summary.rejected += 1
                elif result.status == DUPLICATE:
                    summary.duplicates += 1
        if len(batch) >= BATCH_EVENTS or time.monotonic() - started >= BATCH_SECONDS:
            commit()
    batch.commit()
    engine.flush()
    return summary


def _input_lines(lines: Iterable[str | bytes],
                 on_idle: Callable[[], None]) -> Iterable[str | bytes]:
    """``lines``, or for a pipe or terminal its lines read as they come, calling
    ``on_idle`` each time none is ready (before waiting for more)."""
    try:
        fd = lines.fileno()  # type: ignore[attr-defined]
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except (AttributeError, OSError, ValueError):
        return lines
    if regular or os.name == "nt":  # (select() does not take a pipe on Windows)
        return lines
    return _pipe_lines(fd, on_idle)


def _pipe_lines(fd: int, on_idle: Callable[[], None]) -> Iterator[bytes]:
    rest = b""
    while True:
        if not select.select([fd], [], [], 0)[0]:
            on_idle()
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield line + b"\n"
    if rest:
        yield rest


def report(store: Store, engine: Engine | None = None) -> dict[str, Any]:
    """The JSON report of a database."""
    engine = engine or Engine(store)
    return build_report(engine.state, store.outcomes(), store.rejected(),
                        store.deposit_accounts())


def _print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")


def cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.scenario)
    try:
        handle = path.open("rb")  # decoded line by line: a bad byte spoils one line only
    except OSError as exc:
        print(f"smartcopy: cannot read scenario {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    with handle, Store(args.db or default_db_path(), writer="a replay",
                       progress=_upgrade_progress) as store:
        engine = Engine(store)
        summary = replay_lines(engine, handle)
        if args.json:
            _print_json(report(store, engine))
        else:
            print(f"{path.name}: {summary.applied} applied, {summary.rejected} rejected, "
                  f"{summary.duplicates} already applied, {summary.malformed} malformed")
    for item in store_rejections_hint(summary):
        print(item, file=sys.stderr)
    return EXIT_MALFORMED if summary.malformed else EXIT_OK


def store_rejections_hint(summary: ReplaySummary) -> list[str]:
    if summary.malformed:
        return [f"smartcopy: {summary.malformed} malformed line(s); see \"rejected\" in "
                "`smartcopy report --json`"]
    return []


def cmd_report(args: argparse.Namespace) -> int:
    db = args.db or default_db_path()
    if str(db) != ":memory:" and not Path(db).exists():
        print(f"smartcopy: no database at {db}; run `smartcopy replay` first", file=sys.stderr)
        return EXIT_USAGE
    with Store(db, progress=_upgrade_progress) as store:
        with store.snapshot():  # one consistent state, whatever a writer does meanwhile
            result = report(store)
    _print_json(result)
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


def parse_import_file(spec: ImportSpec) -> ParsedFile:
    """The events of one import file; raises ImportFailed naming the file and line."""
    if spec.kind == "prices":
        return parse_price_csv(spec.path, spec.name)
    if TRADE_SUFFIXES[spec.path.suffix.lower()] == "csv":
        return parse_trades_csv(spec.path, spec.name)
    return parse_trades_jsonl(spec.path, spec.name)


def import_files(store: Store, files: list[tuple[ImportSpec, ParsedFile]]
                 ) -> list[dict[str, Any]]:
    """Apply the parsed files all in one transaction (merged by time), or nothing:
    raises ImportFailed naming the file and line of the first event the store refuses
    (see ``importers.import_events``), before writing anything.

    Returns one summary per file: its events, how many were new (applied) and how many
    the store already held, and the file's time range. Pending copier actions are not
    run: they execute when later events arrive, at their own time."""
    summary = import_events(Engine(store), {str(spec.path): events for spec, events in files})
    rows: list[dict[str, Any]] = []
    for spec, events in files:
        counts = summary.by_source.get(str(spec.path), SourceCounts())
        rows.append({"file": str(spec.path), "kind": spec.kind,
                     "symbol" if spec.kind == "prices" else "trader": spec.name,
                     "events": len(events), "applied": counts.applied,
                     "already_imported": counts.duplicates,
                     "from": format_ts(events.first_ts), "to": format_ts(events.last_ts)})
    return rows


def _forget_new_db(db: Path) -> None:
    """Remove a database file this command created for an import that was refused."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def cmd_import(args: argparse.Namespace) -> int:
    specs: list[ImportSpec] = args.files  # in command-line order
    if not specs:
        print("smartcopy import: nothing to import; give --prices SYMBOL=FILE.csv and/or "
              "--trades TRADER=FILE.csv|FILE.jsonl", file=sys.stderr)
        return EXIT_USAGE
    seen: set[str] = set()
    for spec in specs:
        if str(spec.path) in seen:
            print(f"smartcopy import: {spec.path} is given twice", file=sys.stderr)
            return EXIT_USAGE
        seen.add(str(spec.path))
    db = Path(args.db) if args.db else default_db_path()
    is_new = str(db) != ":memory:" and not db.exists()
    try:
        files = [(spec, parse_import_file(spec)) for spec in specs]  # before the store
        with Store(db, writer="an import", progress=_upgrade_progress) as store:
            rows = import_files(store, files)
    except ImportFailed as exc:
        if is_new:
            _forget_new_db(db)
        message = str(exc)
        if "nothing was imported" not in message:
            message += "; nothing was imported"
        print(f"smartcopy import: {message}", file=sys.stderr)
        return EXIT_USAGE
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
    for value in (investment, param):
        if value is not None and value.is_finite() and value != 0 and (
                abs(value.adjusted()) > MAX_EXPONENT):
            raise argparse.ArgumentTypeError(
                f"{text!r}: {value} is out of range (at most 30 digits either side of "
                "the point)")
    if not investment.is_finite() or investment <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the investment must be positive")
    if mode != "smart" and param is None:
        param = investment / 10 if mode == "fixed_amount" else Decimal("0.1")
    return trader, mode, investment, param


def positive_days(text: str) -> int:
    """A number of days of at least 1."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"{text}: the days must be at least 1")
    return days


def parse_size(text: str) -> tuple[int, int]:
    """WxH → (W, H), e.g. "1366x768"."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and 320 <= int(width) <= 7680
            and 240 <= int(height) <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r}: expected WxH, e.g. 1366x768")
    return int(width), int(height)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartcopy", description="SmartCopy. With no command, starts the desktop app.")
    parser.add_argument("--screenshot", metavar="DIR",
                        help="render each main view with the demo world to PNG in DIR, offscreen")
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), metavar="WxH",
                        help="with --screenshot: the window's size (default 1920x1080)")
    parser.add_argument("--theme", choices=("light", "dark"), default="light",
                        help="with --screenshot: the theme (default light)")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("gui", help="start the desktop app (the default)")
    p.add_argument("--db", help="SQLite database path (default: the user data dir)")
    p.add_argument("--seed", type=int, default=7, help="the simulated world's seed")
    p.set_defaults(func=None)
    p = sub.add_parser("demo", help="build the simulated world headless and print statistics")
    p.add_argument("--days", type=positive_days, default=90,
                   help="days of history to simulate (at least 1)")
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
    p = sub.add_parser("whatif", help="what a copy of a trader would have done over the "
                       "recorded history (reads the database only)")
    whatif_command.add_arguments(p)
    p.set_defaults(func=cmd_whatif)
    return parser


def cmd_whatif(args: argparse.Namespace) -> int:
    db = Path(args.db) if args.db else default_db_path()
    if not db.exists():
        print(f"smartcopy whatif: no database at {db}", file=sys.stderr)
        return EXIT_USAGE
    with Store(db) as store, store.snapshot():  # a reader: no writer lock
        last = store.load_meta("last_ts")
        history = store if isinstance(store, History) else None
        status, text = whatif_command.run_command(args, db, history,
                                                  int(last) if last else None)
    print(text, file=sys.stdout if status == EXIT_OK else sys.stderr)
    return status


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    result = run_demo(days=args.days, seed=args.seed, copies=args.copy, db=args.db)
    if args.json:
        _print_json(result)
    else:
        from .demo import format_demo

        print(format_demo(result))
    return 0


def main(argv: list[str] | None = None,
         gui: Callable[[argparse.Namespace], int] | None = None) -> int:
    """``smartcopy COMMAND``; returns the exit status. The desktop app (no command,
    ``gui`` or ``--screenshot``) runs through ``gui``, given by ``app.main``."""
    log_file = configure_logging()
    tune_collector()
    args = build_parser().parse_args(argv)
    try:
        if args.screenshot or args.command in (None, "gui"):
            if args.screenshot and Path(args.screenshot).exists() and not Path(
                    args.screenshot).is_dir():
                print(f"smartcopy: --screenshot {args.screenshot} is a file, not a "
                      "directory; give a directory (it is created if missing)",
                      file=sys.stderr)
                return EXIT_USAGE
            if gui is None:
                print("smartcopy: the desktop app starts from `smartcopy` "
                      "(smartcopy_gui.app), not from smartcopy_gui.cli", file=sys.stderr)
                return EXIT_USAGE
            return gui(args)
        return int(args.func(args))
    except StoreError as exc:
        print(f"smartcopy: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except sqlite3.Error as exc:
        print(f"smartcopy: the database cannot be used: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except BrokenPipeError:
        # The reader went away (``smartcopy report … | head``): not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        print(f"smartcopy: {exc.filename or 'a file'}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        log.critical("internal error: %s", exc, exc_info=exc, extra={FILE_ONLY: True})
        print(f"smartcopy: internal error ({type(exc).__name__}: {exc}); this is a bug, "
              f"the details are in {log_file or 'no log (it could not be opened)'}",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
