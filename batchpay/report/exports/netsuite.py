"""NetSuite journal entry CSV import: the template (columns, date format, signs)
is ``[netsuite]`` in schemas/exports.toml."""

from __future__ import annotations

from batchpay.report.exports.csvjournal import render
from batchpay.report.exports.journal import Books


def render_netsuite(books: Books) -> str:
    return render(
        "netsuite",
        books,
        lambda j, line, c: {
            "External ID": j.number,
            "Date": c["date"],
            "Currency": c["currency"],
            "Memo": j.narration,
            "Account": c["account"],
            "Debit": c["debit"],
            "Credit": c["credit"],
            "Line Memo": c["description"],
            "Name": c["name"],
        },
    )
