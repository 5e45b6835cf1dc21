"""Parsing import files: a price history CSV, and a trader's trade history as CSV or
scenario JSON Lines, into ordinary events (``price``, ``open``, ``close``,
``leverage``, ``trader``). Nothing here touches the engine or the store: applying the
events is :mod:`.import_apply`'s job.

Each ``parse_*`` function reads the whole file once, validating every line with
constant memory, and raises :class:`ImportFailed` at the *first* problem (file name,
physical line number from 1, reason). It returns a :class:`ParsedFile`: the file's
events are produced again, streamed from the file, each time it is iterated, so a
file of millions of prices is never held in memory.

Times
    A CSV ``timestamp`` is ISO-8601 UTC (``2026-03-24T00:00:00Z``, ``+00:00``, with
    or without milliseconds; a space instead of ``T`` and a bare date
    ``2026-03-24`` = midnight UTC are accepted), or whole epoch seconds or
    milliseconds, told apart by magnitude: below 100,000,000,000 it is seconds
    (up to the year 5138), otherwise milliseconds (so a millisecond stamp before
    1973-03-03 cannot be written this way). A time without a UTC offset is refused.

Prices are exact decimals from the text (never binary floats).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..domain.events import Event, format_ts, parse_ts
from .scenario import MAX_EXPONENT, Malformed, read_lines

SourceLike = str | os.PathLike[str] | Iterable[str]

PRICE_COLUMNS = ("timestamp", "open", "high", "low", "close")
TRADE_COLUMNS = ("timestamp", "symbol", "side", "action", "qty", "price")
TRADE_OPTIONAL = ("leverage", "margin_mode", "fee_rate", "id")
JSONL_TYPES = ("open", "close", "leverage", "trader", "price")

EPOCH_MS_FROM = 100_000_000_000  # an epoch number at least this large is milliseconds
MAX_TS_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
DEFAULT_BAR_MS = 60_000  # the bar length of a one-row price file without interval_ms

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_SPACE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}) +(\d.*)")
_DIGITS = re.compile(r"[0-9]+")


class ImportFailed(ValueError):
    """A file (or a set of events) that cannot be imported; nothing was applied.

    ``str()`` reads like ``prices.csv line 7: high 61000 is below close 61200``.
    ``line`` counts physical lines from 1 (a CSV header is line 1); it is None when
    the problem is not on one line (an unreadable file).
    """

    def __init__(self, path: str | os.PathLike[str] | None, line: int | None,
                 reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(self._message())

    @property
    def source(self) -> str:
        """The file's name as shown in the message."""
        if self.path is None:
            return "<input>"
        return Path(self.path).name or str(self.path)

    def _message(self) -> str:
        where = self.source if self.line is None else f"{self.source} line {self.line}"
        return f"{where}: {self.reason}"

    def __str__(self) -> str:
        return self._message()


class _Bad(Exception):
    """A problem on the current row; the caller adds the file and line."""


# ---------------------------------------------------------------------- parsed files
class ParsedFile:
    """A validated import file. Iterating it streams the file's events again (re-reading
    the file), in file order; ``len()`` is their number, ``first_ts``/``last_ts`` the
    time range. If the file changed since it was validated, the problem is raised as
    :class:`ImportFailed` during the iteration."""

    def __init__(self, name: str, produce: Callable[[], Iterator[Event]], count: int,
                 first_ts: int, last_ts: int) -> None:
        self.name = name
        self._produce = produce
        self.count = count
        self.first_ts = first_ts
        self.last_ts = last_ts

    def __iter__(self) -> Iterator[Event]:
        return self._produce()

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return (f"ParsedFile({self.name!r}, {self.count} events, "
                f"{format_ts(self.first_ts)} .. {format_ts(self.last_ts)})")


def _replayable(src: SourceLike) -> SourceLike:
    """A source that can be read twice: paths are reopened, and lines already in memory
    kept; a one-shot iterator of lines is read into a list."""
    if isinstance(src, (str, os.PathLike)):
        return src
    if iter(src) is src:
        return list(src)
    return src


def _validated(display: str, events: Callable[[], Iterator[Event]]) -> ParsedFile:
    """Reads every event once (the validation pass), keeping only counts and times."""
    count = 0
    first = last = 0
    for ev in events():
        if not count:
            first = ev.ts
        last = max(last, ev.ts)
        count += 1
    return ParsedFile(display, events, count, first, last)


def _display(src: SourceLike, name: str | None) -> str:
    if isinstance(src, (str, os.PathLike)):
        return name or Path(src).name
    return name or "<input>"


# ---------------------------------------------------------------------- reading
@contextmanager
def _opened(src: SourceLike, name: str | None) -> Iterator[tuple[str, Iterable[str]]]:
    """(the name used in messages, the lines) of a path or of lines already in memory."""
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        display = name or path.name
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ImportFailed(display, None,
                               f"cannot read the file: {exc.strerror or exc}") from None
        with handle:
            yield display, handle
    else:
        yield name or "<input>", src


def _csv_rows(lines: Iterable[str], display: str) -> Iterator[tuple[int, list[str]]]:
    """(physical line where the record starts, cells) of every non-blank CSV record."""
    reader = csv.reader(lines, strict=True)
    prev = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFailed(display, prev + 1, f"not valid CSV: {exc}") from None
        except UnicodeDecodeError:
            raise ImportFailed(display, reader.line_num + 1, "not UTF-8 text") from None
        start = prev + 1
        prev = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        yield start, row


def _header(rows: Iterator[tuple[int, list[str]]], display: str, required: Sequence[str],
            optional: Sequence[str] = ()) -> tuple[int, dict[str, int], int]:
    """Reads the header: (its line, column name → index, number of columns)."""
    wanted = ", ".join(required)
    first = next(rows, None)
    if first is None:
        raise ImportFailed(display, 1, f"the file is empty; expected a header row: {wanted}")
    line, cells = first
    names = [c.strip().lower() for c in cells]
    if names:
        names[0] = names[0].lstrip("\ufeff")
    index: dict[str, int] = {}
    for i, col in enumerate(names):
        if col in index and col in (*required, *optional):
            raise ImportFailed(display, line, f"column {col!r} appears twice in the header")
        index.setdefault(col, i)
    missing = [c for c in required if c not in index]
    if missing:
        cols = ", ".join(repr(c) for c in missing)
        raise ImportFailed(display, line,
                           f"missing column{'s' if len(missing) > 1 else ''} {cols}; the first "
                           f"line must be a header naming the columns: {wanted}")
    return line, index, len(cells)


def _cells(line: int, row: list[str], index: Mapping[str, int], width: int,
           display: str) -> dict[str, str]:
    if len(row) != width:
        raise ImportFailed(display, line,
                           f"has {len(row)} fields, the header has {width}")
    return {col: row[i].strip() for col, i in index.items()}


# ---------------------------------------------------------------------- values
def parse_timestamp(text: str) -> int:
    """Milliseconds since the epoch from a CSV timestamp (see the module docstring for
    the accepted forms). Raises ValueError with the reason."""
    s = text.strip()
    if not s:
        raise ValueError("timestamp is empty")
    if _DIGITS.fullmatch(s):
        if len(s) > 16:
            raise ValueError(f"timestamp {s} is out of range")
        n = int(s)
        ms = n * 1000 if n < EPOCH_MS_FROM else n
        if ms > MAX_TS_MS:
            raise ValueError(f"timestamp {s} is out of range")
        return ms
    iso = s
    if _DATE_ONLY.fullmatch(iso):
        iso += "T00:00:00Z"
    else:
        m = _DATE_SPACE_TIME.fullmatch(iso)
        if m:
            iso = f"{m.group(1)}T{m.group(2)}"
    try:
        return parse_ts(iso)
    except ValueError as exc:
        if "UTC" in str(exc):
            raise ValueError(f"bad timestamp {s!r}: must be UTC (end with Z or +00:00)"
                             ) from None
        raise ValueError(f"bad timestamp {s!r}: expected ISO-8601 UTC like "
                         "2026-03-24T00:00:00Z, or epoch seconds or milliseconds") from None


def _ts(text: str) -> int:
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise _Bad(str(exc)) from None


def _number(col: str, text: str, *, positive: bool = True) -> Decimal:
    """A decimal cell: finite, exponent within ±30, positive (or ≥ 0)."""
    s = text.strip()
    if not s:
        raise _Bad(f"{col} is empty")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise _Bad(f"{col} {s!r} is not a number") from None
    if not d.is_finite():
        raise _Bad(f"{col} must be a finite number, got {s!r}")
    exp = d.as_tuple().exponent
    if (d != 0 and abs(d.adjusted()) > MAX_EXPONENT) or (
            isinstance(exp, int) and exp < -MAX_EXPONENT):
        raise _Bad(f"{col} {s!r} has an exponent beyond ±{MAX_EXPONENT}")
    if positive and d <= 0:
        raise _Bad(f"{col} must be positive, got {s}")
    if d < 0:
        raise _Bad(f"{col} must not be negative, got {s}")
    return d + 0  # drops a negative zero


def _choice(col: str, text: str, choices: Sequence[str]) -> str:
    v = text.strip().lower()
    if not v:
        raise _Bad(f"{col} is empty (one of {', '.join(choices)})")
    if v not in choices:
        raise _Bad(f"unknown {col} {text.strip()!r}; expected one of {', '.join(choices)}")
    return v


# ---------------------------------------------------------------------- prices
@dataclass(frozen=True, slots=True)
class _Bar:
    line: int
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def parse_price_csv(path_or_lines: SourceLike, symbol: str, *, name: str | None = None,
                    interval_ms: int | None = None) -> ParsedFile:
    """The ``price`` events of an OHLC price history CSV for ``symbol``.

    The first non-blank line is a header naming (in any order and case) the columns
    ``timestamp, open, high, low, close``; other columns are ignored. ``timestamp`` is
    the bar's **open time**, ISO-8601 UTC or epoch seconds/milliseconds (seconds when
    below 1e11, else milliseconds). Each row must have positive decimal prices with
    ``low ≤ open, close ≤ high`` and a timestamp strictly after the row before.

    Each bar becomes four ``price`` events spread over its interval ``I`` (the
    smallest gap between consecutive bars, or ``interval_ms``; 60 s for a one-bar file):
    the open at ``t``, the two extremes at ``t + I/4`` and ``t + I/2`` and the close at
    ``t + 3I/4`` (whole milliseconds, rounded down). A rising or flat bar
    (close ≥ open) goes open → low → high → close, a falling one open → high → low →
    close: the path that reaches the final direction last. Ids are
    ``csv-<symbol>-<bar ts>-<k>`` (k = 0..3), so re-importing is a no-op.

    ``path_or_lines`` is a file path, or the lines themselves (then ``name`` names
    them in messages). Raises :class:`ImportFailed` at the first problem.
    """
    symbol = symbol.strip()
    if not symbol:
        raise ValueError("symbol must be a non-empty string")
    if interval_ms is not None and interval_ms < 1:
        raise ValueError("interval_ms must be at least 1")
    src = _replayable(path_or_lines)
    count = first = last = 0
    gap: int | None = None
    for bar in _bars(src, name, interval_ms):  # the validation pass: the interval
        if count:
            gap = bar.ts - last if gap is None else min(gap, bar.ts - last)
        else:
            first = bar.ts
        last = bar.ts
        count += 1
    interval = interval_ms or gap or DEFAULT_BAR_MS
    offsets = (0, interval // 4, interval // 2, interval * 3 // 4)

    def events() -> Iterator[Event]:
        for bar in _bars(src, name, interval_ms):
            if bar.close >= bar.open:
                path = (bar.open, bar.low, bar.high, bar.close)
            else:
                path = (bar.open, bar.high, bar.low, bar.close)
            for k, (offset, price) in enumerate(zip(offsets, path, strict=True)):
                yield Event(f"csv-{symbol}-{bar.ts}-{k}", bar.ts + offset, "price",
                            {"symbol": symbol, "price": price}, bar.line)

    return ParsedFile(_display(src, name), events, 4 * count, first, last + offsets[3])


def _bars(src: SourceLike, name: str | None, interval_ms: int | None) -> Iterator[_Bar]:
    """The validated bars of a price CSV, read one at a time."""
    prev: _Bar | None = None
    with _opened(src, name) as (display, lines):
        rows = _csv_rows(lines, display)
        header_line, index, width = _header(rows, display, PRICE_COLUMNS)
        for line, row in rows:
            cells = _cells(line, row, index, width, display)
            try:
                bar = _parse_bar(line, cells)
                if prev is not None and bar.ts <= prev.ts:
                    raise _Bad(f"timestamp {format_ts(bar.ts)} is not after the previous "
                               f"row's {format_ts(prev.ts)} (line {prev.line}); rows must be "
                               "in time order, each time once")
                if interval_ms is not None and prev is not None \
                        and bar.ts - prev.ts < interval_ms:
                    raise _Bad(f"this bar starts {bar.ts - prev.ts} ms after the one "
                               f"before, less than interval_ms={interval_ms}")
            except _Bad as exc:
                raise ImportFailed(display, line, str(exc)) from None
            yield bar
            prev = bar
    if prev is None:
        raise ImportFailed(display, header_line + 1, "no price rows after the header")


def _parse_bar(line: int, cells: Mapping[str, str]) -> _Bar:
    ts = _ts(cells["timestamp"])
    o, h, lo, c = (_number(col, cells[col]) for col in ("open", "high", "low", "close"))
    if h < lo:
        raise _Bad(f"high {h} is below low {lo}")
    for col, v in (("open", o), ("close", c)):
        if h < v:
            raise _Bad(f"high {h} is below {col} {v}")
        if lo > v:
            raise _Bad(f"low {lo} is above {col} {v}")
    return _Bar(line, ts, o, h, lo, c)


# ---------------------------------------------------------------------- trades
def parse_trades_csv(path_or_lines: SourceLike, trader: str, *,
                     name: str | None = None) -> ParsedFile:
    """The ``open``/``close`` events of a trader's trade history CSV.

    Header columns (any order and case; others ignored): ``timestamp, symbol, side,
    action, qty, price`` and, optionally, ``leverage, margin_mode, fee_rate, id``.

    - ``side`` is ``long``/``short`` (the position's side), ``action`` ``open``/``close``
      (case-insensitive); the symbol is upper-cased.
    - An open needs a positive ``qty``, ``price`` and ``leverage`` and a ``margin_mode``
      (``cross``/``isolated``). A close needs a positive ``price``; an empty ``qty``
      closes the whole position; its ``leverage``/``margin_mode`` cells are ignored,
      and its ``side`` must match the side of the last open of that symbol in the file.
    - ``fee_rate`` (≥ 0) is optional on every row.
    - Timestamps (as in :func:`parse_price_csv`) must not go back; equal times keep
      file order.
    - ``id`` when given must be unique in the file; otherwise the id is
      ``csv-<trader>-<ts>-<n>`` with n counting the rows of that same time (from 0),
      so re-importing, or importing a longer export of the same history, is a no-op
      for the rows already imported.

    Raises :class:`ImportFailed` at the first problem.
    """
    return _trade_history(path_or_lines, trader, name, _trade_events)


def _trade_history(path_or_lines: SourceLike, trader: str, name: str | None,
                   events: Callable[[SourceLike, str, str | None], Iterator[Event]]
                   ) -> ParsedFile:
    trader = trader.strip()
    if not trader:
        raise ValueError("trader must be a non-empty string")
    src = _replayable(path_or_lines)
    return _validated(_display(src, name), lambda: events(src, trader, name))


def _trade_events(src: SourceLike, trader: str, name: str | None) -> Iterator[Event]:
    ids: dict[str, int] = {}  # the line of every id (a trade history is small)
    same_ts = (-1, 0)  # the current time and how many rows had it
    last_open: dict[str, tuple[str, int]] = {}
    prev: tuple[int, int] | None = None
    with _opened(src, name) as (display, lines):
        rows = _csv_rows(lines, display)
        header_line, index, width = _header(rows, display, TRADE_COLUMNS, TRADE_OPTIONAL)
        for line, row in rows:
            cells = _cells(line, row, index, width, display)
            try:
                ts = _ts(cells["timestamp"])
                if prev is not None and ts < prev[0]:
                    raise _Bad(f"timestamp {format_ts(ts)} is earlier than the previous "
                               f"row's {format_ts(prev[0])} (line {prev[1]}); rows must be "
                               "in time order")
                ev_type, fields = _parse_trade(cells, trader, last_open, line)
                event_id = cells.get("id", "")
                if event_id:
                    if event_id in ids:
                        raise _Bad(f"id {event_id!r} is used again (first at line "
                                   f"{ids[event_id]})")
                else:
                    n = same_ts[1] if same_ts[0] == ts else 0
                    same_ts = (ts, n + 1)
                    event_id = f"csv-{trader}-{ts}-{n}"
                    if event_id in ids:
                        raise _Bad(f"generated id {event_id!r} clashes with the id column "
                                   f"at line {ids[event_id]}")
            except _Bad as exc:
                raise ImportFailed(display, line, str(exc)) from None
            ids[event_id] = line
            prev = (ts, line)
            yield Event(event_id, ts, ev_type, fields, line)
    if prev is None:
        raise ImportFailed(display, header_line + 1, "no trade rows after the header")


def _parse_trade(cells: Mapping[str, str], trader: str,
                 last_open: dict[str, tuple[str, int]], line: int
                 ) -> tuple[str, dict[str, Any]]:
    symbol = cells["symbol"].upper()
    if not symbol:
        raise _Bad("symbol is empty")
    side = _choice("side", cells["side"], ("long", "short"))
    action = _choice("action", cells["action"], ("open", "close"))
    price = _number("price", cells["price"])
    fields: dict[str, Any] = {"trader": trader, "symbol": symbol}
    if action == "open":
        qty = _number("qty", cells["qty"])
        if not cells.get("leverage", ""):
            raise _Bad("an open needs a leverage (column 'leverage')")
        leverage = _number("leverage", cells["leverage"])
        if not cells.get("margin_mode", ""):
            raise _Bad("an open needs a margin mode (column 'margin_mode': cross or isolated)")
        margin_mode = _choice("margin_mode", cells["margin_mode"], ("cross", "isolated"))
        fields.update(side=side, qty=qty, price=price, leverage=leverage,
                      margin_mode=margin_mode)
        last_open[symbol] = (side, line)
    else:
        opened = last_open.get(symbol)
        if opened is not None and opened[0] != side:
            raise _Bad(f"closes a {side} {symbol} position, but the open at line {opened[1]} "
                       f"is {opened[0]}")
        fields["price"] = price
        if cells["qty"]:
            fields["qty"] = _number("qty", cells["qty"])
    if cells.get("fee_rate", ""):
        fields["fee_rate"] = _number("fee_rate", cells["fee_rate"], positive=False)
    return action, fields


def parse_trades_jsonl(path_or_lines: SourceLike, trader: str, *,
                       name: str | None = None) -> ParsedFile:
    """A trader's history as scenario JSON Lines (``scenario-format.md``).

    Accepted types: ``open``, ``close``, ``leverage`` (their ``trader`` must be
    ``trader``), ``trader`` (registering ``trader`` itself) and ``price``. Anything
    else (a deposit, a copy, a config…) refuses the file: a trade history must not
    move money or change settings. Every line must be well formed (the scenario
    rules), times must not go back, and an id may repeat only with the same content.
    Raises :class:`ImportFailed` at the first problem.
    """
    return _trade_history(path_or_lines, trader, name, _jsonl_events)


def _jsonl_events(src: SourceLike, trader: str, name: str | None) -> Iterator[Event]:
    seen: dict[str, tuple[str, int]] = {}
    prev: Event | None = None
    with _opened(src, name) as (display, lines):
        items = read_lines(lines)
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except UnicodeDecodeError:
                raise ImportFailed(display, None, "not UTF-8 text") from None
            if isinstance(item, Malformed):
                raise ImportFailed(display, item.line, item.reason)
            line = item.line
            assert line is not None
            if item.type not in JSONL_TYPES:
                raise ImportFailed(display, line,
                                   f"type {item.type!r} is not allowed in a trade history "
                                   f"(allowed: {', '.join(JSONL_TYPES)})")
            if item.type in ("open", "close", "leverage", "trader") \
                    and item.get("trader") != trader:
                raise ImportFailed(display, line,
                                   f"event {item.id!r} is for trader {item.get('trader')!r}, "
                                   f"not {trader!r}")
            known = seen.get(item.id)
            if known is not None and known[0] != item.digest:
                raise ImportFailed(display, line, f"id {item.id!r} was already used at line "
                                                  f"{known[1]} for a different event")
            if prev is not None and item.ts < prev.ts:
                raise ImportFailed(display, line,
                                   f"ts {format_ts(item.ts)} is earlier than line "
                                   f"{prev.line}'s {format_ts(prev.ts)}")
            seen.setdefault(item.id, (item.digest, line))
            prev = item
            yield item
    if prev is None:
        raise ImportFailed(display, 1, "the file holds no events")
