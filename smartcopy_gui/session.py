"""A copier's session over the local engine, store and simulated world. No Qt.

Everything here runs on ONE thread (the desktop app's engine worker): the engine is
not thread-safe. Results are plain, immutable read models the GUI can show.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .domain.events import Event
from .domain.instruments import Instrument
from .domain.numbers import ZERO, money
from .domain.positions import Account, Position, liq_price_of
from .domain.preview import PreviewRow, preview_copy
from .domain.sizing import (
    COPIED_MIN_QTY,
    COPIED_REDUCED,
    INSUFFICIENT_FUNDS,
    POSITION_NOT_COPIED,
    SLIPPAGE_LIMIT,
    TRADER_LIQUIDATED,
)
from .domain.words import in_sentence, reason_words
from .engine.engine import Engine, Result
from .engine.state import BALANCE
from .store import Store
from .store.stats import TraderStats, copy_pnl, trader_stats
from .whatif.history import History
from .whatif.report import CopyFigures, figures
from .whatif.runner import CopyPlan, WhatIfError, checkpoint, run_whatif
from .whatif.sweep import run_sweep, smallest_clean_investment, sweep_plans

log = logging.getLogger("smartcopy.session")

DAY_MS = 86_400_000
T = TypeVar("T")
DEFAULT_COPIER = "me"
# What the first launch puts in the copier's contract account in the simulated world,
# so a copy can be tried at once (a deposit like any other: it is in the ledger).
DEMO_DEPOSIT = Decimal(10_000)


class World(Protocol):
    """What a session needs of the world it runs: a history to build, a live clock."""

    def needs_backfill(self) -> bool: ...

    def backfill(self, days: int, progress: Callable[[int, int], None] | None = None,
                 *, stop: Callable[[], bool] | None = None) -> object: ...

    def run_for(self, sim_ms: int) -> object: ...

    def save(self) -> None: ...


@dataclass(frozen=True)
class PreviewInputs:
    """A copy of what the copy wizard needs to preview a copy without the engine:
    feed it to ``domain.preview.preview_copy`` as the user types."""

    trader: str
    trader_name: str
    positions: list[Position]
    trader_equity: Decimal
    prices: dict[str, Decimal]
    instruments: dict[str, Instrument]
    taker_fee: Decimal
    min_investment: Decimal
    contract_balance: Decimal
    active_mode: str | None  # the mode of the copier's active copy of this trader

    def preview(self, mode: str, investment: Decimal, *, amount: Decimal | None = None,
                ratio: Decimal | None = None,
                max_margin_per_order: Decimal | None = None) -> list[PreviewRow]:
        return preview_copy(self.positions, self.trader_equity, self.prices, self.instruments,
                            investment, mode, self.taker_fee, amount=amount, ratio=ratio,
                            max_margin_per_order=max_margin_per_order)


@dataclass(frozen=True)
class PositionView:
    """One side of a position pair, as the positions panel shows it."""

    side: str
    leverage: Decimal
    margin_mode: str
    qty: Decimal
    entry: Decimal
    liq_price: Decimal | None
    upnl: Decimal
    roi: Decimal  # uPnL / margin
    margin: Decimal
    utilization: Decimal  # margin / account equity
    symbol: str = ""


@dataclass(frozen=True)
class PositionPair:
    """A copy's position in one symbol next to its trader's, and why they differ."""

    copy_id: int
    trader: str
    symbol: str
    trader_pos: PositionView | None
    copier_pos: PositionView | None
    entry_diff_bps: Decimal | None
    utilization_ratio: Decimal | None
    liq_diff: Decimal | None
    roi_diff: Decimal | None
    why: str


@dataclass(frozen=True)
class CopyRow:
    """A copy relation with its money."""

    copy_id: int
    trader: str
    trader_name: str
    mode: str
    status: str
    investment: Decimal
    equity: Decimal
    pnl: Decimal
    roi: Decimal
    released: Decimal


@dataclass(frozen=True)
class ActivityRow:
    """One outcome: what a copy did and why."""

    seq: int
    ts: int
    copy_id: int | None
    trader: str
    symbol: str | None
    action: str
    status: str
    reason: str | None
    qty: str | None
    price: str | None
    event_id: str


@dataclass
class SessionSnapshot:
    """What the windows show, taken in one go on the engine thread."""

    sim_ts: int
    contract_balance: Decimal
    pairs: list[PositionPair] = field(default_factory=list)
    copies: list[CopyRow] = field(default_factory=list)


def _view(acc: Account, pos: Position, engine: Engine) -> PositionView:
    st = engine.state
    price = st.prices[pos.symbol]
    upnl = pos.upnl(price)
    equity = acc.equity(st.prices)
    return PositionView(
        side=pos.side, leverage=pos.leverage, margin_mode=pos.margin_mode, qty=pos.qty,
        entry=pos.entry, liq_price=liq_price_of(acc, pos, st.instruments, st.prices),
        upnl=money(upnl), roi=upnl / pos.margin if pos.margin else ZERO, margin=pos.margin,
        utilization=pos.margin / equity if equity > 0 else ZERO, symbol=pos.symbol)


# Outcomes that leave a copy's position unlike its trader's, said in the words of the
# Activity log (domain.words), as the middle of a sentence.
_NOT_COPIED = (INSUFFICIENT_FUNDS, SLIPPAGE_LIMIT, POSITION_NOT_COPIED)


def _outcome_why(action: str, status: str, reason: str | None) -> str:
    """Why one outcome made the copy's position differ ("" if it did not)."""
    if action == "liquidation":
        return "the copy was liquidated"
    if reason == TRADER_LIQUIDATED:
        return f"closed because {in_sentence(reason_words(reason))}"
    if reason in _NOT_COPIED:
        return f"not copied: {in_sentence(reason_words(reason))}"
    if status in (COPIED_MIN_QTY, COPIED_REDUCED):
        return in_sentence(reason_words(None, status))
    return ""


def _start_equity_key(copy_id: int) -> str:
    """The meta key of the trader's equity when copy ``copy_id`` started."""
    return f"copy:{copy_id}:trader_equity_at_start"


class Session:
    """The desktop app's model: engine, store and world for one copier."""

    def __init__(self, db_path: str | Path, *, seed: int = 7, copier: str = DEFAULT_COPIER,
                 world_factory: Callable[[Engine, int], World] | None = None,
                 upgrade_progress: Callable[[int, int], None] | None = None) -> None:
        """``upgrade_progress`` hears (steps done, steps) while an older database is
        converted to this version's format, once that has taken a second."""
        self.store = Store(db_path, writer="SmartCopy", progress=upgrade_progress)
        self.engine = Engine(self.store)
        self.copier = copier
        self.world = world_factory(self.engine, seed) if world_factory else None
        self._baselines: dict[int, Decimal] = {}  # copy id → trader equity at its start

    def close(self, save: bool = True) -> None:
        """Persist the world's state (unless ``save`` is False: after a failed start,
        nothing is written over what is on disk) and close the database."""
        try:
            if save:
                self.save()
        finally:
            self.store.close()

    # ------------------------------------------------------------------ time
    @property
    def sim_ts(self) -> int:
        """The simulated clock: the time of the last applied event."""
        return self.engine.state.last_ts or 0

    def _event_ts(self) -> int:
        return self.sim_ts

    # ------------------------------------------------------------------ the world
    def needs_backfill(self) -> bool:
        """True on a first launch: the simulated world has no history yet, or the
        launch that built it ended before the demo deposit."""
        return self.world is not None and (self.world.needs_backfill()
                                           or self._demo_deposit_due())

    def _demo_deposit_due(self) -> bool:
        """The copier has never had a deposit (the demo's is the first)."""
        return self.copier not in self.store.deposit_accounts()

    def backfill(self, days: int, progress: Callable[[int, int], None] | None = None,
                 demo_deposit: Decimal = DEMO_DEPOSIT,
                 stop: Callable[[], bool] | None = None) -> bool:
        """Build ``days`` of simulated history, reporting (days done, days) as it goes;
        then, if the contract account is empty, deposit ``demo_deposit`` demo USDT.
        ``stop`` can end it after any day (the next launch carries on); returns whether
        the history is complete."""
        if self.world is None:
            return True
        if self.world.needs_backfill():
            self.world.backfill(days, progress=progress, stop=stop)
            self.world.save()
            if self.world.needs_backfill():
                return False
        # Checked again on every launch until done: a launch killed between the
        # world's save and this deposit leaves it due, not skipped.
        if demo_deposit > 0 and self._demo_deposit_due():
            self.deposit(demo_deposit)
        return True

    def advance(self, sim_ms: int) -> None:
        """Run the live world ``sim_ms`` simulated milliseconds further."""
        if self.world is not None and sim_ms > 0:
            self.world.run_for(sim_ms)

    def save(self) -> None:
        """Persist where the world stands (so a restart resumes from here)."""
        if self.world is not None:
            self.world.save()

    # ------------------------------------------------------------------ copier actions
    def _submit(self, type_: str, **fields: Any) -> Result:
        event = Event(f"ui-{type_}-{uuid.uuid4().hex[:12]}", self._event_ts(), type_,
                      {k: v for k, v in fields.items() if v is not None})
        result = self.engine.submit(event)
        log.info("%s %s → %s %s", type_, fields, result.status, result.reason or "")
        return result

    def deposit(self, amount: Decimal) -> Result:
        """Move ``amount`` USDT into the copier's contract account."""
        return self._submit("deposit", account=self.copier, amount=amount)

    def copy(self, trader: str, mode: str, investment: Decimal, *,
             amount: Decimal | None = None, ratio: Decimal | None = None,
             max_slippage: Decimal | None = None,
             max_margin_per_order: Decimal | None = None,
             stop_loss: Decimal | None = None) -> Result:
        """Start copying ``trader``; the trader's equity at this moment is kept as the
        copy's ROI baseline (see :meth:`roi_samples`)."""
        result = self._submit("copy", copier=self.copier, trader=trader, mode=mode,
                              investment=investment, amount=amount, ratio=ratio,
                              max_slippage=max_slippage,
                              max_margin_per_order=max_margin_per_order, stop_loss=stop_loss)
        copy_id = self.active_copy_of(trader)
        if result.status == "applied" and copy_id is not None:
            st = self.engine.state
            equity = st.traders[trader].account.equity(st.prices)
            self.store.save_meta(_start_equity_key(copy_id), str(equity))
        return result

    def cancel(self, trader: str) -> tuple[Result, Decimal]:
        """Cancel the active copy of ``trader``; returns the result and the released amount."""
        active = self.active_copy_of(trader)
        result = self._submit("cancel", copier=self.copier, trader=trader)
        released = self.engine.state.copies[active].released if active else ZERO
        return result, released

    # ------------------------------------------------------------------ read models
    def contract_balance(self) -> Decimal:
        acc = self.engine.state.contracts.get(self.copier)
        return acc.wallet if acc else ZERO

    def active_copy_of(self, trader: str) -> int | None:
        t = self.engine.state.traders.get(trader)
        if t is None:
            return None
        return next((c.id for c in t.copies if c.copier == self.copier), None)

    def active_mode_of(self, trader: str) -> str | None:
        copy_id = self.active_copy_of(trader)
        return self.engine.state.copies[copy_id].mode if copy_id else None

    def trader_stats(self, periods: tuple[int, ...] = (7, 30, 90)) -> list[TraderStats]:
        return trader_stats(self.store, self.engine.state, self.sim_ts, periods)

    def preview_inputs(self, trader: str) -> PreviewInputs:
        """A detached copy of the trader's book for the copy wizard."""
        st = self.engine.state
        t = st.traders[trader]
        positions = [Position(p.symbol, p.side, p.qty, p.entry, p.leverage, p.margin_mode,
                              p.cycle) for p in t.account.positions.values()]
        return PreviewInputs(trader, t.name, positions, t.account.equity(st.prices),
                             dict(st.prices), dict(st.instruments), st.config.taker_fee,
                             st.config.min_investment, self.contract_balance(),
                             self.active_mode_of(trader))

    def trader_positions(self, trader: str) -> list[PositionView]:
        t = self.engine.state.traders[trader]
        return [_view(t.account, p, self.engine) for _, p in sorted(t.account.positions.items())]

    def equity_curve(self, trader: str, days: int = 90) -> list[tuple[int, Decimal]]:
        """(day start in ms, closing equity) for the trader, then now."""
        acc_id = f"trader:{trader}"
        curve = [(day * DAY_MS, equity) for day, equity in
                 self.store.equity_series(acc_id, self.sim_ts // DAY_MS - days)]
        acc = self.engine.state.traders[trader].account
        curve.append((self.sim_ts, money(acc.equity(self.engine.state.prices))))
        return curve

    def recent_trades(self, trader: str, limit: int = 50) -> list[dict[str, Any]]:
        """The trader's latest ended position cycles, newest first (the trader detail's
        rows: symbol, side, opened_ts, closed_ts, result, how)."""
        return [asdict(c) for c in self.store.recent_closed(f"trader:{trader}", limit)]

    def copiers_of(self, trader: str) -> list[CopyRow]:
        return [row for row in self._copy_rows(None) if row.trader == trader]

    def _copy_rows(self, copier: str | None) -> list[CopyRow]:
        st = self.engine.state
        rows = []
        for c in st.copies.values():
            if copier is not None and c.copier != copier:
                continue
            pnl = copy_pnl(st, c.id)
            rows.append(CopyRow(
                copy_id=c.id, trader=c.trader, trader_name=st.traders[c.trader].name,
                mode=c.mode, status=c.status, investment=c.investment,
                equity=money(c.account.equity(st.prices)) if c.active else ZERO,
                pnl=pnl, roi=pnl / c.investment if c.investment else ZERO,
                released=c.released))
        return rows

    def copies(self) -> list[CopyRow]:
        """The copier's copies, oldest first."""
        return self._copy_rows(self.copier)

    def position_pairs(self) -> list[PositionPair]:
        """For each active copy: every symbol either side holds, side by side."""
        st = self.engine.state
        pairs = []
        for c in st.copies.values():
            if c.copier != self.copier or not c.active:
                continue
            trader_acc = st.traders[c.trader].account
            symbols = sorted(set(trader_acc.positions) | set(c.account.positions))
            for symbol in symbols:
                tp = trader_acc.positions.get(symbol)
                cp = c.account.positions.get(symbol)
                tv = _view(trader_acc, tp, self.engine) if tp else None
                cv = _view(c.account, cp, self.engine) if cp else None
                pairs.append(self._pair(c.id, c.trader, symbol, tv, cv))
        return pairs

    def _pair(self, copy_id: int, trader: str, symbol: str, tv: PositionView | None,
              cv: PositionView | None) -> PositionPair:
        entry_bps = util = liq = roi = None
        if tv and cv:
            entry_bps = (cv.entry - tv.entry) / tv.entry * 10_000
            util = cv.utilization / tv.utilization if tv.utilization else None
            if tv.liq_price is not None and cv.liq_price is not None:
                liq = cv.liq_price - tv.liq_price
            roi = cv.roi - tv.roi
        return PositionPair(copy_id, trader, symbol, tv, cv, entry_bps, util, liq, roi,
                            self._why(copy_id, symbol, tv, cv, entry_bps))

    def _why(self, copy_id: int, symbol: str, tv: PositionView | None,
             cv: PositionView | None, entry_bps: Decimal | None) -> str:
        """A sentence on why this copy differs from its trader in this symbol."""
        reasons: list[str] = []
        for outcome in self.store.copy_outcomes(copy_id, symbol, newest_first=5):
            text = _outcome_why(outcome.action, outcome.status, outcome.reason)
            if text and text not in reasons:
                reasons.append(text)
            if outcome.action == "open":  # this cycle's start: what precedes it is an earlier cycle
                break
        if tv and cv and entry_bps is not None and entry_bps != 0:
            reasons.insert(0, f"filled {abs(entry_bps):.1f} bps "
                              f"{'worse' if (entry_bps > 0) == (cv.side == 'long') else 'better'}"
                              " than the trader after the copy delay and price impact")
        if tv and not cv and not reasons:
            reasons.append("not copied: this position was opened before the copy started")
        return "; ".join(reasons) or "copied 1:1"

    def activity(self, after_seq: int = 0, limit: int = 5000) -> list[ActivityRow]:
        """The copier's outcomes after ``after_seq``, oldest first."""
        return [ActivityRow(*row) for row in self.store.activity(self.copier, after_seq, limit)]

    def roi_samples(self) -> list[tuple[int, int, Decimal, Decimal]]:
        """(copy id, now, trader ROI, copier ROI) for each active copy of the copier.

        Both start at 0 when the copy starts: the trader's ROI is measured from its
        equity at that moment (kept by :meth:`copy`; for a copy made elsewhere, e.g. by a
        replay, its equity at the close of the day before, or its starting balance), the
        copier's is PnL / investment.
        """
        st = self.engine.state
        out = []
        for c in st.copies.values():
            if c.copier != self.copier or not c.active:
                continue
            acc = st.traders[c.trader].account
            base = self._start_equity(c.id, acc.id, c.created_ts)
            now = acc.equity(st.prices)
            trader_roi = (now - base) / base if base > 0 else ZERO
            out.append((c.id, self.sim_ts, trader_roi, copy_pnl(st, c.id) / c.investment
                        if c.investment else ZERO))
        return out

    def _start_equity(self, copy_id: int, account: str, ts: int) -> Decimal:
        cached = self._baselines.get(copy_id)
        if cached is not None:
            return cached
        kept = self.store.load_meta(_start_equity_key(copy_id))
        if kept is not None:
            base = Decimal(kept)
        else:
            before = self.store.equity_before(account, ts // DAY_MS)
            base = before if before is not None else self.store.funded(account, (BALANCE,))[0]
        self._baselines[copy_id] = base
        return base

    def snapshot(self) -> SessionSnapshot:
        """Everything the live panels need, in one call."""
        return SessionSnapshot(self.sim_ts, self.contract_balance(), self.position_pairs(),
                               self.copies())


# ---------------------------------------------------------------------- what-ifs
# A what-if run checks whether it was superseded once per this many recorded events,
# and lets any thread waiting for the interpreter (the window's, to paint) go first.
CANCEL_CHECK_EVERY = 64


class WhatIfCancelled(Exception):
    """A what-if given up part-way because a newer one superseded it."""


@dataclass(frozen=True)
class WhatIfSweep:
    """The sweep of one trader over a window: the figures of each (mode, investment)
    copy, and the smallest clean smart investment (None: none up to 100,000 USDT)."""

    trader: str
    days: int
    copies: list[CopyFigures]
    smallest_clean: Decimal | None


class _Cancellable:
    """A history that raises WhatIfCancelled, while it is read, once ``cancelled()``."""

    def __init__(self, history: History, cancelled: Callable[[], bool]) -> None:
        self.history = history
        self.cancelled = cancelled

    def recorded_events(self, since_ts: int, until_ts: int,
                        types: Any = None) -> Any:
        cancelled = self.cancelled
        for i, ev in enumerate(self.history.recorded_events(since_ts, until_ts, types)):
            if i % CANCEL_CHECK_EVERY == 0:
                if cancelled():
                    raise WhatIfCancelled
                time.sleep(0)  # gives the GIL up to a waiting thread, else returns
            yield ev


def copy_plan(request: Any) -> CopyPlan:
    """The hypothetical copy of what the copy wizard would submit (a ``CopyRequest``)."""
    return CopyPlan(request.mode, request.investment, amount=request.amount,
                    ratio=request.ratio, max_slippage=request.max_slippage,
                    max_margin_per_order=request.max_margin_per_order,
                    stop_loss=request.stop_loss)


class WhatIfReader:
    """What-ifs over the user's database, on a connection of its own: a reader (no
    writer lock, nothing written), used from one worker thread that is not the engine's
    (a what-if runs its own in-memory engine). Each run reads one consistent snapshot
    and ends at the last event recorded when it began."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self._store: Store | None = None

    def _open(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _window(self, store: Store, days: int) -> tuple[int, int]:
        last = store.load_meta("last_ts")
        if not last:
            raise WhatIfError("the database holds no history yet")
        end = int(last)
        return end - days * DAY_MS, end

    def whatif(self, request: Any, days: int,
               cancelled: Callable[[], bool] = lambda: False) -> CopyFigures:
        """What ``request`` (a ``CopyRequest``) would have done over the last ``days``.
        Raises WhatIfError naming what was wrong, WhatIfCancelled once ``cancelled()``."""
        return self._read(lambda store: self._whatif(store, request, days, cancelled),
                          cancelled)

    def _whatif(self, store: Store, request: Any, days: int,
                cancelled: Callable[[], bool]) -> CopyFigures:
        start, end = self._window(store, days)
        run = run_whatif(_Cancellable(store, cancelled), request.trader, start,
                         [copy_plan(request)], end)
        return figures(run)[0]

    def sweep(self, trader: str, days: int,
              cancelled: Callable[[], bool] = lambda: False) -> WhatIfSweep:
        """The default sweep (12 investments × 3 modes, one replay) of ``trader`` over
        the last ``days``, and the smallest clean smart investment."""
        return self._read(lambda store: self._sweep(store, trader, days, cancelled),
                          cancelled)

    def _sweep(self, store: Store, trader: str, days: int,
               cancelled: Callable[[], bool]) -> WhatIfSweep:
        start, end = self._window(store, days)
        history = _Cancellable(store, cancelled)
        at = checkpoint(history, trader, start)
        copies = run_sweep(history, trader, start, sweep_plans(), end, at)
        smallest = smallest_clean_investment(history, trader, start,
                                             CopyPlan("smart", Decimal(0)), end, at=at)
        return WhatIfSweep(trader, days, copies, smallest)

    def _read(self, run: Callable[[Store], T], cancelled: Callable[[], bool]) -> T:
        """``run`` inside one read snapshot. The what-if's engine wraps what its history
        raised (its state cannot be rebuilt), so a cancel is told by asking again."""
        store = self._open()
        try:
            with store.snapshot():
                return run(store)
        except WhatIfError:
            raise
        except Exception:
            if cancelled():
                raise WhatIfCancelled from None
            raise
