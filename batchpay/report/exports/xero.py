"""Xero manual journal import: the template (columns, date format, signs) is ``[xero]`` in
schemas/exports.toml."""

from __future__ import annotations

from batchpay.report.exports.csvjournal import render
from batchpay.report.exports.journal import Books


def render_xero(books: Books) -> str:
    return render(
        "xero",
        books,
        lambda j, line, c: {
            "Narration": f"{j.narration} ({j.number})",
            "Date": c["date"],
            "Description": c["description"],
            "AccountCode": c["account"],
            "TaxRate": books.tax_rate,
            "Amount": c["amount"],
        },
    )
