"""Home-currency valuation: each completed payout and its fee at the rate of its completion
day (the ledger's last update of the row, as a UTC date), from a rates file.

Per row, in the payout currency (``fee_option`` deduct: the fee comes out of the amount sent;
add: it is charged on top), the postings are::

    expense  = requested - fee (deduct) | requested (add)      debit
    fees     = fee                                              debit
    rounding = sent - requested      (paid less than asked: a credit)
    provider = sent (deduct) | sent + fee (add)                 credit

and they balance exactly. Valued, the provider, fee and rounding postings are each rounded
to cents (half up) and the expense is what makes the row balance, so every valued row, and
so every valued journal, balances in the reporting currency too. A row without a rate is
not valued at all: it is listed as unvalued and counted in no total."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from batchpay.model import RowStatus
from batchpay.money import MONEY_CONTEXT, ZERO, total
from batchpay.report.exports.rates import Rate, RateTable
from batchpay.report.model import Report, ReportRow

CENT = Decimal("0.01")
# amount (<= 50 digits) times rate (<= 50 digits) is exact in 120 digits, so the only rounding
# is the one to cents (never the thread's 28-digit default, which rounds twice or raises)
VALUE_CONTEXT = decimal.Context(
    prec=120,
    rounding=ROUND_HALF_UP,
    traps=[decimal.FloatOperation, decimal.InvalidOperation, decimal.Overflow],
)
PARTS = ("expense", "fees", "rounding", "provider")
neg = MONEY_CONTEXT.minus  # -x, exactly (60 digits)


@dataclass(frozen=True)
class RowBooking:
    """One completed row's postings (debit positive), in its currency and, if a rate was
    found, in the reporting currency (``values``; None: unvalued)."""

    row: ReportRow
    date: str  # the completion day, YYYY-MM-DD (UTC)
    amounts: dict[str, Decimal]  # part -> signed amount
    rate: Rate | None
    values: dict[str, Decimal] | None


@dataclass(frozen=True)
class ValueTotals:
    """A currency's completed rows in the reporting currency: the same figures in the HTML,
    the XLSX Summary and every export."""

    currency: str
    valued_rows: int
    unvalued_rows: int
    expense: Decimal
    fees: Decimal
    rounding: Decimal
    paid: Decimal  # what left the provider balance (the provider postings' credit)


@dataclass(frozen=True)
class Valuation:
    reporting_currency: str | None  # None: amounts stay in each payout's own currency
    rates_name: str
    bookings: list[RowBooking]
    totals: list[ValueTotals]

    @property
    def unvalued(self) -> list[RowBooking]:
        return [b for b in self.bookings if b.values is None]


def completion_day(stamp: str) -> str:
    """The UTC day of a ledger time stamp (ISO 8601)."""
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp[:10]
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.date().isoformat()


def row_amounts(row: ReportRow, fee_option: str) -> dict[str, Decimal]:
    """A completed row's four postings, signed (debit positive); they sum to zero."""
    sent = row.amount_sent if row.amount_sent is not None else row.amount_requested
    fee = row.fee or ZERO
    add = fee_option == "add"
    return {  # negated exactly: ``-x`` rounds to the thread's 28 digits (18-decimal tokens)
        "expense": row.amount_requested if add else total([row.amount_requested, neg(fee)]),
        "fees": fee,
        "rounding": total([sent, neg(row.amount_requested)]),
        "provider": neg(total([sent, fee]) if add else sent),
    }


def _cents(value: Decimal) -> Decimal:
    cents = VALUE_CONTEXT.quantize(value, CENT)
    return cents if cents else ZERO.quantize(CENT)  # never "-0.00"


def row_values(amounts: dict[str, Decimal], rate: Decimal) -> dict[str, Decimal]:
    """``amounts`` valued at ``rate``, to cents, balanced by the expense posting."""
    values = {
        k: _cents(VALUE_CONTEXT.multiply(amounts[k], rate))
        for k in ("fees", "rounding", "provider")
    }
    values["expense"] = neg(total(values.values()))
    return {k: values[k] for k in PARTS}


def value_report(
    report: Report, reporting_currency: str | None, rates: RateTable | None
) -> Valuation:
    """Every completed row's postings, valued where ``rates`` has its day and currency."""
    bookings = []
    for row in report.rows:
        if row.status != RowStatus.COMPLETED:
            continue
        day = completion_day(row.completed_at or report.last_activity)
        amounts = row_amounts(row, report.batch.fee_option)
        rate = None
        if reporting_currency is not None:
            table = rates or RateTable("", {})
            rate = table.find(day, row.currency, reporting_currency)
        values = None if rate is None else row_values(amounts, rate.rate)
        bookings.append(RowBooking(row, day, amounts, rate, values))
    name = rates.name if rates is not None else ""
    return Valuation(reporting_currency, name, bookings, _totals(bookings, reporting_currency))


def _totals(bookings: list[RowBooking], reporting: str | None) -> list[ValueTotals]:
    if reporting is None:
        return []
    result = []
    for currency in sorted({b.row.currency for b in bookings}):
        mine = [b for b in bookings if b.row.currency == currency]
        valued = [b.values for b in mine if b.values is not None]

        def part(name: str, valued: list[dict[str, Decimal]] = valued) -> Decimal:
            return _cents(total(v[name] for v in valued))

        result.append(
            ValueTotals(
                currency,
                len(valued),
                len(mine) - len(valued),
                part("expense"),
                part("fees"),
                part("rounding"),
                neg(part("provider")),
            )
        )
    return result
