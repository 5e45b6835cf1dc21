"""Sweeps: many hypothetical copies in ONE replay (the engine fans a trader's action
out to all of them), and the search for the smallest clean smart investment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal

from .history import History
from .report import CopyFigures, figures, money_limited
from .runner import Checkpoint, CopyPlan, CopyRecord, checkpoint, run_whatif

SWEEP_MODES = ("smart", "fixed_amount", "fixed_ratio")
SWEEP_POINTS = 12
SWEEP_LOW = Decimal(10)
SWEEP_HIGH = Decimal(100_000)
SEARCH_WIDTH = 8  # candidates per replay while narrowing down
SEARCH_PRECISION = Decimal("0.01")  # stop when the bracket is within 1% (and 1 USDT)


def sweep_amounts(low: Decimal = SWEEP_LOW, high: Decimal = SWEEP_HIGH,
                  points: int = SWEEP_POINTS) -> list[Decimal]:
    """``points`` investments log-spaced from ``low`` to ``high``, to two significant
    digits (10, 23, 53, 120, … 100000 by default)."""
    step = (high / low) ** (Decimal(1) / (points - 1))
    out = []
    for i in range(points):
        x = low * step ** i if 0 < i < points - 1 else (low if i == 0 else high)
        unit = Decimal(1).scaleb(x.adjusted() - 1)
        out.append(x.quantize(unit).normalize() + 0)
    return out


def sweep_plans(amounts: Sequence[Decimal] | None = None,
                modes: Sequence[str] = SWEEP_MODES, base: CopyPlan | None = None
                ) -> list[CopyPlan]:
    """One plan per mode and amount (modes outermost), with ``base``'s settings and the
    runner's defaults for fixed amount and ratio (which scale with the investment)."""
    template = base or CopyPlan("smart", Decimal(0))
    return [CopyPlan(mode, amount, max_slippage=template.max_slippage,
                     max_margin_per_order=template.max_margin_per_order,
                     stop_loss=template.stop_loss)
            for mode in modes for amount in (amounts or sweep_amounts())]


def run_sweep(history: History, trader: str, start_ts: int, plans: Sequence[CopyPlan],
              until_ts: int | None = None, at: Checkpoint | None = None
              ) -> list[CopyFigures]:
    """The figures of every plan, all from one replay."""
    return figures(run_whatif(history, trader, start_ts, plans, until_ts, at))


def _clean_flags(history: History, at: Checkpoint, until_ts: int | None,
                 plan: CopyPlan, amounts: Sequence[Decimal]) -> list[bool]:
    run = run_whatif(history, at.trader, at.start_ts,
                     [_with_investment(plan, a) for a in amounts], until_ts, at)
    return [money_limited(record) == 0 for record in run.copies]


def search_plans(plan: CopyPlan, minimum: Decimal = SWEEP_LOW,
                 high: Decimal = SWEEP_HIGH) -> list[CopyPlan]:
    """The first round of :func:`smallest_clean_investment`: ``plan`` at each sweep
    amount. Run along with another replay, their results are its ``tried``."""
    return [_with_investment(plan, a) for a in sweep_amounts(minimum, high)]


def clean_by_investment(records: Sequence[CopyRecord]) -> dict[Decimal, bool]:
    """Whether each copy (by its investment) was clean: nothing money-limited."""
    return {r.plan.investment: money_limited(r) == 0 for r in records}


def _with_investment(plan: CopyPlan, investment: Decimal) -> CopyPlan:
    return CopyPlan(plan.mode, investment, plan.amount, plan.ratio, plan.max_slippage,
                    plan.max_margin_per_order, plan.stop_loss)


def smallest_clean_investment(history: History, trader: str, start_ts: int,
                              plan: CopyPlan, until_ts: int | None = None,
                              minimum: Decimal = SWEEP_LOW,
                              high: Decimal = SWEEP_HIGH, at: Checkpoint | None = None,
                              tried: Mapping[Decimal, bool] | None = None) -> Decimal | None:
    """The smallest investment (a whole USDT, to within 1%) at which ``plan`` would
    have had nothing bumped, reduced or skipped for want of money over the window
    (see report.money_limited), found with the engine: a sweep from ``minimum`` to
    ``high`` in one replay, then replays of SEARCH_WIDTH candidates each between the
    largest money-limited amount and the next clean one. None when even ``high`` is not
    clean. Amounts above the one returned were clean wherever they were tried. ``at``:
    see run_whatif (the replay up to T is done once for all of these runs). ``tried``:
    whether ``plan`` at each of the first round's amounts (:func:`search_plans`) was
    clean, from a replay already run (that round is not replayed again)."""
    at = at or checkpoint(history, trader, start_ts)
    amounts = sweep_amounts(minimum, high)
    if tried is not None and all(a in tried for a in amounts):
        flags = [tried[a] for a in amounts]
    else:
        flags = _clean_flags(history, at, until_ts, plan, amounts)
    if not flags[-1]:
        return None
    first = len(flags) - 1
    while first > 0 and flags[first - 1]:
        first -= 1
    if first == 0:
        return amounts[0]
    lo, hi = amounts[first - 1], amounts[first]
    while hi - lo > max(Decimal(1), hi * SEARCH_PRECISION):
        step = (hi - lo) / (SEARCH_WIDTH + 1)
        candidates = sorted({(lo + step * i).to_integral_value(ROUND_CEILING)
                             for i in range(1, SEARCH_WIDTH + 1)} - {lo, hi})
        if not candidates:
            break
        flags = _clean_flags(history, at, until_ts, plan, candidates)
        # The smallest candidate from which every larger one was clean.
        first = len(candidates)
        while first > 0 and flags[first - 1]:
            first -= 1
        if first < len(candidates):
            hi = candidates[first]
        if first > 0:
            lo = candidates[first - 1]
    return hi
