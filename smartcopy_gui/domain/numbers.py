"""Exact decimal helpers. Money and quantities never pass through binary floats."""

from __future__ import annotations

import decimal
import functools
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import ParamSpec, TypeVar

# A generous precision so that divisions which are then floored to a step never round up
# across a step boundary, and an average entry price stays exact to 60 digits. Used as a
# local context (``exact_context``) by every entry point of the engine, the report and the
# preview: nothing here changes the process's or a thread's default context, and every
# thread computes the same numbers.
CONTEXT = decimal.Context(prec=60, rounding=ROUND_HALF_EVEN, Emax=10**6, Emin=-(10**6),
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                                 decimal.Overflow, decimal.FloatOperation])

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exact_context() -> AbstractContextManager[decimal.Context]:
    """``with exact_context():`` runs its block in the engine's decimal context."""
    return decimal.localcontext(CONTEXT)


def exact(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` in the engine's decimal context, whatever the caller's thread uses."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with decimal.localcontext(CONTEXT):
            return fn(*args, **kwargs)

    return wrapper


ZERO = Decimal(0)
ONE = Decimal(1)
CENT_MICRO = Decimal("1e-8")  # the posting unit of USDT amounts
SCALE = 10**8
# The largest USDT amount a posting, a wallet or an equity may reach. The ledger keeps
# integer counts of 1e-8 USDT in SQLite INTEGERs (int64, about 9.2e18 units = 9.2e10 USDT);
# 9e10 USDT (9e18 units) is the largest round figure below it.
MAX_AMOUNT = Decimal(90_000_000_000)


def within_limit(amount: Decimal) -> bool:
    """Whether a USDT amount (a posting, a wallet, an equity) is one the ledger can hold."""
    return -MAX_AMOUNT <= amount <= MAX_AMOUNT


# The decimal syntax of scenario-format.md: ASCII digits, an optional sign, a point and an
# exponent; nothing else (no spaces, underscores, other digits, "Infinity", "NaN", "0x").
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_decimal_text(text: str) -> Decimal:
    """The Decimal a text spells in the spec's decimal syntax.

    Raises ValueError with a message naming the text when it is anything else: spaces,
    ``5_000``, non-ASCII digits, ``Infinity``, ``NaN``, ``0x10``, an empty string.
    """
    if not isinstance(text, str) or _DECIMAL_TEXT.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a decimal number (ASCII digits with an optional "
                         "sign, point and exponent, e.g. \"1250.5\" or \"-2e-3\")")
    return Decimal(text)


def D(value: str | int | Decimal) -> Decimal:
    """A Decimal from a string, an int or a Decimal (never a float)."""
    if isinstance(value, float):
        raise TypeError("floats are not accepted for money or quantities")
    return Decimal(value)


def money(x: Decimal) -> Decimal:
    """Round a USDT amount to the posting unit, 1e-8, half-even."""
    return x.quantize(CENT_MICRO, ROUND_HALF_EVEN)


def to_units(x: Decimal) -> int:
    """A posted USDT amount as an integer count of 1e-8 (the ledger's storage form)."""
    return int(money(x).scaleb(8))


def from_units(units: int) -> Decimal:
    """Inverse of :func:`to_units`."""
    return Decimal(units).scaleb(-8)


def floor_step(x: Decimal, step: Decimal) -> Decimal:
    """Round a quantity down to a whole multiple of ``step``."""
    return (x / step).to_integral_value(ROUND_FLOOR) * step


def round_step(x: Decimal, step: Decimal) -> Decimal:
    """Round a quantity half-up to the nearest multiple of ``step``."""
    return (x / step).to_integral_value(ROUND_HALF_UP) * step


def ceil_tick(x: Decimal, tick: Decimal) -> Decimal:
    """Round a price up to a multiple of ``tick`` (the copier's buy fills)."""
    return (x / tick).to_integral_value(ROUND_CEILING) * tick


def floor_tick(x: Decimal, tick: Decimal) -> Decimal:
    """Round a price down to a multiple of ``tick`` (the copier's sell fills)."""
    return (x / tick).to_integral_value(ROUND_FLOOR) * tick


def is_multiple(x: Decimal, step: Decimal) -> bool:
    """True when ``x`` is a whole multiple of ``step``."""
    return (x % step) == 0


def fmt(x: Decimal | None) -> str | None:
    """A Decimal as the report writes it: plain notation, no trailing zeros, no exponent."""
    if x is None:
        return None
    if x == 0:
        return "0"
    return format(x.normalize(), "f")
