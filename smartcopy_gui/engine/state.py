"""The engine's in-memory state and the change set one transaction writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain.enums import CopyMode, CopyStatus, MarginMode, OutcomeAction, Reason, Side
from ..domain.events import Event
from ..domain.instruments import DEFAULT_INSTRUMENTS, Instrument
from ..domain.numbers import ZERO, D
from ..domain.positions import Account, Position

DEFAULT_MAX_SLIPPAGE = D("0.005")

ACTIVE = CopyStatus.ACTIVE
CANCELLED = CopyStatus.CANCELLED
STOPPED = CopyStatus.STOPPED

# Ledger kinds. Transfers between accounts (they sum to zero within an event):
INVESTMENT = "investment"
RELEASE = "release"
PROFIT_SHARE = "profit_share"
TRANSFER_KINDS = (INVESTMENT, RELEASE, PROFIT_SHARE)
# Money entering from outside or earned in the market:
DEPOSIT = "deposit"
BALANCE = "balance"  # a trader's registered starting balance
FEE = "fee"
REALIZED_PNL = "realized_pnl"
FUNDING = "funding"
LIQUIDATION = "liquidation"


@dataclass
class Config:
    """Scenario-wide settings (the `config` event)."""

    delay_ms: int = 500
    impact_bps: Decimal = D("2")
    taker_fee: Decimal = D("0.0006")
    min_investment: Decimal = D("10")


class Trader:
    """A lead trader: its own account, its earned profit share, its active copies."""

    __slots__ = ("id", "name", "profit_share", "account", "earned", "copies", "order")

    def __init__(self, trader_id: str, name: str, profit_share: Decimal, order: int) -> None:
        self.id = trader_id
        self.name = name
        self.profit_share = profit_share
        self.account = Account(f"trader:{trader_id}")
        self.earned = Account(f"earned:{trader_id}")
        self.copies: list[CopyRelation] = []  # active copies, in creation order
        self.order = order


class CopyRelation:
    """A copier following a trader with its own copy account."""

    __slots__ = ("id", "copier", "trader", "mode", "investment", "amount", "ratio",
                 "max_slippage", "max_margin_per_order", "stop_loss", "status", "hwm",
                 "released", "account", "totals", "created_ts", "ended_ts")

    def __init__(self, copy_id: int, copier: str, trader: str, mode: CopyMode,
                 investment: Decimal, *, amount: Decimal | None = None,
                 ratio: Decimal | None = None, max_slippage: Decimal = DEFAULT_MAX_SLIPPAGE,
                 max_margin_per_order: Decimal | None = None,
                 stop_loss: Decimal | None = None, status: CopyStatus = ACTIVE,
                 hwm: Decimal = ZERO, released: Decimal = ZERO, created_ts: int = 0,
                 ended_ts: int | None = None) -> None:
        self.id = copy_id
        self.copier = copier
        self.trader = trader
        self.mode = mode
        self.investment = investment
        self.amount = amount
        self.ratio = ratio
        self.max_slippage = max_slippage
        self.max_margin_per_order = max_margin_per_order
        self.stop_loss = stop_loss
        self.status = status
        self.hwm = hwm
        self.released = released
        self.account = Account(f"copy:{copy_id}")
        # Running sums of ledger postings on the copy account, by kind.
        self.totals: dict[str, Decimal] = {}
        self.created_ts = created_ts
        self.ended_ts = ended_ts

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def net_realized(self) -> Decimal:
        """N = Σ realized PnL − Σ fees + Σ funding (fees are posted negative)."""
        t = self.totals
        return (t.get(REALIZED_PNL, ZERO) + t.get(LIQUIDATION, ZERO) + t.get(FEE, ZERO)
                + t.get(FUNDING, ZERO))


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """What copiers follow when a trader opens or increases (``u``: its utilization)."""

    trader: str
    symbol: str
    cycle: str
    side: Side
    price: Decimal
    leverage: Decimal
    margin_mode: MarginMode
    u: Decimal
    qty: Decimal


@dataclass(frozen=True, slots=True)
class CloseOrder:
    """What copiers follow when a trader closes ``closed`` of ``before`` (or is
    liquidated: ``reason`` trader_liquidated)."""

    trader: str
    symbol: str
    cycle: str
    side: Side
    closed: Decimal
    before: Decimal
    full: bool
    reason: Reason | None
    price: Decimal


@dataclass(frozen=True, slots=True)
class LeverageOrder:
    """What copiers follow when a trader changes its position's leverage."""

    trader: str
    symbol: str
    cycle: str
    leverage: Decimal


CopierOrder = OpenOrder | CloseOrder | LeverageOrder

_DECIMAL_KEYS = frozenset({"price", "leverage", "u", "qty", "closed", "before"})
_ENUM_KEYS: dict[str, type[Side] | type[MarginMode] | type[Reason]] = {
    "side": Side, "margin_mode": MarginMode, "reason": Reason}


def order_to_json(order: CopierOrder) -> str:
    """A pending order as the store keeps it: a JSON object, decimals as strings."""
    raw = {name: getattr(order, name) for name in order.__slots__}
    return json.dumps({k: (str(v) if isinstance(v, Decimal) else v) for k, v in raw.items()},
                      sort_keys=True)


def order_from_json(text: str) -> CopierOrder:
    """Inverse of :func:`order_to_json` (also reads every database written before the
    orders were typed: the same keys, the kind told apart by them)."""
    raw = json.loads(text)
    values = {}
    for key, value in raw.items():
        if value is not None and key in _DECIMAL_KEYS:
            value = Decimal(value)
        elif value is not None and key in _ENUM_KEYS:
            value = _ENUM_KEYS[key](value)
        values[key] = value
    if "u" in values:
        return OpenOrder(**values)
    if "closed" in values:
        return CloseOrder(**values)
    return LeverageOrder(**values)


@dataclass
class PendingBatch:
    """One trader action's copier actions, to run at ``exec_ts`` for ``copy_ids``."""

    seq: int
    exec_ts: int
    kind: OutcomeAction  # open | increase | close | leverage
    event_id: str
    payload: CopierOrder
    copy_ids: list[int]


@dataclass
class Changes:
    """Everything one transaction writes. Filled by the engine, written by the store."""

    ledger: list[tuple[str, str, int, str, int]] = field(default_factory=list)
    outcomes: list[tuple[Any, ...]] = field(default_factory=list)
    outcome_groups: list[tuple[Any, ...]] = field(default_factory=list)
    group_ids: dict[tuple[Any, ...], int] = field(default_factory=dict)
    positions: dict[tuple[str, str], Position | None] = field(default_factory=dict)
    copies: dict[int, CopyRelation] = field(default_factory=dict)
    traders: dict[str, Trader] = field(default_factory=dict)
    prices: dict[str, Decimal] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)
    config: Config | None = None
    pending_added: list[PendingBatch] = field(default_factory=list)
    pending_removed: list[int] = field(default_factory=list)
    events: list[tuple[str, str | None, int, str, str, str | None]] = field(default_factory=list)
    # The applied events themselves, in order: the store keeps their prices and payloads.
    applied: list[Event] = field(default_factory=list)
    rejected: list[tuple[str | None, int | None, str]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    # (day number since the epoch, account id, equity in 1e-8 units) at each day's close.
    snapshots: list[tuple[int, str, int]] = field(default_factory=list)
    # Position cycles that ended: (account, symbol, side, cycle, opened_ts, closed_ts,
    # result in 1e-8 units, how: close | liquidation | cancel).
    closed: list[tuple[str, str, str, str, int, int, int, str]] = field(default_factory=list)

    def close_cycle(self, account_id: str, pos: Position, ts: int, how: str) -> None:
        """Record that ``pos`` ended (its ``realized`` is the cycle's result)."""
        self.closed.append((account_id, pos.symbol, pos.side, pos.cycle, pos.opened_ts, ts,
                            int(pos.realized.scaleb(8)), how))

    def row_count(self) -> int:
        """How many rows this change set writes (for the benchmark's floor)."""
        return (len(self.ledger) + len(self.outcomes) + len(self.outcome_groups)
                + len(self.positions)
                + len(self.copies) + len(self.traders) + len(self.prices)
                + len(self.instruments) + (1 if self.config else 0)
                + len(self.pending_added) + len(self.pending_removed) + len(self.events)
                + len(self.rejected) + len(self.meta) + len(self.snapshots)
                + len(self.closed))


@dataclass
class State:
    """Everything the engine knows; rebuilt from the store on start."""

    config: Config = field(default_factory=Config)
    instruments: dict[str, Instrument] = field(default_factory=lambda: dict(DEFAULT_INSTRUMENTS))
    prices: dict[str, Decimal] = field(default_factory=dict)
    traders: dict[str, Trader] = field(default_factory=dict)
    contracts: dict[str, Account] = field(default_factory=dict)
    copies: dict[int, CopyRelation] = field(default_factory=dict)
    pending: list[PendingBatch] = field(default_factory=list)
    last_ts: int | None = None
    next_copy_id: int = 1
    next_pending_seq: int = 1
    next_group_id: int = 1
    # Accounts whose state changed since the last liquidation check.
    dirty: set[str] = field(default_factory=set)
    # Per symbol, the prices (low, high), exclusive, inside every band of the positions
    # in it (engine/liquidation.py): a move inside it needs no account checked.
    liq_bands: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    # The active copies with a stop-loss, in order (None: to be listed again; a copy
    # made or ended drops it).
    stop_loss_watch: list[CopyRelation] | None = None
