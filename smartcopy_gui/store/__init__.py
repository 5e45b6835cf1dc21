"""SQLite persistence through sqlite-utils."""

from .errors import DatabaseBusy, StoreError
from .store import Store

__all__ = ["Store", "StoreError", "DatabaseBusy"]
