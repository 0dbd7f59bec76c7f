"""QuickBooks Online journal entry import: the template (columns, date format, signs)
is ``[qbo]`` in schemas/exports.toml."""

from __future__ import annotations

from batchpay.report.exports.csvjournal import render
from batchpay.report.exports.journal import Books


def render_qbo(books: Books) -> str:
    return render(
        "qbo",
        books,
        lambda j, line, c: {
            "Journal No": j.number,
            "Journal Date": c["date"],
            "Account Name": c["account"],
            "Debits": c["debit"],
            "Credits": c["credit"],
            "Description": c["description"],
            "Name": c["name"],
        },
    )
