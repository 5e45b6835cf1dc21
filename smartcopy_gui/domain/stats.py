"""Track-record statistics as pure functions of equity series and closed results.

Definitions (also in docs/stats.md):
- PnL over a window: equity now − equity at the window's start (the close of the day
  before it, or the starting balance for a younger account).
- ROI over a window: that PnL / equity at the window's start.
- Win rate: closed position cycles with a positive result / closed cycles. A cycle's
  result is its realized PnL minus its fees plus its funding (a liquidation counts
  its lost margin).
- Maximum drawdown: the largest fall from a running peak of daily closing equity
  (now included), as a fraction of that peak.
- Sharpe ratio: mean / standard deviation of daily returns (close to close, risk-free
  0), annualised by √365 (crypto trades every day). None with fewer than 2 returns
  or no variation.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .numbers import ZERO, exact

DAYS_PER_YEAR = Decimal(365)


def pnl(start_equity: Decimal, end_equity: Decimal) -> Decimal:
    """Profit over a window."""
    return end_equity - start_equity


@exact
def roi(start_equity: Decimal, end_equity: Decimal) -> Decimal | None:
    """Return on the window's starting equity; None when that was not positive."""
    if start_equity <= 0:
        return None
    return (end_equity - start_equity) / start_equity


@exact
def win_rate(results: Sequence[Decimal]) -> Decimal | None:
    """Share of closed cycles with a positive result; None with no closed cycle."""
    if not results:
        return None
    return Decimal(sum(1 for r in results if r > 0)) / Decimal(len(results))


@exact
def max_drawdown(equities: Sequence[Decimal]) -> Decimal:
    """Largest peak-to-trough fall as a fraction of the peak (0 when never below a peak)."""
    peak: Decimal | None = None
    worst = ZERO
    for eq in equities:
        if peak is None or eq > peak:
            peak = eq
        elif peak > 0:
            worst = max(worst, (peak - eq) / peak)
    return worst


def daily_returns(equities: Sequence[Decimal]) -> list[Decimal]:
    """Close-to-close returns; a day starting from non-positive equity is skipped."""
    return [(b - a) / a for a, b in zip(equities, equities[1:]) if a > 0]


@exact
def sharpe(equities: Sequence[Decimal]) -> Decimal | None:
    """Annualised Sharpe ratio of daily returns, risk-free 0."""
    rets = daily_returns(equities)
    if len(rets) < 2:
        return None
    n = Decimal(len(rets))
    mean = sum(rets, ZERO) / n
    var = sum(((r - mean) ** 2 for r in rets), ZERO) / (n - 1)
    if var == 0:
        return None
    return mean / var.sqrt() * DAYS_PER_YEAR.sqrt()
