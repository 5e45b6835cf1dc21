"""Why a database cannot be used; each message names the file and what to do."""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


class DatabaseBusy(StoreError):
    """Another process is writing to this database; the message names it."""
