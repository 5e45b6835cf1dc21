"""The headless face: ``smartcopy replay`` and ``smartcopy report``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .engine.engine import APPLIED, DUPLICATE, REJECTED, Engine, MalformedInput
from .engine.report import build_report
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


def replay_lines(engine: Engine, lines: Iterable[str]) -> ReplaySummary:
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
        handle = path.open(encoding="utf-8")
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


if __name__ == "__main__":
    sys.exit(main())
