"""Instruments and their maintenance-margin tiers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .numbers import ZERO, D


@dataclass(frozen=True, slots=True)
class Tier:
    """Notional up to ``cap`` uses ``mmr`` and subtracts ``maintenance_amount``."""

    cap: Decimal
    mmr: Decimal
    maintenance_amount: Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    """A USDT-margined perpetual contract."""

    symbol: str
    qty_step: Decimal
    min_qty: Decimal
    tick: Decimal
    max_leverage: Decimal
    tiers: tuple[Tier, ...]
    # How fast a position's margin balance (funds + uPnL − maintenance margin) can fall
    # per unit of price × qty: 1 + the largest |MMR|, when the maintenance margin is
    # continuous in the notional (each tier meets the next at its cap); None otherwise.
    mm_lipschitz: Decimal | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tiers = self.tiers
        continuous = all(a.cap * a.mmr - a.maintenance_amount
                         == a.cap * b.mmr - b.maintenance_amount
                         for a, b in zip(tiers, tiers[1:]))
        object.__setattr__(self, "mm_lipschitz",
                           1 + max(abs(t.mmr) for t in tiers) if continuous and tiers
                           else None)

    def tier_for(self, notional: Decimal) -> Tier:
        """The tier of a position of this notional; beyond the last cap, the last tier."""
        for tier in self.tiers:
            if notional <= tier.cap:
                return tier
        return self.tiers[-1]

    def tier_band(self, notional: Decimal) -> tuple[Decimal, Decimal, Tier]:
        """The tier for ``notional`` and the notional band (lo, hi] over which it applies."""
        first = self.tiers[0]
        if notional <= first.cap and len(self.tiers) > 1:
            return ZERO, first.cap, first
        lo = ZERO
        for i, tier in enumerate(self.tiers):
            if notional <= tier.cap:
                hi = tier.cap if i < len(self.tiers) - 1 else Decimal("Infinity")
                return lo, hi, tier
            lo = tier.cap
        return self.tiers[-1].cap, Decimal("Infinity"), self.tiers[-1]

    def maintenance_margin(self, notional: Decimal) -> Decimal:
        """notional × MMR − maintenance amount, with the tier chosen by notional."""
        tier = self.tier_for(notional)
        return notional * tier.mmr - tier.maintenance_amount


def _instrument(symbol: str, step: str, min_qty: str, tick: str, lev: int,
                tiers: list[tuple[str, str, str]]) -> Instrument:
    return Instrument(symbol, D(step), D(min_qty), D(tick), D(lev),
                      tuple(Tier(D(c), D(m), D(a)) for c, m, a in tiers))


DEFAULT_INSTRUMENTS: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        _instrument("BTCUSDT", "0.001", "0.001", "0.1", 100,
                    [("2000000", "0.005", "0"), ("4000000", "0.0075", "5000"),
                     ("6000000", "0.01", "15000")]),
        _instrument("ETHUSDT", "0.01", "0.01", "0.01", 100,
                    [("1000000", "0.005", "0"), ("2000000", "0.0075", "2500")]),
        _instrument("SOLUSDT", "0.1", "0.1", "0.001", 50,
                    [("500000", "0.01", "0"), ("1000000", "0.015", "2500")]),
    )
}
