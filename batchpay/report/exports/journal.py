"""The journal every export writes: one balanced journal per batch and currency, one line per
posting of each completed payout (expense, fee, rounding, provider balance), each line
carrying what leads back to its payout (sheet row, reference, payee name, provider reference,
memo or tag) and, when valued, its value, rate and the rate's source.

Pending, processing, unknown, failed and cancelled rows are not booked: they have not (or not
yet) paid anyone. Their rows are in the reconciliation; they are booked by a later export
once completed."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from batchpay.accounts import Account, AccountMap
from batchpay.money import to_wire
from batchpay.report.model import Report, ReportRow
from batchpay.report.valuation import PARTS, RowBooking, Valuation, ValueTotals


@dataclass(frozen=True)
class Line:
    account: Account
    amount: Decimal  # signed, in the payout currency: debit positive
    value: Decimal | None  # signed, in the reporting currency; None: not valued
    booking: RowBooking

    @property
    def row(self) -> ReportRow:
        return self.booking.row


@dataclass(frozen=True)
class Journal:
    number: str  # "<batch>/<currency>": the same on every line of the journal
    batch: str
    currency: str
    date: str  # YYYY-MM-DD: the latest completion day of its payouts
    lines: list[Line]
    unvalued: list[RowBooking]  # completed rows with no rate (valued books only)
    totals: ValueTotals | None  # in the reporting currency (valued books only)

    @property
    def narration(self) -> str:
        payouts = len({line.row.row for line in self.lines})
        return f"batchpay {self.batch} {self.currency}: {payouts} completed payout(s)"


@dataclass(frozen=True)
class Books:
    batch: str
    provider: str
    sandbox: bool
    reporting_currency: str | None
    rates_name: str
    tax_rate: str
    journals: list[Journal]

    @property
    def accounts(self) -> list[Account]:
        """Every account used, once each, sorted by ledger name."""
        found = {line.account.ledger_name: line.account for j in self.journals for line in j.lines}
        return [found[k] for k in sorted(found)]


def build_books(report: Report, valuation: Valuation, accounts: AccountMap) -> Books:
    """The journals of ``report``'s completed rows, with ``valuation``'s amounts and values."""
    batch = report.batch
    totals = {t.currency: t for t in valuation.totals}
    journals = []
    for currency in sorted({b.row.currency for b in valuation.bookings}):
        bookings = [b for b in valuation.bookings if b.row.currency == currency]
        lines = [
            Line(
                accounts.lookup(part, batch.provider, b.row.network, _balance(b, part)),
                b.amounts[part],
                None if b.values is None else b.values[part],
                b,
            )
            for b in bookings
            for part in PARTS
            if b.amounts[part] or part in ("expense", "provider")
        ]
        unvalued = [b for b in bookings if b.values is None] if totals else []
        date = max(b.date for b in bookings)
        number = f"{batch.batch_id}/{currency}"
        journals.append(
            Journal(number, batch.batch_id, currency, date, lines, unvalued, totals.get(currency))
        )
    return Books(
        batch.batch_id,
        batch.provider,
        batch.sandbox,
        valuation.reporting_currency,
        valuation.rates_name,
        accounts.tax_rate,
        journals,
    )


def _balance(booking: RowBooking, part: str) -> str:
    """The currency an account is looked up by: the payout's, except for the provider
    balance of a payout paid from another balance (2328io ``from_currency``)."""
    row = booking.row
    return row.from_currency if part == "provider" and row.from_currency else row.currency


def debited_from(row: ReportRow) -> str:
    """Said on every line of a payout paid from another balance: the amount debited from it
    (after the provider's conversion) is not in the ledger."""
    return (
        f"paid from the {row.from_currency} balance (converted by the provider): "
        f"book the {row.from_currency} debited by hand"
    )


def describe(line: Line) -> str:
    """What leads a line back to its payout, in one line of text."""
    r = line.row
    parts = [f"row {r.row}", r.reference, r.name]
    parts.append(f"provider ref {r.provider_ref}" if r.provider_ref else "no provider ref")
    if r.memo:
        parts.append(f"memo {r.memo}")
    if r.from_currency:
        parts.append(debited_from(r))
    parts.append(f"{to_wire(line.amount)} {r.currency}")
    rate = line.booking.rate
    if rate is not None:
        parts.append(f"rate {to_wire(rate.rate)} ({rate.source})")
    return " | ".join(p for p in parts if p)


def unvalued_note(booking: RowBooking, books: Books) -> str:
    """Said on every line of a row that has no rate: it is in no total and must be valued
    by hand."""
    source = books.rates_name or "no rates file"
    return (
        f"NOT VALUED: no {books.reporting_currency} rate for {booking.row.currency} on "
        f"{booking.date} in {source}; book by hand"
    )


# the bidirectional controls, which reorder what is shown (batchpay.validate.identity's set)
_BIDI = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})


def one_line(text: str) -> str:
    """``text`` with each control character, line or paragraph separator and bidi control
    (a line break, a tab, U+202E) as a space, so a cell stays on one line and reads as it is
    stored; joiners that scripts and emoji need (U+200C, U+200D) are kept."""
    return "".join(" " if _breaks(c) else c for c in text)


def _breaks(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or ord(char) in _BIDI
