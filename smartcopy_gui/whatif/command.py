"""``smartcopy whatif``: a what-if (or a sweep) of one trader over the user's recorded
history, as a readable summary or JSON. It only reads the database."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..domain.events import format_ts, parse_ts
from ..domain.formats import DASH, fmt_money, fmt_pct, fmt_usdt
from ..domain.numbers import fmt, money
from ..domain.words import (
    copy_status_words,
    in_sentence,
    mode_words,
    outcome_status_words,
    reason_words,
)
from .history import History, WindowHistory
from .report import figures
from .runner import MODES, CopyPlan, WhatIfError, checkpoint, run_whatif
from .sweep import (
    clean_by_investment,
    run_sweep,
    search_plans,
    smallest_clean_investment,
    sweep_plans,
)

DAY_MS = 86_400_000
PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
DEFAULT_INVESTMENT = Decimal(1000)
MAX_EXPONENT = 30


def _number(what: str, low: Decimal | None = None, high: Decimal | None = None,
            low_allowed: bool = False) -> Callable[[str], Decimal]:
    """An argparse type: a decimal, finite, within (low, high) when given (``low``
    itself allowed with ``low_allowed``)."""
    def parse(text: str) -> Decimal:
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value.is_finite() or (value and abs(value.adjusted()) > MAX_EXPONENT):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range for {what}")
        if low is not None and (value < low if low_allowed else value <= low):
            raise argparse.ArgumentTypeError(
                f"{what} must be {'at least' if low_allowed else 'above'} {low}, not {text}")
        if high is not None and value >= high:
            raise argparse.ArgumentTypeError(f"{what} must be below {high}, not {text}")
        return value
    return parse


def _since(text: str) -> int:
    try:
        return parse_ts(text if "T" in text else f"{text}T00:00:00Z")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``smartcopy whatif``."""
    p.add_argument("trader", help="the trader's id")
    p.add_argument("--mode", choices=MODES, default="smart", help="copy mode (smart)")
    p.add_argument("--investment", type=_number("the investment", Decimal(0)),
                   default=DEFAULT_INVESTMENT, help="USDT (1000)")
    p.add_argument("--amount", type=_number("the amount", Decimal(0)),
                   help="fixed_amount: margin per copied open (a tenth of the investment)")
    p.add_argument("--ratio", type=_number("the ratio", Decimal(0)),
                   help="fixed_ratio: copier qty / trader qty (investment / trader equity)")
    p.add_argument("--max-slippage", type=_number("max slippage", Decimal(0), Decimal(1), True),
                   help="fraction, e.g. 0.005")
    p.add_argument("--stop-loss", type=_number("the stop loss", Decimal(0), Decimal(1)),
                   help="fraction of the investment, e.g. 0.3")
    window = p.add_mutually_exclusive_group()
    window.add_argument("--days", type=int, choices=PERIODS,
                        help=f"the last N days of the history ({DEFAULT_DAYS})")
    window.add_argument("--since", type=_since, help="start time, ISO-8601 UTC")
    p.add_argument("--sweep", action="store_true",
                   help="12 investments from 10 to 100,000 USDT × the three modes, one replay")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--db", help="SQLite database path (default: the user data dir)")


def plan_of(args: argparse.Namespace) -> CopyPlan:
    """The hypothetical copy the options describe. Raises WhatIfError for an option
    the mode does not take."""
    if args.amount is not None and args.mode != "fixed_amount" and not args.sweep:
        raise WhatIfError(f"--amount is for --mode fixed_amount; a {args.mode} copy takes "
                          "no amount")
    if args.ratio is not None and args.mode != "fixed_ratio" and not args.sweep:
        raise WhatIfError(f"--ratio is for --mode fixed_ratio; a {args.mode} copy takes "
                          "no ratio")
    return CopyPlan(args.mode, args.investment, amount=args.amount, ratio=args.ratio,
                    max_slippage=args.max_slippage, stop_loss=args.stop_loss)


def window_of(args: argparse.Namespace, last_ts: int) -> int:
    """The what-if's start time."""
    if args.since is not None:
        return int(args.since)
    return last_ts - (args.days or DEFAULT_DAYS) * DAY_MS


def execute(history: History, last_ts: int, args: argparse.Namespace) -> dict[str, Any]:
    """The what-if (or sweep) the options ask for, as JSON-ready values. Raises
    WhatIfError naming what was wrong."""
    plan = plan_of(args)
    start = window_of(args, last_ts)
    if start >= last_ts:
        raise WhatIfError(f"no recorded history after {format_ts(start)}: the history ends "
                          f"at {format_ts(last_ts)}")
    head: dict[str, Any] = {"trader": args.trader, "from": format_ts(start),
                            "to": format_ts(last_ts)}
    at = checkpoint(history, args.trader, start)  # the replay up to T, once
    # The window after T, read once for every replay below (the search runs several).
    history = WindowHistory(history, start + 1, last_ts)
    # The smallest-clean search's plan: a smart copy with these settings. Its first
    # round (search_plans) rides along the replay below, so it is not run on its own.
    smart = CopyPlan("smart", Decimal(0), max_slippage=plan.max_slippage,
                     max_margin_per_order=plan.max_margin_per_order, stop_loss=plan.stop_loss)
    if args.sweep:
        swept = run_sweep(history, args.trader, start, sweep_plans(base=plan), last_ts, at)
        tried = {f.investment: f.money_limited == 0 for f in swept if f.mode == "smart"}
        smallest = smallest_clean_investment(history, args.trader, start, smart, last_ts,
                                             at=at, tried=tried)
        for f in swept:
            f.smallest_clean_investment = smallest
        return {**head, "copies": [f.as_json(with_fills=False) for f in swept]}
    first_round = search_plans(plan) if plan.mode == "smart" else []
    run = run_whatif(history, args.trader, start, [plan, *first_round], last_ts, at)
    mine = run.copies[0].copy_id
    head["trader_equity_at_start"] = fmt(money(run.trader_start_equity))
    head["pending_at_end"] = sum(  # this copy's actions not yet due
        1 for *_, batch in run.engine.heap if mine in batch.copy_ids)
    result = figures(run)[0]
    if plan.mode == "smart":
        result.smallest_clean_investment = smallest_clean_investment(
            history, args.trader, start, plan, last_ts, at=at,
            tried=clean_by_investment(run.copies[1:]))
    return {**head, **result.as_json()}


def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def _outcome_words(o: dict[str, Any]) -> str:
    what = outcome_status_words(o["status"])
    why = reason_words(o["reason"]) if o["reason"] else ""
    return f"{o['count']} × {what}{' (' + in_sentence(why) + ')' if why else ''}"


def format_summary(result: dict[str, Any]) -> str:
    """A readable summary of :func:`execute`'s result, in the app's words."""
    window = f"{result['from'][:16].replace('T', ' ')} → {result['to'][:16].replace('T', ' ')}"
    if "copies" in result:
        lines = [f"What if you had copied {result['trader']}, {window} UTC:",
                 f"{'mode':<14}{'investment':>12}{'final':>13}{'ROI':>10}{'tracking':>10}"
                 f"{'limited':>9}"]
        for c in result["copies"]:
            lines.append(
                f"{mode_words(c['mode']):<14}{fmt_money(_dec(c['investment']), 0):>12}"
                f"{fmt_money(_dec(c['final_equity'])):>13}{fmt_pct(_dec(c['roi'])):>10}"
                f"{fmt_pct(_dec(c['tracking_error'])):>10}{c['money_limited_outcomes']:>9}")
        lines.append(_smallest_line(result["copies"][0].get("smallest_clean_investment")))
        return "\n".join(lines)
    c = result
    settings = ", ".join(f"{k.replace('_', ' ')} {c[k]}"
                         for k in ("amount", "ratio", "max_slippage", "max_margin_per_order",
                                   "stop_loss") if c.get(k) is not None)
    outcomes = ", ".join(_outcome_words(o) for o in c["outcomes"]) or "none"
    util = c["utilization_ratio"]
    slippage = c["mean_entry_slippage_bps"]
    lines = [
        f"What if you had copied {c['trader']} ({mode_words(c['mode'])}, "
        f"{fmt_usdt(Decimal(c['investment']))} USDT, {settings}), {window} UTC:",
        f"  final equity {fmt_money(_dec(c['final_equity']))} USDT, PnL "
        f"{fmt_money(_dec(c['pnl']))} ({fmt_pct(_dec(c['roi']))}); the trader "
        f"{fmt_pct(_dec(c['trader_roi']))}; tracking error "
        f"{fmt_pct(_dec(c['tracking_error']))}; status at the end: "
        f"{copy_status_words(c['status']).lower()}",
        f"  max drawdown {fmt_pct(_dec(c['max_drawdown']), signed=False)}, fees "
        f"{fmt_money(_dec(c['fees']))}, funding {fmt_money(_dec(c['funding']))}, profit share "
        f"{fmt_money(_dec(c['profit_share']))}, liquidations {c['liquidations']}",
        f"  mean entry slippage {slippage + ' bps' if slippage else DASH}; utilization "
        f"copy/trader mean {util['mean'] or DASH}, max {util['max'] or DASH}",
        f"  outcomes: {outcomes}",
        _curve_line(c["equity_curve"]),
    ]
    if c["mode"] == "smart":
        lines.append("  " + _smallest_line(c.get("smallest_clean_investment")))
    return "\n".join(lines)


def _curve_line(curve: list[dict[str, Any]]) -> str:
    equities = [Decimal(p["equity"]) for p in curve]
    return (f"  equity: {fmt_money(equities[0])} at the start, low {fmt_money(min(equities))}, "
            f"high {fmt_money(max(equities))}, {fmt_money(equities[-1])} at the end "
            f"({len(curve) - 2} daily closes in --json)")


def _smallest_line(smallest: str | None) -> str:
    if smallest is None:
        return "smallest clean smart investment: none up to 100,000 USDT"
    return (f"smallest clean smart investment: {fmt_usdt(Decimal(smallest))} USDT (nothing "
            "bumped, reduced or skipped for want of money)")


def run_command(args: argparse.Namespace, db: Path, history: History | None,
                last_ts: int | None) -> tuple[int, str]:
    """(exit status, text to print): the result on stdout (0), or a one-line error (2)."""
    if history is None:
        return 2, (f"smartcopy whatif: the database {db} keeps no recorded history of "
                   "prices and trades to replay")
    if last_ts is None:
        return 2, f"smartcopy whatif: the database {db} holds no history yet"
    try:
        result = execute(history, last_ts, args)
    except WhatIfError as exc:
        return 2, f"smartcopy whatif: {exc}"
    if args.json:
        return 0, json.dumps(result, indent=2)
    return 0, format_summary(result)

