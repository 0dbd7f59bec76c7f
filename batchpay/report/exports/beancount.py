"""beancount: one transaction per journal, one posting per line, posting metadata leading
back to each payout, accounts opened by the auto_accounts plugin (so the file can also be
included, with other batches' files, in a ledger that opens them), a ``price`` directive
per rate used, and comments for rows left unvalued. Amounts stay in the payout currency
(the transaction balances exactly); the values in the reporting currency are the ``value``
metadata and the journal's ``value_*`` totals.
It loads with ``beancount.loader`` with no errors (tests/report/exports)."""

from __future__ import annotations

from batchpay.money import to_wire
from batchpay.report.exports.journal import Books, Journal, Line, one_line, unvalued_note

AUTO_ACCOUNTS = "beancount.plugins.auto_accounts"  # opens each account at its first use


def quote(text: str) -> str:
    """A beancount string: quotes and backslashes escaped, control characters as spaces."""
    cleaned = one_line(text)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_beancount(books: Books) -> str:
    out = [f";; batchpay journal: batch {books.batch}, provider {books.provider}"]
    if books.sandbox:
        out.append(";; SANDBOX: no money moved")
    out.append(f'option "title" {quote("batchpay " + books.batch)}')
    if books.reporting_currency:
        out.append(f'option "operating_currency" "{books.reporting_currency}"')
    # no open directives: two batches' files included in one ledger (or a ledger that opens
    # the accounts itself) would open them twice, an error; on its own the file opens them
    # with this plugin, which beancount ignores in an included file
    out += [f'plugin "{AUTO_ACCOUNTS}"', ""]
    if books.journals:
        first = min(j.date for j in books.journals)
        out.append(";; when you include this file, your ledger opens its accounts:")
        out += [f";; {first} open {a.ledger_name}" for a in books.accounts]
        out.append("")
    out += _prices(books)
    for journal in books.journals:
        out += _transaction(journal, books)
    return "\n".join(out) + "\n"


def _prices(books: Books) -> list[str]:
    seen = sorted(
        {
            (line.booking.date, line.row.currency, line.booking.rate.rate)
            for j in books.journals
            for line in j.lines
            if line.booking.rate is not None and line.row.currency != books.reporting_currency
        }
    )
    lines = [f"{d} price {c} {to_wire(r)} {books.reporting_currency}" for d, c, r in seen]
    return [*lines, ""] if lines else []


def _transaction(journal: Journal, books: Books) -> list[str]:
    out = [
        f";; {unvalued_note(b, books)}: row {b.row.row} ({b.row.reference})"
        for b in journal.unvalued
    ]
    out.append(f'{journal.date} * "batchpay" {quote(journal.narration)}')
    meta = {"journal": journal.number}
    if journal.totals is not None:
        t, unit = journal.totals, books.reporting_currency
        meta |= {
            "value_expense": f"{to_wire(t.expense)} {unit}",
            "value_fees": f"{to_wire(t.fees)} {unit}",
            "value_rounding": f"{to_wire(t.rounding)} {unit}",
            "value_paid": f"{to_wire(t.paid)} {unit}",
            "unvalued_rows": str(t.unvalued_rows),
        }
    out += [f"  {k}: {quote(v)}" for k, v in meta.items()]
    for line in journal.lines:
        out.append(f"  {line.account.ledger_name}  {to_wire(line.amount)} {journal.currency}")
        out += [f"    {k}: {quote(v)}" for k, v in line_tags(line, books).items()]
    out.append("")
    return out


def line_tags(line: Line, books: Books) -> dict[str, str]:
    """What a line carries besides its amount (shared with hledger's tags)."""
    r, rate = line.row, line.booking.rate
    tags = {
        "row": str(r.row),
        "reference": r.reference,
        "payee": r.name,
        "provider_ref": r.provider_ref,
        "memo": r.memo,
        "completed": line.booking.date,
    }
    if r.from_currency:
        tags["debited_from"] = r.from_currency
    if books.reporting_currency is not None:
        if rate is None or line.value is None:
            tags["value"] = "NOT VALUED"
        else:
            tags |= {
                "rate": to_wire(rate.rate),
                "rate_source": rate.source,
                "value": f"{to_wire(line.value)} {books.reporting_currency}",
            }
    return tags
