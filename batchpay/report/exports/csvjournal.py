"""The three CSV exports (QuickBooks Online, Xero, NetSuite) from one template each in
``schemas/exports.toml``: columns in order, date format, sign convention.

Valued books (``reporting_currency`` set) are written in the reporting currency, to cents:
these systems book in the company's own currency. A completed row with no rate keeps its
lines, with the amount cells left blank and a NOT VALUED note, so the import stops on them
rather than book a guess. Books that are not valued are written in each payout's currency."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from batchpay.cells import csv_cell
from batchpay.money import to_wire
from batchpay.report.exports.journal import (
    Books,
    Journal,
    Line,
    describe,
    one_line,
    unvalued_note,
)
from batchpay.report.valuation import neg
from batchpay.resources import load_schema_file

Cells = dict[str, str]


def template(fmt: str) -> dict[str, Any]:
    """The format's template: file, columns (in order), date_format, sign, account, decimals."""
    spec: dict[str, Any] = load_schema_file("exports.toml")[fmt]
    return spec


def line_amount(line: Line, books: Books) -> Decimal | None:
    """The amount a CSV line carries: its value when the books are valued (None if its row
    has none), else its amount in the payout currency."""
    return line.value if books.reporting_currency is not None else line.amount


def render(fmt: str, books: Books, cells: Callable[[Journal, Line, Cells], Cells]) -> str:
    """One CSV line per journal line; ``cells`` fills the format's own columns from the
    shared ones (date, account, debit, credit, amount, description, name)."""
    spec = template(fmt)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(spec["columns"])
    for journal in books.journals:
        day = dt.date.fromisoformat(journal.date).strftime(spec["date_format"])
        for line in journal.lines:
            amount = line_amount(line, books)
            if amount is not None and not amount:
                continue  # a posting worth nothing in the reporting currency
            common = _common(line, books, amount, day, spec)
            values = cells(journal, line, common)
            writer.writerow([csv_cell(values[c]) for c in spec["columns"]])
    return buffer.getvalue()


def _common(
    line: Line, books: Books, amount: Decimal | None, day: str, spec: dict[str, Any]
) -> Cells:
    note = describe(line)
    if amount is None:
        note = unvalued_note(line.booking, books) + " | " + note
    text = "" if amount is None else to_wire(amount)
    return {  # free text on one line, with no control or bidi character (a provider's ref)
        "date": day,
        "account": line.account.name if spec["account"] == "name" else line.account.code_or_name,
        "debit": text if amount is not None and amount > 0 else "",
        "credit": to_wire(neg(amount)) if amount is not None and amount < 0 else "",
        "amount": text,
        "description": one_line(note),
        "name": one_line(line.row.name),
        "currency": books.reporting_currency or line.row.currency,
    }
