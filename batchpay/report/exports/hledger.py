"""hledger journal: one transaction per journal (its number as the code), one posting per
line with tags leading back to the payout, a ``P`` market price per rate used, and comments
for rows left unvalued. Amounts stay in the payout currency, so every transaction balances
exactly and ``hledger -f journal.hledger bal`` totals zero (tests/report/exports)."""

from __future__ import annotations

from batchpay.money import to_wire
from batchpay.report.exports.beancount import line_tags
from batchpay.report.exports.journal import Books, Journal, one_line, unvalued_note


def tag_value(text: str) -> str:
    """A tag value ends at a comma or the line's end: commas and line breaks become spaces."""
    return " ".join("".join(" " if c in ",;" else c for c in one_line(text)).split())


def render_hledger(books: Books) -> str:
    out = [f"; batchpay journal: batch {books.batch}, provider {books.provider}"]
    if books.sandbox:
        out.append("; SANDBOX: no money moved")
    out.append("")
    prices = sorted(
        {
            (line.booking.date, line.row.currency, line.booking.rate.rate)
            for j in books.journals
            for line in j.lines
            if line.booking.rate is not None and line.row.currency != books.reporting_currency
        }
    )
    # declared, so that ``hledger check --strict`` (accounts and commodities) passes too
    commodities = {j.currency for j in books.journals} | {books.reporting_currency or ""}
    out += [f"commodity {c}" for c in sorted(commodities - {""}) if books.journals]
    out += [f"account {a.ledger_name}" for a in books.accounts]
    out.append("")
    out += [f"P {d} {c} {to_wire(r)} {books.reporting_currency}" for d, c, r in prices]
    if prices:
        out.append("")
    for journal in books.journals:
        out += _transaction(journal, books)
    return "\n".join(out) + "\n"


def _transaction(journal: Journal, books: Books) -> list[str]:
    out = [
        f"; {unvalued_note(b, books)}: row {b.row.row} ({b.row.reference})"
        for b in journal.unvalued
    ]
    tags = {"journal": journal.number}
    if journal.totals is not None:
        t, unit = journal.totals, books.reporting_currency
        tags |= {
            "value_expense": f"{to_wire(t.expense)} {unit}",
            "value_fees": f"{to_wire(t.fees)} {unit}",
            "value_rounding": f"{to_wire(t.rounding)} {unit}",
            "value_paid": f"{to_wire(t.paid)} {unit}",
            "unvalued_rows": str(t.unvalued_rows),
        }
    head = tag_value(journal.narration)
    out.append(f"{journal.date} * ({journal.number}) {head}")
    out += [f"    ; {k}: {tag_value(v)}" for k, v in tags.items()]
    for line in journal.lines:
        comment = ", ".join(f"{k}: {tag_value(v)}" for k, v in line_tags(line, books).items())
        amount = f"{to_wire(line.amount)} {journal.currency}"
        out.append(f"    {line.account.ledger_name}  {amount}  ; {comment}")
    out.append("")
    return out
