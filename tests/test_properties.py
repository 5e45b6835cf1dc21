"""Properties that hold after every event of any valid scenario."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcopy_gui.cli import replay_lines, report
from smartcopy_gui.domain.preview import preview_copy
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.engine.state import TRANSFER_KINDS
from smartcopy_gui.sources.scenario import read_lines
from smartcopy_gui.store import Store
from tests.scenario import Scenario, run

TRADERS = ("alice", "bob")
COPIERS = ("c1", "c2", "c3")
SYMBOLS = {"BTCUSDT": (Decimal("60000"), Decimal("0.001"), 1),
           "ETHUSDT": (Decimal("3000"), Decimal("0.01"), 2),
           "SOLUSDT": (Decimal("150"), Decimal("0.1"), 3)}

price_move = st.tuples(st.just("price"), st.sampled_from(list(SYMBOLS)),
                       st.one_of(st.integers(min_value=-300, max_value=300),
                                 st.sampled_from((-2500, -900, 900, 2500))))
trader_open = st.tuples(st.just("open"), st.sampled_from(TRADERS),
                        st.sampled_from(list(SYMBOLS)), st.sampled_from(("long", "short")),
                        st.integers(1, 60), st.sampled_from((1, 3, 10, 25, 50)),
                        st.sampled_from(("cross", "isolated")))
action = st.one_of(
    price_move, price_move, trader_open, trader_open,
    st.tuples(st.just("open"), st.sampled_from(TRADERS), st.sampled_from(list(SYMBOLS)),
              st.sampled_from(("long", "short")), st.integers(1, 60),
              st.sampled_from((1, 3, 10, 25, 50)), st.sampled_from(("cross", "isolated"))),
    st.tuples(st.just("close"), st.sampled_from(TRADERS), st.sampled_from(list(SYMBOLS)),
              st.integers(0, 100)),
    st.tuples(st.just("leverage"), st.sampled_from(TRADERS), st.sampled_from(list(SYMBOLS)),
              st.sampled_from((2, 5, 20))),
    st.tuples(st.just("funding"), st.sampled_from(list(SYMBOLS)),
              st.sampled_from(("0.0001", "-0.0003", "0.002", "0.05", "0.2", "0.5", "-0.5"))),
    st.tuples(st.just("settle")),
    st.tuples(st.just("copy"), st.sampled_from(COPIERS), st.sampled_from(TRADERS),
              st.sampled_from(("smart", "fixed_amount", "fixed_ratio")),
              st.integers(10, 600), st.sampled_from((None, "0.2", "0.5"))),
    st.tuples(st.just("cancel"), st.sampled_from(COPIERS), st.sampled_from(TRADERS)),
    st.tuples(st.just("deposit"), st.sampled_from(COPIERS), st.integers(1, 2000)),
)


def _build(actions: list[tuple]) -> Scenario:
    """Turn drawn actions into a valid scenario (prices move in small steps, quantities
    on the step; the engine may still reject business-wise, never as malformed)."""
    s = Scenario()
    s.add(0, "config", delay_ms="300")
    for t in TRADERS:
        s.add(0, "trader", trader=t, name=t.title(), balance="20000", profit_share="0.1")
    for c in COPIERS:
        s.add(0, "deposit", account=c, amount="1500")
    prices = {sym: p for sym, (p, _, _) in SYMBOLS.items()}
    for sym, p in prices.items():
        s.add(0, "price", symbol=sym, price=str(p))
    # Every run starts with copies in each mode, so trader actions have copiers.
    s.add(0, "copy", copier="c1", trader="alice", mode="smart", investment="500")
    s.add(0, "copy", copier="c2", trader="alice", mode="fixed_amount", investment="400",
          amount="30", stop_loss="0.3")
    s.add(0, "copy", copier="c3", trader="bob", mode="fixed_ratio", investment="300",
          ratio="0.05")
    s.add(0, "copy", copier="c1", trader="bob", mode="smart", investment="20")
    ms = 0
    for a in actions:
        ms += 137
        kind = a[0]
        if kind == "price":
            _, sym, bps = a
            prices[sym] = (prices[sym] * (1 + Decimal(bps) / 10_000)).quantize(
                Decimal(1).scaleb(-SYMBOLS[sym][2]))
            s.add(ms, "price", symbol=sym, price=str(prices[sym]))
        elif kind == "open":
            _, trader, sym, side, lots, lev, mode = a
            s.add(ms, "open", trader=trader, symbol=sym, side=side,
                  qty=str(SYMBOLS[sym][1] * lots), price=str(prices[sym]), leverage=lev,
                  margin_mode=mode)
        elif kind == "close":
            _, trader, sym, pct = a
            s.add(ms, "close", trader=trader, symbol=sym, price=str(prices[sym]),
                  qty=None if pct >= 50 else str(SYMBOLS[sym][1] * (1 + pct)))
        elif kind == "leverage":
            _, trader, sym, lev = a
            s.add(ms, "leverage", trader=trader, symbol=sym, leverage=lev)
        elif kind == "funding":
            s.add(ms, "funding", symbol=a[1], rate=a[2])
        elif kind == "settle":
            s.add(ms, "settle")
        elif kind == "copy":
            _, copier, trader, mode, investment, stop = a
            s.add(ms, "copy", copier=copier, trader=trader, mode=mode, investment=str(investment),
                  amount="25" if mode == "fixed_amount" else None,
                  ratio="0.1" if mode == "fixed_ratio" else None, stop_loss=stop)
        elif kind == "cancel":
            s.add(ms, "cancel", copier=a[1], trader=a[2])
        elif kind == "deposit":
            s.add(ms, "deposit", account=a[1], amount=str(a[2]))
    return s


def _check(store: Store, engine: Engine) -> None:
    state = engine.state
    accounts = [t.account for t in state.traders.values()]
    accounts += [t.earned for t in state.traders.values()]
    accounts += list(state.contracts.values())
    accounts += [c.account for c in state.copies.values()]
    ledger = store.ledger_balances()
    for acc in accounts:
        assert acc.wallet == ledger.get(acc.id, Decimal(0)), acc.id
        for pos in acc.positions.values():
            step = state.instruments[pos.symbol].qty_step
            assert pos.qty > 0 and pos.qty % step == 0, (acc.id, pos)
    for acc in list(state.contracts.values()) + [c.account for c in state.copies.values()]:
        assert acc.wallet >= 0, (acc.id, acc.wallet)
    conn = store.db.conn
    # A liquidation is never a gain.
    assert conn.execute("SELECT account, amount FROM ledger WHERE kind = 'liquidation' "
                        "AND amount > 0").fetchall() == []
    # A copy's loss never reaches the contract account: only deposits, investments and
    # releases (never negative) move it.
    assert conn.execute("SELECT account, kind, amount FROM ledger WHERE account LIKE "
                        "'contract:%' AND (kind NOT IN ('deposit', 'investment', 'release') "
                        "OR (kind = 'release' AND amount < 0))").fetchall() == []
    unbalanced = store.db.conn.execute(
        f"SELECT event_id, SUM(amount) FROM ledger WHERE kind IN "
        f"({','.join('?' * len(TRANSFER_KINDS))}) GROUP BY event_id HAVING SUM(amount) != 0",
        TRANSFER_KINDS).fetchall()
    assert unbalanced == []


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(action, min_size=10, max_size=120))
def test_invariants_hold_after_every_event_and_reapplying_changes_nothing(actions):
    scenario = _build(actions)
    store = Store(":memory:")
    engine = Engine(store)
    for item in read_lines(scenario.lines):
        assert not hasattr(item, "reason"), f"the generator wrote a malformed line: {item}"
        engine.submit(item)
        _check(store, engine)
    engine.flush()
    _check(store, engine)
    first = json.dumps(report(store, engine), sort_keys=True)
    replay_lines(engine, scenario.lines)
    _check(store, engine)
    assert json.dumps(report(store, engine), sort_keys=True) == first
    store.close()


# ---------------------------------------------------------------------- preview = engine
PREVIEW_SYMBOLS = {"BTCUSDT": ("60000.1", "0.001", 100), "ETHUSDT": ("3000.37", "0.01", 100),
                   "SOLUSDT": ("150.123", "0.1", 50)}


@st.composite
def new_copy_of_one_open(draw):
    """A trader's open and a new copy of that trader, in any mode and settings."""
    symbol = draw(st.sampled_from(sorted(PREVIEW_SYMBOLS)))
    price, step, max_lev = PREVIEW_SYMBOLS[symbol]
    mode = draw(st.sampled_from(("smart", "fixed_amount", "fixed_ratio")))
    qty = Decimal(step) * draw(st.integers(1, 400))
    leverage = draw(st.integers(1, max_lev))
    # The trader's margin is 1%..90% of its balance, so the open is always affordable.
    balance = int(qty * Decimal(price) / leverage * 100 / draw(st.integers(1, 90))) + 1
    return {
        "symbol": symbol, "price": price,
        "side": draw(st.sampled_from(("long", "short"))),
        "qty": str(qty), "leverage": leverage,
        "margin_mode": draw(st.sampled_from(("cross", "isolated"))),
        "balance": str(balance),
        "mode": mode,
        "investment": str(draw(st.integers(10, 5_000))),
        "amount": str(draw(st.integers(1, 800))) if mode == "fixed_amount" else None,
        "ratio": draw(st.sampled_from(("0.01", "0.05", "0.3", "1"))) if mode == "fixed_ratio"
        else None,
        "max_margin_per_order": draw(st.sampled_from((None, "5", "40", "300"))),
    }


def _trader_opens(s: Scenario, c: dict) -> None:
    s.add(0, "config", delay_ms="500", impact_bps="0")
    s.add(0, "trader", trader="alice", name="Alice", balance=c["balance"])
    s.add(0, "price", symbol=c["symbol"], price=c["price"])


def _open(s: Scenario, c: dict) -> None:
    # fee_rate 0: the trader's equity is the same before the fill (what the engine sizes
    # with) and after it (what the preview of the open position sees).
    s.add(1000, "open", "o1", trader="alice", symbol=c["symbol"], side=c["side"],
          qty=c["qty"], price=c["price"], leverage=c["leverage"],
          margin_mode=c["margin_mode"], fee_rate="0")


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(new_copy_of_one_open())
def test_the_preview_of_a_new_copy_is_what_the_engine_then_does(c):
    # What the wizard shows: the trader holds the position, the copy is only previewed.
    s = Scenario()
    _trader_opens(s, c)
    _open(s, c)
    store = Store(":memory:")
    engine = Engine(store)
    replay_lines(engine, s.lines)
    state = engine.state
    trader = state.traders["alice"].account
    assert c["symbol"] in trader.positions, "the generator drew an open alice cannot afford"
    dec = {k: Decimal(c[k]) if c[k] is not None else None
           for k in ("investment", "amount", "ratio", "max_margin_per_order")}
    (row,) = preview_copy(list(trader.positions.values()), trader.equity(state.prices),
                          state.prices, state.instruments, dec["investment"], c["mode"],
                          state.config.taker_fee, amount=dec["amount"], ratio=dec["ratio"],
                          max_margin_per_order=dec["max_margin_per_order"])
    store.close()
    # What the engine does when the copy exists and the trader opens at the same price.
    s = Scenario()
    _trader_opens(s, c)
    s.add(0, "deposit", account="me", amount=c["investment"])
    s.add(0, "copy", copier="me", trader="alice", mode=c["mode"], investment=c["investment"],
          amount=c["amount"], ratio=c["ratio"], max_margin_per_order=c["max_margin_per_order"])
    _open(s, c)
    (done,) = [o for o in run(s)["outcomes"] if o["copier"] == "me"]
    assert (done["status"], done["reason"]) == (row.status, row.reason)
    assert Decimal(done["qty"] or 0) == row.copier_qty
