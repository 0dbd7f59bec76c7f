"""What the accountant imports: a balanced journal per currency, and the audit trail of every
request made for every row."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from batchpay.cells import csv_cell
from batchpay.money import MONEY_CONTEXT, ZERO, to_wire, total
from batchpay.report.model import Report

DEFAULT_ACCOUNTS = {
    "expense": "Payroll expense",
    "fees": "Payout fees",
    "provider": "Provider balance ({provider})",
}
JOURNAL_COLUMNS = ("date", "journal", "currency", "account", "debit", "credit", "description")
ATTEMPT_COLUMNS = (
    "row",
    "reference",
    "attempt",
    "try",
    "action",
    "started_at",
    "finished_at",
    "idempotency_key",
    "http_status",
    "provider_ref",
    "outcome",
    "disposition",
    "error_code",
    "error_message",
)


@dataclass(frozen=True)
class JournalLine:
    currency: str
    account: str
    debit: Decimal
    credit: Decimal
    description: str


def journal_lines(report: Report, accounts: Mapping[str, str] | None = None) -> list[JournalLine]:
    """Completed payouts only (pending ones may still fail): per currency, expense and fees
    debited, the provider balance credited; debits equal credits by construction."""
    names = {**DEFAULT_ACCOUNTS, **(accounts or {})}
    provider = names["provider"].format(provider=report.batch.provider)
    add = report.batch.fee_option == "add"
    lines = []
    for currency in sorted({r.currency for r in report.rows}):
        done = [r for r in report.rows if r.currency == currency and r.status == "completed"]
        if not done:
            continue
        sent = total(r.amount_sent or ZERO for r in done)
        fees = total(r.fee or ZERO for r in done)
        expense = sent if add else MONEY_CONTEXT.subtract(sent, fees)  # exact, never 28 digits
        credit = total([sent, fees]) if add else sent
        memo = f"batch {report.batch.batch_id}: {len(done)} completed payout(s)"
        lines.append(JournalLine(currency, names["expense"], expense, ZERO, memo))
        if fees:
            lines.append(JournalLine(currency, names["fees"], fees, ZERO, memo))
        lines.append(JournalLine(currency, provider, ZERO, credit, memo))
    return lines


def render_journal(report: Report, accounts: Mapping[str, str] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(JOURNAL_COLUMNS)
    date = report.last_activity[:10]
    for line in journal_lines(report, accounts):
        writer.writerow(
            [
                date,
                csv_cell(report.batch.batch_id),
                line.currency,
                csv_cell(line.account),
                to_wire(line.debit) if line.debit else "",
                to_wire(line.credit) if line.credit else "",
                csv_cell(line.description),
            ]
        )
    return buffer.getvalue()


def render_attempts(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ATTEMPT_COLUMNS)
    for row, reference, a in report.attempts:
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    row,
                    reference,
                    a.attempt_no,
                    a.try_no,
                    a.action,
                    a.started_at,
                    a.finished_at,
                    a.idempotency_key,
                    a.http_status,
                    a.provider_ref,
                    a.outcome,
                    a.disposition,
                    a.error_code,
                    a.error_message,
                )
            ]
        )
    return buffer.getvalue()
