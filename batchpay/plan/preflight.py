"""Every check made before the first payout of a run, in one pure function.

``run`` calls :func:`preflight` inside the ledger transaction that claims the rows, the dry
run calls it on the same ledger data without writing, and a review command can call it too:
the three cannot disagree about what would be refused. Its inputs are plain data:

- the plan;
- a :class:`LedgerView`: this batch's rows and recent rows of other batches, as the ledger
  holds them at the moment of the check;
- the provider's table of what it can pay, and the fee quotes gathered before the check.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from batchpay.errors import SheetRejected
from batchpay.model import PayoutRow, RowStatus
from batchpay.money import to_wire
from batchpay.plan import Existing, Plan, PlannedPayout, conflicts
from batchpay.problems import Problem, Severity, has_errors, sort_key
from batchpay.records import CLAIMED as CLAIMED  # re-exported: they lived here before
from batchpay.records import RECENT_DAYS
from batchpay.records import Check as Check
from batchpay.records import LedgerView as LedgerView
from batchpay.records import Recent as Recent
from batchpay.records import recent_since as recent_since

if TYPE_CHECKING:  # the validate package loads pandas: imported only where it is used
    from batchpay.providers.base import Quote
    from batchpay.validate.payable import Payable

_NOT_SENT_YET = frozenset({RowStatus.PLANNED})
_IN_FLIGHT = frozenset({RowStatus.SENDING, RowStatus.UNKNOWN})

Identity = tuple[object, ...]


def identity(
    currency: str,
    network: str | None,
    address: str | None,
    memo: str | None,
    amount: Decimal,
    extra: Mapping[str, str],
) -> Identity:
    """The same payment: recipient, amount and currency. A fiat row names its recipient in
    its extra columns (bank details) rather than an address."""
    recipient = _ton_account(address) if network == "TON" and address else address
    return (currency, network, recipient, memo, amount, _extra(extra) if address is None else ())


_TON_RAW = re.compile(r"(-?[0-9]+):([0-9a-fA-F]{64})")


def _ton_account(address: str) -> str:
    """A TON account as ``workchain:id``, whatever form or flags it is written with (EQ...,
    UQ..., raw 0:...): as batchpay.validate.repeats compares it within a sheet. Kept here so
    the checks that ``retry`` runs load no validation code."""
    raw = _TON_RAW.fullmatch(address)
    if raw:
        return f"{int(raw.group(1))}:{raw.group(2).lower()}"
    try:
        data = base64.urlsafe_b64decode(address.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        return address
    if len(data) != 36:
        return address
    return f"{-1 if data[1] == 0xFF else data[1]}:{data[2:34].hex()}"


def row_identity(p: PayoutRow) -> Identity:
    return identity(p.currency, p.network, p.address, p.memo, p.amount, p.extra)


def preflight(
    plan: Plan,
    view: LedgerView,
    *,
    allow_duplicates: bool,
    payable: Payable | None = None,
    quotes: Mapping[str, Quote] | None = None,
) -> list[Problem]:
    """Every problem that must stop (errors) or be shown (warnings) before sending."""
    existing = view.existing
    problems: list[Problem] = []
    if existing is None:  # saved from this very plan: its rows were checked then
        to_send = plan.items
    else:
        to_send = [i for i in plan.items if not _sent(existing.get(i.row_key))]
        problems += conflicts(plan, dict(existing))
        problems += repeated_in_batch(plan, existing, allow_duplicates)
        problems += fee_problems(to_send, quotes or {})  # the run quotes only new plans
    problems += _unpayable(to_send, payable)
    problems += paid_recently(to_send, view.recent, allow_duplicates)
    return problems


_REFUSALS = {
    "plan.changed_after_send": "the sheet changes rows that were already sent",
    "payment.paid_recently": "references were paid recently in another batch",
    "payment.repeated": "payments are already in this batch under other references",
    "provider.cannot_pay": "rows ask for what the provider cannot pay",
    "amount.below_fee": "fees would take the whole amount of some rows",
}


def refuse(problems: list[Problem]) -> list[Problem]:
    """Raise SheetRejected if any problem is an error; else return the warnings."""
    if has_errors(problems):
        codes = dict.fromkeys(p.code for p in problems if p.severity is Severity.ERROR)
        reasons = "; ".join(_REFUSALS.get(c, c) for c in codes)
        raise SheetRejected(f"{reasons}; nothing was sent", sorted(problems, key=sort_key))
    return problems


class SavedRow(Protocol):
    """A row as the ledger holds it (``batchpay.ledger.LedgerRow``)."""

    @property
    def row_key(self) -> str: ...

    def as_payout(self) -> PayoutRow: ...


def claimed_since(rows: Iterable[SavedRow], recent: Iterable[Recent]) -> dict[str, str]:
    """Row key -> why, for each of the batch's saved rows to retry that another batch has
    claimed since (``recent``: the ledger's recent payments of other batches)."""
    items = [PlannedPayout(r.row_key, r.as_payout()) for r in rows]
    return dict(left_to_other_batches(items, recent))


def left_to_other_batches(
    failed: Iterable[PlannedPayout], recent: Iterable[Recent]
) -> list[tuple[str, str]]:
    """(row key, why) for each failed row that another batch has claimed since: ``retry``
    must not pay it again."""
    return [
        (item.row_key, claimed_elsewhere(item.payout, found) + "; retry leaves it to that batch")
        for item, found in claims_elsewhere(failed, recent)
    ]


def _unpayable(items: list[PlannedPayout], payable: Payable | None) -> list[Problem]:
    if payable is None:
        return []
    from batchpay.validate.payable import unpayable

    return unpayable((i.payout for i in items), payable)


def fee_problems(items: Iterable[PlannedPayout], quotes: Mapping[str, Quote]) -> list[Problem]:
    """A fee as large as the amount leaves the recipient nothing (or less): refuse the row."""
    problems: list[Problem] = []
    if not quotes:
        return problems
    for item in items:
        quote = quotes.get(item.row_key)
        if quote is None or quote.receives > 0:
            continue
        p = item.payout
        problems.append(
            Problem(
                "amount.below_fee",
                f"the fee of {to_wire(quote.fee)} {p.currency} is at least the amount "
                f"{to_wire(p.amount)} {p.currency}: the recipient would get "
                f"{to_wire(quote.receives)}. Raise the amount, or pass --fee-option add "
                "where the provider supports it",
                row=p.row,
                column="amount",
                value=to_wire(p.amount),
            )
        )
    return problems


def repeated_in_batch(plan: Plan, existing: Mapping[str, Existing], allowed: bool) -> list[Problem]:
    """A new row that repeats a payment this batch already holds under another reference
    (a reference re-spelled between runs, say with a look-alike letter) is the same payment."""
    in_plan = {i.row_key for i in plan.items}
    held: dict[Identity, Existing] = {}
    for row in existing.values():
        if row.row_key not in in_plan:  # rows of this sheet are compared by validation
            held.setdefault(_existing_identity(row), row)
    problems = []
    for item in plan.items:
        p = item.payout
        old = None if item.row_key in existing else held.get(row_identity(p))
        if old is None:
            continue
        problems.append(
            Problem(
                "payment.repeated",
                f"the same payment ({to_wire(p.amount)} {p.currency} to the same recipient) "
                f"is already in batch {plan.batch!r} under reference {old.reference!r} "
                f"({old.status}); a reference spelled differently is not a new payment"
                + _hint(allowed),
                row=p.row,
                column="reference",
                value=p.reference,
                severity=Severity.WARNING if allowed else Severity.ERROR,
            )
        )
    return problems


def paid_recently(
    items: Iterable[PlannedPayout], recent: Iterable[Recent], allowed: bool
) -> list[Problem]:
    """A row another batch of this ledger has claimed within RECENT_DAYS days (paid, in
    flight, or planned and not sent yet), by reference and amount or by recipient, amount and
    currency, is probably this month's sheet run twice under two batch ids."""
    return [
        Problem(
            "payment.paid_recently",
            claimed_elsewhere(item.payout, found) + _hint(allowed),
            row=item.payout.row,
            column="reference",
            value=item.payout.reference,
            severity=Severity.WARNING if allowed else Severity.ERROR,
        )
        for item, found in claims_elsewhere(items, recent)
    ]


def claims_elsewhere(
    items: Iterable[PlannedPayout], recent: Iterable[Recent]
) -> list[tuple[PlannedPayout, list[Recent]]]:
    """Each item another batch has claimed, with the rows that claim it."""
    recent = list(recent)
    if not recent:  # the usual case: the only batch of the ledger in the window
        return []
    by_reference: dict[tuple[str, Decimal], list[Recent]] = {}
    by_identity: dict[Identity, list[Recent]] = {}
    for r in recent:
        by_reference.setdefault((r.reference, r.amount), []).append(r)
        key = identity(r.currency, r.network, r.address, r.memo, r.amount, r.extra)
        by_identity.setdefault(key, []).append(r)
    claimed = []
    for item in items:
        p = item.payout
        found = by_reference.get((p.reference, p.amount)) or by_identity.get(row_identity(p))
        if found:
            claimed.append((item, found))
    return claimed


def claimed_elsewhere(p: PayoutRow, found: list[Recent]) -> str:
    """Where else the payment ``p`` is: a sentence for the user."""
    return f"reference {p.reference!r} ({to_wire(p.amount)} {p.currency}) " + _where(
        found, p.reference
    )


def _where(found: list[Recent], reference: str) -> str:
    first = found[0]
    if first.status in _NOT_SENT_YET:
        text = (
            f"is planned in batch {first.batch!r} and not sent yet (run that batch again to "
            "send it)"
        )
    elif first.status in _IN_FLIGHT:
        text = f"is being paid in batch {first.batch!r}"
    else:
        text = f"was paid in batch {first.batch!r}"
    if first.reference != reference:
        text += f" as reference {first.reference!r}"
    text += f" within {RECENT_DAYS} days"
    others = sorted({r.batch for r in found} - {first.batch})
    if others:
        text += f" (also in {', '.join(repr(b) for b in others)})"
    return text


def _hint(allowed: bool) -> str:
    return "" if allowed else "; if intended, pass --allow-duplicates"


def _sent(old: Existing | None) -> bool:
    return old is not None and old.sent_before


def _existing_identity(old: Existing) -> Identity:
    return identity(old.currency, old.network, old.address, old.memo, old.amount, old.extra)


_NOT_RECIPIENT = frozenset({"purpose_of_payment", "source_of_funds"})  # about the payment


def _extra(extra: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """A fiat recipient as compared: the bank details without spaces or case ("0012 3456"
    is account 00123456); the purpose and source of funds describe the payment, not who gets
    it; the name counts only where no ``recipient.`` detail names the account."""
    details = {k: v for k, v in extra.items() if k not in _NOT_RECIPIENT}
    if any(k.startswith("recipient.") for k in details):
        details.pop("recipient_name", None)
    return tuple(sorted((k, "".join(v.split()).casefold()) for k, v in details.items()))


recipient_details = _extra
