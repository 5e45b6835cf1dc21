"""Applying imported events (see :mod:`.import_parse`) through the engine's one way in,
all of them or none.

The events are streamed: they are checked against the store (a reused id with other
content, a time earlier than the store's last event, an unknown instrument) and
applied in chunks of :data:`CHUNK_EVENTS` (``Engine.submit_many``), every chunk inside
ONE store transaction. The first problem — a failed check, or, unless
``allow_rejections`` is set, a business-rule rejection (a close with no position, an
open the trader cannot afford, an unknown trader…) — rolls the whole transaction
back, reloads the engine's state from the store and raises :class:`ImportFailed`
naming the file and line. So memory stays flat whatever the file's size, and a
refused import changes nothing in the store.

Re-importing a file is a no-op: ids are deterministic and the engine skips an id it
already holds with the same content.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol, runtime_checkable

from ..domain.events import Event, format_ts
from ..engine.engine import DUPLICATE, REJECTED, Engine, MalformedInput
from .import_parse import ImportFailed

CHUNK_EVENTS = 20_000  # events per submit_many call (memory: one chunk's changes)


@runtime_checkable
class TransactionalStore(Protocol):
    """A store that can hold several engine commits in one transaction."""

    def transaction(self) -> AbstractContextManager[object]: ...


@dataclass(frozen=True, slots=True)
class ImportRejection:
    """An event the engine rejected on a business rule (only with allow_rejections)."""

    source: str
    line: int | None
    event_id: str
    reason: str


@dataclass
class SourceCounts:
    """What one file of an import did."""

    applied: int = 0
    duplicates: int = 0
    rejected: int = 0


@dataclass
class ImportSummary:
    """What an import did."""

    source: str
    applied: int = 0
    duplicates: int = 0
    rejected: list[ImportRejection] = field(default_factory=list)
    first_ts: int | None = None  # of the events that were new to the store
    last_ts: int | None = None
    by_source: dict[str, SourceCounts] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether the store changed (False for a re-import)."""
        return bool(self.applied or self.rejected)

    def __str__(self) -> str:
        return (f"{self.source}: {self.applied} applied, {self.duplicates} already imported, "
                f"{len(self.rejected)} rejected")


def _tagged(events: Iterable[Event] | Mapping[str, Iterable[Event]],
            source: str) -> Iterator[tuple[Event, str]]:
    """(event, its file) in time order, lazily."""
    if isinstance(events, Mapping):
        streams = [_tag(evs, src) for src, evs in events.items()]
        # Stable: equal times keep each file's order, earlier files first.
        return heapq.merge(*streams, key=lambda pair: pair[0].ts)
    return _tag(events, source)


def _tag(events: Iterable[Event], source: str) -> Iterator[tuple[Event, str]]:
    for ev in events:
        yield ev, source


def import_events(engine: Engine, events: Iterable[Event] | Mapping[str, Iterable[Event]],
                  *, source: str = "import", allow_rejections: bool = False) -> ImportSummary:
    """Apply parsed events to the engine's store, all of them or none.

    ``events`` is one stream (``source`` names it in messages) or a mapping of file
    name → stream, merged by time (stable) so that, e.g., a price history and a trade
    history of the same period interleave. A stream may be a :class:`ParsedFile`
    (read from its file as it goes) or any iterable of events. :class:`ImportFailed`
    (naming the file and line) refuses the whole import, leaving the store as it was,
    when an event:

    - reuses an id the store (or an earlier event of the import) holds with other
      content — an edited file cannot silently overwrite history;
    - is earlier than the store's last event (``engine.state.last_ts``) or than the
      event before it: an import only extends the store forward in time;
    - names an instrument the engine does not know, or is a price that is not positive;
    - unless ``allow_rejections``: is rejected on a business rule (a close with no
      position, an open the trader cannot afford, an unknown trader…). With
      ``allow_rejections`` such events are recorded as rejected, as ``smartcopy
      replay`` does, and listed in the summary.

    Events the store already holds with the same content are skipped (a re-import
    changes nothing). The rest go through ``engine.submit_many`` in chunks, all in one
    store transaction. The engine's ``on_commit`` hears of each chunk as it is applied,
    before the import as a whole has succeeded.

    Pending copier actions are not flushed: they run when later events arrive, or at
    ``engine.flush()``. Call this on the thread that owns the engine.
    """
    store = engine.store
    if not isinstance(store, TransactionalStore):
        raise TypeError("the engine's store cannot hold an import in one transaction")
    summary = ImportSummary(source if not isinstance(events, Mapping)
                            else ", ".join(events) or source)
    checks = _Checks(engine, check_instruments=not allow_rejections)
    tagged = _tagged(events, source)
    try:
        with store.transaction():
            while chunk := list(islice(tagged, CHUNK_EVENTS)):
                if checks.fresh(chunk):
                    _apply(engine, chunk, summary, allow_rejections)
                else:
                    for _, src in chunk:
                        summary.by_source.setdefault(src, SourceCounts()).duplicates += 1
                    summary.duplicates += len(chunk)
    except BaseException:
        engine.reload()  # the transaction was rolled back: so is the engine's state
        raise
    return summary


def _apply(engine: Engine, chunk: list[tuple[Event, str]], summary: ImportSummary,
           allow_rejections: bool) -> None:
    """One chunk through the engine; raises ImportFailed for a refused event."""
    try:
        results = engine.submit_many(ev for ev, _ in chunk)
    except MalformedInput as exc:  # the checks should have caught it
        raise ImportFailed(summary.source, None, f"refused by the engine: {exc}") from exc
    for (ev, src), result in zip(chunk, results, strict=True):
        counts = summary.by_source.setdefault(src, SourceCounts())
        if result.status == DUPLICATE:
            counts.duplicates += 1
            summary.duplicates += 1
            continue
        if result.status == REJECTED:
            if not allow_rejections:
                raise ImportFailed(src, ev.line, f"{result.reason}; nothing was imported")
            counts.rejected += 1
            summary.rejected.append(ImportRejection(src, ev.line, ev.id, result.reason or ""))
        else:
            counts.applied += 1
            summary.applied += 1
        if summary.first_ts is None:
            summary.first_ts = ev.ts
        summary.last_ts = ev.ts


class _Checks:
    """The id, time and instrument checks, carried from one chunk to the next."""

    def __init__(self, engine: Engine, *, check_instruments: bool) -> None:
        self.engine = engine
        self.check_instruments = check_instruments
        self.last: int | None = engine.state.last_ts
        self.last_is_store = True

    def fresh(self, chunk: list[tuple[Event, str]]) -> bool:
        """Checks a chunk (raising ImportFailed); whether any event is new to the store.

        Run before the chunk is applied and after the chunks before it: the store then
        holds them (in the open transaction), so an id is looked up there."""
        store = self.engine.store
        instruments = self.engine.state.instruments
        seen: dict[str, str] = {}
        any_new = False
        for ev, src in chunk:
            digest = ev.digest
            known = seen.get(ev.id) or store.event_digest(ev.id)
            if known is not None:
                if known == digest:
                    continue
                raise ImportFailed(src, ev.line, f"id {ev.id!r} was already imported with "
                                                 "other content; nothing was imported")
            last = self.last
            if last is not None and ev.ts < last:
                whose = ("the store's last event" if self.last_is_store
                         else "the event before it")
                raise ImportFailed(src, ev.line,
                                   f"time {format_ts(ev.ts)} is earlier than {whose} at "
                                   f"{format_ts(last)}; an import can only add later data")
            symbol = ev.get("symbol")
            if self.check_instruments and symbol is not None and ev.type != "instrument" \
                    and symbol not in instruments:
                known_symbols = ", ".join(sorted(instruments))
                raise ImportFailed(src, ev.line, f"unknown instrument {symbol!r} (known: "
                                                 f"{known_symbols})")
            if ev.type == "price" and not ev.get("price") > 0:
                raise ImportFailed(src, ev.line, "a price must be positive")
            seen[ev.id] = digest
            self.last, self.last_is_store = ev.ts, False
            any_new = True
        return any_new
