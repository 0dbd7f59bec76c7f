"""The reconciliation, computed from the ledger alone: same ledger, same report."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from batchpay.bulk import bulk
from batchpay.ledger import AmountGroup, AttemptRecord, BatchInfo, Ledger, LedgerRow
from batchpay.model import ACCEPTED, RowStatus
from batchpay.money import MONEY_CONTEXT, ZERO, to_wire, total

# Every row is in exactly one bucket; the control identity is requested == sum of buckets.
BUCKETS: dict[str, frozenset[RowStatus]] = {
    "completed": frozenset({RowStatus.COMPLETED}),
    "failed": frozenset({RowStatus.FAILED}),
    "cancelled": frozenset({RowStatus.CANCELLED}),
    "pending": frozenset({RowStatus.PENDING, RowStatus.PROCESSING}),
    "unknown": frozenset({RowStatus.SENDING, RowStatus.UNKNOWN}),
    "needs_review": frozenset({RowStatus.NEEDS_REVIEW}),
    "not_sent": frozenset({RowStatus.PLANNED}),
}
EXCEPTIONS = frozenset(
    {
        RowStatus.FAILED,
        RowStatus.UNKNOWN,
        RowStatus.SENDING,
        RowStatus.NEEDS_REVIEW,
        RowStatus.CANCELLED,
    }
)

CSV_COLUMNS = (
    "row",
    "reference",
    "name",
    "currency",
    "network",
    "address",
    "amount_requested",
    "amount_sent",
    "rounding_delta",
    "fee",
    "status",
    "provider_ref",
    "idempotency_key",
    "attempts",
    "tx_hash",
    "error",
    "description",
)


@dataclass(frozen=True)
class ReportRow:
    row: int
    reference: str
    name: str
    currency: str
    network: str
    address: str
    amount_requested: Decimal
    amount_sent: Decimal | None
    rounding_delta: Decimal
    fee: Decimal | None
    status: str
    provider_ref: str
    idempotency_key: str
    attempts: int
    tx_hash: str
    error: str
    description: str = ""

    @property
    def is_exception(self) -> bool:
        return RowStatus(self.status) in EXCEPTIONS or self.rounding_delta != ZERO

    def cells(self) -> list[str | int | Decimal | None]:
        return [getattr(self, c) for c in CSV_COLUMNS]


@dataclass(frozen=True)
class CurrencySummary:
    currency: str
    rows: int
    requested: Decimal
    rounding_delta: Decimal
    sent: Decimal
    fees: Decimal
    debited: Decimal  # what left the provider balance
    to_recipients: Decimal  # what the recipients were sent, after fees
    buckets: dict[str, Decimal]
    bucket_rows: dict[str, int]

    @property
    def accounted(self) -> Decimal:
        return total(self.buckets.values())

    @property
    def identity_holds(self) -> bool:
        return self.requested == self.accounted


@dataclass(frozen=True)
class Report:
    batch: BatchInfo
    as_of: str
    rows: list[ReportRow]
    summaries: list[CurrencySummary]
    counts: dict[str, int] = field(default_factory=dict)
    attempts: list[tuple[int, str, AttemptRecord]] = field(default_factory=list)  # (row, ref, …)

    @property
    def identity_holds(self) -> bool:
        return all(s.identity_holds for s in self.summaries)

    @property
    def exceptions(self) -> list[ReportRow]:
        return [r for r in self.rows if r.is_exception]

    def summary(self) -> BatchSummary:
        groups: dict[tuple[str, str], list[ReportRow]] = {}
        for r in self.rows:
            groups.setdefault((r.currency, r.status), []).append(r)
        return summarize(
            [
                AmountGroup(
                    currency,
                    RowStatus(status),
                    len(rows),
                    total(r.amount_requested for r in rows),
                    total(r.amount_sent for r in rows if r.amount_sent is not None),
                    total(r.fee for r in rows if r.fee is not None),
                    total(r.rounding_delta for r in rows),
                )
                for (currency, status), rows in groups.items()
            ],
            self.as_of,
        )

    def totals_json(self) -> dict[str, dict[str, str]]:
        return self.summary().totals


@dataclass(frozen=True)
class BatchSummary:
    """What a run prints and returns: counts and totals, without the rows themselves."""

    rows: int
    counts: dict[str, int]
    totals: dict[str, dict[str, str]]  # {CURRENCY: {"requested": ..., STATUS: ...}} (CONTRACT.md)
    as_of: str
    identity_holds: bool
    all_accepted: bool


def summarize(groups: Iterable[AmountGroup], as_of: str) -> BatchSummary:
    counts = {str(s): 0 for s in RowStatus}
    by_currency: dict[str, list[AmountGroup]] = {}
    for group in groups:
        counts[group.status] += group.rows
        by_currency.setdefault(group.currency, []).append(group)
    totals: dict[str, dict[str, str]] = {}
    holds = True
    for currency in sorted(by_currency):
        mine = by_currency[currency]
        requested = total(g.requested for g in mine)
        entry = {
            "requested": to_wire(requested),
            "sent": to_wire(total(g.sent for g in mine)),
            "fees": to_wire(total(g.fees for g in mine if g.status in ACCEPTED)),
            "rounding_delta": to_wire(total(g.rounding_delta for g in mine)),
        }
        status_totals = {g.status: g.requested for g in mine}
        entry |= {str(s): to_wire(status_totals[s]) for s in RowStatus if s in status_totals}
        totals[currency] = entry
        bucketed = total(g.requested for g in mine if any(g.status in b for b in BUCKETS.values()))
        holds = holds and bucketed == requested
    accepted = {str(s) for s in ACCEPTED}
    return BatchSummary(
        rows=sum(counts.values()),
        counts=counts,
        totals=totals,
        as_of=as_of,
        identity_holds=holds,
        all_accepted=all(n == 0 or s in accepted for s, n in counts.items()),
    )


def summary_json(summary: BatchSummary, ledger: Ledger, batch_id: str) -> dict[str, Any]:
    """The summary as stored beside a report stamp: all of it but "as of", which moves with
    every run, and the newest row change, from which "as of" is rebuilt."""
    data = dataclasses.asdict(summary)
    del data["as_of"]
    data["last_update"] = ledger.last_update(batch_id)
    return data


def summary_from_json(data: dict[str, Any], info: BatchInfo) -> BatchSummary:
    fields = {k: v for k, v in data.items() if k != "last_update"}
    as_of = max(info.last_run_at, info.refreshed_at or "", data["last_update"])
    return BatchSummary(as_of=as_of, **fields)


def summarize_ledger(ledger: Ledger, batch_id: str) -> BatchSummary:
    """The summary straight from the ledger, without building a report row per payout."""
    info = ledger.require_batch(batch_id)
    as_of = max(info.last_run_at, info.refreshed_at or "", ledger.last_update(batch_id))
    return summarize(ledger.amount_groups(batch_id), as_of)


@bulk
def build_report(ledger: Ledger, batch_id: str) -> Report:
    info = ledger.require_batch(batch_id)
    ledger_rows = ledger.rows(batch_id)
    records = ledger.attempts(batch_id)
    creates = Counter(a.row_key for a in records if a.action == "create")
    rows = [_report_row(r, creates[r.row_key]) for r in ledger_rows]
    as_of = max([info.last_run_at, info.refreshed_at or "", *(r.updated_at for r in ledger_rows)])
    counts = {str(s): 0 for s in RowStatus}
    for r in rows:
        counts[r.status] += 1
    references = {r.row_key: (r.sheet_row, r.reference) for r in ledger_rows}
    trail = [(*references.get(a.row_key, (0, "")), a) for a in records]
    return Report(info, as_of, rows, _summaries(ledger_rows, info.fee_option), counts, trail)


def _report_row(r: LedgerRow, attempts: int) -> ReportRow:
    return ReportRow(
        row=r.sheet_row,
        reference=r.reference,
        name=r.name or "",
        currency=r.currency,
        network=r.network or "",
        address=r.address or "",
        amount_requested=r.amount_requested,
        amount_sent=r.amount_sent,
        rounding_delta=r.rounding_delta,
        fee=r.fee if r.status in ACCEPTED else None,
        status=str(r.status),
        provider_ref=r.provider_ref or "",
        idempotency_key=r.idempotency_key or "",
        attempts=attempts,
        tx_hash=r.tx_hash or "",
        error=" ".join(x for x in (r.error_code, r.error_message) if x),
        description=r.description or "",
    )


def _summaries(rows: list[LedgerRow], fee_option: str) -> list[CurrencySummary]:
    result = []
    for currency in sorted({r.currency for r in rows}):
        mine = [r for r in rows if r.currency == currency]
        buckets = {
            name: total(r.amount_requested for r in mine if r.status in statuses)
            for name, statuses in BUCKETS.items()
        }
        bucket_rows = {
            name: sum(1 for r in mine if r.status in statuses) for name, statuses in BUCKETS.items()
        }
        sent = total(r.amount_sent for r in mine if r.amount_sent is not None)
        fees = total(r.fee for r in mine if r.fee is not None and r.status in ACCEPTED)
        # deduct: fees come out of the amount sent; add: they are charged on top of it
        debited = total([sent, fees]) if fee_option == "add" else sent
        to_recipients = sent if fee_option == "add" else MONEY_CONTEXT.subtract(sent, fees)
        result.append(
            CurrencySummary(
                currency=currency,
                rows=len(mine),
                requested=total(r.amount_requested for r in mine),
                rounding_delta=total(r.rounding_delta for r in mine),
                sent=sent,
                fees=fees,
                debited=debited,
                to_recipients=to_recipients,
                buckets=buckets,
                bucket_rows=bucket_rows,
            )
        )
    return result
