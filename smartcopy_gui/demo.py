"""``smartcopy demo``: the embedded default world, headless, with statistics."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from .domain.events import Event
from .domain.words import OUTCOME_STATUS_WORDS, REASON_WORDS, copy_status_words, mode_words, words
from .engine.engine import Engine
from .engine.report import build_report
from .store import Store
from .store.stats import copy_stats, trader_stats

DEMO_COPIER = "me"


def run_demo(days: int = 90, seed: int = 7,
             copies: list[tuple[str, str, Decimal, Decimal | None]] | None = None,
             db: str | Path | None = None) -> dict[str, Any]:
    """Build ``days`` of the simulated world with ``copies`` running from the start."""
    from .sources.world import World

    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory()
        db = Path(tmp.name) / "demo.db"
    store = Store(db, writer="a demo")
    try:
        engine = Engine(store)
        world = World.open(engine, seed=seed)
        start = world.now_ts()
        events = []
        copies = copies or []
        known = world.trader_ids()
        for trader, _, _, _ in copies:
            if trader not in known:
                raise SystemExit(f"smartcopy demo: no trader {trader!r} in the world; "
                                 f"traders are: {', '.join(sorted(known))}")
        total = sum((c[2] for c in copies), Decimal(0))
        if total:
            events.append(Event(f"demo-deposit-{seed}", start, "deposit",
                                {"account": DEMO_COPIER, "amount": total}))
        for i, (trader, mode, investment, param) in enumerate(copies):
            fields: dict[str, Any] = {"copier": DEMO_COPIER, "trader": trader, "mode": mode,
                                      "investment": investment}
            if mode == "fixed_amount":
                fields["amount"] = param
            elif mode == "fixed_ratio":
                fields["ratio"] = param
            events.append(Event(f"demo-copy-{seed}-{i}", start, "copy", fields))
        results = engine.submit_many(events)
        refused = [r.reason for r in results if r.status == "rejected"]
        world.backfill(days)
        now = engine.state.last_ts or start
        return {
            "seed": seed,
            "days": days,
            "traders": [s.as_json() for s in trader_stats(store, engine.state, now)],
            "copies": [c.as_json() for c in copy_stats(store, engine.state)],
            "refused_copies": refused,
            "report": build_report(engine.state, store.outcomes(), store.rejected(),
                                   store.deposit_accounts()),
        }
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()


def _pct(text: str | None) -> str:
    return "—" if text is None else f"{Decimal(text) * 100:+.1f}%"


def _num(text: str | None, places: int = 2) -> str:
    return "—" if text is None else f"{Decimal(text):,.{places}f}"


def _counts(counts: dict[str, int], table: Mapping[str, str]) -> str:
    return ", ".join(f"{n} × {words(table, what)}" for what, n in counts.items()) or "none yet"


def format_demo(result: dict[str, Any]) -> str:
    """A plain-text summary: one line per trader, then one block per copy."""
    lines = [f"SmartCopy demo world, seed {result['seed']}, {result['days']} days", "",
             f"{'trader':<18}{'ROI 30d':>9}{'ROI 90d':>9}{'PnL 90d':>12}{'win 90d':>9}"
             f"{'max DD':>8}{'Sharpe':>8}{'AUM':>12}{'copiers':>8}{'share':>7}"]
    for t in result["traders"]:
        p30, p90 = t["periods"]["30"], t["periods"]["90"]
        win = "—" if p90["win_rate"] is None else f"{Decimal(p90['win_rate']) * 100:.0f}%"
        lines.append(f"{t['name'][:17]:<18}{_pct(p30['roi']):>9}{_pct(p90['roi']):>9}"
                     f"{_num(p90['pnl']):>12}{win:>9}"
                     f"{Decimal(p90['max_drawdown']) * 100:>7.1f}%{_num(p90['sharpe']):>8}"
                     f"{_num(t['aum'], 0):>12}{t['copiers']:>8}"
                     f"{Decimal(t['profit_share']) * 100:>6.0f}%")
    names = {t["trader"]: t["name"] for t in result["traders"]}
    if result["copies"]:
        lines += ["", f"{'copy':<28}{'status':<11}{'PnL':>11}{'ROI':>9}{'slip bps':>10}"
                      f"{'util C/T':>10}"]
        for c in result["copies"]:
            d = c["divergence"]
            name = names.get(c["trader"], c["trader"])[:17]
            lines.append(f"{name + ' · ' + mode_words(c['mode']):<28}"
                         f"{copy_status_words(c['status']):<11}"
                         f"{_num(c['pnl']):>11}{_pct(c['roi']):>9}"
                         f"{_num(d['mean_entry_slippage_bps']):>10}"
                         f"{_num(d['utilization_ratio']):>10}")
            lines.append(f"{'':<4}outcomes: {_counts(d['by_status'], OUTCOME_STATUS_WORDS)}")
            if d["by_reason"]:
                lines.append(f"{'':<4}skipped because: "
                             f"{_counts(d['by_reason'], REASON_WORDS)}")
    for reason in result.get("refused_copies", []):
        lines.append(f"copy refused: {reason}")
    return "\n".join(lines)
