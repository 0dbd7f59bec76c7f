"""The valuation in the HTML and the XLSX: per currency, the completed payouts' values in the
reporting currency (the figures every export carries too), and each row's rate and source."""

from __future__ import annotations

from typing import Any

import markupsafe

from batchpay.money import to_wire
from batchpay.report.valuation import Valuation, neg

TOTALS_HEADER = ("currency", "valued_rows", "unvalued_rows", "expense", "fees", "rounding", "paid")
ROWS_HEADER = ("row", "reference", "currency", "completed", "rate", "rate_source", "value_paid")


def totals_rows(valuation: Valuation) -> list[list[Any]]:
    return [
        [t.currency, t.valued_rows, t.unvalued_rows, t.expense, t.fees, t.rounding, t.paid]
        for t in valuation.totals
    ]


def rate_rows(valuation: Valuation) -> list[list[Any]]:
    """One line per completed row: its rate and where it came from, or NOT VALUED."""
    lines: list[list[Any]] = []
    for b in valuation.bookings:
        r = b.row
        if b.rate is None or b.values is None:
            lines.append([r.row, r.reference, r.currency, b.date, "", "NOT VALUED", None])
        else:
            paid = neg(b.values["provider"])
            lines.append([r.row, r.reference, r.currency, b.date, b.rate.rate, b.rate.source, paid])
    return lines


def valuation_html(valuation: Valuation | None) -> markupsafe.Markup:
    """The "Valued in <currency>" section, or nothing when no reporting currency is set."""
    if valuation is None or valuation.reporting_currency is None:
        return markupsafe.Markup("")
    unit = markupsafe.escape(valuation.reporting_currency)
    esc = markupsafe.escape

    def cell(v: Any) -> str:
        text = "" if v is None else (str(v) if isinstance(v, int | str) else to_wire(v))
        return f"<td>{esc(text)}</td>"

    head = "".join(f"<th>{h}</th>" for h in TOTALS_HEADER)
    body = "".join(
        "<tr>" + "".join(cell(v) for v in row) + "</tr>\n" for row in totals_rows(valuation)
    )
    rate_head = "".join(f"<th>{h}</th>" for h in ROWS_HEADER)
    rate_body = "".join(
        "<tr>" + "".join(cell(v) for v in row) + "</tr>\n" for row in rate_rows(valuation)
    )
    unvalued = len(valuation.unvalued)
    note = (
        f'<p class="check fail">{unvalued} completed row(s) have no rate and are NOT VALUED: '
        "they are in no total above.</p>\n"
        if unvalued
        else ""
    )
    return markupsafe.Markup(
        f'<h2>Valued in {unit}</h2>\n<table class="valuation">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}</tbody>\n</table>\n{note}"
        f"<h3>Rates used</h3>\n<table>\n<thead><tr>{rate_head}</tr></thead>\n"
        f"<tbody>\n{rate_body}</tbody>\n</table>\n\n"
    )
