"""Stage 3, plan: valid rows become keyed payouts, checked against what the ledger already has.

Planning is pure: it takes the validated rows and the ledger's existing rows as plain data and
returns the plan plus any conflicts, so it can run for ``--dry-run`` without touching the ledger.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from batchpay.model import PayoutRow, Rounding, RowStatus
from batchpay.money import to_wire, total
from batchpay.plan.keys import KeyForm, attempt_key, row_key
from batchpay.problems import Problem

__all__ = [
    "Existing",
    "KeyForm",
    "Plan",
    "PlannedPayout",
    "attempt_key",
    "conflicts",
    "make_plan",
    "row_key",
]

# What identifies the payout: if any of these change under a reference that was already sent,
# the new sheet describes a different payment and must not silently replace the old one.
IDENTITY_FIELDS = ("amount", "currency", "network", "address", "memo")


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


def make_plan(
    batch: str,
    provider: str,
    sheet_name: str,
    sheet_sha256: str,
    rows: Iterable[PayoutRow],
    roundings: Iterable[Rounding] = (),
) -> Plan:
    if not batch.strip():
        raise ValueError("a batch id is required")
    items = [PlannedPayout(row_key(batch, r.reference), r) for r in rows]
    return Plan(batch, provider, sheet_name, sheet_sha256, items, list(roundings))


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


def conflicts(plan: Plan, existing: dict[str, Existing]) -> list[Problem]:
    """Rows whose payment details changed after the ledger started paying them."""
    problems: list[Problem] = []
    for item in plan.items:
        old = existing.get(item.row_key)
        if old is None or not old.sent_before:
            continue
        changed = [f for f in IDENTITY_FIELDS if getattr(old, f) != getattr(item.payout, f)]
        if changed:
            problems.append(
                Problem(
                    "plan.changed_after_send",
                    f"reference {item.payout.reference!r} is already {old.status} in batch "
                    f"{plan.batch!r} with a different {', '.join(changed)}; batchpay will not "
                    "pay it again under new details. Restore the original row, or pay the "
                    "difference under a new reference or a new batch id.",
                    row=item.payout.row,
                    column=changed[0],
                    value=str(getattr(item.payout, changed[0])),
                )
            )
    return problems
