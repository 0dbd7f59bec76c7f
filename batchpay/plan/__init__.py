"""Stage 3, plan: valid rows become keyed payouts, checked against what the ledger already has.

Planning is pure: it takes the validated rows and the ledger's existing rows as plain data and
returns the plan plus any conflicts, so it can run for ``--dry-run`` without touching the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable

from batchpay.keys import KeyForm, attempt_key, row_key
from batchpay.model import PayoutRow, Rounding, RowStatus
from batchpay.problems import Problem
from batchpay.records import CurrencyTotals, Existing, Plan, PlannedPayout

__all__ = [
    "CurrencyTotals",
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
                    f"pay it again under new details. {_what_now(old.status)}",
                    row=item.payout.row,
                    column=changed[0],
                    value=str(getattr(item.payout, changed[0])),
                )
            )
    return problems


def _what_now(status: RowStatus) -> str:
    """The way out of a changed row: a failed or cancelled one moved no money."""
    if status in (RowStatus.FAILED, RowStatus.CANCELLED):
        return (
            "Nothing was paid for it: restore the original row and use `batchpay retry` once "
            "the cause is fixed, or pay the corrected row in a new batch."
        )
    return (
        "Restore the original row, or pay the difference under a new reference or a new batch id."
    )
