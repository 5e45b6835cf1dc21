"""The words a user reads for modes, statuses, reasons and actions, in one place.

Codes are the report's (``fixed_amount``, ``copied_min_qty``…); every panel, the copy
wizard and the CLI's text output show them through these tables, so a word is
spelled and capitalised one way everywhere: sentence case for names and statuses
("Fixed amount", "Copied at min. qty"), and reasons as sentences that start with a
capital ("The price moved beyond the slippage limit"). The JSON output keeps codes.
"""

from __future__ import annotations

from collections.abc import Mapping

MODE_WORDS: Mapping[str, str] = {
    "smart": "Smart",
    "fixed_amount": "Fixed amount",
    "fixed_ratio": "Fixed ratio",
}
MODE_LINES: Mapping[str, str] = {
    "smart": "Follows direction, leverage and margin mode, sizing each order to the "
             "trader's capital utilization on your investment",
    "fixed_amount": "Uses the same margin for every copied order",
    "fixed_ratio": "Copies a fixed fraction of the trader's quantity",
}
COPY_STATUS_WORDS: Mapping[str, str] = {
    "active": "Active",
    "cancelled": "Cancelled",
    "stopped": "Stopped",
}
OUTCOME_STATUS_WORDS: Mapping[str, str] = {
    "copied": "Copied",
    "copied_min_qty": "Copied at min. qty",
    "copied_reduced": "Copied, reduced",
    "skipped": "Skipped",
    "done": "Done",
}
REASON_WORDS: Mapping[str, str] = {
    "position_not_copied": "The opening of this position was not copied",
    "slippage_limit": "The price moved beyond the slippage limit",
    "insufficient_funds": "The copy account could not afford the minimum quantity",
    "leverage_not_synced": "The copy account could not afford the new leverage",
    "copy_inactive": "The copy had ended before this action ran",
    "trader_liquidated": "The trader was liquidated",
}
# A status that changes the quantity explains itself when there is no reason code.
STATUS_EXPLANATIONS: Mapping[str, str] = {
    "copied_min_qty": "Bumped up to the minimum quantity",
    "copied_reduced": "Reduced to what the copy account could afford",
}
ACTION_WORDS: Mapping[str, str] = {
    "open": "Open",
    "increase": "Increase",
    "close": "Close",
    "leverage": "Leverage",
    "liquidation": "Liquidation",
    "cancel": "Cancel",
}
# How a position cycle ended, in the trader's recent trades.
CLOSE_WORDS: Mapping[str, str] = {
    "close": "Closed",
    "liquidation": "Liquidated",
    "cancel": "Cancelled",
}


def words(table: Mapping[str, str], code: str | None) -> str:
    """``code`` in words from ``table``; an unknown code as a capitalised phrase
    ("some_new_code" → "Some new code"), an empty one as ""."""
    if not code:
        return ""
    return table.get(code) or code.replace("_", " ").capitalize()


def mode_words(mode: str) -> str:
    return words(MODE_WORDS, mode)


def copy_status_words(status: str) -> str:
    return words(COPY_STATUS_WORDS, status)


def outcome_status_words(status: str) -> str:
    return words(OUTCOME_STATUS_WORDS, status)


def reason_words(reason: str | None, status: str = "") -> str:
    """Why an outcome happened: its reason, else what its status did to the quantity."""
    if reason:
        return words(REASON_WORDS, reason)
    return STATUS_EXPLANATIONS.get(status, "")


def in_sentence(text: str) -> str:
    """A capitalised phrase for the middle of a sentence: "The trader…" → "the trader…"."""
    return text[:1].lower() + text[1:]


def copy_label(copy_id: int, trader_name: str, mode: str) -> str:
    """The one label of a copy, in every panel: "Dmitri Averages · Smart · #1"."""
    return f"{trader_name} · {mode_words(mode)} · #{copy_id}"
