"""Where a what-if reads a trader's recorded history from.

A history is the scenario-format events the user's engine applied, in applied order,
prices included. :class:`History` names the one read a what-if needs; the store's
``recorded_events`` has this shape, so a store is a history as it stands. A list of
events captured from a run (:class:`EventHistory`, :class:`RecordingEngine`) is one
too, for tests and benchmarks.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from ..domain.events import Event
from ..engine.engine import Engine, Result


@runtime_checkable
class History(Protocol):
    """The recorded events between two times, in the order they were applied."""

    def recorded_events(self, since_ts: int, until_ts: int,
                        types: Sequence[str] | None = None) -> Iterator[Event]:
        """Events with ``since_ts ≤ ts ≤ until_ts``, of ``types`` only when given."""
        ...


class EventHistory:
    """A history held in memory: events in applied order (non-decreasing times)."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.events = list(events)
        self._times = [ev.ts for ev in self.events]

    def recorded_events(self, since_ts: int, until_ts: int,
                        types: Sequence[str] | None = None) -> Iterator[Event]:
        lo = bisect.bisect_left(self._times, since_ts)
        hi = bisect.bisect_right(self._times, until_ts)
        wanted = frozenset(types) if types is not None else None
        for i in range(lo, hi):
            ev = self.events[i]
            if wanted is None or ev.type in wanted:
                yield ev


class WindowHistory:
    """A history that reads ``since_ts ≤ ts ≤ until_ts`` of another once, on the first
    read inside that window, and answers every later read inside it from memory: the
    replays of one what-if run (the smallest-clean search, a sweep) read it once. Reads
    reaching outside the window go to the other history as they are."""

    def __init__(self, source: History, since_ts: int, until_ts: int) -> None:
        self.source = source
        self.since_ts = since_ts
        self.until_ts = until_ts
        self._events: EventHistory | None = None

    def recorded_events(self, since_ts: int, until_ts: int,
                        types: Sequence[str] | None = None) -> Iterator[Event]:
        if since_ts < self.since_ts or until_ts > self.until_ts:
            return self.source.recorded_events(since_ts, until_ts, types)
        if self._events is None:
            self._events = EventHistory(self.source.recorded_events(self.since_ts,
                                                                    self.until_ts))
        return self._events.recorded_events(since_ts, until_ts, types)


class RecordingEngine(Engine):
    """An engine that keeps every event it is handed, in order: what a run sent it,
    to be replayed by a what-if later (the store's recorded events, held in memory)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.recorded: list[Event] = []

    def submit_many(self, events: Iterable[Event], **options: Any) -> list[Result]:
        return super().submit_many(self._tap(events), **options)

    def _tap(self, events: Iterable[Event]) -> Iterator[Event]:
        for ev in events:
            self.recorded.append(ev)
            yield ev

    def history(self) -> EventHistory:
        """What it has been sent so far."""
        return EventHistory(self.recorded)
