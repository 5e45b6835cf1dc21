"""The words of the copy rules as types: modes, statuses, reasons, sides, margin modes,
event types and outcome actions, spelled as the report and the scenario format spell them.

Each is a ``StrEnum``: a member equals its string (``Side.LONG == "long"``), hashes like
it and is written as it, so code and stored rows that hold plain strings keep working.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    LONG = "long"
    SHORT = "short"


class MarginMode(StrEnum):
    CROSS = "cross"
    ISOLATED = "isolated"


class CopyMode(StrEnum):
    SMART = "smart"
    FIXED_AMOUNT = "fixed_amount"
    FIXED_RATIO = "fixed_ratio"


class CopyStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    STOPPED = "stopped"


class OutcomeStatus(StrEnum):
    COPIED = "copied"
    COPIED_MIN_QTY = "copied_min_qty"
    COPIED_REDUCED = "copied_reduced"
    SKIPPED = "skipped"
    DONE = "done"


class Reason(StrEnum):
    """Why a copier action was skipped (or, for a close, what caused it)."""

    POSITION_NOT_COPIED = "position_not_copied"
    SLIPPAGE_LIMIT = "slippage_limit"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    LEVERAGE_NOT_SYNCED = "leverage_not_synced"
    COPY_INACTIVE = "copy_inactive"
    TRADER_LIQUIDATED = "trader_liquidated"


class OutcomeAction(StrEnum):
    OPEN = "open"
    INCREASE = "increase"
    CLOSE = "close"
    LEVERAGE = "leverage"
    LIQUIDATION = "liquidation"
    CANCEL = "cancel"


class EventType(StrEnum):
    CONFIG = "config"
    INSTRUMENT = "instrument"
    TRADER = "trader"
    DEPOSIT = "deposit"
    PRICE = "price"
    FUNDING = "funding"
    OPEN = "open"
    CLOSE = "close"
    LEVERAGE = "leverage"
    COPY = "copy"
    CANCEL = "cancel"
    SETTLE = "settle"
