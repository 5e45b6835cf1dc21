"""Deterministic generators of large, valid scenario files (for the crash test).

``big_scenario(seed)`` writes the same lines for the same arguments on every machine:
it draws only from ``random.Random(seed)`` and works with exact decimals.
"""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, Decimal

from tests.scenario import Scenario

D = Decimal

# symbol → (start price, qty_step, price tick used for the trader's prices)
SYMBOLS: dict[str, tuple[Decimal, Decimal, Decimal]] = {
    "BTCUSDT": (D("60000"), D("0.001"), D("0.1")),
    "ETHUSDT": (D("3000"), D("0.01"), D("0.01")),
    "SOLUSDT": (D("150"), D("0.1"), D("0.001")),
}
MODES = ("smart", "fixed_amount", "fixed_ratio")


def on_tick(price: Decimal, tick: Decimal) -> Decimal:
    """A positive price rounded down to the tick (never below one tick)."""
    return max(tick, (price / tick).to_integral_value(ROUND_DOWN) * tick)


def copy_fields(rng: random.Random, mode: str, investment: Decimal) -> dict[str, str | None]:
    """The fields of a ``copy`` event in ``mode`` with random optional settings."""
    return {
        "mode": mode,
        "investment": str(investment),
        "amount": rng.choice(("5", "15", "40")) if mode == "fixed_amount" else None,
        "ratio": rng.choice(("0.01", "0.05", "0.2")) if mode == "fixed_ratio" else None,
        "max_slippage": rng.choice((None, None, "0.001", "0.01")),
        "max_margin_per_order": rng.choice((None, None, None, "25", "80")),
        "stop_loss": rng.choice((None, None, None, "0.3", "0.6")),
    }


def big_scenario(seed: int, *, traders: int = 4, copiers: int = 40,
                 events: int = 4000) -> Scenario:
    """Several traders and copiers, then ``events`` market and trader events.

    Prices walk randomly; traders open, increase, partially and fully close, change
    leverage; there are funding payments, settlements, cancels, re-copies and
    deposits; time runs over a UTC midnight. Every line is well-formed; the engine may
    still reject a few business-wise (a trader who cannot afford an open, a copy of a
    pair that is already active, say).
    """
    rng = random.Random(seed)
    s = Scenario()
    s.add(0, "config", "cfg", delay_ms="500", impact_bps="2")
    names = [f"t{i}" for i in range(traders)]
    for t in names:
        s.add(0, "trader", f"trader-{t}", trader=t, name=t.upper(),
              balance=str(rng.choice((20_000, 50_000, 100_000))),
              profit_share=rng.choice(("0.1", "0.05", "0.15")))
    prices = {sym: p for sym, (p, _, _) in SYMBOLS.items()}
    for sym, p in prices.items():
        s.add(0, "price", f"p0-{sym}", symbol=sym, price=str(p))
    balance: dict[str, Decimal] = {}
    active: dict[tuple[str, str], str] = {}  # (copier, trader) → mode, as believed
    people = [f"c{i:02d}" for i in range(copiers)]
    for i, c in enumerate(people):
        amount = D(rng.randint(100, 3000))
        balance[c] = amount
        s.add(0, "deposit", f"dep0-{c}", account=c, amount=str(amount))
        for t in rng.sample(names, rng.randint(1, 2)):
            mode = MODES[(i + len(active)) % 3]
            investment = max(D(10), (balance[c] * D(rng.randint(20, 45)) / 100).quantize(D(1)))
            s.add(0, "copy", f"copy0-{c}-{t}", copier=c, trader=t,
                  **copy_fields(rng, mode, investment))
            balance[c] -= investment
            active[(c, t)] = mode

    # What each trader holds, as the generator believes (the engine may have
    # liquidated it): (trader, symbol) → [side, lots, leverage, margin_mode].
    held: dict[tuple[str, str], list] = {}
    ms = 1_000
    midnight = 86_400_000
    for n in range(events):
        # Mostly sub-second gaps, sometimes exactly the delay, some long pauses; halfway
        # the run crosses midnight (T0 is a midnight).
        gap = rng.choice((0, 1, 120, 250, 499, 500, 501, 900, 3_000, 40_000))
        if n == events // 2:
            gap = max(gap, midnight - ms + 700)
        ms += gap
        sym = rng.choice(list(SYMBOLS))
        _, step, tick = SYMBOLS[sym]
        prices[sym] = on_tick(prices[sym] * (1 + D(str(round(rng.gauss(0, 0.004), 6)))), tick)
        px = str(prices[sym])
        t = rng.choice(names)
        roll = rng.random()
        if roll < 0.45:
            s.add(ms, "price", f"p{n}", symbol=sym, price=px)
        elif roll < 0.62:
            h = held.get((t, sym))
            if h is None:
                side = rng.choice(("long", "short"))
                lev = rng.choice((2, 5, 10, 20, 25, 50))
                mode = rng.choice(("cross", "isolated"))
                lots = rng.randint(1, 60 if sym == "BTCUSDT" else 120)
                held[(t, sym)] = [side, lots, lev, mode]
            else:
                side, _, lev, mode = h
                lots = rng.randint(1, 30)
                h[1] += lots
            s.add(ms, "open", f"o{n}", trader=t, symbol=sym, side=side, qty=str(step * lots),
                  price=px, leverage=lev, margin_mode=mode)
        elif roll < 0.76:
            h = held.get((t, sym))
            if h is None:
                s.add(ms, "price", f"p{n}", symbol=sym, price=px)
            elif h[1] > 1 and rng.random() < 0.5:
                part = rng.randint(1, h[1] - 1)
                h[1] -= part
                s.add(ms, "close", f"x{n}", trader=t, symbol=sym, price=px,
                      qty=str(step * part))
            else:
                del held[(t, sym)]
                s.add(ms, "close", f"x{n}", trader=t, symbol=sym, price=px)
        elif roll < 0.80:
            lev = rng.choice((3, 5, 10, 20))
            h = held.get((t, sym))
            if h is not None:
                h[2] = lev
            s.add(ms, "leverage", f"l{n}", trader=t, symbol=sym, leverage=lev)
        elif roll < 0.85:
            s.add(ms, "funding", f"f{n}", symbol=sym,
                  rate=rng.choice(("0.0001", "-0.0001", "0.0003", "-0.0005")))
        elif roll < 0.88:
            s.add(ms, "settle", f"s{n}")
        elif roll < 0.895 and active:
            c, tr = rng.choice(sorted(active))
            del active[(c, tr)]
            s.add(ms, "cancel", f"k{n}", copier=c, trader=tr)
        elif roll < 0.93:
            # Mostly a re-copy of a pair that is not active (in any mode); sometimes a
            # pair that is, which the engine rejects (already copying / mode switch).
            c = rng.choice(people)
            idle = [tr for tr in names if (c, tr) not in active]
            tr = rng.choice(idle) if idle and rng.random() < 0.85 else rng.choice(names)
            mode = rng.choice(MODES)
            investment = D(rng.randint(10, 300))
            s.add(ms, "copy", f"r{n}", copier=c, trader=tr,
                  **copy_fields(rng, mode, investment))
            if (c, tr) not in active:
                active[(c, tr)] = mode
        elif roll < 0.96:
            c = rng.choice(people)
            s.add(ms, "deposit", f"d{n}", account=c, amount=str(rng.randint(50, 1500)))
        else:
            s.add(ms, "price", f"p{n}", symbol=sym, price=px)
    return s
