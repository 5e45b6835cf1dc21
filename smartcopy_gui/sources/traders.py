"""The simulated lead traders: profiles, and a bot per trading style.

A bot looks at the market on its own bar (five minutes for the scalper, a day for the
rotation trader), keeps a small memory of recent closes, and trades through a
:class:`Desk`: its view of its own engine account *at this instant* (the engine's
state, never a shadow ledger). The desk builds ``open`` / ``close`` / ``leverage``
events exactly as a scenario file would carry them and only ever builds one the
engine will accept: a quantity on the step and at least the minimum, margin plus fee
within the available balance (the engine's own formulas), the open position's side,
leverage and margin mode kept, a leverage change only when it is affordable.

Signals are computed in floats from the model's prices (they are opinions, not
money); every quantity, price and amount is an exact Decimal. A bot's randomness is
a function of (seed, trader, time), so it needs no generator state; its memory is
plain JSON.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.events import Event
from ..domain.numbers import ONE, ZERO, D, floor_step, money
from ..domain.positions import CROSS, ISOLATED, LONG, SHORT, Account, Position, position_margin
from ..engine.state import State

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
# Below this share of its starting balance a trader has blown up and stops opening.
BLOWN_UP = D("0.10")


@dataclass(frozen=True)
class TraderProfile:
    """Who a simulated trader is and how it trades."""

    id: str
    name: str
    style: str
    description: str
    symbols: tuple[str, ...]
    leverage: tuple[int, int]  # the range it picks from (capped by each instrument)
    margin_mode: str
    sizing: Decimal  # margin committed per entry, as a fraction of equity
    profit_share: Decimal
    balance: Decimal
    bar_ms: int  # how often it looks at the market


# --------------------------------------------------------------------------- the desk
class Desk:
    """A trader's view of its engine account at one instant, and its order ticket.

    Reads ``state`` afresh on every call: an event the bot yields is applied by the
    engine before the bot runs on, so what the desk says is always current.
    """

    def __init__(self, state: State, profile: TraderProfile, ts: int) -> None:
        self.state = state
        self.profile = profile
        self.trader_id = profile.id
        self.ts = ts
        self._seq = 0

    # ------------------------------------------------------------------ reading
    @property
    def account(self) -> Account:
        return self.state.traders[self.trader_id].account

    def position(self, symbol: str) -> Position | None:
        return self.account.positions.get(symbol)

    def price(self, symbol: str) -> Decimal:
        return self.state.prices[symbol]

    def equity(self) -> Decimal:
        return self.account.equity(self.state.prices)

    def available(self) -> Decimal:
        return self.account.available(self.state.prices)

    def blown_up(self) -> bool:
        """True when equity has fallen below 10% of the starting balance."""
        return self.equity() < self.profile.balance * BLOWN_UP

    def favourable_move(self, symbol: str) -> Decimal:
        """How far the price has moved in the open position's favour, as a fraction."""
        pos = self.position(symbol)
        if pos is None:
            return ZERO
        move = self.price(symbol) / pos.entry - ONE
        return move if pos.side == LONG else -move

    def roe(self, symbol: str) -> Decimal:
        """Unrealized PnL over margin of the open position."""
        pos = self.position(symbol)
        if pos is None or pos.margin <= 0:
            return ZERO
        return pos.upnl(self.price(symbol)) / pos.margin

    def held_ms(self, symbol: str) -> int:
        pos = self.position(symbol)
        return self.ts - pos.opened_ts if pos is not None else 0

    # ------------------------------------------------------------------ tickets
    def _event(self, type_: str, fields: dict[str, Any]) -> Event:
        event = Event(f"{self.trader_id}-{self.ts}-{self._seq}", self.ts, type_,
                      {"trader": self.trader_id, **fields})
        self._seq += 1
        return event

    def max_leverage(self, symbol: str) -> int:
        return int(self.state.instruments[symbol].max_leverage)

    def affordable(self, symbol: str, qty: Decimal, leverage: Decimal) -> bool:
        """The engine's test: margin + fee within the available balance, equity positive."""
        price = self.price(symbol)
        margin = position_margin(qty, price, leverage)
        fee = money(qty * price * self.state.config.taker_fee)
        return margin + fee <= self.available() and self.equity() > 0

    def open(self, symbol: str, side: str, margin: Decimal, leverage: int | Decimal,
             margin_mode: str | None = None) -> Event | None:
        """An ``open`` committing about ``margin`` of margin, cut to what the account
        affords; None when the trader has blown up or not even the minimum fits.

        With a position open it increases that position: same side only, and at the
        position's own leverage and margin mode.
        """
        if self.blown_up():
            return None
        inst = self.state.instruments[symbol]
        pos = self.position(symbol)
        if pos is not None:
            if pos.side != side:
                return None
            lev, mode = pos.leverage, pos.margin_mode
        else:
            lev = Decimal(max(1, min(int(leverage), int(inst.max_leverage))))
            mode = margin_mode or self.profile.margin_mode
        price = self.price(symbol)
        step = inst.qty_step
        available = self.available()
        if margin <= 0 or available <= 0:
            return None
        qty = floor_step(min(margin, available) * lev / price, step)
        unit_cost = price * (ONE / lev + self.state.config.taker_fee)
        qty = min(qty, floor_step(available / unit_cost, step))
        while qty >= inst.min_qty and not self.affordable(symbol, qty, lev):
            qty -= step  # the 1e-8 roundings of margin and fee can cost one step
        if qty < inst.min_qty:
            return None
        return self._event("open", {"symbol": symbol, "side": side, "qty": qty,
                                    "price": price, "leverage": lev, "margin_mode": mode})

    def close(self, symbol: str, qty: Decimal | None = None) -> Event | None:
        """A ``close`` of ``qty`` (rounded down to the step), or of all of it when
        ``qty`` is None or would leave less than the minimum; None with no position."""
        pos = self.position(symbol)
        if pos is None:
            return None
        fields: dict[str, Any] = {"symbol": symbol, "price": self.price(symbol)}
        if qty is not None:
            inst = self.state.instruments[symbol]
            qty = floor_step(qty, inst.qty_step)
            if qty <= 0:
                return None
            if qty < pos.qty and pos.qty - qty >= inst.min_qty:
                fields["qty"] = qty
        return self._event("close", fields)

    def set_leverage(self, symbol: str, leverage: int) -> Event | None:
        """A ``leverage`` change of the open position, when it changes anything and the
        account can afford the margin it adds."""
        pos = self.position(symbol)
        if pos is None:
            return None
        lev = Decimal(max(1, min(leverage, self.max_leverage(symbol))))
        if lev == pos.leverage:
            return None
        increase = position_margin(pos.qty, pos.entry, lev) - pos.margin
        if increase > 0 and increase > self.available():
            return None
        return self._event("leverage", {"symbol": symbol, "leverage": lev})


# --------------------------------------------------------------------------- helpers
def _push(window: list[float], value: float, size: int) -> None:
    window.append(value)
    if len(window) > size:
        del window[0]


def _ema(previous: float | None, value: float, bars: int) -> float:
    if previous is None:
        return value
    return previous + 2.0 / (bars + 1) * (value - previous)


def _mean_sd(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    var = sum([(v - mean) ** 2 for v in values]) / n
    return mean, math.sqrt(var)


def _side(direction: int) -> str:
    return LONG if direction > 0 else SHORT


def _direction(pos: Position) -> int:
    return 1 if pos.side == LONG else -1


# --------------------------------------------------------------------------- bots
class Bot:
    """A trading style. ``observe`` sees each bar's closes; ``act`` trades on them."""

    def __init__(self, profile: TraderProfile, seed: int) -> None:
        self.profile = profile
        self.seed = seed
        self.mem: dict[str, Any] = {s: {} for s in profile.symbols}

    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.profile.symbols

    @property
    def bar_ms(self) -> int:
        return self.profile.bar_ms

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        """Remember this bar's closes (the model's prices, for signals only)."""
        raise NotImplementedError

    def act(self, desk: Desk) -> Iterator[Event]:
        """The trader's events for this bar, each built on the state the previous one
        left behind (the engine applies each before the bot resumes)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared habits
    def rng(self, ts: int, salt: str = "") -> random.Random:
        """This trader's dice at ``ts``: the same seed, trader and time give the same
        throws, with no generator state to keep."""
        return random.Random(f"{self.seed}:{self.id}:{ts}:{salt}")

    def pick_leverage(self, desk: Desk, symbol: str) -> int:
        lo, hi = self.profile.leverage
        return min(self.rng(desk.ts, symbol + ":lev").randint(lo, hi),
                   desk.max_leverage(symbol))

    def budget(self, desk: Desk, symbol: str, scale: float = 1.0) -> Decimal:
        """Margin for one entry: equity × sizing, ±20% by mood, times ``scale``."""
        jitter = self.rng(desk.ts, symbol + ":size").uniform(0.8, 1.2) * scale
        return desk.equity() * self.profile.sizing * Decimal(f"{jitter:.4f}")

    def enter(self, desk: Desk, symbol: str, direction: int, scale: float = 1.0
              ) -> Event | None:
        return desk.open(symbol, _side(direction), self.budget(desk, symbol, scale),
                         self.pick_leverage(desk, symbol))

    # ------------------------------------------------------------------ persistence
    def to_state(self) -> dict[str, Any]:
        return copy.deepcopy(self.mem)

    def state_view(self) -> Mapping[str, Any]:
        """The live memory, for a caller that serialises it at once."""
        return self.mem

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.mem = copy.deepcopy(dict(state))


class TrendFollower(Bot):
    """EMA crossover on hourly closes (one day against four); stop-and-reverse on a
    crossing, a stop at 30% of margin, and no re-entry until the signal changes."""

    FAST, SLOW, WARMUP, BAND = 24, 96, 48, 0.005
    STOP_ROE = D("-0.30")

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            m = self.mem[s]
            x = closes[s]
            m["fast"] = _ema(m.get("fast"), x, self.FAST)
            m["slow"] = _ema(m.get("slow"), x, self.SLOW)
            m["n"] = m.get("n", 0) + 1

    def act(self, desk: Desk) -> Iterator[Event]:
        for s in self.symbols:
            m = self.mem[s]
            if m["n"] < self.WARMUP:
                continue
            fast, slow = m["fast"], m["slow"]
            signal = 1 if fast > slow * (1 + self.BAND) else -1 if fast < slow * (
                1 - self.BAND) else 0
            pos = desk.position(s)
            if pos is not None and (signal == -_direction(pos)
                                    or desk.roe(s) <= self.STOP_ROE):
                ev = desk.close(s)
                if ev:
                    yield ev
            if signal == 0:
                m["entered"] = 0
            elif signal != m.get("entered", 0) and desk.position(s) is None:
                ev = self.enter(desk, s, signal)
                if ev:
                    m["entered"] = signal
                    yield ev


class MeanReversion(Bot):
    """Fades stretched moves on 5-minute closes: a z-score of ±2.2 against the last
    three hours opens, the return to the mean closes; stop on a 60% loss of margin
    or after eight hours."""

    WINDOW, ENTRY_Z, EXIT_Z = 36, 2.2, 0.2
    STOP_ROE = D("-0.60")
    MAX_HOLD_MS = 8 * HOUR_MS
    COOLDOWN_MS = 30 * MINUTE_MS

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            m = self.mem[s]
            w = m.setdefault("w", [])
            _push(w, closes[s], self.WINDOW)
            if len(w) == self.WINDOW:
                mean, sd = _mean_sd(w)
                m["z"] = (w[-1] - mean) / sd if sd > 0 else 0.0

    def act(self, desk: Desk) -> Iterator[Event]:
        for s in self.symbols:
            m = self.mem[s]
            z = m.get("z")
            if z is None:
                continue
            pos = desk.position(s)
            if pos is not None:
                d = _direction(pos)
                if (d * z > -self.EXIT_Z or desk.roe(s) <= self.STOP_ROE
                        or desk.held_ms(s) >= self.MAX_HOLD_MS):
                    ev = desk.close(s)
                    if ev:
                        m["exit_ts"] = desk.ts
                        yield ev
                continue
            if desk.ts - m.get("exit_ts", -self.COOLDOWN_MS) < self.COOLDOWN_MS:
                continue
            if abs(z) >= self.ENTRY_Z:
                ev = self.enter(desk, s, -1 if z > 0 else 1)
                if ev:
                    yield ev


class Scalper(Bot):
    """Chases five-minute breakouts of the last hour at 25–50×: +0.4% takes profit,
    −0.25% stops, an hour is the longest hold. Fees do the rest."""

    WINDOW = 13
    BREAK = 0.002
    TARGET, STOP = D("0.004"), D("-0.0025")
    MAX_HOLD_MS = HOUR_MS
    COOLDOWN_MS = HOUR_MS

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            _push(self.mem[s].setdefault("w", []), closes[s], self.WINDOW)

    def act(self, desk: Desk) -> Iterator[Event]:
        for s in self.symbols:
            m = self.mem[s]
            pos = desk.position(s)
            if pos is not None:
                move = desk.favourable_move(s)
                if (move >= self.TARGET or move <= self.STOP
                        or desk.held_ms(s) >= self.MAX_HOLD_MS):
                    ev = desk.close(s)
                    if ev:
                        m["exit_ts"] = desk.ts
                        yield ev
                continue
            w = m["w"]
            if len(w) < self.WINDOW or desk.ts - m.get("exit_ts", -self.COOLDOWN_MS) < \
                    self.COOLDOWN_MS:
                continue
            x, prior = w[-1], w[:-1]
            if x > max(prior) * (1 + self.BREAK) and x > w[-4]:
                direction = 1
            elif x < min(prior) * (1 - self.BREAK) and x < w[-4]:
                direction = -1
            else:
                continue
            ev = self.enter(desk, s, direction)
            if ev:
                yield ev


class SwingTrader(Bot):
    """Buys pullbacks in a weekly uptrend (sells rallies in a downtrend) on 4-hour
    closes, at 2–3× isolated with small size: +8% takes profit, −4% stops. When
    volatility jumps it lowers leverage (adding margin, when it can), and raises it
    again once things calm down."""

    FAST, SLOW = 6, 42
    TARGET, STOP = D("0.08"), D("-0.04")

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            m = self.mem[s]
            x = closes[s]
            last = m.get("last")
            if last is not None:
                r = abs(math.log(x / last))
                m["vol"] = _ema(m.get("vol"), r, 6)
                m["vol_long"] = _ema(m.get("vol_long"), r, 60)
            m["last"] = x
            m["fast"] = _ema(m.get("fast"), x, self.FAST)
            m["slow"] = _ema(m.get("slow"), x, self.SLOW)
            m["n"] = m.get("n", 0) + 1

    def act(self, desk: Desk) -> Iterator[Event]:
        lo, hi = self.profile.leverage
        for s in self.symbols:
            m = self.mem[s]
            if m["n"] < 12:
                continue
            trend = 1 if m["fast"] > m["slow"] else -1
            pos = desk.position(s)
            if pos is not None:
                move = desk.favourable_move(s)
                if move >= self.TARGET or move <= self.STOP or trend != _direction(pos):
                    ev = desk.close(s)
                    if ev:
                        yield ev
                    continue
                ratio = m["vol"] / m["vol_long"] if m.get("vol_long") else 1.0
                lev = int(pos.leverage)
                if ratio > 1.5 and lev > lo:
                    ev = desk.set_leverage(s, lev - 1)
                elif ratio < 0.8 and lev < hi:
                    ev = desk.set_leverage(s, lev + 1)
                else:
                    ev = None
                if ev:
                    yield ev
                continue
            pullback = (m["last"] / m["fast"] - 1) * trend
            if pullback < -max(0.01, m.get("vol", 0.01)):
                ev = self.enter(desk, s, trend)
                if ev:
                    yield ev


class GridTrader(Bot):
    """A cross-margin grid on 15-minute closes: one unit at the start, one more at
    every step against it (up to five), one unit taken off at every step back. The
    grid leans with the day's trend when it starts; five units deep and another two
    steps against, it gives up and closes everything."""

    STEP = {"ETHUSDT": D("0.015"), "SOLUSDT": D("0.02")}
    MAX_UNITS = 5
    COOLDOWN_MS = DAY_MS

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            m = self.mem[s]
            m["x"] = closes[s]
            m["ema"] = _ema(m.get("ema"), closes[s], 96)
            m["n"] = m.get("n", 0) + 1

    def act(self, desk: Desk) -> Iterator[Event]:
        for s in self.symbols:
            m = self.mem[s]
            if m["n"] < 96:
                continue
            step = self.STEP.get(s, D("0.02"))
            pos = desk.position(s)
            price = desk.price(s)
            if pos is None:
                m["units"] = 0
                if desk.ts - m.get("stop_ts", -self.COOLDOWN_MS) < self.COOLDOWN_MS:
                    continue
                direction = 1 if m["x"] >= m["ema"] else -1
                ev = self.enter(desk, s, direction)
                if ev:
                    m["units"], m["last_fill"] = 1, str(price)
                    yield ev
                continue
            d = _direction(pos)
            units = max(1, m.get("units", 1))
            last = Decimal(m.get("last_fill", str(pos.entry)))
            move = (price / last - ONE) * d
            if move <= -step * (3 if units >= self.MAX_UNITS else 1):
                if units >= self.MAX_UNITS:
                    ev = desk.close(s)
                    if ev:
                        m["units"], m["stop_ts"] = 0, desk.ts
                        yield ev
                else:
                    ev = self.enter(desk, s, d)
                    if ev:
                        m["units"], m["last_fill"] = units + 1, str(price)
                        yield ev
            elif move >= step:
                ev = desk.close(s, pos.qty / units if units > 1 else None)
                if ev:
                    m["units"], m["last_fill"] = units - 1, str(price)
                    yield ev


class Gambler(Bot):
    """Jumps on a strong hourly move at 50–100× isolated, one bet at a time and at
    most one every two days; takes +1.5% (75–150% on margin), ramps leverage to the
    maximum once a bet runs, gives up after twelve hours. Liquidation is the stop."""

    WINDOW = 5
    TRIGGER = 0.025
    TARGET = D("0.015")
    RAMP = D("0.006")
    MAX_HOLD_MS = 12 * HOUR_MS
    COOLDOWN_MS = 2 * DAY_MS

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            _push(self.mem[s].setdefault("w", []), closes[s], self.WINDOW)

    def act(self, desk: Desk) -> Iterator[Event]:
        holding = False
        for s in self.symbols:
            pos = desk.position(s)
            if pos is None:
                continue
            holding = True
            move = desk.favourable_move(s)
            if move >= self.TARGET or desk.held_ms(s) >= self.MAX_HOLD_MS:
                ev = desk.close(s)
                if ev:
                    yield ev
            elif move >= self.RAMP and not self.mem[s].get("ramped"):
                ev = desk.set_leverage(s, desk.max_leverage(s))
                if ev:
                    self.mem[s]["ramped"] = True
                    yield ev
        # The cooldown counts from the last bet, however it ended (often liquidated).
        if holding or desk.ts - self.mem.get("bet_ts", -self.COOLDOWN_MS) < self.COOLDOWN_MS:
            return
        for s in self.symbols:
            w = self.mem[s]["w"]
            if len(w) < self.WINDOW:
                continue
            r = w[-1] / w[0] - 1
            if abs(r) >= self.TRIGGER:
                ev = self.enter(desk, s, 1 if r > 0 else -1)
                if ev:
                    self.mem[s]["ramped"] = False
                    self.mem["bet_ts"] = desk.ts
                    yield ev
                    return


class Breakout(Bot):
    """Donchian breakouts on hourly closes: two closes beyond the last three days'
    range open at 5–8× cross; a close beyond the last half-day's opposite extreme
    closes."""

    WINDOW, EXIT_WINDOW = 72, 12
    STOP_ROE = D("-0.25")

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            _push(self.mem[s].setdefault("w", []), closes[s], self.WINDOW + 2)

    def act(self, desk: Desk) -> Iterator[Event]:
        for s in self.symbols:
            w = self.mem[s]["w"]
            if len(w) < self.WINDOW + 2:
                continue
            x, prior = w[-1], w[:-1]
            pos = desk.position(s)
            if pos is not None:
                recent = w[-self.EXIT_WINDOW - 1:-1]
                d = _direction(pos)
                if (d > 0 and x < min(recent)) or (d < 0 and x > max(recent)) or \
                        desk.roe(s) <= self.STOP_ROE:
                    ev = desk.close(s)
                    if ev:
                        yield ev
                continue
            # Two closes beyond the range: one is often an overreaction that fades.
            if x > max(prior[:-1]) and prior[-1] > max(prior[:-1]):
                ev = self.enter(desk, s, 1)
            elif x < min(prior[:-1]) and prior[-1] < min(prior[:-1]):
                ev = self.enter(desk, s, -1)
            else:
                ev = None
            if ev:
                yield ev


class Contrarian(Bot):
    """Fades three-day extremes on 4-hour closes (±9%) at 2–4× isolated; out after
    two days, at +15% on margin, or at −25%."""

    WINDOW = 19
    TRIGGER = 0.09
    MAX_HOLD_MS = 2 * DAY_MS
    TAKE, STOP = D("0.15"), D("-0.25")

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            _push(self.mem[s].setdefault("w", []), closes[s], self.WINDOW)

    def act(self, desk: Desk) -> Iterator[Event]:
        for s in self.symbols:
            w = self.mem[s]["w"]
            pos = desk.position(s)
            if pos is not None:
                roe = desk.roe(s)
                if roe >= self.TAKE or roe <= self.STOP or desk.held_ms(s) >= self.MAX_HOLD_MS:
                    ev = desk.close(s)
                    if ev:
                        yield ev
                continue
            if len(w) < self.WINDOW:
                continue
            r = w[-1] / w[0] - 1
            if abs(r) >= self.TRIGGER:
                ev = self.enter(desk, s, -1 if r > 0 else 1)
                if ev:
                    yield ev


class Averager(Bot):
    """Buys dips below the day's average and doubles down every 2.5% lower (three
    times at most), selling everything 1.2% above its average entry. Wins most
    weeks; five percent below the last add it capitulates and takes the big loss."""

    DIP, ADD_STEP, TAKE, GIVE_UP = 0.02, D("0.025"), D("0.012"), D("0.05")
    MAX_ADDS = 3

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            m = self.mem[s]
            m["x"] = closes[s]
            m["ema"] = _ema(m.get("ema"), closes[s], 24)
            m["n"] = m.get("n", 0) + 1

    def act(self, desk: Desk) -> Iterator[Event]:
        for s in self.symbols:
            m = self.mem[s]
            if m["n"] < 24:
                continue
            pos = desk.position(s)
            price = desk.price(s)
            if pos is None:
                if m["x"] < m["ema"] * (1 - self.DIP):
                    ev = self.enter(desk, s, 1)
                    if ev:
                        m["adds"], m["last_fill"] = 0, str(price)
                        yield ev
                continue
            adds = m.get("adds", 0)
            last = Decimal(m.get("last_fill", str(pos.entry)))
            drop = ONE - price / last
            if price >= pos.entry * (ONE + self.TAKE) or (
                    adds >= self.MAX_ADDS and drop >= self.GIVE_UP):
                ev = desk.close(s)
                if ev:
                    yield ev
            elif adds < self.MAX_ADDS and drop >= self.ADD_STEP:
                ev = self.enter(desk, s, 1, scale=2.0 ** (adds + 1))
                if ev:
                    m["adds"], m["last_fill"] = adds + 1, str(price)
                    yield ev


class Rotation(Bot):
    """Once a day holds the strongest of its symbols by three-day momentum, long at
    2–3× cross, or nothing when none is up more than 3%."""

    WINDOW = 4
    MIN_MOMENTUM = 0.03

    def observe(self, ts: int, closes: Mapping[str, float]) -> None:
        for s in self.symbols:
            _push(self.mem[s].setdefault("w", []), closes[s], self.WINDOW)

    def act(self, desk: Desk) -> Iterator[Event]:
        momentum = {s: self.mem[s]["w"][-1] / self.mem[s]["w"][0] - 1
                    for s in self.symbols if len(self.mem[s]["w"]) == self.WINDOW}
        if len(momentum) < len(self.symbols):
            return
        best = max(self.symbols, key=lambda s: momentum[s])
        target = best if momentum[best] >= self.MIN_MOMENTUM else None
        for s in self.symbols:
            if s != target and desk.position(s) is not None:
                ev = desk.close(s)
                if ev:
                    yield ev
        if target is not None and desk.position(target) is None:
            ev = self.enter(desk, target, 1)
            if ev:
                yield ev


# --------------------------------------------------------------------------- the cast
BTC, ETH, SOL = "BTCUSDT", "ETHUSDT", "SOLUSDT"

PROFILES: tuple[TraderProfile, ...] = (
    TraderProfile("trend", "Atlas Trend", "trend follower",
                  "Rides multi-day trends on BTC and ETH with a moving-average crossover.",
                  (BTC, ETH), (2, 4), CROSS, D("0.20"), D("0.10"), D("25000"), HOUR_MS),
    TraderProfile("meanrev", "Lena Reversion", "mean reversion",
                  "Fades stretched intraday moves on ETH and SOL, out when price is back.",
                  (ETH, SOL), (3, 5), ISOLATED, D("0.15"), D("0.12"), D("8000"),
                  5 * MINUTE_MS),
    TraderProfile("scalper", "Kai Scalps", "high-leverage scalper",
                  "Chases five-minute BTC breakouts at 25-50x; many small trades.",
                  (BTC,), (25, 50), ISOLATED, D("0.03"), D("0.15"), D("3000"),
                  5 * MINUTE_MS),
    TraderProfile("swing", "Mara Swing", "cautious swing trader",
                  "Buys pullbacks in established trends at 2-3x with small size; "
                  "cuts leverage when volatility jumps.",
                  (BTC, ETH, SOL), (2, 3), ISOLATED, D("0.10"), D("0.08"), D("40000"),
                  4 * HOUR_MS),
    TraderProfile("grid", "Gao Grid", "cross-margin grid",
                  "Runs a five-level grid on ETH and SOL at 3x cross, scaling in "
                  "and out every 1.5-2%.",
                  (ETH, SOL), (3, 3), CROSS, D("0.05"), D("0.10"), D("15000"),
                  15 * MINUTE_MS),
    TraderProfile("degen", "Rex 100x", "all-in gambler",
                  "Bets big on sharp moves at 50-100x isolated. Gets liquidated now and "
                  "then; sometimes it pays.",
                  (BTC, SOL), (50, 100), ISOLATED, D("0.05"), D("0.20"), D("5000"),
                  15 * MINUTE_MS),
    TraderProfile("breakout", "Nova Breakout", "breakout trader",
                  "Trades breakouts of the three-day range on SOL and ETH at 5-8x cross.",
                  (SOL, ETH), (5, 8), CROSS, D("0.08"), D("0.10"), D("10000"), HOUR_MS),
    TraderProfile("contra", "Otto Contra", "contrarian",
                  "Fades three-day extremes at low leverage and waits for the snap-back.",
                  (BTC, ETH, SOL), (2, 4), ISOLATED, D("0.20"), D("0.10"), D("12000"),
                  4 * HOUR_MS),
    TraderProfile("averager", "Dmitri Averages", "averaging down",
                  "Buys BTC and ETH dips and doubles down lower; a high win rate with "
                  "the occasional large loss.",
                  (BTC, ETH), (10, 10), CROSS, D("0.02"), D("0.12"), D("20000"), HOUR_MS),
    TraderProfile("rotation", "Iris Rotation", "momentum rotation",
                  "Holds the strongest of BTC, ETH and SOL each day, or stays out.",
                  (BTC, ETH, SOL), (2, 3), CROSS, D("0.45"), D("0.09"), D("30000"), DAY_MS),
)

STYLES: dict[str, type[Bot]] = {
    "trend follower": TrendFollower, "mean reversion": MeanReversion,
    "high-leverage scalper": Scalper, "cautious swing trader": SwingTrader,
    "cross-margin grid": GridTrader, "all-in gambler": Gambler,
    "breakout trader": Breakout, "contrarian": Contrarian, "averaging down": Averager,
    "momentum rotation": Rotation,
}


def make_bot(profile: TraderProfile, seed: int) -> Bot:
    """The bot that trades ``profile`` in its style."""
    return STYLES[profile.style](profile, seed)
