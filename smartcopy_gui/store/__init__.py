"""SQLite persistence through sqlite-utils."""

from .store import Store, StoreError

__all__ = ["Store", "StoreError"]
