"""Events: immutable records carrying their time. Every source speaks these."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

EVENT_TYPES = ("config", "instrument", "trader", "deposit", "price", "funding", "open",
               "close", "leverage", "copy", "cancel", "settle")


@dataclass(frozen=True, slots=True)
class Event:
    """One input event. ``ts`` is milliseconds since the Unix epoch (UTC); ``fields``
    holds the parsed type-specific fields (Decimals, strings, lists)."""

    id: str
    ts: int
    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    @property
    def digest(self) -> str:
        """A fingerprint of the content, to tell a re-import from a reused id."""
        canon = json.dumps({"ts": self.ts, "type": self.type, "fields": _canon(self.fields)},
                           sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()[:32]

    def get(self, name: str, default: Any = None) -> Any:
        """A field, or ``default`` when absent."""
        return self.fields.get(name, default)


def _canon(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value != 0 else "0"
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    return value


def format_ts(ms: int) -> str:
    """Milliseconds since the epoch as ISO-8601 UTC with milliseconds."""
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def parse_ts(text: str) -> int:
    """ISO-8601 UTC (``Z`` or ``+00:00``) to milliseconds since the epoch.

    Raises ValueError naming what is wrong.
    """
    if not isinstance(text, str):
        raise ValueError("ts must be a string")
    s = text.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    if "T" not in s:
        raise ValueError(f"ts {text!r} is not an ISO-8601 date-time")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"ts {text!r} is not an ISO-8601 date-time") from None
    if dt.tzinfo is None or dt.utcoffset() != UTC.utcoffset(None):
        raise ValueError(f"ts {text!r} must be UTC (end with Z)")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    delta = dt - epoch
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
