"""Parsing scenario JSON Lines into events, with line-numbered reasons for bad lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.enums import CopyMode, EventType, MarginMode, Side
from ..domain.events import Event, parse_ts
from ..domain.numbers import CONTEXT, parse_decimal_text

MAX_EXPONENT = 30
# A JSON integer longer than this is no value any field accepts (leverage is the only
# field that takes JSON integers): refused before Python converts it.
MAX_INTEGER_DIGITS = 2 * MAX_EXPONENT
UTF8_BOM = "\ufeff"


class MalformedEvent(ValueError):
    """A line that is not a valid event; ``str()`` says what is wrong."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class Malformed:
    """A rejected line of a scenario file."""

    line: int
    event_id: str | None
    reason: str


# name -> (kind, required). Kinds: "str", "dec" (non-negative decimal), "sdec" (signed
# decimal), "lev" (decimal string or JSON integer), "int" (a decimal string holding a
# whole number), "side", "margin_mode", "mode", "tiers".
_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "config": {"delay_ms": ("int", False), "impact_bps": ("dec", False),
               "taker_fee": ("dec", False), "min_investment": ("dec", False)},
    "instrument": {"symbol": ("str", True), "qty_step": ("dec", True),
                   "min_qty": ("dec", True), "tick": ("dec", True),
                   "max_leverage": ("lev", True), "tiers": ("tiers", True)},
    "trader": {"trader": ("str", True), "name": ("str", True), "balance": ("dec", True),
               "profit_share": ("dec", False)},
    "deposit": {"account": ("str", True), "amount": ("dec", True)},
    "price": {"symbol": ("str", True), "price": ("dec", True)},
    "funding": {"symbol": ("str", True), "rate": ("sdec", True)},
    "open": {"trader": ("str", True), "symbol": ("str", True), "side": ("side", True),
             "qty": ("dec", True), "price": ("dec", True), "leverage": ("lev", True),
             "margin_mode": ("margin_mode", True), "fee_rate": ("dec", False)},
    "close": {"trader": ("str", True), "symbol": ("str", True), "price": ("dec", True),
              "qty": ("dec", False), "fee_rate": ("dec", False)},
    "leverage": {"trader": ("str", True), "symbol": ("str", True), "leverage": ("lev", True)},
    "copy": {"copier": ("str", True), "trader": ("str", True), "mode": ("mode", True),
             "investment": ("dec", True), "amount": ("dec", False), "ratio": ("dec", False),
             "max_slippage": ("dec", False), "max_margin_per_order": ("dec", False),
             "stop_loss": ("dec", False)},
    "cancel": {"copier": ("str", True), "trader": ("str", True)},
    "settle": {},
}

_CHOICES: dict[str, type[Side] | type[MarginMode] | type[CopyMode]] = {
    "side": Side, "margin_mode": MarginMode, "mode": CopyMode}


def parse_decimal(name: str, value: Any, *, allow_int: bool = False,
                  signed: bool = False) -> Decimal:
    """A decimal field from its JSON form; raises MalformedEvent naming the field."""
    if isinstance(value, bool):
        raise MalformedEvent(f"field {name!r} must be a decimal string, got a boolean")
    if isinstance(value, int) and allow_int:
        d = Decimal(value)
    elif isinstance(value, str):
        try:
            d = parse_decimal_text(value)
        except ValueError as exc:
            raise MalformedEvent(f"field {name!r}: {exc}") from None
    else:
        if value is None:
            kind = "null"
        elif isinstance(value, (int, Decimal)):
            kind = "a JSON number (write numbers as strings, e.g. \"0.5\")"
        else:
            kind = type(value).__name__
        raise MalformedEvent(f"field {name!r} must be a decimal string, got {kind}")
    if not d.is_finite():
        raise MalformedEvent(f"field {name!r} must be finite, got {value!r}")
    if d != 0 and abs(d.adjusted()) > MAX_EXPONENT:
        raise MalformedEvent(f"field {name!r} has an exponent beyond ±{MAX_EXPONENT}: {value!r}")
    if d.as_tuple().exponent < -MAX_EXPONENT:  # type: ignore[operator]
        raise MalformedEvent(f"field {name!r} has an exponent beyond ±{MAX_EXPONENT}: {value!r}")
    if not signed and d < 0:
        raise MalformedEvent(f"field {name!r} must not be negative, got {value!r}")
    return CONTEXT.plus(d)  # drops a negative zero


def _parse_field(name: str, kind: str, value: Any) -> Any:
    if kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise MalformedEvent(f"field {name!r} must be a non-empty string")
        return value
    if kind in _CHOICES:
        choices = _CHOICES[kind]
        if not isinstance(value, str) or value not in choices.__members__.values():
            raise MalformedEvent(
                f"field {name!r} must be one of {', '.join(choices)}, got {value!r}")
        return value  # the event's typed payload holds it as the enum member
    if kind == "dec":
        return parse_decimal(name, value)
    if kind == "sdec":
        return parse_decimal(name, value, signed=True)
    if kind == "lev":
        d = parse_decimal(name, value, allow_int=True)
        if d != d.to_integral_value():
            raise MalformedEvent(f"field {name!r} must be a whole number, got {value!r}")
        return d
    if kind == "int":
        d = parse_decimal(name, value)
        if d != d.to_integral_value():
            raise MalformedEvent(f"field {name!r} must be a whole number, got {value!r}")
        return int(d)
    if kind == "tiers":
        if not isinstance(value, list) or not value:
            raise MalformedEvent(f"field {name!r} must be a non-empty list of "
                                 "[notional_cap, mmr, maintenance_amount]")
        tiers = []
        for i, tier in enumerate(value):
            if not isinstance(tier, list) or len(tier) != 3:
                raise MalformedEvent(f"tier {i + 1} must be [notional_cap, mmr, "
                                     "maintenance_amount]")
            tiers.append(tuple(parse_decimal(f"tiers[{i}]", v) for v in tier))
        return tiers
    raise AssertionError(kind)  # pragma: no cover


def parse_event(obj: Any, line: int | None = None) -> Event:
    """An Event from a decoded JSON value; raises MalformedEvent with the reason."""
    if not isinstance(obj, dict):
        raise MalformedEvent("line is not a JSON object")
    event_id = obj.get("id")
    if event_id is None:
        raise MalformedEvent("missing field 'id'")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedEvent("field 'id' must be a non-empty string")
    try:
        if "ts" not in obj:
            raise MalformedEvent("missing field 'ts'")
        try:
            ts = parse_ts(obj["ts"])
        except ValueError as exc:
            raise MalformedEvent(f"bad ts: {exc}") from None
        etype = obj.get("type")
        if etype is None:
            raise MalformedEvent("missing field 'type'")
        if not isinstance(etype, str) or etype not in EventType.__members__.values():
            raise MalformedEvent(f"unknown type {etype!r}")
        fields: dict[str, Any] = {}
        for name, (kind, required) in _FIELDS[etype].items():
            if name not in obj or (obj[name] is None and not required):
                if required:
                    raise MalformedEvent(f"missing field {name!r} for a {etype} event")
                continue
            fields[name] = _parse_field(name, kind, obj[name])
        if etype == EventType.COPY:
            if fields["mode"] == CopyMode.FIXED_AMOUNT and "amount" not in fields:
                raise MalformedEvent("missing field 'amount' for a fixed_amount copy")
            if fields["mode"] == CopyMode.FIXED_RATIO and "ratio" not in fields:
                raise MalformedEvent("missing field 'ratio' for a fixed_ratio copy")
    except MalformedEvent as exc:
        exc.event_id = event_id
        raise
    return Event(event_id, ts, etype, fields, line)


def _strict_constant(name: str) -> Any:
    raise MalformedEvent(f"{name} is not a number JSON allows")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise MalformedEvent(f"a JSON integer of {len(digits.lstrip('-'))} digits is beyond "
                             "what any field accepts")
    return int(digits)


def read_lines(lines: Iterable[str | bytes]) -> Iterator[Event | Malformed]:
    """Events and malformed lines of a scenario, in file order; blank lines skipped.

    Lines may be bytes (a file opened in binary mode): each is decoded on its own, so an
    undecodable byte makes only its line malformed. A UTF-8 byte order mark at the start
    of the first line is ignored.
    """
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Malformed(number, None, f"not UTF-8 text: byte 0x{raw[exc.start]:02x} "
                                              f"at column {exc.start + 1}")
                continue
        else:
            text = raw
        if number == 1 and text.startswith(UTF8_BOM):
            text = text[1:]
        if not text.strip():
            continue
        try:
            obj = json.loads(text, parse_constant=_strict_constant, parse_float=Decimal,
                             parse_int=_bounded_int)
            yield parse_event(obj, number)
        except MalformedEvent as exc:
            yield Malformed(number, exc.event_id, exc.reason)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            yield Malformed(number, None, f"not valid JSON: {exc}")
