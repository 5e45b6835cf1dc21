"""Events: immutable records carrying their time. Every source speaks these."""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from .enums import CopyMode, EventType, MarginMode, Side

EVENT_TYPES = tuple(EventType)


# ---------------------------------------------------------------- typed event payloads
# One frozen record per event type, with the fields of scenario-format.md; an optional
# field the event does not carry is None.
@dataclass(frozen=True, slots=True)
class ConfigFields:
    delay_ms: int | None = None
    impact_bps: Decimal | None = None
    taker_fee: Decimal | None = None
    min_investment: Decimal | None = None


@dataclass(frozen=True, slots=True)
class InstrumentFields:
    symbol: str
    qty_step: Decimal
    min_qty: Decimal
    tick: Decimal
    max_leverage: Decimal
    tiers: list[tuple[Decimal, Decimal, Decimal]]


@dataclass(frozen=True, slots=True)
class TraderFields:
    trader: str
    name: str
    balance: Decimal
    profit_share: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DepositFields:
    account: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PriceFields:
    symbol: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class FundingFields:
    symbol: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class OpenFields:
    trader: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    leverage: Decimal
    margin_mode: MarginMode
    fee_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CloseFields:
    trader: str
    symbol: str
    price: Decimal
    qty: Decimal | None = None
    fee_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LeverageFields:
    trader: str
    symbol: str
    leverage: Decimal


@dataclass(frozen=True, slots=True)
class CopyFields:
    copier: str
    trader: str
    mode: CopyMode
    investment: Decimal
    amount: Decimal | None = None
    ratio: Decimal | None = None
    max_slippage: Decimal | None = None
    max_margin_per_order: Decimal | None = None
    stop_loss: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CancelFields:
    copier: str
    trader: str


@dataclass(frozen=True, slots=True)
class SettleFields:
    pass


Payload = (ConfigFields | InstrumentFields | TraderFields | DepositFields | PriceFields
           | FundingFields | OpenFields | CloseFields | LeverageFields | CopyFields
           | CancelFields | SettleFields)

PAYLOAD_TYPES: dict[str, type[Payload]] = {
    EventType.CONFIG: ConfigFields, EventType.INSTRUMENT: InstrumentFields,
    EventType.TRADER: TraderFields, EventType.DEPOSIT: DepositFields,
    EventType.PRICE: PriceFields, EventType.FUNDING: FundingFields,
    EventType.OPEN: OpenFields, EventType.CLOSE: CloseFields,
    EventType.LEVERAGE: LeverageFields, EventType.COPY: CopyFields,
    EventType.CANCEL: CancelFields, EventType.SETTLE: SettleFields,
}
# Fields held as enums in the payloads (sources may hand in plain strings).
_ENUM_FIELDS: dict[str, type[Side] | type[MarginMode] | type[CopyMode]] = {
    "side": Side, "margin_mode": MarginMode, "mode": CopyMode}
_PAYLOAD_FIELD_NAMES = {t: tuple(f.name for f in dataclasses.fields(cls))
                        for t, cls in PAYLOAD_TYPES.items()}

P = TypeVar("P", bound=Payload)


def payload_from_fields(event_type: str, fields: dict[str, Any]) -> Payload:
    """The typed payload of an event of ``event_type`` from its field dict.

    Raises KeyError for an unknown type and TypeError when a required field is missing.
    """
    values: dict[str, Any] = {}
    for name in _PAYLOAD_FIELD_NAMES[event_type]:
        if name in fields and fields[name] is not None:
            value = fields[name]
            enum = _ENUM_FIELDS.get(name)
            values[name] = enum(value) if enum is not None else value
    return PAYLOAD_TYPES[event_type](**values)


@dataclass(frozen=True, slots=True)
class Event:
    """One input event. ``ts`` is milliseconds since the Unix epoch (UTC); ``fields``
    holds the parsed type-specific fields (Decimals, strings, lists)."""

    id: str
    ts: int
    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    _payload: Payload | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def digest(self) -> str:
        """A fingerprint of the content, to tell a re-import from a reused id."""
        canon = json.dumps({"ts": self.ts, "type": self.type, "fields": _canon(self.fields)},
                           sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()[:32]

    def get(self, name: str, default: Any = None) -> Any:
        """A field, or ``default`` when absent."""
        return self.fields.get(name, default)

    @property
    def payload(self) -> Payload:
        """The fields as this event type's typed record (built once, on first use)."""
        built = self._payload
        if built is None:
            built = payload_from_fields(self.type, self.fields)
            object.__setattr__(self, "_payload", built)
        return built

    def payload_as(self, kind: builtins.type[P]) -> P:
        """The typed payload, checked to be of ``kind`` (the handler's event type)."""
        built = self.payload
        if not isinstance(built, kind):
            raise TypeError(f"a {self.type} event has no {kind.__name__}")
        return built


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
