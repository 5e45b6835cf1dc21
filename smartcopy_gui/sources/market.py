"""The simulated market: BTCUSDT, ETHUSDT and SOLUSDT moving together.

Each symbol's log price is a *fundamental* random walk plus a short-lived
*overreaction* that decays back to it:

- the fundamental moves by ``σ·√dt·z + μ·dt`` plus rare jumps. ``σ`` is the
  symbol's base volatility times a shared volatility regime ``exp(v/2)``; ``v``
  mean-reverts (half-life about two days) and is pushed up by every large shock
  (``z² − 1``) and by every jump, so calm and wild spells cluster as they do under
  GARCH(1,1). ETH and SOL shocks load on BTC's (correlation 0.8 and 0.72).
- the drift ``μ`` wanders slowly (days), shared in part: trends exist, and a
  trend follower can find them.
- the overreaction is an Ornstein-Uhlenbeck deviation (half-life about three
  hours) driven by the same shock: part of every move is given back, which a
  patient mean-reversion trader can harvest.

Every per-step quantity is scaled by the step's length, so a 60 s backfill step
and a 1 s live step give the same daily volatility. The model itself runs in
binary floats (it is a random process, not money); what leaves it is exact: prices
rounded to each instrument's tick and funding rates to 1e-6, built from formatted
strings. The state, including the random generator's, serialises to JSON so a
restarted world continues exactly where it stood.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.instruments import DEFAULT_INSTRUMENTS
from ..domain.numbers import round_step

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
DEFAULT_PRICES: dict[str, Decimal] = {"BTCUSDT": Decimal("60000"), "ETHUSDT": Decimal("3000"),
                                      "SOLUSDT": Decimal("150")}
STATE_VERSION = 1


@dataclass(frozen=True)
class SymbolParams:
    """How one symbol moves. Volatilities are per √day, drifts per day (log terms)."""

    base_vol: float  # daily volatility of the fundamental in an average regime
    btc_corr: float  # correlation of its diffusion shocks with BTC's
    jump_beta: float  # how much of a market-wide jump it takes
    idio_jumps_per_day: float  # its own jumps (news, listings, unlocks)
    idio_jump_vol: float
    drift_beta: float  # loading on the market drift
    idio_drift_sd: float  # stationary sd of its own drift
    overreaction_sd: float  # stationary sd of the overreaction (log)


PARAMS: dict[str, SymbolParams] = {
    # ~55% a year for BTC, ~70% for ETH, ~90% for SOL, jumps and overreaction included.
    "BTCUSDT": SymbolParams(0.026, 1.0, 1.0, 0.0, 0.0, 1.0, 0.002, 0.002),
    "ETHUSDT": SymbolParams(0.034, 0.80, 1.2, 0.08, 0.025, 1.2, 0.004, 0.0025),
    "SOLUSDT": SymbolParams(0.044, 0.72, 1.5, 0.15, 0.035, 1.4, 0.006, 0.0035),
}

# The shared volatility regime v (the log of a variance multiplier).
VOL_REVERSION = 0.35  # per day: half-life of about two days
VOL_OF_VOL = 0.6  # per √day, driven by the squared BTC shock
JUMP_VOL_KICK = 0.4  # a jump raises v by this much
VOL_CLAMP = 2.5
# Market-wide jumps (log size), about one every five days, slightly skewed down.
MARKET_JUMPS_PER_DAY = 0.2
MARKET_JUMP_MEAN = -0.002
MARKET_JUMP_VOL = 0.022
# Where v reverts to: below 0 by what keeps the average variance multiplier near 1,
# the squared-shock noise and the jumps' kicks included.
VOL_MEAN = (-VOL_OF_VOL ** 2 / (4 * VOL_REVERSION)
            - JUMP_VOL_KICK * (MARKET_JUMPS_PER_DAY + 0.1) / VOL_REVERSION)
# Drifts (per day), updated once a simulated hour.
DRIFT_REVERSION = 0.10  # per day: trends last a week or more
MARKET_DRIFT_SD = 0.007
# The overreaction's decay, per day (half-life three hours).
OVERREACTION_REVERSION = math.log(2) / (3 / 24)
# Funding: a base rate tilted by the last day's move, the way crowded longs pay.
FUNDING_BASE = 0.0001
FUNDING_TILT = 0.004
FUNDING_CAP = 0.00075
FUNDING_TREND_DAYS = 1.0
FUNDING_UNIT = Decimal("0.000001")


def _model_value(amount: Decimal) -> float:
    """A Decimal price into the model's float domain (1e-12 is far below any tick)."""
    return int(amount.scaleb(12)) / 1e12


class _Consts:
    """What a step of a given length needs, computed once per length."""

    def __init__(self, dt_ms: int) -> None:
        dt = dt_ms / DAY_MS
        self.dt = dt
        self.sqrt_dt = math.sqrt(dt)
        self.vol_decay = math.exp(-VOL_REVERSION * dt)
        self.vol_kick = VOL_OF_VOL * math.sqrt(dt) / math.sqrt(2)
        self.over_decay = math.exp(-OVERREACTION_REVERSION * dt)
        self.trend_decay = math.exp(-dt / FUNDING_TREND_DAYS)
        self.p_market_jump = MARKET_JUMPS_PER_DAY * dt
        gain = math.sqrt(1 - self.over_decay ** 2)
        # (symbol, params, weight of its own shock, overreaction gain, own-jump chance)
        self.per_symbol = [
            (s, p, 0.0 if p.btc_corr == 1.0 else math.sqrt(1 - p.btc_corr ** 2),
             p.overreaction_sd * gain, p.idio_jumps_per_day * dt)
            for s, p in ((s, PARAMS[s]) for s in SYMBOLS)]


class MarketSim:
    """Three perpetuals moving together; ``step`` advances them all at once."""

    def __init__(self, seed: int, start_ts_ms: int,
                 initial_prices: Mapping[str, Decimal] | None = None,
                 ticks: Mapping[str, Decimal] | None = None) -> None:
        prices = dict(DEFAULT_PRICES if initial_prices is None else initial_prices)
        self.seed = seed
        self.ts = start_ts_ms
        self.start_ts = start_ts_ms
        self.ticks = {s: (ticks or {}).get(s, DEFAULT_INSTRUMENTS[s].tick) for s in SYMBOLS}
        self.rng = random.Random(seed)
        self.log_fundamental = {s: math.log(_model_value(prices[s])) for s in SYMBOLS}
        self.overreaction = dict.fromkeys(SYMBOLS, 0.0)
        self.trend = dict.fromkeys(SYMBOLS, 0.0)  # decaying sum of log returns (funding)
        self.drift = dict.fromkeys(SYMBOLS, 0.0)
        self.market_drift = 0.0
        self.vol = VOL_MEAN
        self.hours_done = 0  # drift updates applied since the start
        self._consts: dict[int, _Consts] = {}
        self._decimals = {s: _decimals(t) for s, t in self.ticks.items()}

    # ------------------------------------------------------------------ stepping
    def step(self, dt_ms: int) -> list[tuple[str, Decimal]]:
        """Advance every symbol by ``dt_ms`` and return (symbol, price) at the new time."""
        if dt_ms <= 0:
            raise ValueError("a market step must move time forward")
        c = self._consts.get(dt_ms)
        if c is None:
            c = self._consts[dt_ms] = _Consts(dt_ms)
        self.ts += dt_ms
        hours = (self.ts - self.start_ts) // HOUR_MS
        while self.hours_done < hours:
            self._update_drifts()
            self.hours_done += 1
        rng = self.rng
        gauss = rng.gauss
        e1 = gauss(0.0, 1.0)
        scale = math.exp(self.vol / 2)
        vol = VOL_MEAN + (self.vol - VOL_MEAN) * c.vol_decay + c.vol_kick * (e1 * e1 - 1)
        jump_market = 0.0
        if rng.random() < c.p_market_jump:
            jump_market = gauss(MARKET_JUMP_MEAN, MARKET_JUMP_VOL)
            vol += JUMP_VOL_KICK
        dt, sqrt_dt = c.dt, c.sqrt_dt
        log_f, over_of, trend, drift = (self.log_fundamental, self.overreaction, self.trend,
                                        self.drift)
        out = []
        for symbol, p, idio_weight, over_gain, p_idio in c.per_symbol:
            z = e1 if idio_weight == 0.0 else p.btc_corr * e1 + idio_weight * gauss(0.0, 1.0)
            sigma = p.base_vol * scale
            move = drift[symbol] * dt + sigma * sqrt_dt * z
            if jump_market:
                move += jump_market * p.jump_beta
            if p_idio and rng.random() < p_idio:
                move += gauss(0.0, p.idio_jump_vol)
                vol += JUMP_VOL_KICK / 3
            old_over = over_of[symbol]
            over = old_over * c.over_decay + over_gain * scale * z
            log_f[symbol] += move
            over_of[symbol] = over
            trend[symbol] = trend[symbol] * c.trend_decay + move + over - old_over
            out.append((symbol, self._tick_price(symbol)))
        self.vol = max(-VOL_CLAMP, min(VOL_CLAMP, vol))
        return out

    def _update_drifts(self) -> None:
        """One hour of the slow drift processes (Ornstein-Uhlenbeck, exact steps)."""
        gauss = self.rng.gauss
        a = math.exp(-DRIFT_REVERSION / 24)
        gain = math.sqrt(1 - a * a)
        self.market_drift = self.market_drift * a + MARKET_DRIFT_SD * gain * gauss(0.0, 1.0)
        for symbol in SYMBOLS:
            p = PARAMS[symbol]
            idio = self.drift[symbol] - p.drift_beta * self.market_drift
            idio = idio * a + p.idio_drift_sd * gain * gauss(0.0, 1.0)
            self.drift[symbol] = p.drift_beta * self.market_drift + idio

    # ------------------------------------------------------------------ reading
    def model_price(self, symbol: str) -> float:
        """The model's unrounded price: for signals, never for money."""
        return math.exp(self.log_fundamental[symbol] + self.overreaction[symbol])

    def _tick_price(self, symbol: str) -> Decimal:
        price = Decimal(f"{self.model_price(symbol):.{self._decimals[symbol]}f}")
        tick = self.ticks[symbol]
        if price % tick:
            price = round_step(price, tick)
        return price if price > 0 else tick

    def price(self, symbol: str) -> Decimal:
        """The current price of ``symbol``, on its tick."""
        return self._tick_price(symbol)

    def funding_rate(self, symbol: str) -> Decimal:
        """This funding interval's rate: 0.01% tilted by the last day's move, capped at
        ±0.075%, rounded to 1e-6. A pure function of the state."""
        rate = FUNDING_BASE + FUNDING_TILT * self.trend[symbol]
        rate = max(-FUNDING_CAP, min(FUNDING_CAP, rate))
        return Decimal(f"{rate:.6f}") + 0  # + 0 drops a negative zero, as the parser does

    # ------------------------------------------------------------------ persistence
    def to_state(self) -> dict[str, Any]:
        """Everything needed to continue identically, as JSON-ready values."""
        version, internal, gauss_next = self.rng.getstate()
        return {
            "version": STATE_VERSION, "seed": self.seed, "ts": self.ts,
            "start_ts": self.start_ts,
            "ticks": {s: str(t) for s, t in self.ticks.items()},
            "rng": [version, list(internal), gauss_next],
            "log_fundamental": dict(self.log_fundamental),
            "overreaction": dict(self.overreaction), "trend": dict(self.trend),
            "drift": dict(self.drift), "market_drift": self.market_drift, "vol": self.vol,
            "hours_done": self.hours_done,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> MarketSim:
        """A market continuing from :meth:`to_state`'s output."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"market state version {state.get('version')!r} is not "
                             f"{STATE_VERSION}; start a new world")
        sim = cls(state["seed"], state["start_ts"],
                  ticks={s: Decimal(t) for s, t in state["ticks"].items()})
        sim.ts = state["ts"]
        version, internal, gauss_next = state["rng"]
        sim.rng.setstate((version, tuple(internal), gauss_next))
        sim.log_fundamental = dict(state["log_fundamental"])
        sim.overreaction = dict(state["overreaction"])
        sim.trend = dict(state["trend"])
        sim.drift = dict(state["drift"])
        sim.market_drift = state["market_drift"]
        sim.vol = state["vol"]
        sim.hours_done = state["hours_done"]
        return sim


def _decimals(tick: Decimal) -> int:
    """Decimal places that hold a multiple of ``tick``."""
    exponent = tick.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)
