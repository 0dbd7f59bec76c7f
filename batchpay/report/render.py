"""Write the report files: HTML through Jinja2, CSV and XLSX from the same :class:`Report`."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from batchpay.money import to_wire
from batchpay.report.books import journal_lines, render_attempts, render_journal
from batchpay.report.chart import status_chart
from batchpay.report.model import BUCKETS, CSV_COLUMNS, Report
from batchpay.report.safe import cell_text, safe_text
from batchpay.resources import data_dir

FORMATS = ("html", "csv", "xlsx", "journal", "attempts")
FILE_NAMES = {
    "html": "reconciliation.html",
    "csv": "reconciliation.csv",
    "xlsx": "reconciliation.xlsx",
    "journal": "journal.csv",
    "attempts": "attempts.csv",
}
XLSX_DIGITS = 15  # a spreadsheet number holds this many significant digits exactly


def write_report(
    report: Report,
    directory: Path,
    formats: tuple[str, ...] = FORMATS,
    accounts: Mapping[str, str] | None = None,
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[Report, Path], None]] = {
        "html": lambda r, p: _text(p, render_html(r, accounts)),
        "csv": lambda r, p: _text(p, render_csv(r)),
        "xlsx": _write_xlsx,
        "journal": lambda r, p: _text(p, render_journal(r, accounts)),
        "attempts": lambda r, p: _text(p, render_attempts(r)),
    }
    written = []
    for fmt in formats:
        path = directory / FILE_NAMES[fmt]
        tmp = path.with_suffix(path.suffix + ".tmp")
        writers[fmt](report, tmp)
        tmp.replace(path)  # a reader never sees half a file
        written.append(path)
    return written


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow([cell_text(c) for c in row.cells()])
    return buffer.getvalue()


def render_html(report: Report, accounts: Mapping[str, str] | None = None) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["amount"] = lambda v: "" if v is None else to_wire(v)
    template = env.get_template("reconciliation.html.j2")
    return template.render(
        report=report,
        buckets=list(BUCKETS),
        chart=status_chart(report),
        journal=journal_lines(report, accounts),
    )


def _text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="")


def _xlsx_value(value: object) -> object:
    if isinstance(value, Decimal):
        digits = len(value.as_tuple().digits)
        return value if digits <= XLSX_DIGITS else to_wire(value)
    if isinstance(value, str):
        return safe_text(value)
    return value


def _write_xlsx(report: Report, path: Path) -> None:
    """Written in openpyxl's streaming mode: a 100k-row report stays fast and small."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    summary = wb.create_sheet("Summary")
    rows = wb.create_sheet("Rows")

    def bold(sheet: Any, values: list[str]) -> list[Any]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = Font(bold=True)
            cells.append(cell)
        return cells

    header = [
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
    ]
    banner = "SANDBOX: no money moved" if report.batch.sandbox else ""
    summary.freeze_panes = "A3"
    summary.append(
        [f"batch {report.batch.batch_id}", report.batch.provider, banner, f"as of {report.as_of}"]
    )
    summary.append(bold(summary, header))
    for s in report.summaries:
        summary.append(
            [
                _xlsx_value(v)
                for v in (
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
            ]
        )
    summary.append([])
    summary.append(
        [
            "Amounts with more than 15 significant digits are written as text so that "
            "no digit is lost."
        ]
    )

    widths = {
        "address": 44,
        "idempotency_key": 38,
        "provider_ref": 26,
        "tx_hash": 30,
        "error": 40,
        "reference": 16,
        "name": 22,
        "description": 30,
    }
    for index, column in enumerate(CSV_COLUMNS, start=1):
        rows.column_dimensions[get_column_letter(index)].width = widths.get(column, 14)
    rows.freeze_panes = "A2"
    last = get_column_letter(len(CSV_COLUMNS))
    rows.auto_filter.ref = f"A1:{last}{len(report.rows) + 1}"
    rows.append(bold(rows, list(CSV_COLUMNS)))
    for r in report.rows:
        rows.append([_xlsx_value(c) for c in r.cells()])
    wb.save(path)
