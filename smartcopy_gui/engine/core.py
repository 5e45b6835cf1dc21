"""What every part of the engine shares: the state, postings, outcomes and the scheduler
of copier actions. The event handlers (trader actions, copy relations, market events),
liquidation and the copier fan-out are functions of an :class:`EngineCore`."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from ..domain.enums import OutcomeAction, OutcomeStatus, Reason
from ..domain.instruments import Instrument
from ..domain.numbers import CENT_MICRO as E8
from ..domain.numbers import MAX_AMOUNT, ZERO, fmt, money, within_limit
from ..domain.positions import Account
from .state import Changes, CopierOrder, CopyRelation, PendingBatch, State, Trader


class Rejected(Exception):
    """A business-rule rejection: the event is valid but may not be applied."""


class LimitExceeded(Rejected):
    """A posting, wallet or equity beyond what the ledger can hold (``MAX_AMOUNT``).

    Raised part-way through an event: the engine rolls the event back (it rebuilds the
    state from the store and re-applies the events before it) and records it rejected."""


def beyond_limit(account: Account, what: str, amount: Decimal) -> LimitExceeded:
    """The rejection for ``account`` reaching ``amount`` as its ``what``."""
    return LimitExceeded(f"{what} of {account.id} would be {fmt(money(amount))} USDT, beyond "
                         f"the {fmt(MAX_AMOUNT)} USDT an account may hold")


class MalformedInput(Exception):
    """An event that is not acceptable input at all (reused id, time going back)."""


class EngineStore(Protocol):
    """What the engine needs from persistence."""

    def load_state(self) -> State: ...

    def commit(self, changes: Changes) -> None: ...

    def event_digest(self, event_id: str) -> str | None: ...


def check_equity_limit(account: Account, prices: dict[str, Decimal]) -> None:
    """Raise LimitExceeded when the account's equity at ``prices`` is beyond the limit."""
    equity = account.equity(prices)
    if not within_limit(equity):
        raise beyond_limit(account, "the equity", equity)


class EngineCore:
    """The state held by a store, and the bookkeeping every event handler uses."""

    def __init__(self, store: EngineStore,
                 on_commit: Callable[[Changes], None] | None = None) -> None:
        self.store = store
        self.state = store.load_state()
        # Pending copier actions by (execution time, scheduling order).
        self.heap: list[tuple[int, int, PendingBatch]] = []
        self.index_pending()
        self.on_commit = on_commit

    def index_pending(self) -> None:
        self.heap = [(b.exec_ts, b.seq, b) for b in self.state.pending]
        heapq.heapify(self.heap)

    # ------------------------------------------------------------------ postings
    def post(self, account: Account, kind: str, amount: Decimal, ch: Changes,
             event_id: str, ts: int, copy: CopyRelation | None = None) -> Decimal:
        """Book ``amount`` (rounded to 1e-8) on an account's wallet and ledger."""
        amount = amount.quantize(E8)
        if not amount:
            return amount
        wallet = account.wallet + amount
        if not (within_limit(amount) and within_limit(wallet)):
            raise beyond_limit(account, "the wallet", wallet)
        # (Equities are checked after the liquidation checks, see liquidation.py.)
        account.wallet = wallet
        ch.ledger.append((account.id, kind, int(amount.scaleb(8)), event_id, ts))
        self.state.dirty.add(account.id)
        if copy is not None:
            totals = copy.totals
            totals[kind] = totals.get(kind, ZERO) + amount
        return amount

    # ------------------------------------------------------------------ lookups
    def trader(self, trader_id: str) -> Trader:
        trader = self.state.traders.get(trader_id)
        if trader is None:
            raise Rejected(f"unknown trader {trader_id!r}")
        return trader

    def instrument(self, symbol: str) -> Instrument:
        inst = self.state.instruments.get(symbol)
        if inst is None:
            raise Rejected(f"unknown instrument {symbol!r}")
        return inst

    def check_leverage(self, leverage: Decimal, inst: Instrument) -> None:
        if leverage < 1 or leverage > inst.max_leverage:
            raise Rejected(f"leverage {fmt(leverage)} is outside 1..{fmt(inst.max_leverage)} "
                           f"for {inst.symbol}")

    def accounts(self) -> list[Account]:
        """Every account that can hold positions: traders', then active copies'."""
        return [acc for acc, _ in self.funded_accounts()]

    def funded_accounts(self) -> list[tuple[Account, CopyRelation | None]]:
        """Traders' accounts, then active copies' accounts with their copy."""
        st = self.state
        out: list[tuple[Account, CopyRelation | None]] = [
            (t.account, None) for t in st.traders.values()]
        out += [(c.account, c) for c in st.copies.values() if c.active]
        return out

    # ------------------------------------------------------------------ outcomes
    def group(self, ch: Changes, event_id: str, trader: str, symbol: str | None,
              action: OutcomeAction, price: Decimal | None, ts: int,
              ref_price: Decimal | None = None, side: str | None = None) -> int:
        """The id of the outcome group (what a set of outcomes share) for this key.

        ``ref_price`` is the trader's own fill that the copier actions followed, ``side``
        the side of the position they open or close."""
        key = (event_id, trader, symbol, action, str(price) if price is not None else None, ts,
               str(ref_price) if ref_price is not None else None, side)
        gid = ch.group_ids.get(key)
        if gid is None:
            gid = ch.group_ids[key] = self.state.next_group_id
            self.state.next_group_id += 1
            ch.outcome_groups.append((gid, *key))
        return gid

    def outcome(self, ch: Changes, event_id: str, copy: CopyRelation | None, trader: str,
                symbol: str | None, action: OutcomeAction, status: OutcomeStatus,
                reason: Reason | None, qty: Decimal | None, price: Decimal | None,
                ts: int) -> None:
        gid = self.group(ch, event_id, trader, symbol, action, price, ts)
        ch.outcomes.append((gid, copy.id if copy else None, status, reason,
                            str(qty) if qty is not None else None))

    # ------------------------------------------------------------------ scheduler
    def schedule(self, ch: Changes, trader: Trader, kind: OutcomeAction, ev_id: str, ts: int,
                 order: CopierOrder) -> None:
        """Queue ``order`` for every copy of ``trader`` active now, due at ts + delay."""
        ids = [c.id for c in trader.copies]
        if not ids:
            return
        st = self.state
        batch = PendingBatch(st.next_pending_seq, ts + st.config.delay_ms, kind, ev_id,
                             order, ids)
        st.next_pending_seq += 1
        heapq.heappush(self.heap, (batch.exec_ts, batch.seq, batch))
        ch.pending_added.append(batch)
        ch.meta["next_pending_seq"] = str(st.next_pending_seq)
