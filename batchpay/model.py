"""Plain data passed between the stages. No behaviour beyond small derived facts.

A row's statuses and the moves between them are in :mod:`batchpay.statuses`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from batchpay.statuses import ACCEPTED, FINAL, UNSETTLED, RowStatus

__all__ = ["ACCEPTED", "FINAL", "UNSETTLED", "PayoutRow", "Rounding", "RowStatus"]


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
