"""Plain data passed between the stages. No behaviour beyond small derived facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class RowStatus(StrEnum):
    PLANNED = "planned"
    SENDING = "sending"  # intent committed; the request may or may not have left
    UNKNOWN = "unknown"  # sent, outcome not known: resolve with the provider, never resend blind
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    NEEDS_REVIEW = "needs_review"  # a person must look (doubtful match, duplicate at provider)


FINAL = frozenset({RowStatus.COMPLETED, RowStatus.FAILED, RowStatus.CANCELLED})
ACCEPTED = frozenset({RowStatus.PENDING, RowStatus.PROCESSING, RowStatus.COMPLETED})
UNSETTLED = frozenset({RowStatus.SENDING, RowStatus.UNKNOWN})


@dataclass(frozen=True, slots=True)
class PayoutRow:
    """One valid sheet row, ready to plan. ``amount`` is what will be sent."""

    row: int
    reference: str
    amount_requested: Decimal
    amount: Decimal
    rounding_delta: Decimal  # amount - amount_requested (<= 0 under the default policy)
    currency: str
    network: str | None = None
    address: str | None = None
    memo: str | None = None
    name: str | None = None
    description: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)  # provider-specific columns


@dataclass(frozen=True, slots=True)
class Rounding:
    row: int
    reference: str
    currency: str
    requested: Decimal
    rounded: Decimal
    delta: Decimal
    places: int
