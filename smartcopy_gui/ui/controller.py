"""Connects the windows to the Session, which lives on one engine thread.

The GUI thread never touches the engine: every Session call runs on a single
worker thread (``EngineThread``) and is awaited through qasync, so a 90-day backfill
or a burst of 600× world time never blocks the window. Results come back as
immutable read models and are pushed into the views.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from ..bootstrap import SessionFactory
from ..domain.words import copy_label
from ..session import (
    ActivityRow,
    Session,
    SessionSnapshot,
    WhatIfCancelled,
    WhatIfReader,
    WhatIfSweep,
)
from ..store import StoreError
from ..store.stats import TraderStats
from ..whatif.report import CopyFigures
from .qt import QObject, QTimer, Signal, Slot

log = logging.getLogger("smartcopy.ui")

T = TypeVar("T")
P = ParamSpec("P")
TICK_MS = 200
STATS_EVERY_TICKS = 10
SPEEDS = (1, 10, 60, 600)
# A tick that finds the engine busy is skipped and its wall time carried to the next
# one, up to this much (a machine that slept for an hour does not jump the world).
MAX_CATCH_UP_MS = 2_000


class CollectorHold:
    """Keeps the cyclic garbage collector off while work runs on the worker threads (the
    engine's, the what-ifs'), and runs a young collection on the GUI thread once none
    runs. The workers allocate the most, so the collector would mostly start on one of
    them and free there whatever cycles of closed windows and widgets are garbage: a Qt
    object destroyed off the GUI thread warns ("Timers cannot be stopped from another
    thread") or deadlocks it (seen with the what-ifs: the worker in ~QObject waiting for
    the GIL, the GUI thread in ~QObject waiting for Qt's lock)."""

    def __init__(self) -> None:
        self.count = 0
        self.disabled = False

    def hold(self) -> None:
        if self.count == 0 and gc.isenabled():
            gc.disable()
            self.disabled = True
        self.count += 1

    def release(self) -> None:
        self.count -= 1
        if self.count == 0 and self.disabled:
            self.disabled = False
            gc.enable()
            gc.collect(0)


COLLECTOR = CollectorHold()  # one collector per process: one hold for all workers


class EngineThread:
    """Runs callables on one dedicated thread, in the order they were submitted."""

    def __init__(self, name: str = "engine") -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        COLLECTOR.hold()  # held and released on the GUI thread
        try:
            return await loop.run_in_executor(self.executor, partial(fn, *args, **kwargs))
        finally:
            COLLECTOR.release()

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True)


@dataclass
class LiveUpdate:
    """One tick's worth of changes, gathered on the engine thread."""

    snapshot: SessionSnapshot
    activity: list[ActivityRow]
    roi: list[tuple[int, int, Decimal, Decimal]]
    stats: list[TraderStats] | None = None
    copy_labels: list[tuple[int, str]] = field(default_factory=list)


class Controller(QObject):
    """Drives the session from the GUI: startup, the live clock, user actions."""

    backfill_progress = Signal(int, int)  # days done, days in all
    upgrade_progress = Signal(int, int)  # steps done, steps: an older database converted
    started = Signal()
    start_failed = Signal(str)  # why the database cannot be used, and what to do
    updated = Signal(object)  # LiveUpdate
    action_failed = Signal(str, str)  # title, message
    copy_started = Signal(str)  # trader id
    copy_cancelled = Signal(str, object)  # trader name, released Decimal
    deposited = Signal(object)  # Decimal

    def __init__(self, session_factory: SessionFactory, parent: QObject | None = None,
                 *, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._session_factory = session_factory
        self.monotonic = monotonic  # the wall clock the live clock reads (seconds)
        self.engine = EngineThread()
        self.session: Session | None = None
        self.speed = 60
        self.paused = False
        self.busy = False
        self._ticks = 0
        self._last_tick = self.monotonic()
        self._activity_seq = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = threading.Event()  # read by the engine thread during a backfill
        self.whatifs = WhatIfWorker("whatif")  # the wizard's what-ifs
        self.sweeps = WhatIfWorker("sweep")  # the trader detail's sweeps
        self._sweep_cache: dict[tuple[str, int], WhatIfSweep] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.on_timeout)

    # ------------------------------------------------------------------ lifecycle
    async def start(self, backfill_days: int = 90) -> None:
        """Open the session; on a first launch build the history first. A ``stop()``
        during that build ends it after the current simulated day (the next launch
        carries on), and the world does not start. When the database cannot be opened,
        read or written, ``start_failed`` says why and the world does not start."""
        try:
            self.session = await self.engine.call(self._session_factory,
                                                  self._report_upgrade)
            if await self.engine.call(self.session.needs_backfill):
                await self.engine.call(self.session.backfill, backfill_days,
                                       self._report_progress, stop=self._stopping.is_set)
        except StoreError as exc:
            log.error("cannot start: %s", exc)
            await self._drop_session()
            self.start_failed.emit(str(exc))
            return
        if self._stopping.is_set():  # also the only way a backfill ends unfinished
            return
        await self.refresh(with_stats=True)
        self._last_tick = self.monotonic()
        self.timer.start()
        self.started.emit()

    def _report_progress(self, done: int, total: int) -> None:
        # Called on the engine thread: a queued signal carries it to the GUI thread.
        self.backfill_progress.emit(done, total)

    def _report_upgrade(self, done: int, total: int) -> None:
        self.upgrade_progress.emit(done, total)  # engine thread → GUI thread, as above

    def interrupt(self) -> None:
        """Ask a running first-launch build to end after its current day."""
        self._stopping.set()

    async def stop(self) -> None:
        """Stop the clock, let running work finish, save the world, close the store."""
        self._stopping.set()
        self.timer.stop()
        for worker in (self.whatifs, self.sweeps):
            worker.closed = True  # a running what-if stops at its next check
        while self._tasks:  # a finishing tick can spawn more (the trader detail's reads)
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.session is not None:
            await self.engine.call(self.session.close)
            self.session = None
        self.engine.shutdown()
        for worker in (self.whatifs, self.sweeps):
            await worker.close()

    async def _drop_session(self) -> None:
        """Close a session whose start failed without saving over what is on disk."""
        session, self.session = self.session, None
        if session is not None:
            await self.engine.call(session.close, save=False)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run a coroutine as a task the controller keeps track of."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._raise_in_loop)
        return task

    @staticmethod
    def _raise_in_loop(task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            assert exc is not None
            raise exc

    # ------------------------------------------------------------------ the clock
    def set_speed(self, speed: int) -> None:
        self.speed = speed

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._last_tick = self.monotonic()

    @property
    def tick_count(self) -> int:
        """How many clock ticks have run the world (or tried to) since the start."""
        return self._ticks

    @Slot()
    def on_timeout(self) -> None:
        if self.busy or self.session is None:
            return  # the time keeps counting: the next tick catches up
        now = self.monotonic()
        elapsed_ms = min(int((now - self._last_tick) * 1000), MAX_CATCH_UP_MS)
        self._last_tick = now
        sim_ms = 0 if self.paused else elapsed_ms * self.speed
        self._ticks += 1
        self.spawn(self.tick(sim_ms, with_stats=self._ticks % STATS_EVERY_TICKS == 0))

    async def tick(self, sim_ms: int, with_stats: bool) -> None:
        """One step of the clock: run the world ``sim_ms`` further, then refresh."""
        self.busy = True
        try:
            if sim_ms > 0 and self.session is not None:
                await self.engine.call(self.session.advance, sim_ms)
            await self.refresh(with_stats=with_stats)
        finally:
            self.busy = False

    async def refresh(self, with_stats: bool = False) -> None:
        """Gather what changed on the engine thread and hand it to the views."""
        if self.session is None:
            return
        update = await self.engine.call(self._gather, with_stats)
        self.updated.emit(update)

    def _gather(self, with_stats: bool) -> LiveUpdate:
        session = self.session
        assert session is not None
        activity = session.activity(self._activity_seq)
        if activity:
            # Moved here, on the engine thread where gathers run one after another, so
            # two overlapping refreshes (a deposit's and a tick's) never read the same
            # rows.
            self._activity_seq = activity[-1].seq
        update = LiveUpdate(session.snapshot(), activity, session.roi_samples())
        if with_stats:
            update.stats = session.trader_stats()
        update.copy_labels = [
            (c.copy_id, copy_label(c.copy_id, c.trader_name, c.mode))
            for c in update.snapshot.copies]
        return update

    # ------------------------------------------------------------------ reads for dialogs
    async def call(self, method: Callable[Concatenate[Session, P], T], *args: P.args,
                   **kwargs: P.kwargs) -> T:
        """Run a Session method (``Session.copies``, …) on the engine thread."""
        session = self.session
        assert session is not None
        return await self.engine.call(method, session, *args, **kwargs)

    # ------------------------------------------------------------------ user actions
    async def copy(self, request: Any) -> bool:
        """Start a copy from a confirmed wizard; False (and a message) when refused."""
        result = await self.call(
            Session.copy, request.trader, request.mode, request.investment, amount=request.amount,
            ratio=request.ratio, max_slippage=request.max_slippage,
            max_margin_per_order=request.max_margin_per_order, stop_loss=request.stop_loss)
        if result.status != "applied":
            self.action_failed.emit("Copy refused", result.reason or "The copy was refused.")
            return False
        self.copy_started.emit(request.trader)
        await self.refresh(with_stats=True)
        return True

    async def cancel(self, trader: str) -> Decimal | None:
        """Cancel the copy of ``trader``; the released amount, or None when refused."""
        result, released = await self.call(Session.cancel, trader)
        if result.status != "applied":
            self.action_failed.emit("Cancel refused", result.reason or "The cancel was refused.")
            return None
        name = (await self.call(Session.preview_inputs, trader)).trader_name
        self.copy_cancelled.emit(name, released)
        await self.refresh(with_stats=True)
        return released

    async def deposit(self, amount: Decimal) -> bool:
        result = await self.call(Session.deposit, amount)
        if result.status != "applied":
            self.action_failed.emit("Deposit refused", result.reason or "Refused.")
            return False
        self.deposited.emit(amount)
        await self.refresh()
        return True


    # ------------------------------------------------------------------ what-ifs
    def _db_path(self) -> str:
        session = self.session
        assert session is not None
        return session.store.path  # a plain string, set when the session was opened

    async def whatif(self, request: Any, days: int) -> CopyFigures | None:
        """What the wizard's ``request`` would have done over the last ``days``, run on
        the what-if thread as a reader of the database; None when a newer what-if
        superseded it (it is given up part-way). Raises WhatIfError naming what was
        wrong."""
        if self.session is None:  # closing (or never opened): nothing to read
            return None
        return await self.whatifs.run(self._db_path(), "whatif", request, days)

    async def sweep(self, trader: str, days: int) -> WhatIfSweep | None:
        """The sweep of ``trader`` over the last ``days`` (kept per trader and window);
        None when the sweep of another trader superseded it."""
        key = (trader, days)
        if key not in self._sweep_cache:
            if self.session is None:  # closing (or never opened): nothing to read
                return None
            result = await self.sweeps.run(self._db_path(), "sweep", trader, days)
            if result is None:
                return None
            self._sweep_cache[key] = result
        return self._sweep_cache[key]


class WhatIfWorker:
    """One thread of what-ifs with a reader of the database of its own. A new run
    supersedes the one before: that one stops at its next check and returns None."""

    def __init__(self, name: str) -> None:
        self.thread = EngineThread(name)
        self.reader: WhatIfReader | None = None
        self._seq = 0
        self.closed = False

    async def run(self, db_path: str, method: str, *args: Any) -> Any:
        if self.closed:
            return None
        self._seq += 1
        seq = self._seq

        def superseded() -> bool:  # read on the worker thread: an int compare
            return self.closed or self._seq != seq

        def call() -> Any:
            if superseded():
                return None  # never started
            if self.reader is None:
                self.reader = WhatIfReader(db_path)
            try:
                return getattr(self.reader, method)(*args, cancelled=superseded)
            except WhatIfCancelled:
                return None

        result = await self.thread.call(call)
        return None if superseded() else result

    async def close(self) -> None:
        """Give up a running what-if, close the reader, end the thread (once; a second
        call does nothing)."""
        self.closed = True
        reader, self.reader = self.reader, None
        if reader is not None:
            await self.thread.call(reader.close)
        self.thread.shutdown()  # again after a second close: nothing happens
