"""The records the plan and the ledger pass between them: the plan, what the ledger already
holds for a batch, and the rows of other batches the checks look at. Plain data, on the ground
floor, so that the ledger needs nothing from the planner."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from batchpay.model import PayoutRow, Rounding
from batchpay.money import to_wire, total
from batchpay.problems import Problem
from batchpay.statuses import RowStatus

__all__ = [
    "CLAIMED",
    "RECENT_DAYS",
    "Check",
    "CurrencyTotals",
    "Existing",
    "LedgerView",
    "Plan",
    "PlannedPayout",
    "Recent",
    "recent_since",
]


@dataclass(frozen=True, slots=True)
class PlannedPayout:
    row_key: str
    payout: PayoutRow


@dataclass(frozen=True)
class CurrencyTotals:
    rows: int
    requested: Decimal
    to_send: Decimal
    rounding_delta: Decimal


@dataclass
class Plan:
    batch: str
    provider: str
    sheet_name: str
    sheet_sha256: str
    items: list[PlannedPayout] = field(default_factory=list)
    roundings: list[Rounding] = field(default_factory=list)

    @functools.cached_property
    def digest(self) -> str:
        """A fingerprint of everything the ledger stores from this plan. Equal to the one
        saved with the batch, the plan is the one already checked and saved: a resume can
        skip comparing it row by row."""
        material = [
            [
                i.row_key,
                p.row,
                p.reference,
                to_wire(p.amount_requested),
                to_wire(p.amount),
                to_wire(p.rounding_delta),
                p.currency,
                p.network,
                p.address,
                p.memo,
                p.name,
                p.description,
                sorted(p.extra.items()),
            ]
            for i in self.items
            for p in (i.payout,)
        ]
        text = json.dumps([self.provider, self.sheet_name, self.sheet_sha256, material])
        return hashlib.sha256(text.encode()).hexdigest()

    def totals(self) -> dict[str, CurrencyTotals]:
        result: dict[str, CurrencyTotals] = {}
        for currency in sorted({i.payout.currency for i in self.items}):
            rows = [i.payout for i in self.items if i.payout.currency == currency]
            result[currency] = CurrencyTotals(
                rows=len(rows),
                requested=total(r.amount_requested for r in rows),
                to_send=total(r.amount for r in rows),
                rounding_delta=total(r.rounding_delta for r in rows),
            )
        return result


@dataclass(frozen=True, slots=True)
class Existing:
    """What the ledger holds for a row key: enough to compare with a new plan."""

    row_key: str
    reference: str
    status: RowStatus
    sent_before: bool  # at least one attempt was started
    amount: Decimal
    currency: str
    network: str | None
    address: str | None
    memo: str | None
    extra: Mapping[str, str] = field(default_factory=dict)  # a fiat row's recipient details


RECENT_DAYS = 31
# Rows of another batch that count as paid: sent, in flight, or claimed but not yet sent.
CLAIMED = (
    RowStatus.PLANNED,
    RowStatus.SENDING,
    RowStatus.UNKNOWN,
    RowStatus.PENDING,
    RowStatus.PROCESSING,
    RowStatus.COMPLETED,
    RowStatus.NEEDS_REVIEW,
)


@dataclass(frozen=True, slots=True)
class Recent:
    """A row of another batch of the ledger, claimed within the recent window."""

    batch: str
    reference: str
    status: RowStatus
    amount: Decimal
    currency: str
    network: str | None
    address: str | None
    memo: str | None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerView:
    """What the ledger holds that the checks need. ``existing`` is None when the ledger holds
    this very plan already (same digest): every row of it was checked when it was saved."""

    existing: Mapping[str, Existing] | None = None
    recent: list[Recent] = field(default_factory=list)


def recent_since(now: dt.datetime | None = None) -> str:
    """The start of the paid-recently window, as the ledger writes times."""
    moment = now or dt.datetime.now(dt.UTC)
    return (moment - dt.timedelta(days=RECENT_DAYS)).astimezone(dt.UTC).isoformat()


Check = Callable[[LedgerView], list[Problem]]
