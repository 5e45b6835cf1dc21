"""How numbers read on screen: USDT amounts, percentages, quantities and prices.

Display only (a Decimal in, text out): shared by every panel, the copy wizard's
summary and anything else that writes figures for a person to read.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

DASH = "—"


def fmt_money(value: Decimal | None, places: int = 2) -> str:
    """A USDT amount with thousands separators: "6,976.92"."""
    if value is None:
        return DASH
    return f"{value:,.{places}f}"


def fmt_usdt(value: Decimal, rounding: str = ROUND_FLOOR) -> str:
    """An amount for a sentence: "10", "2,000", "1,234.56" (cents rounded ``rounding``,
    down by default: a balance is never shown above what it is)."""
    cents = value.quantize(Decimal("0.01"), rounding)
    return f"{cents:,.0f}" if cents == cents.to_integral_value() else f"{cents:,.2f}"


def fmt_balance(value: Decimal | None) -> str:
    """A balance in a table or a status line: two places, rounded down like ``fmt_usdt``
    so that the same balance reads the same everywhere ("6,976.92", never .93 here and
    .92 there)."""
    if value is None:
        return DASH
    return f"{value.quantize(Decimal('0.01'), ROUND_FLOOR):,.2f}"


def fmt_pct(value: Decimal | None, places: int = 2, signed: bool = True) -> str:
    """A ratio as a percentage: 0.0123 → "+1.23%"."""
    if value is None:
        return DASH
    pct = value * 100
    return f"{pct:+.{places}f}%" if signed else f"{pct:.{places}f}%"


def fmt_qty(value: Decimal | None) -> str:
    """A quantity as exact as it is: "0.049", "12"."""
    if value is None:
        return DASH
    return format(value.normalize(), "f") if value else "0"


def fmt_price(value: Decimal | None) -> str:
    """A price: two places from 100, four from 1, six below."""
    if value is None:
        return DASH
    places = 2 if abs(value) >= 100 else 4 if abs(value) >= 1 else 6
    return f"{value:,.{places}f}"


def fmt_leverage(value: Decimal | None) -> str:
    """A leverage: "20×"."""
    return DASH if value is None else f"{fmt_qty(value)}×"


def fmt_share(value: Decimal | None) -> str:
    """A rate such as 0.1 as "10%" (decimals only when it has them)."""
    if value is None:
        return DASH
    return f"{(value * 100).normalize():f}%"
