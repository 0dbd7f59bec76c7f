"""Write the report files: HTML through Jinja2, CSV and XLSX from the same :class:`Report`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import markupsafe

from batchpay.accounts import AccountMap
from batchpay.cells import csv_cell, formula_safe
from batchpay.money import to_wire
from batchpay.report.books import journal_lines, render_attempts, render_journal
from batchpay.report.chart import status_chart
from batchpay.report.exports import EXPORT_FILES, EXPORT_FORMATS
from batchpay.report.model import BUCKETS, CSV_COLUMNS, Report
from batchpay.report.valuation import Valuation, value_report
from batchpay.report.valued import (
    ROWS_HEADER,
    TOTALS_HEADER,
    rate_rows,
    totals_rows,
    valuation_html,
)
from batchpay.report.xlsx import Sheet, write_workbook
from batchpay.resources import data_dir

FORMATS = ("html", "csv", "xlsx", "journal", "attempts")  # what run and report write by default
ALL_FORMATS = (*FORMATS, *EXPORT_FORMATS)  # report --format may also ask for the exports
FILE_NAMES = {
    "html": "reconciliation.html",
    "csv": "reconciliation.csv",
    "xlsx": "reconciliation.xlsx",
    "journal": "journal.csv",
    "attempts": "attempts.csv",
    **EXPORT_FILES,
}
XLSX_DIGITS = 15  # a spreadsheet number holds this many significant digits exactly


def write_report(
    report: Report,
    directory: Path,
    formats: tuple[str, ...] = FORMATS,
    accounts: Mapping[str, str] | None = None,
    valuation: Valuation | None = None,
    account_map: AccountMap | None = None,
) -> list[Path]:
    """Write ``formats`` (names in FILE_NAMES) into ``directory``; ``valuation`` (default:
    not valued) and ``account_map`` (default: the built-in accounts) feed the HTML, the
    XLSX Summary and the accounting exports."""
    directory.mkdir(parents=True, exist_ok=True)
    valued = valuation if valuation is not None else value_report(report, None, None)
    writers: dict[str, Callable[[Report, Path], None]] = {
        "html": lambda r, p: _text(p, render_html(r, accounts, valued)),
        "csv": lambda r, p: _csv(p, render_csv(r)),
        "xlsx": lambda r, p: _write_xlsx(r, p, valued),
        "journal": lambda r, p: _csv(p, render_journal(r, accounts)),
        "attempts": lambda r, p: _csv(p, render_attempts(r)),
    }
    for fmt in EXPORT_FORMATS:
        writers[fmt] = _export_writer(fmt, valued, account_map or AccountMap())
    written = []
    for fmt in formats:
        path = directory / FILE_NAMES[fmt]
        tmp = path.with_suffix(path.suffix + ".tmp")
        writers[fmt](report, tmp)
        tmp.replace(path)  # a reader never sees half a file
        written.append(path)
    return written


def _export_writer(
    fmt: str, valuation: Valuation, account_map: AccountMap
) -> Callable[[Report, Path], None]:
    def write(report: Report, path: Path) -> None:
        from batchpay.report.exports.formats import render_export
        from batchpay.report.exports.journal import build_books

        text = render_export(fmt, build_books(report, valuation, account_map))
        _csv(path, text) if path.name.endswith(".csv.tmp") else _text(path, text)

    return write


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow([csv_cell(c) for c in row.cells()])
    return buffer.getvalue()


def render_html(
    report: Report,
    accounts: Mapping[str, str] | None = None,
    valuation: Valuation | None = None,
) -> str:
    import jinja2  # only the HTML needs it: imported here, not by every command

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["amount"] = lambda v: "" if v is None else to_wire(v)
    template = env.get_template("reconciliation.html.j2")
    return template.render(
        rows_html=rows_html(report),
        report=report,
        buckets=list(BUCKETS),
        chart=status_chart(report),
        journal=journal_lines(report, accounts),
        valuation_html=valuation_html(valuation),
    )


_HTML_SPECIAL = re.compile("[&<>'\"]")


def _h(text: str) -> str:
    """Escaped exactly as Jinja's autoescape does; most cells need nothing, so look first."""
    return str(markupsafe.escape(text)) if _HTML_SPECIAL.search(text) else text


def _amount(value: Decimal | None) -> str:
    return "" if value is None else to_wire(value)


def rows_html(report: Report) -> markupsafe.Markup:
    """The "All rows" table body. Written here rather than in the template: for 100k rows
    Jinja's per-cell overhead was most of the time of the whole page. The output is the
    markup the template loop produced, byte for byte (the golden HTML holds it so)."""
    h, amount = _h, _amount
    lines = [
        f'\n  <tr><td class="num">{r.row}</td><td>{h(r.reference)}</td><td>{h(r.name)}</td>'
        f"<td>{h(r.currency)}</td><td>{h(r.network)}</td>\n"
        f'  <td class="mono">{h(r.address)}</td><td class="mono">{h(r.memo)}</td>'
        f'<td class="num">{amount(r.amount_requested)}</td>'
        f'<td class="num">{amount(r.amount_sent)}</td>\n'
        f'  <td class="num">{amount(r.rounding_delta)}</td><td class="num">{amount(r.fee)}</td>'
        f'<td class="status-{h(r.status)}">{h(r.status)}</td>\n'
        f'  <td class="mono">{h(r.provider_ref)}</td><td class="num">{r.attempts}</td>'
        f'<td class="mono">{h(r.tx_hash)}</td></tr>\n  '
        for r in report.rows
    ]
    return markupsafe.Markup("".join(lines))


def _text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="")


def _csv(path: Path, text: str) -> None:
    """UTF-8 with a byte order mark: without it Excel on Windows reads the file in the
    local code page and shows "Sébastien" as "SÃ©bastien"."""
    path.write_text(text, encoding="utf-8-sig", newline="")


def _xlsx_value(value: object) -> object:
    if isinstance(value, Decimal):
        return _xlsx_number(value)
    if isinstance(value, str):
        return formula_safe(value)
    return value


_WIDTHS = {
    "address": 44,
    "idempotency_key": 38,
    "provider_ref": 26,
    "tx_hash": 30,
    "error": 40,
    "reference": 16,
    "name": 22,
    "description": 30,
    "memo": 16,
}
_SUMMARY_HEADER = (
    "currency",
    "rows",
    "requested",
    "rounding_delta",
    "sent",
    "fees",
    "debited",
    "to_recipients",
    *BUCKETS,
    "identity",
)


def _write_xlsx(report: Report, path: Path, valuation: Valuation | None = None) -> None:
    banner = "SANDBOX: no money moved" if report.batch.sandbox else ""
    summary: list[list[Any]] = [
        [f"batch {report.batch.batch_id}", report.batch.provider, banner, f"as of {report.as_of}"],
        list(_SUMMARY_HEADER),
    ]
    for s in report.summaries:
        values = (
            s.currency,
            s.rows,
            s.requested,
            s.rounding_delta,
            s.sent,
            s.fees,
            s.debited,
            s.to_recipients,
            *s.buckets.values(),
            "holds" if s.identity_holds else "FAILS",
        )
        summary.append([_xlsx_value(v) for v in values])
    summary.append([])
    summary.append([report.attention_line()])
    summary.append(
        [
            "Amounts with more than 15 significant digits are written as text so that "
            "no digit is lost."
        ]
    )
    sheets = _valuation_sheets(summary, valuation)
    rows = Sheet(
        "Rows",
        _xlsx_rows(report),
        bold_rows=frozenset({1}),
        widths=[_WIDTHS.get(c, 14) for c in CSV_COLUMNS],
        freeze_row=1,
        filter_columns=len(CSV_COLUMNS),
        filter_rows=len(report.rows) + 1,
    )
    summary_sheet = Sheet("Summary", summary, bold_rows=frozenset({2}), freeze_row=2)
    write_workbook(path, [summary_sheet, rows, *sheets])


def _valuation_sheets(summary: list[list[Any]], valuation: Valuation | None) -> list[Sheet]:
    """With a reporting currency: its totals under the Summary, and a Valuation sheet with
    each completed row's rate and source."""
    if valuation is None or valuation.reporting_currency is None:
        return []
    summary.append([])
    summary.append([f"Valued in {valuation.reporting_currency}"])
    summary.append(list(TOTALS_HEADER))
    summary.extend([_xlsx_value(v) for v in line] for line in totals_rows(valuation))
    table: list[list[Any]] = [list(ROWS_HEADER)]
    table.extend([_xlsx_value(v) for v in r] for r in rate_rows(valuation))
    return [Sheet("Valuation", table, bold_rows=frozenset({1}), freeze_row=1)]


def _xlsx_rows(report: Report) -> Iterator[list[Any]]:
    yield list(CSV_COLUMNS)
    text, number = formula_safe, _xlsx_number
    for r in report.rows:
        yield [
            r.row,
            text(r.reference),
            text(r.name),
            text(r.currency),
            text(r.network),
            text(r.address),
            number(r.amount_requested),
            None if r.amount_sent is None else number(r.amount_sent),
            number(r.rounding_delta),
            None if r.fee is None else number(r.fee),
            text(r.status),
            text(r.provider_ref),
            text(r.idempotency_key),
            r.attempts,
            text(r.tx_hash),
            text(r.error),
            text(r.description),
            text(r.memo),
        ]


def _xlsx_number(value: Decimal) -> Decimal | str:
    digits = len(value.as_tuple().digits)
    return value if digits <= XLSX_DIGITS else to_wire(value)
