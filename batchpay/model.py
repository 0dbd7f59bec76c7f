"""Plain data passed between the stages. No behaviour beyond small derived facts.

A row's statuses and the moves between them are in :mod:`batchpay.statuses`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from batchpay.statuses import ACCEPTED, FINAL, UNSETTLED, RowStatus

__all__ = [
    "ACCEPTED",
    "FINAL",
    "PAYOUT_FIELDS",
    "UNSETTLED",
    "PayoutDetails",
    "PayoutRow",
    "Rounding",
    "RowStatus",
]


@dataclass(frozen=True, slots=True)
class PayoutDetails:
    """A payout's own fields, defined once: what is paid, to whom, and how. The sheet row
    (:class:`PayoutRow`), the ledger's row and the provider request carry these same fields
    under these names and types (``tests/test_vocabulary.py`` holds them to it), so one
    record passes them to the next with ``**PayoutDetails.of(record).as_kwargs()`` instead
    of copying them field by field."""

    reference: str
    amount: Decimal
    currency: str
    network: str | None = None
    address: str | None = None
    memo: str | None = None
    name: str | None = None
    description: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)  # provider-specific columns

    @classmethod
    def of(cls, record: object) -> PayoutDetails:
        """The details of any record that carries them."""
        return cls(**{name: getattr(record, name) for name in PAYOUT_FIELDS})

    def as_kwargs(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PAYOUT_FIELDS}


PAYOUT_FIELDS = tuple(f.name for f in fields(PayoutDetails))


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
