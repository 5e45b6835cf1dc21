"""Positions, accounts and the margin maths of §3 and §7 of the copy rules."""

from __future__ import annotations

from decimal import Decimal

from .enums import MarginMode, Side
from .instruments import Instrument
from .numbers import CENT_MICRO, ONE, ZERO, exact

LONG = Side.LONG
SHORT = Side.SHORT
CROSS = MarginMode.CROSS
ISOLATED = MarginMode.ISOLATED


class Position:
    """One open position in one-way mode. ``cycle`` names the trader's position cycle
    (the id of the event that opened it) that this position belongs or is linked to.

    ``side`` and ``margin_mode`` hold the plain strings of :class:`Side` and
    :class:`MarginMode` (equal to the members): positions are written per copier, and
    SQLite binds an exact ``str`` faster than a subclass of it.
    """

    __slots__ = ("symbol", "side", "qty", "entry", "leverage", "margin_mode", "cycle",
                 "margin", "liq_cache", "liq_band", "opened_ts", "realized")

    def __init__(self, symbol: str, side: str, qty: Decimal, entry: Decimal,
                 leverage: Decimal, margin_mode: str, cycle: str,
                 margin: Decimal | None = None, opened_ts: int = 0,
                 realized: Decimal = ZERO) -> None:
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.entry = entry
        self.leverage = leverage
        self.margin_mode = margin_mode
        self.cycle = cycle
        # ``margin`` may be passed when the caller already computed qty × entry / leverage.
        self.margin = (qty * entry / leverage).quantize(CENT_MICRO) if margin is None else margin
        # (notional low, notional high, Q, K) of an isolated position's liquidation
        # test price × Q ≤ K (long) or ≥ K (short), valid inside that maintenance tier.
        self.liq_cache: tuple[Decimal, Decimal, Decimal, Decimal] | None = None
        # The prices (low, high), exclusive, between which this position's share of its
        # account's liquidation bound holds (see engine/liquidation.py); None until a
        # full check has set it, and after every change.
        self.liq_band: tuple[Decimal, Decimal] | None = None
        self.opened_ts = opened_ts
        # What this position cycle has made so far: realized PnL, fees and funding.
        self.realized = realized

    def set(self, qty: Decimal, entry: Decimal, leverage: Decimal) -> None:
        """Change size, entry or leverage; the margin follows (qty × entry / leverage)."""
        self.qty = qty
        self.entry = entry
        self.leverage = leverage
        self.margin = (qty * entry / leverage).quantize(CENT_MICRO)
        self.liq_cache = None
        self.liq_band = None

    def upnl(self, price: Decimal) -> Decimal:
        """Unrealized PnL at ``price``."""
        if self.side == LONG:
            return (price - self.entry) * self.qty
        return (self.entry - price) * self.qty

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return (f"Position({self.symbol} {self.side} {self.qty}@{self.entry} "
                f"x{self.leverage} {self.margin_mode} cycle={self.cycle})")


def position_margin(qty: Decimal, entry: Decimal, leverage: Decimal) -> Decimal:
    """A position's margin, qty × entry / leverage, as a posted amount."""
    return (qty * entry / leverage).quantize(CENT_MICRO)


def realized_pnl(side: str, entry: Decimal, price: Decimal, qty: Decimal) -> Decimal:
    """(price − entry) × qty for a long, (entry − price) × qty for a short."""
    return (price - entry) * qty if side == LONG else (entry - price) * qty


class Account:
    """A wallet and the positions it backs (contract, copy or trader account)."""

    __slots__ = ("id", "wallet", "positions", "liq_bound")

    def __init__(self, account_id: str, wallet: Decimal = ZERO) -> None:
        self.id = account_id
        self.wallet = wallet
        self.positions: dict[str, Position] = {}
        # (wallet, number of positions) at the last full liquidation check that set the
        # positions' price bands (engine/liquidation.py): the bands hold while the wallet
        # is that very object and no position changed (Position.liq_band not None).
        self.liq_bound: tuple[Decimal, int] | None = None

    def equity(self, prices: dict[str, Decimal]) -> Decimal:
        """wallet + Σ uPnL at the last prices."""
        eq = self.wallet
        for p in self.positions.values():
            eq += p.upnl(prices[p.symbol])
        return eq

    def available(self, prices: dict[str, Decimal]) -> Decimal:
        """wallet − Σ margins + min(0, Σ uPnL of cross positions)."""
        avail = self.wallet
        cross_upnl = ZERO
        for p in self.positions.values():
            avail -= p.margin
            if p.margin_mode == CROSS:
                cross_upnl += p.upnl(prices[p.symbol])
        if cross_upnl < 0:
            avail += cross_upnl
        return avail

    def isolated_margins(self) -> Decimal:
        """Σ margins of isolated positions."""
        return sum((p.margin for p in self.positions.values() if p.margin_mode == ISOLATED),
                   ZERO)


def liquidation_price(side: str, qty: Decimal, entry: Decimal, funds: Decimal,
                      mmr: Decimal, cum: Decimal) -> Decimal | None:
    """The price at which ``funds`` + uPnL equals the maintenance margin.

    ``funds`` is the margin of an isolated position, or for a cross position the
    account's cross funds net of its other cross positions (§7). None when ≤ 0.
    """
    if side == LONG:
        price = (entry * qty - funds - cum) / (qty * (ONE - mmr))
    else:
        price = (entry * qty + funds + cum) / (qty * (ONE + mmr))
    return price if price > 0 else None


def isolated_liq_price(pos: Position, inst: Instrument, price: Decimal) -> Decimal | None:
    """Liquidation price of an isolated position, tier chosen by notional at ``price``."""
    tier = inst.tier_for(pos.qty * price)
    return liquidation_price(pos.side, pos.qty, pos.entry, pos.margin, tier.mmr,
                             tier.maintenance_amount)


def cross_funds(account: Account) -> Decimal:
    """wallet − Σ isolated margins: what backs the cross positions."""
    return account.wallet - account.isolated_margins()


def cross_liq_price(account: Account, pos: Position, instruments: dict[str, Instrument],
                    prices: dict[str, Decimal]) -> Decimal | None:
    """Liquidation price of a cross position: other cross positions held at current prices."""
    funds = cross_funds(account)
    for other in account.positions.values():
        if other is pos or other.margin_mode != CROSS:
            continue
        px = prices[other.symbol]
        funds += other.upnl(px) - instruments[other.symbol].maintenance_margin(other.qty * px)
    tier = instruments[pos.symbol].tier_for(pos.qty * prices[pos.symbol])
    return liquidation_price(pos.side, pos.qty, pos.entry, funds, tier.mmr,
                             tier.maintenance_amount)


@exact
def liq_price_of(account: Account, pos: Position, instruments: dict[str, Instrument],
                 prices: dict[str, Decimal]) -> Decimal | None:
    """The liquidation price shown for a position, isolated or cross."""
    if pos.margin_mode == ISOLATED:
        return isolated_liq_price(pos, instruments[pos.symbol], prices[pos.symbol])
    return cross_liq_price(account, pos, instruments, prices)


def liq_test_terms(side: str, qty: Decimal, entry: Decimal, margin: Decimal,
                   inst: Instrument, notional: Decimal
                   ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(notional low, notional high, Q, K) of an isolated liquidation test.

    ``price ≤ liq`` for a long is ``price × qty × (1 − MMR) ≤ entry × qty − margin − cum``
    (mirrored for a short: ``price × qty × (1 + MMR) ≥ entry × qty + margin + cum``): the
    same test without a division, so it is exact. Q and K only change with the
    maintenance tier, valid while the notional stays in (low, high].
    """
    lo, hi, tier = inst.tier_band(notional)
    base = entry * qty
    if side == LONG:
        return lo, hi, qty * (ONE - tier.mmr), base - margin - tier.maintenance_amount
    return lo, hi, qty * (ONE + tier.mmr), base + margin + tier.maintenance_amount


def cached_liq_terms(pos: Position, inst: Instrument, price: Decimal
                     ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The position's :func:`liq_test_terms` at ``price``, cached for its tier's band."""
    notional = pos.qty * price
    cache = pos.liq_cache
    if cache is None or not cache[0] < notional <= cache[1]:
        cache = pos.liq_cache = liq_test_terms(pos.side, pos.qty, pos.entry, pos.margin, inst,
                                               notional)
    return cache


def isolated_is_liquidated(pos: Position, inst: Instrument, price: Decimal) -> bool:
    """True when the last price has reached the isolated position's liquidation price.

    Uses :func:`liq_test_terms`, cached on the position for its tier's notional band
    (this check runs for every position after every price event).
    """
    cache = cached_liq_terms(pos, inst, price)
    if pos.side == LONG:
        return price * cache[2] <= cache[3]
    return price * cache[2] >= cache[3]


def isolated_upnl_unless_liquidated(pos: Position, inst: Instrument, price: Decimal
                                    ) -> Decimal | None:
    """The isolated position's uPnL at ``price``, or None when :func:`isolated_is_liquidated`
    (one call for both: the liquidation check runs it for every position it looks at)."""
    notional = pos.qty * price
    cache = pos.liq_cache
    if cache is None or not cache[0] < notional <= cache[1]:
        cache = cached_liq_terms(pos, inst, price)
    # (Position.upnl, inlined: this runs for every copy after a fan-out.)
    if pos.side == LONG:
        return None if price * cache[2] <= cache[3] else (price - pos.entry) * pos.qty
    return None if price * cache[2] >= cache[3] else (pos.entry - price) * pos.qty


def isolated_slack(pos: Position, inst: Instrument, price: Decimal) -> Decimal:
    """How far the isolated position is from its liquidation, as margin + uPnL −
    maintenance margin (in USDT): ≤ 0 exactly when :func:`isolated_is_liquidated`."""
    cache = cached_liq_terms(pos, inst, price)
    if pos.side == LONG:
        return price * cache[2] - cache[3]
    return cache[3] - price * cache[2]


def cross_is_liquidated(account: Account, instruments: dict[str, Instrument],
                        prices: dict[str, Decimal]) -> bool:
    """wallet − Σ isolated margins + Σ cross uPnL ≤ Σ cross maintenance margins."""
    lhs = cross_funds(account)
    mm = ZERO
    any_cross = False
    for p in account.positions.values():
        if p.margin_mode != CROSS:
            continue
        any_cross = True
        px = prices[p.symbol]
        lhs += p.upnl(px)
        mm += instruments[p.symbol].maintenance_margin(p.qty * px)
    return any_cross and lhs <= mm


def average_entry(qty1: Decimal, entry1: Decimal, qty2: Decimal, entry2: Decimal) -> Decimal:
    """Entry price after an increase: the quantity-weighted average, kept exact (§1: never
    rounded to the tick nor to 1e-8; a quotient that does not terminate keeps the 60
    significant digits of the engine's context)."""
    return (qty1 * entry1 + qty2 * entry2) / (qty1 + qty2)
