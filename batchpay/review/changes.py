"""What changed since the last paid batch: the alarms a reviewer and an approver see.

Payroll fraud is mostly diversion: "please update my wallet", and next month's sheet pays a
stranger. So a plan is compared with the last batch of this ledger that paid someone:

- ``new``: a reference that batch did not pay;
- ``destination``: the same reference, another destination (address, memo/tag, network, or
  bank details), compared in canonical form (a TON account in any spelling is one account;
  bank details without spaces or case);
- ``amount``: the amount (or the currency) changed by more than a share of the old amount;
- ``missing``: a reference that batch paid and this plan does not.

``new`` and ``destination`` must be named by an approver (``batchpay approve --ack REF``).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from batchpay.money import MONEY_CONTEXT, to_wire
from batchpay.plan.preflight import identity, recipient_details
from batchpay.records import Plan, Recent
from batchpay.statuses import RowStatus

if TYPE_CHECKING:
    from batchpay.ledger import Ledger

__all__ = [
    "ACKNOWLEDGE",
    "DEFAULT_SHARE",
    "KINDS",
    "PAID",
    "PayeeChange",
    "last_paid",
    "must_acknowledge",
    "payee_changes",
]

KINDS = ("new", "destination", "amount", "missing")
ACKNOWLEDGE = frozenset({"new", "destination"})  # an approver must name these
DEFAULT_SHARE = Decimal("0.2")
# A batch "paid" a row the provider accepted: it is pending, processing or completed.
PAID = frozenset({RowStatus.COMPLETED, RowStatus.PENDING, RowStatus.PROCESSING})


@dataclass(frozen=True)
class PayeeChange:
    """One change. ``row`` is the sheet row of this plan (None for ``missing``); ``before``
    and ``after`` are display strings: the old and new destination, or the old and new amount
    with its currency (None where there is nothing to show)."""

    reference: str
    kind: str  # "new" | "destination" | "amount" | "missing"
    row: int | None
    before: str | None
    after: str | None
    note: str


@dataclass(frozen=True)
class _Payee:
    """A payee as compared: what was or will be paid, and where."""

    amount: Decimal
    currency: str
    network: str | None
    address: str | None
    memo: str | None
    extra: Mapping[str, str]

    def where(self) -> tuple[object, ...]:
        found = identity("", self.network, self.address, self.memo, Decimal(0), self.extra)
        return (found[1], found[2], found[3], found[5])

    def shown(self) -> str:
        if self.address is None:
            details = recipient_details(self.extra)
            return ", ".join(f"{k.removeprefix('recipient.')}={v}" for k, v in details)
        text = f"{self.network} {self.address}" if self.network else self.address
        return f"{text} memo {self.memo}" if self.memo else text

    def money(self) -> str:
        return f"{to_wire(self.amount)} {self.currency}"


def last_paid(ledger: Ledger, plan: Plan) -> tuple[str, dict[str, Recent]] | None:
    """The last paid batch to compare ``plan`` with, and its paid rows by reference: the most
    recently created other batch of this ledger, of the same kind (sandbox or live) through
    any provider (a payroll moved to another provider is compared with the last one it was
    paid through: a switch never hides a changed wallet), with at least one row pending,
    processing or completed; for a batch the ledger already holds (a review again after its
    run), one created before it, never a later month. None when there is none."""
    this = ledger.batch(plan.batch)
    claimed = ledger.recent_payments(plan.batch, "", sandbox=plan.provider == "sandbox")
    paid: dict[str, dict[str, Recent]] = {}
    for r in claimed:
        if r.status in PAID:
            paid.setdefault(r.batch, {})[r.reference] = r
    candidates = []
    for batch_id in paid:
        info = ledger.batch(batch_id)
        if info is not None and (this is None or info.created_at < this.created_at):
            candidates.append((info.created_at, batch_id))
    if not candidates:
        return None
    _, latest = max(candidates)
    return latest, paid[latest]


def payee_changes(
    ledger: Ledger, plan: Plan, *, amount_share: Decimal = DEFAULT_SHARE
) -> list[PayeeChange]:
    """The plan's changes since the last paid batch (:func:`last_paid`), new and changed
    rows in sheet order, then the missing ones by reference. Empty when no earlier batch
    paid anyone. ``amount_share`` is a share of the old amount (0.2 = 20 %)."""
    found = last_paid(ledger, plan)
    return [] if found is None else compare(plan, found[0], found[1], amount_share)


def compare(
    plan: Plan, before_batch: str, before: Mapping[str, Recent], amount_share: Decimal
) -> list[PayeeChange]:
    """:func:`payee_changes` on plain data: ``before`` holds the paid rows by reference."""
    changes: list[PayeeChange] = []
    seen: set[str] = set()
    for item in sorted(plan.items, key=lambda i: (i.payout.row, i.row_key)):
        p = item.payout
        seen.add(p.reference)
        now = _Payee(p.amount, p.currency, p.network, p.address, p.memo, p.extra)
        old = before.get(p.reference)
        if old is None:
            note = f"not paid in batch {before_batch!r}"
            changes.append(PayeeChange(p.reference, "new", p.row, None, now.shown(), note))
            continue
        then = _Payee(old.amount, old.currency, old.network, old.address, old.memo, old.extra)
        if then.where() != now.where():
            note = f"paid to another destination in batch {before_batch!r}"
            changes.append(
                PayeeChange(p.reference, "destination", p.row, then.shown(), now.shown(), note)
            )
        share = _amount_change(then, now)
        if share is None or share > amount_share:
            what = "another currency" if share is None else f"{_percent(share)} %"
            note = f"{what} against batch {before_batch!r} (alarm above {_percent(amount_share)} %)"
            changes.append(
                PayeeChange(p.reference, "amount", p.row, then.money(), now.money(), note)
            )
    for reference in sorted(set(before) - seen):
        then_row = before[reference]
        shown = f"{to_wire(then_row.amount)} {then_row.currency}"
        note = f"paid in batch {before_batch!r}, not in this plan"
        changes.append(PayeeChange(reference, "missing", None, shown, None, note))
    return changes


def _amount_change(then: _Payee, now: _Payee) -> Decimal | None:
    """|new - old| / old, or None when the currency changed (always an alarm)."""
    if then.currency != now.currency:
        return None
    if then.amount <= 0:  # never saved: amounts are positive
        return None
    context = MONEY_CONTEXT.copy()
    context.traps[decimal.Inexact] = False  # a share, not money: 1/3 may round
    return context.divide(abs(now.amount - then.amount), then.amount)


def _percent(share: Decimal) -> str:
    """A share as a percentage for people: 0.25 -> ``25``, 1/3 -> ``33.3``."""
    value = (share * 100).quantize(Decimal("0.1"))
    return to_wire(value.normalize()) if value != value.to_integral() else str(int(value))


def must_acknowledge(changes: Iterable[PayeeChange]) -> list[str]:
    """Sorted references of the ``new`` and ``destination`` changes: an approval must name
    each of them (``--ack REFERENCE``)."""
    return sorted({c.reference for c in changes if c.kind in ACKNOWLEDGE})
