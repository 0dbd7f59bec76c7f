"""The reconciliation, computed from the ledger alone: same ledger, same report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from batchpay.ledger import AttemptRecord, BatchInfo, LedgerRow
from batchpay.model import ACCEPTED, RowStatus
from batchpay.money import MONEY_CONTEXT, ZERO, to_wire, total

if TYPE_CHECKING:
    from batchpay.ledger import Ledger  # opened by the caller (SQLAlchemy)

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
# Every row that is not completed is an exception, shown under a heading that names its
# state, in this order (most urgent first). A status added later and missing here is still
# shown, under its own name: no row that is not completed can drop out of the list.
ATTENTION: dict[RowStatus, str] = {
    RowStatus.NEEDS_REVIEW: "Needs review",
    RowStatus.UNKNOWN: "Unknown outcome (run again to resolve)",
    RowStatus.SENDING: "Sending, outcome not known yet (run again to resolve)",
    RowStatus.FAILED: "Failed",
    RowStatus.CANCELLED: "Cancelled",
    RowStatus.PROCESSING: "Processing at the provider (not paid yet)",
    RowStatus.PENDING: "Pending at the provider (not paid yet)",
    RowStatus.PLANNED: "Not sent (planned)",
}
ROUNDED = "Completed, but rounded: paid an amount other than the sheet's"

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
    "memo",
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
    memo: str = ""  # the memo or destination tag sent with the payout

    @property
    def is_exception(self) -> bool:
        """Not completed, or completed with an amount other than the sheet asked for."""
        return self.status != RowStatus.COMPLETED or self.rounding_delta != ZERO

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
    by_status: dict[str, Decimal]  # requested, per row status present

    def totals_json(self) -> dict[str, str]:
        entry = {
            "requested": to_wire(self.requested),
            "sent": to_wire(self.sent),
            "fees": to_wire(self.fees),
            "rounding_delta": to_wire(self.rounding_delta),
        }
        entry |= {str(s): to_wire(self.by_status[s]) for s in RowStatus if s in self.by_status}
        return entry

    @property
    def accounted(self) -> Decimal:
        return total(self.buckets.values())

    @property
    def identity_holds(self) -> bool:
        return self.requested == self.accounted


@dataclass(frozen=True)
class RowGroup:
    """Exceptions that share a state, under a heading that names it."""

    key: str  # a row status, or "rounded"
    heading: str
    rows: list[ReportRow]


@dataclass(frozen=True)
class Report:
    batch: BatchInfo
    as_of: str
    rows: list[ReportRow]
    summaries: list[CurrencySummary]
    counts: dict[str, int] = field(default_factory=dict)
    attempts: list[tuple[int, str, AttemptRecord]] = field(default_factory=list)  # (row, ref, …)
    last_run: str = ""  # the latest request or run of any command (run, status, retry)

    @property
    def last_activity(self) -> str:
        """When a command last ran against the batch: "Last run" in every report file."""
        return max(self.last_run, self.batch.last_run_at, self.batch.refreshed_at or "")

    @property
    def identity_holds(self) -> bool:
        return all(s.identity_holds for s in self.summaries)

    @property
    def all_completed(self) -> bool:
        """Every row completed: the only state in which a report may say "all paid"."""
        return bool(self.rows) and all(r.status == RowStatus.COMPLETED for r in self.rows)

    @property
    def exceptions(self) -> list[ReportRow]:
        return [r for g in self.exception_groups for r in g.rows]

    @property
    def exception_groups(self) -> list[RowGroup]:
        """Every row that is not completed, grouped by state (see ATTENTION), then the
        completed rows whose amount was rounded; empty groups are left out."""
        by_status: dict[str, list[ReportRow]] = {}
        for r in self.rows:
            if r.is_exception:
                key = "rounded" if r.status == RowStatus.COMPLETED else r.status
                by_status.setdefault(key, []).append(r)
        headings = {str(s): h for s, h in ATTENTION.items()}
        order = [*headings, *sorted(k for k in by_status if k not in headings and k != "rounded")]
        groups = [RowGroup(k, headings.get(k, k), by_status[k]) for k in order if k in by_status]
        if "rounded" in by_status:
            groups.append(RowGroup("rounded", ROUNDED, by_status["rounded"]))
        return groups

    def attention_line(self) -> str:
        """One line on what is not completed, for a summary that has no room for the rows."""
        if self.all_completed:
            return f"All {len(self.rows)} row(s) completed."
        open_rows = [(g.heading, len(g.rows)) for g in self.exception_groups if g.key != "rounded"]
        return "Not completed: " + "; ".join(f"{h}: {n}" for h, n in open_rows)

    def summary(self) -> BatchSummary:
        accepted = {str(s) for s in ACCEPTED}
        return BatchSummary(
            rows=len(self.rows),
            counts=dict(self.counts),
            totals={s.currency: s.totals_json() for s in self.summaries},
            as_of=self.as_of,
            identity_holds=self.identity_holds,
            all_accepted=all(n == 0 or k in accepted for k, n in self.counts.items()),
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


def build_report(ledger: Ledger, batch_id: str) -> Report:
    info = ledger.require_batch(batch_id)
    ledger_rows = ledger.rows(batch_id)
    records = ledger.attempts(batch_id)
    # an attempt is one create under one key; its retries (try 2, 3 ...) are not new attempts
    creates = Counter(a.row_key for a in records if a.action == "create" and a.try_no == 1)
    rows = [_report_row(r, creates[r.row_key]) for r in ledger_rows]
    last_run = max(
        [
            info.last_run_at,
            info.refreshed_at or "",
            *_times(r for r in records if r.action != "webhook"),
        ]
    )
    as_of = max([last_run, *_times(records), *(r.updated_at for r in ledger_rows)])
    counts = {str(s): 0 for s in RowStatus}
    for r in rows:
        counts[r.status] += 1
    references = {r.row_key: (r.sheet_row, r.reference) for r in ledger_rows}
    trail = [(*references.get(a.row_key, (0, "")), a) for a in records]
    summaries = _summaries(rows, info.fee_option)
    return Report(info, as_of, rows, summaries, counts, trail, last_run=last_run)


def _times(records: Iterable[AttemptRecord]) -> Iterator[str]:
    """When each request started and, if answered, finished."""
    for a in records:
        yield a.started_at
        if a.finished_at:
            yield a.finished_at


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
        memo=r.memo or "",
    )


def _summaries(rows: list[ReportRow], fee_option: str) -> list[CurrencySummary]:
    by_currency: dict[str, list[ReportRow]] = {}
    for r in rows:
        by_currency.setdefault(r.currency, []).append(r)
    return [_currency_summary(c, by_currency[c], fee_option) for c in sorted(by_currency)]


def _currency_summary(currency: str, rows: list[ReportRow], fee_option: str) -> CurrencySummary:
    by_status: dict[str, list[Decimal]] = {}
    for r in rows:
        by_status.setdefault(r.status, []).append(r.amount_requested)
    requested = {status: total(amounts) for status, amounts in by_status.items()}
    sent = total(r.amount_sent for r in rows if r.amount_sent is not None)
    fees = total(r.fee for r in rows if r.fee is not None)  # report rows carry accepted fees
    # deduct: fees come out of the amount sent; add: they are charged on top of it
    debited = total([sent, fees]) if fee_option == "add" else sent
    to_recipients = sent if fee_option == "add" else MONEY_CONTEXT.subtract(sent, fees)
    return CurrencySummary(
        currency=currency,
        rows=len(rows),
        requested=total(r.amount_requested for r in rows),
        rounding_delta=total(r.rounding_delta for r in rows),
        sent=sent,
        fees=fees,
        debited=debited,
        to_recipients=to_recipients,
        buckets={
            name: total(requested.get(s, ZERO) for s in statuses)
            for name, statuses in BUCKETS.items()
        },
        bucket_rows={
            name: sum(len(by_status.get(s, [])) for s in statuses)
            for name, statuses in BUCKETS.items()
        },
        by_status=requested,
    )
