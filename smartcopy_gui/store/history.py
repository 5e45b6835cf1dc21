"""The compact history: every price the engine applied and the payload of every other
applied event, kept exactly and small enough for a year of running.

Two narrow tables share one key, ``(ts, n)``: ``n`` counts the applied events of one
millisecond, so the key orders rows as the engine applied them (its clock never goes
back). ``price_ticks`` holds (symbol as a small integer, price packed into one integer)
for each price event and each trader fill (a fill sets the last price too); a fill's
tick shares its key with the fill's row in ``event_log``. ``event_log`` holds the id,
type and fields of every applied event except the world's own ticks, whose id
(``px-<symbol>-<ts>``) and fields follow from the tick: they are rebuilt from it.

A price ``c × 10^e`` (``c`` its coefficient, ``e`` its exponent, as the Decimal holds
them) is packed as the integer ``c × 32 + (e + 16)`` when ``-16 ≤ e < 16`` and it fits
in 64 bits, and kept as text otherwise: the same Decimal, digit for digit, comes back.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from ..domain.events import Event

PRICE_TYPES = frozenset({"price", "open", "close"})  # events that set the last price
_EXP_BIAS = 16
_EXP_SPAN = 32
_MAX_PACKED = (1 << 63) - 1
_CTX = Context(prec=40)


def pack_price(price: Decimal) -> int | str:
    """The price as one integer (or its text when it does not fit), exactly."""
    text = str(price)
    point = text.find(".")
    if text.isdigit():  # the quick ways first: a whole number, or digits with a point
        coefficient, exp = int(text), 0
    elif point > 0 and text[point + 1:].isdigit() and text[:point].isdigit():
        coefficient, exp = int(text[:point] + text[point + 1:]), point + 1 - len(text)
    else:
        sign, digits, exponent = price.as_tuple()
        if sign or not isinstance(exponent, int):
            return text
        coefficient, exp = int("".join(map(str, digits))), exponent
    if -_EXP_BIAS <= exp < _EXP_SPAN - _EXP_BIAS:
        packed = coefficient * _EXP_SPAN + exp + _EXP_BIAS
        if packed <= _MAX_PACKED:
            return packed
    return text


def unpack_price(value: int | str) -> Decimal:
    """The Decimal :func:`pack_price` packed."""
    if isinstance(value, str):
        return Decimal(value)
    coefficient, exp = divmod(value, _EXP_SPAN)
    return Decimal(coefficient).scaleb(exp - _EXP_BIAS, _CTX)


def world_tick_id(symbol: str, ts: int) -> str:
    """The id the world gives its price tick of ``symbol`` at ``ts``."""
    return f"px-{symbol}-{ts}"


# ---------------------------------------------------------------------- event fields
def _encode(value: Any) -> str:
    """JSON text of an event field: Decimals as JSON numbers written exactly, ints
    tagged (the only int field is a config's ``delay_ms``), so both come back typed."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot record the non-finite decimal {value}")
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int):
        return f'{{"i":{value}}}'
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}"
                              for k, v in value.items()) + "}"
    raise TypeError(f"cannot record an event field of type {type(value).__name__}")


def encode_fields(fields: dict[str, Any]) -> str:
    """An event's fields as compact JSON text (see :func:`decode_fields`)."""
    return _encode(fields)


def _int_tag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "i" in obj and isinstance(obj["i"], Decimal):
        return int(obj["i"])
    return obj


def decode_fields(text: str) -> dict[str, Any]:
    """The fields :func:`encode_fields` wrote, Decimals and ints as they were."""
    fields: dict[str, Any] = json.loads(text, parse_float=Decimal, parse_int=Decimal,
                                        object_hook=_int_tag)
    return fields


# ---------------------------------------------------------------------- writing
class HistoryWriter:
    """Turns applied events into rows of ``price_ticks`` and ``event_log``.

    It remembers the last key and the symbols' numbers between commits; after a
    rolled-back transaction :meth:`forget` makes it read them again."""

    def __init__(self) -> None:
        self._symbols: dict[str, int] | None = None
        self._last: tuple[int, int] | None = None

    def forget(self) -> None:
        self._symbols = None
        self._last = None

    def _load(self, conn: sqlite3.Connection) -> tuple[dict[str, int], tuple[int, int]]:
        if self._symbols is None:
            self._symbols = {s: i for i, s in conn.execute("SELECT id, symbol FROM symbols")}
        if self._last is None:
            last = (-1, -1)
            for table in ("price_ticks", "event_log"):
                row = conn.execute(f"SELECT ts, n FROM {table} ORDER BY ts DESC, n DESC "
                                   "LIMIT 1").fetchone()
                if row is not None and tuple(row) > last:
                    last = (row[0], row[1])
            self._last = last
        return self._symbols, self._last

    def write(self, conn: sqlite3.Connection, applied: Sequence[Event]) -> None:
        """Record ``applied`` (in the order applied) inside the open transaction."""
        symbols, (last_ts, n) = self._load(conn)
        ticks: list[tuple[int, int, int, int | str]] = []
        payloads: list[tuple[int, int, str, str, str]] = []
        for ev in applied:
            ts = ev.ts
            if ts == last_ts:
                n += 1
            else:
                last_ts, n = ts, 0
            kind = ev.type
            if kind in PRICE_TYPES:
                fields = ev.fields
                symbol = fields["symbol"]
                sym = symbols.get(symbol)
                if sym is None:
                    sym = len(symbols)
                    conn.execute("INSERT INTO symbols(id, symbol) VALUES (?, ?)", (sym, symbol))
                    symbols[symbol] = sym
                ticks.append((ts, n, sym, pack_price(fields["price"])))
                if kind == "price" and ev.id == world_tick_id(symbol, ts) \
                        and len(fields) == 2:
                    continue
            payloads.append((ts, n, ev.id, kind, encode_fields(ev.fields)))
        self._last = (last_ts, n)
        if ticks:
            conn.executemany("INSERT INTO price_ticks(ts, n, sym, price) VALUES (?,?,?,?)",
                             ticks)
        if payloads:
            conn.executemany("INSERT INTO event_log(ts, n, id, type, fields) "
                             "VALUES (?,?,?,?,?)", payloads)


# ---------------------------------------------------------------------- reading
def _range(since_ts: int | None, until_ts: int | None) -> tuple[str, list[Any]]:
    """A WHERE clause on ts (inclusive bounds) and its arguments."""
    terms, args = [], []
    if since_ts is not None:
        terms.append("ts >= ?")
        args.append(since_ts)
    if until_ts is not None:
        terms.append("ts <= ?")
        args.append(until_ts)
    return (" WHERE " + " AND ".join(terms)) if terms else "", args


def _symbol_names(conn: sqlite3.Connection) -> dict[int, str]:
    return {i: s for i, s in conn.execute("SELECT id, symbol FROM symbols")}


def price_ticks(conn: sqlite3.Connection, symbols: Iterable[str] | None,
                since_ts: int | None, until_ts: int | None
                ) -> Iterator[tuple[int, str, Decimal]]:
    """(ts, symbol, price) of every applied price in the range, in applied order."""
    names = _symbol_names(conn)
    where, args = _range(since_ts, until_ts)
    if symbols is not None:
        wanted = {i for i, s in names.items() if s in set(symbols)}
        if not wanted:
            return
        where += (" AND " if where else " WHERE ") + \
            f"sym IN ({','.join(str(i) for i in sorted(wanted))})"
    for ts, sym, price in conn.execute(
            f"SELECT ts, sym, price FROM price_ticks{where} ORDER BY ts, n", args):
        yield ts, names[sym], unpack_price(price)


@dataclass(frozen=True, slots=True)
class Candle:
    """Open, high, low and close of one symbol's applied prices over one bar."""

    start_ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def candles(ticks: Iterable[tuple[int, str, Decimal]], bar_ms: int) -> Iterator[Candle]:
    """Bars of ``bar_ms`` (counted from the epoch) over one symbol's ticks, in time
    order; a bar without a tick has no candle. Derived, never stored."""
    bar: list[Any] | None = None
    for ts, _, price in ticks:
        start = ts - ts % bar_ms
        if bar is None or bar[0] != start:
            if bar is not None:
                yield Candle(*bar)
            bar = [start, price, price, price, price]
        else:
            if price > bar[2]:
                bar[2] = price
            elif price < bar[3]:
                bar[3] = price
            bar[4] = price
    if bar is not None:
        yield Candle(*bar)


def recorded_events(conn: sqlite3.Connection, since_ts: int | None, until_ts: int | None,
                    types: Iterable[str] | None) -> Iterator[Event]:
    """The applied events in the range as the engine saw them, in applied order: the
    world's ticks rebuilt from ``price_ticks``, every other event from ``event_log``."""
    wanted = set(types) if types is not None else None
    names = _symbol_names(conn)
    where, args = _range(since_ts, until_ts)
    # Both tables in key order, merged (a log row before a tick of the same key): a
    # tick whose key has an event_log row is that event's own price (a fill, or a price
    # event with an id of its own), not an event of its own.
    ticks = conn.execute(f"SELECT ts, n, 1, sym, price FROM price_ticks{where} "
                         "ORDER BY ts, n", args)
    logged = conn.execute(f"SELECT ts, n, 0, id, type, fields FROM event_log{where} "
                          "ORDER BY ts, n", args)
    skip: tuple[int, int] | None = None
    for row in heapq.merge(logged, ticks, key=lambda r: (r[0], r[1], r[2])):
        ts, n = row[0], row[1]
        if not row[2]:
            skip = (ts, n)
            if wanted is None or row[4] in wanted:
                yield Event(row[3], ts, row[4], decode_fields(row[5]))
        elif (ts, n) != skip and (wanted is None or "price" in wanted):
            symbol = names[row[3]]
            yield Event(world_tick_id(symbol, ts), ts, "price",
                        {"symbol": symbol, "price": unpack_price(row[4])})
