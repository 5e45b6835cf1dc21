"""Importing real data: a price history CSV, and a trader's trade history as CSV or
scenario JSON Lines. Parsing (:mod:`.import_parse`) is apart from applying
(:mod:`.import_apply`); this module gathers both for the command line."""

from __future__ import annotations

from .import_apply import CHUNK_EVENTS, ImportRejection, ImportSummary, SourceCounts, import_events
from .import_parse import (
    DEFAULT_BAR_MS,
    ImportFailed,
    ParsedFile,
    parse_price_csv,
    parse_timestamp,
    parse_trades_csv,
    parse_trades_jsonl,
)

__all__ = ["CHUNK_EVENTS", "DEFAULT_BAR_MS", "ImportFailed", "ImportRejection", "ImportSummary",
           "ParsedFile", "SourceCounts", "import_events", "parse_price_csv", "parse_timestamp",
           "parse_trades_csv", "parse_trades_jsonl"]
